"""Per-process fan-out of lot events to the connections that watch them (DESIGN §7).

The seam, and why no watcher misses an event
--------------------------------------------
Each watched lot has one :class:`Feed`. A feed is created, and the watcher registered in it,
in one synchronous step of :meth:`Hub.watch` — before any ``await`` — so from that moment every
event the hub delivers for the lot is offered to the watcher. The hub delivers a lot's events
strictly in seq order, one at a time, under the feed's lock (``feed.last`` is the last seq
delivered), so:

    after ``watch`` returns, the watcher is offered every event with seq > ``feed.last`` as it
    was when ``watch`` returned, in order and without a gap.

``watch`` returns only once the feed is started (its ``last`` is known). The caller then reads
its own snapshot or resume point, which is at least that ``last`` (Redis' seq only grows), and
drops offered events it already has: nothing is missed, nothing doubled (api/ws.py parks events
while it reads). A second watcher that joins while the first is starting the feed waits for the
same start; one that joins while the hub is filling a gap is registered before the next
delivery, which is all the guarantee needs.

Completeness does not rest on pub/sub (at-most-once): a feed is started only after its channel's
subscription is confirmed, and then catches up from the lot's stream; a message whose seq is not
``last + 1`` makes the hub backfill from the stream first; every ``reconcile_s`` the hub compares
each feed with the room (seq and epoch) and catches up.

Redis going away
----------------
One task owns the pub/sub connection (:meth:`Hub._run`). When the connection fails it is thrown
away and a new one is made, with backoff capped at :data:`MAX_BACKOFF_S`, until Redis answers;
the new one subscribes every watched lot (plus a hub channel, so it is never "not subscribed")
and every feed is caught up from its stream before newer messages are read.

Lost history
------------
When a room's epoch changes (its history was rebuilt from PostgreSQL, see
:mod:`auction.rooms.recovery`), or the stream cannot fill a gap, the hub does not pretend: it
moves the feed to the room's current seq and epoch and calls :meth:`Watcher.reset` on every
watcher, which sends its client a fresh snapshot with ``recovered: false``.

Staff frames
------------
The hub owns the process's :class:`auction.rooms.presence.Presence` (viewer and bidder counts,
``presence`` / ``viewers`` frames, once a second) and, while a lot has a staff seat here,
subscribes the lot's staff channel on the same pub/sub connection, handing its messages
(``missed_bid``) to the presence; they never touch a feed.

Each event is encoded into one ``ev`` message and framed once (:class:`auction.wire.frames.Frame`);
the same object is offered to every watcher. :meth:`Watcher.offer` must not block and should not
wake a task (house style rule 10: a bounded outbox per connection, auction/api/outbox.py, which
writes a socket's queued frames in one write per event-loop tick).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgpack
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from auction import metrics, outage
from auction.domain.room import LotEvent
from auction.rooms import connection
from auction.rooms.keys import Keys
from auction.rooms.presence import Presence
from auction.rooms.service import Rooms
from auction.wire.codec import encode_event
from auction.wire.frames import Frame

log = logging.getLogger("auction.fanout")

#: longest wait between two attempts to re-make the pub/sub connection
MAX_BACKOFF_S = 0.5
#: how long a new feed waits for Redis to confirm its subscription before catching up anyway
CONFIRM_TIMEOUT_S = 2.0


class Watcher(Protocol):
    def offer(self, lot: int, seq: int, frame: Frame, epoch: str) -> None:
        """Take one encoded and framed ``ev`` message (stamped with the feed's ``epoch``),
        the same object for every watcher; must return at once."""

    def reset(self, lot: int) -> None:
        """The lot's history changed under the watcher (new epoch, or a gap the stream cannot
        fill): send the client a fresh snapshot with ``recovered: false``. Must return at once."""


@dataclass(eq=False)
class Feed:
    """One lot watched in this process. ``last`` is ``None`` until the feed is started."""

    channel: str
    watchers: set[Watcher] = field(default_factory=set)
    last: int | None = None
    epoch: str = ""
    started: asyncio.Event = field(default_factory=asyncio.Event)
    confirmed: asyncio.Event = field(default_factory=asyncio.Event)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    error: BaseException | None = None


class Hub:
    def __init__(self, redis: Redis, keys: Keys, rooms: Rooms, *, reconcile_s: float = 0.5):
        self.redis = redis
        self.keys = keys
        self.rooms = rooms
        self.reconcile_s = reconcile_s
        self._feeds: dict[int, Feed] = {}
        self._pubsub: PubSub | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._side: set[asyncio.Task[None]] = set()
        #: set while a pub/sub connection is up and subscribed to every feed
        self.connected = asyncio.Event()
        #: staff channel → lot, for the lots with a staff seat in this process
        self._staff: dict[str, int] = {}
        self.presence = Presence(redis, keys, rooms, listen=self._listen_staff)

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name="hub-pubsub"),
            asyncio.create_task(self._reconcile_loop(), name="hub-reconcile"),
            asyncio.create_task(self.presence.run(), name="hub-presence"),
        ]

    async def stop(self) -> None:
        for task in [*self._tasks, *self._side]:
            task.cancel()
        for task in [*self._tasks, *self._side]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.presence.stop()
        await self._close_pubsub()

    def epoch(self, lot: int) -> str | None:
        feed = self._feeds.get(lot)
        return feed.epoch if feed is not None and feed.last is not None else None

    # --- watchers -------------------------------------------------------------------------------

    async def watch(self, lot: int, watcher: Watcher) -> None:
        """Register ``watcher`` for ``lot`` and return once the lot's feed is started: from then
        on every event after the feed's ``last`` is offered (see the module docstring). Raises
        ``RedisError`` / ``OSError`` (the watcher is then not registered) when Redis is down."""
        feed = self._feeds.get(lot)
        if feed is None:
            feed = Feed(channel=self.keys.lot(lot).channel)
            self._feeds[lot] = feed
            self._spawn(self._start_feed(lot, feed), f"hub-start-{lot}")
        if watcher not in feed.watchers:
            feed.watchers.add(watcher)
            metrics.WATCHERS.inc()
        await feed.started.wait()
        if feed.last is None:
            self.unwatch(lot, watcher)
            error = feed.error or ConnectionError("Redis unavailable")
            raise error

    def unwatch(self, lot: int, watcher: Watcher) -> None:
        feed = self._feeds.get(lot)
        if feed is None or watcher not in feed.watchers:
            return
        feed.watchers.discard(watcher)
        metrics.WATCHERS.dec()
        if not feed.watchers:
            del self._feeds[lot]
            self._spawn(self._unsubscribe(lot, feed.channel), f"hub-unsub-{lot}")

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._side.add(task)
        task.add_done_callback(self._side.discard)

    async def _start_feed(self, lot: int, feed: Feed) -> None:
        """Subscribe, wait for the confirmation, read the room's seq and epoch, catch up."""
        try:
            pubsub = self._pubsub
            if pubsub is not None and self.connected.is_set():
                await pubsub.subscribe(feed.channel)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(feed.confirmed.wait(), CONFIRM_TIMEOUT_S)
            # (when the connection is down, the next one subscribes this feed and catches up)
            seq, epoch = await self._room_position(lot)
            async with feed.lock:
                if feed.last is None:
                    feed.last, feed.epoch = seq, epoch
        except (RedisError, OSError) as exc:
            outage.REDIS.failed(exc, where="fan-out")
            feed.error = exc
        finally:
            feed.started.set()
        if feed.last is not None:
            # events published after the snapshot read but handled before ``last`` was set
            # were skipped by _advance: fetch them from the stream now
            with contextlib.suppress(RedisError, OSError):
                await self._advance(lot, None)

    async def _unsubscribe(self, lot: int, channel: str) -> None:
        if lot in self._feeds:
            return  # watched again meanwhile
        pubsub = self._pubsub
        if pubsub is not None and self.connected.is_set():
            with contextlib.suppress(RedisError, OSError):
                await pubsub.unsubscribe(channel)

    async def _listen_staff(self, lot: int, on: bool) -> None:
        """Subscribe the lot's staff channel while the lot has a staff seat here (``on`` says
        which way it changed; the seats decide, so crossed calls settle right)."""
        channel = self.keys.lot(lot).staff
        wanted = lot in self.presence.staff_lots()
        if wanted == (channel in self._staff):
            return
        if wanted:
            self._staff[channel] = lot
        else:
            del self._staff[channel]
        pubsub = self._pubsub
        if pubsub is not None and self.connected.is_set():
            # (when the connection is down, the next one subscribes what is in _staff)
            if wanted:
                await pubsub.subscribe(channel)
            else:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.unsubscribe(channel)

    # --- delivery -----------------------------------------------------------------------------

    async def _room_position(self, lot: int) -> tuple[int, str]:
        raw_seq, raw_epoch = await self.redis.hmget(self.keys.lot(lot).state, ["seq", "epoch"])
        seq = int(raw_seq) if raw_seq is not None else 0
        epoch = raw_epoch.decode() if isinstance(raw_epoch, bytes) else (raw_epoch or "")
        return seq, epoch

    def _deliver(self, lot: int, feed: Feed, event: LotEvent) -> None:
        feed.last = event.seq
        frame = Frame.of(encode_event(lot, feed.epoch, event.to_map()))
        for watcher in tuple(feed.watchers):
            watcher.offer(lot, event.seq, frame, feed.epoch)

    def _reset(self, lot: int, feed: Feed, seq: int, epoch: str, why: str) -> None:
        log.warning("lot %s: %s; watchers get a fresh snapshot (recovered: false)", lot, why)
        feed.last, feed.epoch = seq, epoch
        for watcher in tuple(feed.watchers):
            watcher.reset(lot)

    async def _advance(self, lot: int, event: LotEvent | None) -> None:
        """Deliver ``event`` (or just catch up with the room when ``None``), backfilling any gap
        from the stream first, or resetting the watchers when the room's history changed."""
        feed = self._feeds.get(lot)
        if feed is None or feed.last is None:
            return  # not watched, or not started yet (the start catches up itself)
        if event is not None and event.seq <= feed.last:
            return
        async with feed.lock:
            if self._feeds.get(lot) is not feed or feed.last is None:
                return
            last = feed.last
            if event is not None and event.seq <= last:
                return
            if event is not None and event.seq == last + 1:
                self._deliver(lot, feed, event)
                return
            seq, epoch = await self._room_position(lot)
            if epoch != feed.epoch:
                self._reset(lot, feed, seq, epoch, f"epoch changed {feed.epoch} → {epoch}")
                return
            if seq <= last:
                return
            missed = await self.rooms.events_after(lot, last)
            if missed is None:
                self._reset(lot, feed, seq, epoch, f"the stream cannot fill a gap after {last}")
                return
            for ev in missed:
                if feed.last is not None and ev.seq == feed.last + 1:
                    self._deliver(lot, feed, ev)

    # --- the pub/sub connection ----------------------------------------------------------------

    async def _run(self) -> None:
        """Keep one pub/sub connection up, re-making it with capped backoff until cancelled."""
        backoff = 0.05
        while True:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, RuntimeError) as exc:
                outage.REDIS.failed(exc, where="fan-out pub/sub")
            finally:
                if self.connected.is_set():
                    backoff = 0.05  # this connection was up: start the backoff afresh
                self.connected.clear()
                await self._close_pubsub()
            await asyncio.sleep(backoff)
            backoff = min(MAX_BACKOFF_S, backoff * 2)

    async def _session(self) -> None:
        """One connection's life: subscribe everything, catch up every feed, then read."""
        pubsub = connection.pubsub(self.redis)  # on a Redis Cluster: to any one node
        self._pubsub = pubsub
        for feed in self._feeds.values():
            feed.confirmed.clear()
        channels = [f.channel for f in self._feeds.values()] + list(self._staff)
        await pubsub.subscribe(self.keys.hub_channel, *channels)
        self.connected.set()
        # feeds (and staff channels) that came while that subscribe was on its way saw no
        # connection: subscribe them now (from here on a new one subscribes itself)
        late = [c for c in [f.channel for f in self._feeds.values()] + list(self._staff)
                if c not in set(channels)]
        if late:
            await pubsub.subscribe(*late)
        outage.REDIS.ok()
        self._spawn_catch_up()
        while True:
            msg = await pubsub.get_message(timeout=1.0)
            if msg is not None:
                await self._handle(msg)

    def _spawn_catch_up(self) -> None:
        async def catch_up() -> None:
            for lot in list(self._feeds):
                feed = self._feeds.get(lot)
                if feed is None:
                    continue
                try:
                    if feed.last is None and feed.started.is_set():
                        # started while Redis was down: start it properly now
                        feed.started.clear()
                        feed.error = None
                        await self._start_feed(lot, feed)
                    else:
                        await self._advance(lot, None)
                except (RedisError, OSError) as exc:
                    outage.REDIS.failed(exc, where="fan-out catch-up")
                    return  # the connection is going too: the next one catches up again

        self._spawn(catch_up(), "hub-catch-up")

    async def _handle(self, msg: dict[str, Any]) -> None:
        kind = msg["type"]
        channel = msg["channel"]
        channel = channel.decode() if isinstance(channel, bytes) else channel
        if channel == self.keys.hub_channel:
            return
        if self.keys.is_staff_channel(channel):  # staff frames, not events
            if kind == "message" and channel in self._staff:
                self.presence.deliver_missed(self._staff[channel], msg["data"])
            return
        if kind == "subscribe":
            feed = self._feeds.get(self.keys.channel_lot_id(channel))
            if feed is not None:
                feed.confirmed.set()
        elif kind == "message":
            lot = self.keys.channel_lot_id(channel)
            data = msgpack.unpackb(msg["data"], raw=False, strict_map_key=False)
            if isinstance(data, dict) and "kind" in data:
                await self._advance(lot, LotEvent.from_map(data))
            else:
                # a control message (the room's epoch changed): compare with the room
                await self._advance(lot, None)

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _reconcile_loop(self) -> None:
        """Safety net for a lost pub/sub message: compare every feed with its room."""
        while True:
            await asyncio.sleep(self.reconcile_s)
            lots = [lot for lot, feed in self._feeds.items() if feed.last is not None]
            if not lots:
                continue
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for lot in lots:
                        pipe.hmget(self.keys.lot(lot).state, ["seq", "epoch"])
                    positions = await pipe.execute()
                for lot, (raw_seq, raw_epoch) in zip(lots, positions, strict=True):
                    feed = self._feeds.get(lot)
                    if feed is None or feed.last is None or raw_seq is None:
                        continue
                    epoch = raw_epoch.decode() if isinstance(raw_epoch, bytes) else raw_epoch
                    if int(raw_seq) > feed.last or epoch != feed.epoch:
                        await self._advance(lot, None)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                outage.REDIS.failed(exc, where="fan-out reconcile")
