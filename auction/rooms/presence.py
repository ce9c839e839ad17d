"""Who is in the room: the staff frames and the viewer count (docs/protocol.md "Staff frames").

One :class:`Presence` per process, owned by the fan-out hub (:class:`auction.rooms.fanout.Hub`).
The websocket layer registers here every socket subscribed to a lot (a *seat*, staff or not) and
every socket connected with a bid credential; Presence sends each seat, through
:meth:`Audience.push` (never blocks), the frames only it may see:

- staff seats: ``presence {lot, bidders, viewers}``, ``missed_bid {lot, paddle, amount,
  late_ms}`` and (decided by the socket itself, see :class:`ReserveWatch`) ``reserve``;
- every other seat: ``viewers {lot, viewers}`` (围观人数), never a staff frame.

Counting across processes (every ``auction serve`` sharing one Redis)
--------------------------------------------------------------------
Once a second (:data:`TICK_S`) each process, in one pipeline whose size grows with the lots and
sessions it serves (never with all of Redis):

- writes, per lot it has seats of, its own count of subscribed sockets into the lot's
  ``viewers`` hash (field: this process's id, value ``<count>:<ms>``) and reads the hash back;
  the lot's viewers are this process's live count plus every *other* field younger than
  :data:`STALE_MS` (a dead process's field stops counting after 3 s and is deleted);
- refreshes, per session it has bidder sockets of, their bidder ids in the session's
  ``bidders`` sorted set (score: now) and, per session of a lot with a staff seat here, counts
  the members younger than :data:`STALE_MS`: distinct bidders, whichever process holds them.

Then a seat whose value changed gets its frame. A new seat gets one right after its snapshot
(read for that lot alone). A bidder's first socket is written at once; when its last socket in
this process goes, its sighting is aged to expire in :data:`LEAVE_GRACE_MS` unless another
process still sees it (and refreshes it meanwhile). Clocks: each process stamps with its own
wall clock; servers are assumed NTP-synchronised to well under a second.

Missed bids
-----------
A bid refused ``lot_closed`` (:meth:`Presence.missed_bid`) is published, with how late it came,
on the lot's staff channel; each hub subscribes that channel while it has a staff seat of the
lot and hands the message to :meth:`Presence.deliver_missed`. Pub/sub is at-most-once: a missed
bid is a notice to the auctioneer, not part of the lot's history, and is never in its stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import msgpack
from redis.asyncio import Redis
from redis.exceptions import RedisError

from auction import outage
from auction.domain.errors import Rejection
from auction.rooms.keys import Keys
from auction.rooms.service import Rooms
from auction.wire.codec import pack

log = logging.getLogger("auction.presence")

#: how often each process writes its counts and sends what changed
TICK_S = 1.0
#: a count or a sighting older than this is a dead process's (or a gone bidder's)
STALE_MS = 3_000
#: a bidder whose last socket here closed stops counting this long after, unless another
#: process still sees it (it refreshes the sighting every tick, well within this)
LEAVE_GRACE_MS = 1_500
#: event kinds that move the standing bid, after which a staff socket re-evaluates the reserve
HIGH_KINDS = frozenset({"bid", "bid_retracted", "reopened"})


def now_ms() -> int:
    return int(time.time() * 1000)


class Audience(Protocol):
    """A socket as Presence sees it."""

    def push(self, frame: bytes) -> None:
        """Queue one frame for the client; must return at once."""


@dataclass(slots=True)
class Seat:
    """One socket subscribed to one lot. ``shown``: the value of its last presence/viewers."""

    staff: bool
    shown: tuple[int, int] | None = None


@dataclass(slots=True)
class ReserveWatch:
    """What a staff socket knows of a lot's reserve (保留价): the amount never leaves the server,
    only whether the standing bid meets it. ``seq``: the last event folded in (the room state it
    started from included), so an event the state already reflected is not applied twice."""

    reserve: int
    high: int
    bids: int
    seq: int
    sent: str | None = None

    @classmethod
    async def read(cls, rooms: Rooms, lot: int, sent: int) -> ReserveWatch | None:
        """From the room as it is now (``None``: no room). ``sent``: the socket's last event;
        a read older than that (an event overtook it) is read again, since an event folded
        before the watch existed would be lost."""
        room = await rooms.room_state(lot)
        for _ in range(4):
            if room is None or room.seq >= sent:
                break
            room = await rooms.room_state(lot)
        return None if room is None else cls(room.reserve, room.high, room.bids, room.seq)

    @property
    def status(self) -> str:
        """``none`` (no reserve), ``met`` (a standing bid at or above it, rule R6) or
        ``not_met``."""
        if self.reserve <= 0:
            return "none"
        return "met" if self.bids > 0 and self.high >= self.reserve else "not_met"

    def frame(self, lot: int) -> bytes:
        """The ``reserve`` frame now (sent after every snapshot)."""
        self.sent = self.status
        return pack({"t": "reserve", "lot": lot, "reserve": self.sent})

    def after(self, lot: int, ev_frame: bytes) -> bytes | None:
        """Fold in one ``ev`` frame just sent; the ``reserve`` frame when the status changed."""
        ev = msgpack.unpackb(ev_frame, raw=False, strict_map_key=False)
        seq = ev.get("seq")
        if not isinstance(seq, int) or seq <= self.seq:
            return None
        self.seq = seq
        kind = ev.get("kind")
        if kind not in HIGH_KINDS:
            return None
        if kind == "bid":
            self.high, self.bids = int(ev.get("amount", 0)), self.bids + 1
        else:
            self.high, self.bids = int(ev.get("high", 0)), int(ev.get("bids", 0))
        return self.frame(lot) if self.status != self.sent else None


def late_ms(at: int, mode: str, status: str, closed_at: int, ends_at: int) -> int:
    """How late a bid refused ``lot_closed`` at ``at`` came: after ``closed_at``, or after
    ``ends_at`` when a timed lot's clock ran out first (the closer may close it later). ≥ 0."""
    ref = closed_at if status != "open" and closed_at > 0 else ends_at
    if mode == "timed" and 0 < ends_at < ref:
        ref = ends_at
    return max(0, at - ref) if ref > 0 else 0


def _int(raw: object) -> int:
    if isinstance(raw, bytes | str):
        with contextlib.suppress(ValueError):
            return int(raw)
    return 0


def _text(raw: object) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw or "")


class Presence:
    """Per-process registry of seats and bidder sockets, and the once-a-second count."""

    def __init__(
        self, redis: Redis, keys: Keys, rooms: Rooms, *,
        listen: Callable[[int, bool], Coroutine[Any, Any, None]], tick_s: float = TICK_S,
    ) -> None:
        """``listen(lot, on)``: (un)subscribe the lot's staff channel (the hub's pub/sub)."""
        self.redis = redis
        self.keys = keys
        self.rooms = rooms
        self.tick_s = tick_s
        self._listen = listen
        #: this process in the ``viewers`` hashes
        self.process_id = secrets.token_hex(6)
        self._seats: dict[int, dict[Audience, Seat]] = {}
        #: session → bidder id → sockets of it open in this process
        self._bidders: dict[int, Counter[int]] = {}
        #: lots whose ``viewers`` hash holds a field of this process
        self._written: set[int] = set()
        #: fields of dead processes seen at the last tick, deleted at the next
        self._stale: dict[int, list[str]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # --- registry (called by the websocket layer) ------------------------------------------

    def viewers_here(self, lot: int) -> int:
        return len(self._seats.get(lot, ()))

    def staff_lots(self) -> list[int]:
        return [lot for lot, seats in self._seats.items() if any(s.staff for s in seats.values())]

    async def join(self, lot: int, who: Audience, *, staff: bool) -> None:
        """``who`` is subscribed to ``lot`` (its snapshot is queued): count it, and send it the
        lot's presence (staff) or viewers now. A Redis failure only delays that first frame to
        the next tick."""
        seats = self._seats.setdefault(lot, {})
        first_staff = staff and not any(s.staff for s in seats.values())
        seat = seats[who] = Seat(staff=staff)
        try:
            if first_staff:
                await self._listen(lot, True)
            others, stale = await self._read_viewers(lot)
            self._stale[lot] = stale
            bidders = await self._read_bidders(lot) if staff else 0
        except (RedisError, OSError) as exc:
            outage.REDIS.failed(exc, where="presence")
            return
        except Rejection:  # the room is gone (unknown_lot): nothing to show
            return
        if self._seats.get(lot, {}).get(who) is seat:
            self._show(lot, who, seat, others + self.viewers_here(lot), bidders)

    def leave(self, lot: int, who: Audience) -> None:
        seats = self._seats.get(lot)
        seat = seats.pop(who, None) if seats is not None else None
        if seats is None or seat is None:
            return
        if not seats:
            del self._seats[lot]
        if seat.staff and not any(s.staff for s in seats.values()):
            self._spawn(self._listen(lot, False))

    async def bidder_connected(self, session: int, bidder: int) -> None:
        """A socket with a bid credential of ``session`` is open (it counts at once)."""
        here = self._bidders.setdefault(session, Counter())
        here[bidder] += 1
        if here[bidder] == 1:
            key = self.keys.session_bidders(session)
            with contextlib.suppress(RedisError, OSError):
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.zadd(key, {str(bidder): now_ms()})
                    pipe.pexpire(key, STALE_MS * 2)
                    await pipe.execute()

    def bidder_left(self, session: int, bidder: int) -> None:
        here = self._bidders.get(session)
        if here is None or here[bidder] <= 0:
            return
        here[bidder] -= 1
        if here[bidder] > 0:
            return
        del here[bidder]
        if not here:
            del self._bidders[session]
        # expire soon, unless another process still holds a socket of it (it refreshes first)
        fade = now_ms() - STALE_MS + LEAVE_GRACE_MS
        self._spawn(self._fade(session, bidder, fade))

    async def _fade(self, session: int, bidder: int, score: int) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self.redis.zadd(
                self.keys.session_bidders(session), {str(bidder): score}, xx=True, lt=True
            )

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, RedisError | OSError):
            outage.REDIS.failed(exc, where="presence")
        elif exc is not None:
            log.error("presence task failed", exc_info=exc)

    # --- missed bids ------------------------------------------------------------------------

    async def missed_bid(self, lot: int, paddle: int, amount: int, at: int) -> None:
        """A bid refused ``lot_closed`` at ``at``: tell every staff seat of the lot, in any
        process (one HMGET and one PUBLISH, only on this refusal path)."""
        keys = self.keys.lot(lot)
        mode, status, closed_at, ends_at = await self.redis.hmget(
            keys.state, ["mode", "status", "closed_at", "ends_at"]
        )
        late = late_ms(at, _text(mode), _text(status), _int(closed_at), _int(ends_at))
        blob = msgpack.packb(
            {"lot": lot, "paddle": paddle, "amount": amount, "late_ms": late}, use_bin_type=True
        )
        await self.redis.publish(keys.staff, blob)

    async def proxies_changed(self, lot: int) -> None:
        """A bidder set or changed a proxy on the lot: tell every staff seat of the lot, in any
        process, how many bidders hold one now (never a maximum: docs/formats.md P5)."""
        keys = self.keys.lot(lot)
        count = _int(await self.redis.hget(keys.state, "proxies"))
        await self.redis.publish(keys.staff, msgpack.packb(
            {"kind": "proxies", "lot": lot, "proxies": count}, use_bin_type=True))

    def deliver_missed(self, lot: int, blob: bytes) -> None:
        """A message of the lot's staff channel → ``missed_bid`` (or ``proxies``) to this
        process's staff seats."""
        data = msgpack.unpackb(blob, raw=False, strict_map_key=False)
        if not isinstance(data, dict):
            return
        if data.get("kind") == "proxies":
            frame = pack({"t": "proxies", "lot": lot, "proxies": data.get("proxies", 0)})
        else:
            frame = pack({
                "t": "missed_bid", "lot": lot, "paddle": data.get("paddle", 0),
                "amount": data.get("amount", 0), "late_ms": data.get("late_ms", 0),
            })
        for who, seat in list(self._seats.get(lot, {}).items()):
            if seat.staff:
                who.push(frame)

    # --- reads ------------------------------------------------------------------------------

    def _others(self, lot: int, fields: Mapping[Any, Any], now: int) -> tuple[int, list[str]]:
        """Sockets of the other live processes, and the fields of dead ones."""
        total, stale = 0, []
        for raw_field, raw_value in fields.items():
            name = _text(raw_field)
            if name == self.process_id:
                continue
            count, _, stamp = _text(raw_value).partition(":")
            if now - _int(stamp) > STALE_MS:
                stale.append(name)
            else:
                total += _int(count)
        return total, stale

    async def _read_viewers(self, lot: int) -> tuple[int, list[str]]:
        fields = await self.redis.hgetall(self.keys.lot(lot).viewers)
        return self._others(lot, fields, now_ms())

    async def _read_bidders(self, lot: int) -> int:
        session = await self.rooms.session_of(lot)
        key = self.keys.session_bidders(session)
        return int(await self.redis.zcount(key, now_ms() - STALE_MS, "+inf"))

    def _show(self, lot: int, who: Audience, seat: Seat, viewers: int, bidders: int) -> None:
        value = (viewers, bidders if seat.staff else 0)
        if value == seat.shown:
            return
        seat.shown = value
        if seat.staff:
            who.push(pack({"t": "presence", "lot": lot, "bidders": bidders, "viewers": viewers}))
        else:
            who.push(pack({"t": "viewers", "lot": lot, "viewers": viewers}))

    # --- the once-a-second count ------------------------------------------------------------

    async def run(self) -> None:
        """Tick until cancelled; a Redis failure skips a tick (reported once per outage), an
        unexpected error too (its traceback logged once: the counts go on)."""
        logged = False
        while True:
            await asyncio.sleep(self.tick_s)
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                outage.REDIS.failed(exc, where="presence")
            except Exception:
                if not logged:
                    log.exception("presence tick failed (logged once); ticking on")
                logged = True

    async def stop(self) -> None:
        """Cancel what :meth:`leave` and :meth:`bidder_left` left running (the hub stops)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def tick(self) -> None:
        """Write this process's counts, read the totals, send what changed (one pipeline)."""
        now = now_ms()
        lots = list(self._seats)
        sessions: dict[int, int] = {}  # lot → session, for the lots with a staff seat
        for lot in self.staff_lots():
            with contextlib.suppress(Rejection):  # no room (any more): no bidder count
                sessions[lot] = await self.rooms.session_of(lot)
        counted = sorted(set(sessions.values()))
        gone = self._written - set(lots)
        stale, self._stale = self._stale, {}
        read: dict[tuple[str, int], int] = {}  # (what, lot or session) → index of its reply
        async with self.redis.pipeline(transaction=False) as pipe:
            for lot in gone:
                pipe.hdel(self.keys.lot(lot).viewers, self.process_id)
            for lot in lots:
                key = self.keys.lot(lot).viewers
                dead = stale.get(lot, [])
                if dead:
                    pipe.hdel(key, *dead)
                pipe.hset(key, self.process_id, f"{self.viewers_here(lot)}:{now}")
                pipe.pexpire(key, STALE_MS * 2)
                read["viewers", lot] = len(pipe)
                pipe.hgetall(key)
            for session, ids in self._bidders.items():
                key = self.keys.session_bidders(session)
                pipe.zadd(key, {str(bidder): now for bidder in ids})
                pipe.pexpire(key, STALE_MS * 2)
            for session in counted:
                key = self.keys.session_bidders(session)
                pipe.zremrangebyscore(key, "-inf", now - STALE_MS)
                read["bidders", session] = len(pipe)
                pipe.zcard(key)
            replies = await pipe.execute()
        self._written = set(lots)
        for lot in lots:
            others, self._stale[lot] = self._others(lot, replies[read["viewers", lot]], now)
            viewers = others + self.viewers_here(lot)
            of = sessions.get(lot)
            bidders = int(replies[read["bidders", of]]) if of is not None else 0
            for who, seat in list(self._seats.get(lot, {}).items()):
                self._show(lot, who, seat, viewers, bidders)
