"""Per-process fan-out of lot events to the connections that watch them (DESIGN §7).

One :class:`Hub` per process holds one Redis pub/sub connection subscribed to the channel of every
lot that some local connection watches. The Lua scripts publish each event's msgpack blob on the
lot's channel right after appending it to the lot's stream. Pub/sub is at-most-once, so the hub
never trusts it for completeness: it tracks the last seq it delivered per lot and

- on a message whose seq is not ``last + 1`` it backfills from the stream first;
- every ``reconcile_s`` it compares each watched lot's seq in Redis with its own and backfills;
- when the pub/sub connection drops it resubscribes and backfills every lot.

So every watcher sees each lot's events in seq order with no gap (invariant 2). Each event is
encoded into one ``ev`` frame and the same bytes are offered to every watcher; :meth:`Watcher.offer`
must not block (house style rule 10: a bounded queue per connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from auction.domain.room import LotEvent
from auction.rooms.keys import Keys
from auction.rooms.service import Rooms, decode_event
from auction.wire.codec import encode_event

log = logging.getLogger("auction.fanout")


class Watcher(Protocol):
    def offer(self, lot: int, seq: int, frame: bytes) -> None:
        """Take one encoded ``ev`` frame; must return at once."""


class Hub:
    def __init__(self, redis: Redis, keys: Keys, rooms: Rooms, *, reconcile_s: float = 0.5):
        self.redis = redis
        self.keys = keys
        self.rooms = rooms
        self.reconcile_s = reconcile_s
        self._watchers: dict[int, set[Watcher]] = {}
        self._last: dict[int, int] = {}
        self._epoch: dict[int, str] = {}
        self._lock = asyncio.Lock()
        self._pubsub: PubSub | None = None
        self._confirmed: dict[str, asyncio.Event] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._pubsub = self.redis.pubsub()
        self._tasks = [
            asyncio.create_task(self._read_loop(), name="hub-read"),
            asyncio.create_task(self._reconcile_loop(), name="hub-reconcile"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, RedisError):
                await task
        if self._pubsub is not None:
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]

    def epoch(self, lot: int) -> str | None:
        return self._epoch.get(lot)

    async def watch(self, lot: int, watcher: Watcher) -> None:
        """Start offering ``lot``'s events to ``watcher``. Events after the moment this returns
        are all offered; the caller reads its snapshot afterwards and drops seq ≤ snapshot."""
        watchers = self._watchers.setdefault(lot, set())
        watchers.add(watcher)
        if len(watchers) > 1 or lot in self._last:
            return
        channel = self.keys.lot(lot).channel
        confirmed = self._confirmed.setdefault(channel, asyncio.Event())
        assert self._pubsub is not None
        await self._pubsub.subscribe(channel)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(confirmed.wait(), 2.0)
        snap = await self.rooms.snapshot(lot)
        async with self._lock:
            if lot not in self._last:
                self._last[lot] = snap.seq if snap else 0
                self._epoch[lot] = snap.epoch if snap else ""

    def unwatch(self, lot: int, watcher: Watcher) -> None:
        watchers = self._watchers.get(lot)
        if not watchers:
            return
        watchers.discard(watcher)
        if not watchers:
            del self._watchers[lot]
            self._last.pop(lot, None)
            self._epoch.pop(lot, None)
            channel = self.keys.lot(lot).channel
            self._confirmed.pop(channel, None)
            if self._pubsub is not None:
                asyncio.get_running_loop().create_task(self._unsubscribe(channel))

    async def _unsubscribe(self, channel: str) -> None:
        with contextlib.suppress(RedisError):
            if self._pubsub is not None and channel not in self._confirmed:
                await self._pubsub.unsubscribe(channel)

    # --- delivery -----------------------------------------------------------------------------

    def _deliver(self, lot: int, event: LotEvent) -> None:
        self._last[lot] = event.seq
        frame = encode_event(lot, self._epoch.get(lot, ""), event.to_map())
        for watcher in tuple(self._watchers.get(lot, ())):
            watcher.offer(lot, event.seq, frame)

    async def _advance(self, lot: int, event: LotEvent | None) -> None:
        """Deliver ``event`` (or just catch up when ``None``), backfilling any gap first."""
        async with self._lock:
            last = self._last.get(lot)
            if last is None:
                return  # nobody watches this lot any more
            if event is not None and event.seq <= last:
                return
            if event is not None and event.seq == last + 1:
                self._deliver(lot, event)
                return
            missed = await self.rooms.events_after(lot, last)
            if missed is None:
                log.warning("lot %s: stream cannot fill a gap after seq %s", lot, last)
                return
            for ev in missed:
                if lot in self._last and ev.seq == self._last[lot] + 1:
                    self._deliver(lot, ev)

    async def _read_loop(self) -> None:
        assert self._pubsub is not None
        while True:
            try:
                if not self._pubsub.subscribed:
                    await asyncio.sleep(0.05)
                    continue
                msg = await self._pubsub.get_message(timeout=1.0)
                if msg is None:
                    continue
                kind = msg["type"]
                channel = msg["channel"]
                channel = channel.decode() if isinstance(channel, bytes) else channel
                if kind == "subscribe":
                    self._confirmed.setdefault(channel, asyncio.Event()).set()
                elif kind == "message":
                    lot = self.keys.channel_lot_id(channel)
                    await self._advance(lot, decode_event(msg["data"]))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("pub/sub connection lost (%s); resubscribing", exc)
                await self._resubscribe()

    async def _resubscribe(self) -> None:
        await asyncio.sleep(0.2)
        try:
            if self._pubsub is not None:
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.aclose()  # type: ignore[no-untyped-call]
            self._pubsub = self.redis.pubsub()
            channels = [self.keys.lot(lot).channel for lot in self._watchers]
            if channels:
                await self._pubsub.subscribe(*channels)
            for lot in list(self._watchers):
                await self._advance(lot, None)
        except (RedisError, OSError) as exc:
            log.warning("resubscribe failed (%s); will retry", exc)

    async def _reconcile_loop(self) -> None:
        while True:
            await asyncio.sleep(self.reconcile_s)
            lots = list(self._last)
            if not lots:
                continue
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for lot in lots:
                        pipe.hget(self.keys.lot(lot).state, "seq")
                    seqs = await pipe.execute()
                for lot, raw in zip(lots, seqs, strict=True):
                    if raw is not None and int(raw) > self._last.get(lot, int(raw)):
                        await self._advance(lot, None)
            except (RedisError, OSError) as exc:
                log.warning("reconcile failed (%s)", exc)
