"""A websocket connection's lot subscriptions (docs/protocol.md ``sub`` / ``unsub``): the
hub's side (:meth:`Subscriptions.offer`, :meth:`Subscriptions.reset`: synchronous, never
blocking) and the start of a subscription (a snapshot or a resume) made seamless.

Ordering per lot is guaranteed by the hub (gapless seq); this module only makes a
subscription's start seamless: while a snapshot or a resume is being read, events the hub
offers are parked, then the ones newer than what the client got are released in order (so no
gap and no duplicate at the seam). :class:`auction.api.ws.Connection` is a
:class:`Subscriptions`; the socket's outbox, requests and receive loop are its own.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from redis.exceptions import RedisError

from auction import outage
from auction.api import publication, staff_view
from auction.api.outbox import Outgoing
from auction.api.tokens import Principal
from auction.rooms.presence import ReserveWatch
from auction.services import Services
from auction.wire import codec
from auction.wire.frames import Frame

log = logging.getLogger("auction.ws")

MAX_SUBSCRIPTIONS = 64


@dataclass(slots=True)
class LotSub:
    sent: int = 0  # last seq handed to the writer
    #: the epoch of the client's snapshot or resume: an event of another epoch is never sent
    epoch: str = ""
    #: events offered while a snapshot or resume is being read (``None``: pass them through)
    pending: list[tuple[int, Frame, str]] | None = field(default_factory=list)
    #: a resync (fresh snapshot, ``recovered: false``) is running / another one was asked for
    resyncing: bool = False
    again: bool = False
    #: held while a start (the ``sub``'s snapshot or resume, or a resync) reads and sends: one
    #: at a time, so a resync asked for meanwhile follows it and its snapshot is the last word
    starting: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: the lot's staff frames go to this socket (api/staff_view.py); its reserve as it knows it
    staff: bool = False
    reserve: ReserveWatch | None = None


class Subscriptions:
    """The lots one socket watches. The connection provides the socket's side: its
    :attr:`services`, :attr:`who`, :attr:`_tasks`, and :meth:`_put` / :meth:`push` to queue a
    frame for the socket."""

    services: Services
    who: Principal
    lots: dict[int, LotSub]
    _tasks: set[asyncio.Task[None]]

    def _put(self, frame: Outgoing) -> None:
        raise NotImplementedError

    def push(self, frame: bytes | None) -> None:
        raise NotImplementedError

    # --- hub side (synchronous, never blocks) ---------------------------------------------------

    def offer(self, lot: int, seq: int, frame: Frame, epoch: str) -> None:
        sub = self.lots.get(lot)
        if sub is None:
            return
        if sub.pending is not None:
            sub.pending.append((seq, frame, epoch))
        elif epoch != sub.epoch:
            # The client's snapshot was read after the room's epoch changed, and the hub's feed
            # has not noticed yet: its events carry the old epoch. Never send them (the client
            # would take them for a gap in the new history); the feed's reset, which follows
            # once it sees the new epoch, sends a fresh snapshot (fanout.Hub._reset).
            return
        elif seq == sub.sent + 1:
            sub.sent = seq
            self._put(frame)
            if sub.reserve is not None:
                self.push(sub.reserve.after(lot, frame.payload))
        elif seq > sub.sent + 1:
            # cannot happen while the hub is gapless; never let it pass silently
            log.error("lot %s: gap %s → %s on a connection; resyncing", lot, sub.sent, seq)
            self.reset(lot)

    def reset(self, lot: int) -> None:
        """The hub says the lot's history changed (new epoch) or cannot be filled: park the
        lot's events and send a fresh snapshot with ``recovered: false`` (never a silent gap)."""
        sub = self.lots.get(lot)
        if sub is None:
            return
        if sub.pending is None:
            sub.pending = []
        if sub.resyncing:
            sub.again = True
            return
        sub.resyncing = True
        task = asyncio.get_running_loop().create_task(self._resync(lot, sub))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _release(self, lot: int, sub: LotSub) -> None:
        parked, sub.pending = sub.pending or [], None
        for seq, frame, epoch in parked:
            self.offer(lot, seq, frame, epoch)

    async def subscribe(self, lot: int, epoch: str | None, seq: int | None) -> None:
        """``sub {lot, epoch?, seq?}``: resume after ``seq`` when ``epoch`` is the room's and the
        stream still holds every later event; otherwise a snapshot (``recovered: false`` when
        the client asked to resume)."""
        if lot not in self.lots and len(self.lots) >= MAX_SUBSCRIPTIONS:
            self._put(codec.encode_error("too_many_subscriptions", "订阅的标的过多"))
            return
        if not await publication.watchable(self.services, self.who, lot):
            # a draft session's lot: to all but its staff, as a lot that does not exist
            self._put(codec.encode_error("unknown_lot", f"标的 {lot} 不存在"))
            return
        sub = self.lots.setdefault(lot, LotSub())
        try:
            async with sub.starting:
                sub.pending = []
                sub.staff = await staff_view.sees_staff_frames(self.services, self.who, lot)
                await self.services.hub.watch(lot, self)
                await self._start(lot, sub, epoch, seq)
            if self.lots.get(lot) is sub:
                await self.services.hub.presence.join(lot, self, staff=sub.staff)
        except (RedisError, OSError):
            outage.REDIS.failed("subscribe failed", where="websocket")
            self.unsubscribe(lot)
            self._put(codec.pack({
                "t": "error", "code": "unavailable", "lot": lot,
                "message": "服务暂时不可用, 请稍后重新订阅",
            }))

    async def _start(
        self, lot: int, sub: LotSub, epoch: str | None, seq: int | None, *, lost: bool = False
    ) -> None:
        """Read the snapshot or resume point and release what the hub parked meanwhile;
        ``lost``: the lot's history changed under this client, always a ``recovered: false``
        snapshot. A staff socket then gets the lot's ``reserve``."""
        sub.reserve = None
        snap = await self.services.rooms.snapshot(lot)
        if snap is None:
            self.unsubscribe(lot)
            self._put(codec.encode_error("unknown_lot", f"标的 {lot} 不存在"))
            return
        resumable = epoch is not None and seq is not None and epoch == snap.epoch
        if resumable and not lost and seq is not None and seq <= snap.seq:
            missed = await self.services.rooms.events_after(lot, seq)
            if missed is not None:
                # one outbox entry, however many events were missed: a client dropped for
                # being SEND_QUEUE frames behind missed more than that, and must get back in
                self._put((codec.pack({
                    "t": "resumed", "lot": lot, "epoch": snap.epoch, "after": seq,
                    "count": len(missed), "recovered": True,
                }), *(codec.encode_event(lot, snap.epoch, ev.to_map()) for ev in missed)))
                sub.sent = missed[-1].seq if missed else seq
                sub.epoch = snap.epoch
                self._release(lot, sub)
                await self._watch_reserve(lot, sub)
                return
        message: dict[str, object] = {
            "t": "snapshot", "lot": lot, "epoch": snap.epoch, "seq": snap.seq, "state": snap.state,
        }
        if epoch is not None or lost:
            message["recovered"] = False
        if sub.staff:  # P5: staff see that proxies are active, never their maxima
            message["proxies"] = snap.proxies
        if self.who.bidder_id:  # P5, S3: the bidder's own maximum or quote, to it alone
            mine = await self.services.rooms.mine(lot, self.who.bidder_id)
            if mine is not None:
                message["mine"] = mine
        self._put(codec.pack(message))
        sub.sent = snap.seq
        sub.epoch = snap.epoch
        self._release(lot, sub)
        await self._watch_reserve(lot, sub)

    async def _watch_reserve(self, lot: int, sub: LotSub) -> None:
        """A staff socket's ``reserve`` after its snapshot or resume, from the room as it is
        now (events already sent that it reflects are not folded in twice: their seq)."""
        if sub.staff:
            sub.reserve = await ReserveWatch.read(self.services.rooms, lot, sub.sent)
            self.push(sub.reserve.frame(lot) if sub.reserve is not None else None)

    async def _resync(self, lot: int, sub: LotSub) -> None:
        """Fresh snapshots with ``recovered: false`` until no reset arrived meanwhile; each
        after the start running now, if any (a resume read before the reset must not be the
        last word: it would put the subscription back on the old epoch for good)."""
        try:
            while self.lots.get(lot) is sub:
                failed = False
                async with sub.starting:
                    if self.lots.get(lot) is not sub:
                        return
                    sub.again = False
                    sub.pending = []
                    try:
                        await self._start(lot, sub, None, None, lost=True)
                    except (RedisError, OSError):
                        outage.REDIS.failed("resync failed", where="websocket")
                        failed = sub.again = True
                if not sub.again:
                    return
                if failed:
                    await asyncio.sleep(0.2)
        finally:
            sub.resyncing = False

    def unsubscribe(self, lot: int) -> None:
        if self.lots.pop(lot, None) is not None:
            self.services.hub.unwatch(lot, self)
            self.services.hub.presence.leave(lot, self)
