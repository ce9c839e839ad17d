"""The rooms service: Python's handle on the Lua scripts and the per-lot streams.

Every state change goes through one script call (atomic, server-timed, gapless seq). Reads
(snapshot, missed events) are plain single-key commands that are atomic on their own.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import msgpack
from redis.asyncio import Redis

from auction.domain import book
from auction.domain.errors import Rejection
from auction.domain.lot import LotFormat, LotMode, LotStatus
from auction.domain.room import LotEvent, RoomState
from auction.rooms.door import LaneLimits
from auction.rooms.keys import Keys
from auction.rooms.lanes import BidLanes
from auction.rooms.replies import Accepted
from auction.rooms.replies import decode_reply as _decode_reply
from auction.rooms.scripts import Fence, Scripts

__all__ = ["Accepted", "Rooms", "Snapshot", "decode_event"]

#: Fields of the state hash that a snapshot shows to everyone. The reserve and the leader's
#: bidder id are secret and never leave the server.
PUBLIC_FIELDS = (
    "status", "mode", "start", "inc", "high", "paddle", "bids", "ends_at", "extensions",
    "opened_at", "closed_at", "seq", "high_seq", "session", "warned", "paused_at",
    "inc_override", "format", "revisions", "quotes", "step", "interval_ms", "floor", "free_ms",
    "round_ms", "round",
)
#: text fields of the state hash (the others are integers)
TEXT_FIELDS = ("status", "mode", "epoch", "bands", "format", "book", "holders")


@dataclass(frozen=True, slots=True)
class Snapshot:
    lot_id: int
    epoch: str
    seq: int
    state: dict[str, Any]
    proxies: int = 0  # how many bidders hold a proxy: staff only (P5)

    @property
    def status(self) -> LotStatus:
        return LotStatus(self.state["status"])


def decode_event(blob: bytes) -> LotEvent:
    """A stream entry / channel message → :class:`LotEvent` (same blob in both places)."""
    return LotEvent.from_map(msgpack.unpackb(blob, raw=False, strict_map_key=False))


def _planned(plan: Mapping[int, tuple[int, int, int]] | None, lot: int) -> dict[str, int]:
    ends_at, max_ext, hard_end = (plan or {}).get(lot, (0, -1, 0))
    return {"ends_at": ends_at, "max_ext": max_ext, "hard_end": hard_end}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _int_fields(raw: Mapping[bytes | str, bytes | str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in raw.items():
        key, val = _text(k), _text(v)
        out[key] = val if key in TEXT_FIELDS else int(val)
    return out


class Rooms:
    """Commands and reads on lot rooms. One instance per process, made in the lifespan."""

    def __init__(self, redis: Redis, keys: Keys, *, fence: Fence | None = None,
                 lanes: LaneLimits | None = None) -> None:
        """``fence``: awaited before the scripts are loaded into a Redis that lacks them (one
        that restarted): :meth:`auction.rooms.recovery.Recovery.ensure` (see rooms/scripts.py).
        ``lanes``: how deep the bid queues may get (:mod:`auction.rooms.lanes`)."""
        self.redis = redis
        self.keys = keys
        self.scripts = Scripts.register(redis, keys.namespace, fence)
        #: every bid goes through its lot's lane (in the order received, batched)
        self.lanes = BidLanes(redis, keys, self.scripts.bid, lanes)
        self._sessions: dict[int, int] = {}

    async def init_lot(
        self,
        lot_id: int,
        *,
        mode: LotMode,
        start: int,
        inc: int,
        reserve: int,
        session_id: int,
        window_ms: int = 300_000,
        ext_ms: int = 300_000,
        duration_ms: int = 0,
        epoch: str | None = None,
        deposit_fen: int = 0,
        bands: str = "",
        format: LotFormat = LotFormat.ENGLISH,
        revisions: int = 0,
        step: int = 0,
        interval_ms: int = 0,
        floor: int = 0,
        free_ms: int = 0,
        round_ms: int = 0,
        preempt_ms: int = 0,
    ) -> bool:
        """Create the room unless it exists. A new room gets a fresh random epoch.
        ``deposit_fen`` is the lot's deposit requirement (named in ``deposit_required``; the
        eligibility push keeps it current); who may bid is pushed separately
        (:mod:`auction.rooms.eligibility`): until then nobody may. ``bands`` is the session's
        increment table as text (:func:`auction.domain.increments.to_text`; ``""``: none).
        ``format`` and its parameters: :mod:`auction.domain.formats`."""
        created = await self.scripts.init(
            keys=self.keys.lot(lot_id).script_keys(),
            args=[
                mode.value, start, inc, reserve, window_ms, ext_ms, duration_ms,
                epoch or secrets.token_hex(4), session_id, deposit_fen, bands,
                format.value, revisions, step, interval_ms, floor, free_ms, round_ms,
                preempt_ms,
            ],
        )
        return bool(created)

    async def set_terms(
        self, lot_id: int, *, start: int, inc: int, reserve: int, duration_ms: int,
        deposit_fen: int,
    ) -> bool:
        """A scheduled lot's terms edited (``terms.lua``, the rule
        :func:`auction.domain.room.change_terms`): ``True`` when changed, ``False`` when the
        lot has no room; ``Rejection('wrong_state')`` once bidding started (nothing written)."""
        reply = await self.scripts.terms(
            keys=self.keys.lot(lot_id).script_keys(),
            args=[start, inc, reserve, duration_ms, deposit_fen],
        )
        if isinstance(reply, list):
            _decode_reply(reply)  # raises the refusal
        return bool(reply)

    async def set_holders(self, lot_id: int, holders: str) -> bool:
        """A scheduled lot's preemptive-right holders (``holders.lua``, rule R9): ``True`` when
        written, ``False`` when the lot has no room; ``Rejection('wrong_state')`` once bidding
        started (nothing written)."""
        reply = await self.scripts.holders(keys=self.keys.lot(lot_id).script_keys(),
                                           args=[holders])
        if isinstance(reply, list):
            _decode_reply(reply)  # raises the refusal
        return bool(reply)

    async def open(
        self, lot_id: int, *, idem: str = "", ends_at: int = 0, max_ext: int = -1,
        hard_end: int = 0,
    ) -> Accepted:
        """开拍 (``open.lua``). A timed lot's schedule, when its session has one
        (:mod:`auction.rooms.scheduler`): its close ``ends_at`` (ms), the cap on its
        extensions ``max_ext`` (-1: none) and the hard end (ms, 0: none). Dutch and rounds
        lots run on their own clocks (D4, T1) and take only the cap and the hard end's record."""
        if await self._clocked(lot_id):
            # Lower-bound entry first (see keys.timed): if we die right after, the closer finds
            # the lot anyway; the entry is rescored to the real ends_at below.
            await self.redis.zadd(self.keys.timed, {str(lot_id): 0})
        await self.redis.sadd(self.keys.active, str(lot_id))
        result = _decode_reply(
            await self.scripts.open(keys=self.keys.lot(lot_id).bid_keys(),
                                    args=[idem, ends_at, max_ext, hard_end])
        )
        if result.ends_at:
            await self.redis.zadd(self.keys.timed, {str(lot_id): result.ends_at})
        return result

    async def end_listing(
        self, lot_id: int, *, buyers: int, buyer: int = 0, paddle: int = 0, idem: str = "",
        ends_at: int = 0, max_ext: int = -1, hard_end: int = 0,
    ) -> Accepted:
        """L2, the end of a listing period (``listing.lua``): with 0 buyers the lot passes
        (``outcome`` ``passed``), with 1 it is sold to ``buyer`` (``paddle``) at the listing
        price (``sold``), with more it opens as a timed auction among them (``open``), on the
        schedule ``ends_at`` / ``max_ext`` / ``hard_end`` as in :meth:`open`."""
        if buyers >= 2:  # as in open: the closer must find the auction even if we die
            await self.redis.zadd(self.keys.timed, {str(lot_id): 0})
        await self.redis.sadd(self.keys.active, str(lot_id))
        result = _decode_reply(await self.scripts.listing(
            keys=self.keys.lot(lot_id).script_keys(),
            args=[idem, buyers, buyer, paddle, ends_at, max_ext, hard_end]))
        if result.outcome == "open" and result.ends_at:
            await self.redis.zadd(self.keys.timed, {str(lot_id): result.ends_at})
        return result

    async def open_next(
        self, lots: Sequence[int], *, idem: str,
        plan: Mapping[int, tuple[int, int, int]] | None = None,
    ) -> tuple[int, Accepted]:
        """Open the first of ``lots`` (a session's lots in running order) whose room is still
        scheduled; return it with the answer. A lot that ``idem`` already opened answers first
        (the stored reply, a replay), so a repeated ``next`` never opens a second lot. None
        left: ``wrong_state``. ``plan``: a timed lot's ``(ends_at, max_ext, hard_end)`` (see
        :meth:`open`). Two different ``next`` at once may pick the same lot: the later
        one is refused ``wrong_state`` by ``open.lua`` rather than opening another."""
        if idem:
            for lot in lots:
                if await self.redis.hexists(self.keys.lot(lot).idem, idem):
                    return lot, await self.open(lot, idem=idem, **_planned(plan, lot))
        for lot in lots:
            status = await self.redis.hget(self.keys.lot(lot).state, "status")
            if status is not None and _text(status) == LotStatus.SCHEDULED.value:
                return lot, await self.open(lot, idem=idem, **_planned(plan, lot))
        raise Rejection("wrong_state", "本场次没有待开拍的标的")

    async def bid(
        self, lot_id: int, *, bidder: int, paddle: int, amount: int, idem: str = "",
        source: str = "online",
    ) -> Accepted:
        """A bid (``source`` ``online``), or one the auctioneer enters (``floor`` / ``phone``),
        behind the bids already queued for the lot (:mod:`auction.rooms.lanes`; never shed at
        the door, but ``Overloaded`` if it waited too long). The websocket submits its bids to
        :attr:`lanes` directly, without waiting for the answer."""
        if type(amount) is not int:
            raise Rejection("bad_amount")
        return await self.lanes.submit(lot_id, bidder=bidder, paddle=paddle, amount=amount,
                                       idem=idem, source=source)

    async def finalize(self, lot_id: int, window_ms: int) -> bool:
        """C9: make a closed lot's result final (not reopenable). ``False`` while a live lot is
        still within ``window_ms`` of its close; ``Rejection('wrong_state')`` when the lot is
        not closed (it was reopened), ``unknown_lot`` when there is no room."""
        try:
            _decode_reply(await self.scripts.finalize(
                keys=self.keys.lot(lot_id).script_keys(), args=[window_ms]))
        except Rejection as exc:
            if exc.code == "not_due":
                return False
            raise
        return True

    async def session_of(self, lot_id: int) -> int:
        """The session of a lot, from its room (cached: a lot never changes session), else
        ``Rejection('unknown_lot')``. The bid path's token check uses it: no PostgreSQL."""
        cached = self._sessions.get(lot_id)
        if cached is not None:
            return cached
        raw = await self.redis.hget(self.keys.lot(lot_id).state, "session")
        if raw is None:
            raise Rejection("unknown_lot")
        if len(self._sessions) > 100_000:
            self._sessions.clear()
        self._sessions[lot_id] = int(raw)
        return int(raw)

    async def close(self, lot_id: int, op: str, *, idem: str = "") -> Accepted:
        """``op`` is ``timed`` (the closer), ``hammer`` or ``pass`` (the auctioneer)."""
        return _decode_reply(
            await self.scripts.close(keys=self.keys.lot(lot_id).script_keys(), args=[op, idem])
        )

    async def command(self, lot_id: int, op: str, arg: str = "", *, idem: str = "") -> Accepted:
        """``op`` is ``warn`` (``arg`` the warning 1..3), ``announce`` (``arg`` the text),
        ``pause``, ``resume``, ``withdraw`` (``arg`` the reason), ``reopen`` (``arg`` the reopen
        window in ms), ``undo`` or ``increment`` (``arg`` ``set:<fen>``, ``halve``, ``double``,
        ``reset``): ``command.lua``."""
        timed = op == "resume" and (await self._mode(lot_id)) is LotMode.TIMED
        if timed:
            # as in open: a lower bound first, so the closer finds the lot even if we die
            # before the rescore (the closer dropped it while it was paused)
            await self.redis.zadd(self.keys.timed, {str(lot_id): 0})
        # every event must reach the journal, a scheduled lot's announcement or withdrawal too,
        # and a reopened lot's (the drainer let go of it once its close was drained)
        await self.redis.sadd(self.keys.active, str(lot_id))
        result = _decode_reply(
            await self.scripts.command(
                keys=self.keys.lot(lot_id).script_keys(), args=[op, arg, idem]
            )
        )
        if timed and result.ends_at:
            await self.redis.zadd(self.keys.timed, {str(lot_id): result.ends_at})
        if op == "withdraw":
            await self.redis.zrem(self.keys.timed, str(lot_id))
        return result

    async def _clocked(self, lot_id: int) -> bool:
        """Does the closer end this lot: a timed lot, a Dutch one (D4) or a rounds one (T4)?"""
        mode, format = await self.redis.hmget(self.keys.lot(lot_id).state, ["mode", "format"])
        if mode is None:
            raise Rejection("unknown_lot")
        clocked = (LotFormat.DUTCH.value, LotFormat.ROUNDS.value)
        return _text(mode) == LotMode.TIMED.value or (
            format is not None and _text(format) in clocked)

    async def proxy(
        self, lot_id: int, *, bidder: int, paddle: int, maximum: int, idem: str = ""
    ) -> Accepted:
        """P1: set or change ``bidder``'s secret maximum (``proxy.lua``); the proxies bid."""
        if type(maximum) is not int:
            raise Rejection("bad_amount")
        result = _decode_reply(await self.scripts.proxy(
            keys=self.keys.lot(lot_id).bid_keys(), args=[bidder, paddle, str(maximum), idem]))
        # the maximum is journalled in the lot's book stream; an absentee one (a scheduled
        # lot) reaches PostgreSQL (lot_book) only if the drainer looks at the lot
        await self.redis.sadd(self.keys.active, str(lot_id))
        return result

    async def accept(self, lot_id: int, *, bidder: int, paddle: int, idem: str = "") -> Accepted:
        """D3: take a Dutch lot at its current price (``accept.lua``)."""
        return _decode_reply(await self.scripts.accept(
            keys=self.keys.lot(lot_id).bid_keys(), args=[bidder, paddle, idem]))

    async def mine(self, lot_id: int, bidder: int) -> dict[str, Any] | None:
        """A bidder's own view of a lot (P5, S3, R9): ``proxy_max`` on an english lot,
        ``quote`` and ``revisions_left`` on a sealed one, ``preempt_order`` when it holds a
        preemptive right; ``None`` when it has none of these."""
        raw = await self.redis.hmget(self.keys.lot(lot_id).state,
                                     ["format", "book", "revisions", "holders"])
        if raw[0] is None:
            return None
        out: dict[str, Any] = {}
        entry = book.find(book.parse(_text(raw[1] or b"")), bidder)
        if entry is not None and _text(raw[0]) == LotFormat.SEALED.value:
            out.update(quote=entry.amount, revisions_left=max(0, int(raw[2] or 0) - entry.n))
        elif entry is not None:
            out["proxy_max"] = entry.amount
        order = book.holders(_text(raw[3] or b"")).get(bidder)
        if order is not None:
            out["preempt_order"] = order
        return out or None

    async def _mode(self, lot_id: int) -> LotMode:
        raw = await self.redis.hget(self.keys.lot(lot_id).state, "mode")
        if raw is None:
            raise Rejection("unknown_lot")
        return LotMode(_text(raw))

    async def snapshot(self, lot_id: int) -> Snapshot | None:
        raw = await self.redis.hgetall(self.keys.lot(lot_id).state)
        if not raw:
            return None
        fields = _int_fields(raw)
        public = {k: fields[k] for k in PUBLIC_FIELDS if k in fields}
        return Snapshot(lot_id=lot_id, epoch=fields["epoch"], seq=fields["seq"], state=public,
                        proxies=int(fields.get("proxies", 0)))

    async def room_state(self, lot_id: int) -> RoomState | None:
        """The full state, reserve and leader included, as the domain model sees it."""
        raw = await self.redis.hgetall(self.keys.lot(lot_id).state)
        if not raw:
            return None
        f = _int_fields(raw)
        return RoomState(
            mode=LotMode(f["mode"]), start=f["start"], inc=f["inc"], reserve=f["reserve"],
            window_ms=f["window_ms"], ext_ms=f["ext_ms"], duration_ms=f["duration_ms"],
            status=LotStatus(f["status"]), seq=f["seq"], high=f["high"], leader=f["leader"],
            paddle=f["paddle"], high_seq=f["high_seq"], bids=f["bids"], ends_at=f["ends_at"],
            extensions=f["extensions"], opened_at=f["opened_at"], closed_at=f["closed_at"],
            deposit=f.get("deposit", 0),  # rooms made before the requirement was kept
            warned=f.get("warned", 0), paused_at=f.get("paused_at", 0),  # likewise
            inc0=f.get("inc0", 0), bands=str(f.get("bands", "")),
            inc_override=f.get("inc_override", 0), final=f.get("final", 0),
            max_ext=f.get("max_ext", -1), hard_end=f.get("hard_end", 0),  # timed, once opened
            format=LotFormat(f.get("format", "english")), revisions=f.get("revisions", 0),
            quotes=f.get("quotes", 0), step=f.get("step", 0),
            interval_ms=f.get("interval_ms", 0), floor=f.get("floor", 0),
            book=str(f.get("book", "")), book_n=f.get("book_n", 0),
            proxies=f.get("proxies", 0), free_ms=f.get("free_ms", 0),
            round_ms=f.get("round_ms", 0), round=f.get("round", 0),
            holders=str(f.get("holders", "")), preempt_ms=f.get("preempt_ms", 0),
        )

    async def events_after(
        self, lot_id: int, after_seq: int, *, limit: int | None = None
    ) -> list[LotEvent] | None:
        """Events with seq > ``after_seq`` in order, or ``None`` when the stream cannot prove it
        still holds every one of them (trimmed or lost): the caller must fall back to a
        snapshot (invariant 2: never a silent gap)."""
        key = self.keys.lot(lot_id).events
        entries = cast(
            "list[tuple[bytes, dict[bytes, bytes]]]",
            await self.redis.xrange(key, min=f"({after_seq}-0", max="+", count=limit),
        )
        events = [decode_event(fields[b"e"]) for _id, fields in entries]
        expected = after_seq + 1
        if events and events[0].seq != expected:
            return None
        if not events and after_seq > 0:
            # nothing newer: valid only if the stream still has after_seq itself or the lot's
            # seq says after_seq is current
            snap_seq = await self.redis.hget(self.keys.lot(lot_id).state, "seq")
            if snap_seq is None or int(snap_seq) != after_seq:
                return None
        return events
