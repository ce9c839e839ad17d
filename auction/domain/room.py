"""The bidding room of one lot: state, commands, events and the rules that connect them.

This is the reference model. ``auction/rooms/lua/*.lua`` is the same rule set executed atomically
inside Redis; the two are tested as one (tests/rooms/test_lua_equivalence.py).

Time is server time in integer milliseconds since the epoch (invariant 3): the caller passes
``now``; in production it is Redis ``TIME`` read inside the script.

Rules (DESIGN §6), English ascending, checked in this order (a bid's amount must first be
integer fen in 1 … 10^15, ``bad_amount``):

- R0 a bid is accepted only from a bidder eligible for the lot: a paid registration in the lot's
  session and a ``confirmed`` or ``held`` deposit that covers the lot
  (:func:`auction.domain.deposits.covers`), else ``deposit_required`` with the lot's requirement
  (``required_fen``). It comes before R1 (who may bid comes before what may be bid: a bidder
  without a deposit learns nothing about the lot's state from the answer). The eligible set is
  computed from PostgreSQL when deposits or registrations change and pushed into Redis
  (:mod:`auction.rooms.eligibility`), so the bid path reads nothing from PostgreSQL; the caller
  of :func:`place_bid` passes whether the bidder is in it;
- R1 a bid is accepted only while the lot is open (and, for a timed lot, before ``ends_at``);
- R2 the first bid is at least the start price and ``start + n × increment``; a later bid is
  ``high + n × increment`` (n ≥ 1): amounts lie on the grid of the current price (R8);
- R3 a later bid is at least ``high + increment``; ties cannot happen because bids are serialized
  and an equal amount is ``too_low`` for the later one (the earlier bid by server time wins);
- R4 the leader cannot outbid itself;
- R5 timed lots: a bid with ``ends_at - now <= window`` moves the close to ``now + extension``
  when that is later (judicial online-auction rule, 5 min / 5 min by default), at most
  ``max_ext`` times when capped and never past the hard end (:func:`extension_end`);
- R6 a lot closes sold to the leader when the leader's amount ≥ the secret reserve, otherwise
  passed (流拍) with reason ``no_bids`` or ``reserve_not_met``;
- R7 live lots are closed by the auctioneer: hammer (only after a bid exists) or pass;
  timed lots are closed by the clock (``close`` before ``ends_at`` is refused as ``not_due``);
- R9 a holder of a preemptive right on the lot (优先购买权, ``holders``) may bid *equal* to
  the standing high and then leads (``bid`` with ``preempt: true``), unless the leader holds
  a right of the same or a better order (1 = first; same order: the earlier keeps the lead);
  it is checked before R3 and the grid, which such a bid does not need to meet;
- R10 a timed english lot with a preemption window (``preempt_ms``, default 0): after its
  clock, while some holder could still equal the high (R9), the lot stays unclosed for the
  window (the closer's ``not_due`` names ``ends_at + window``); in it only such equal bids are
  taken (others: ``lot_closed``), with no extension (R5) and no proxy answering (P2);
- R8 the increment follows the session's table (:func:`increment_for`): after a bid (or an
  undo) moves the price into a band with another increment, ``increment_changed`` follows the
  bid; an increment the auctioneer set holds until ``reset`` (docs/formats.md).

Bids carry their ``source``: ``online``, or ``floor`` / ``phone`` when the auctioneer enters
them for a paddle (C7). The console commands (C1–C9) are in :mod:`auction.domain.commands`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from auction.domain import book, increments
from auction.domain.errors import Rejection
from auction.domain.lot import LotFormat, LotMode, LotStatus
from auction.domain.money import is_fen


@dataclass(frozen=True, slots=True)
class RoomState:
    """Everything the room knows; mirrors the Redis state hash field for field."""

    mode: LotMode
    start: int  # 起拍价, fen
    inc: int  # 加价幅度, fen
    reserve: int = 0  # 保留价, fen, secret; 0 = none
    window_ms: int = 300_000
    ext_ms: int = 300_000
    duration_ms: int = 0  # timed lots: open → first ends_at
    status: LotStatus = LotStatus.SCHEDULED
    seq: int = 0
    high: int = 0
    leader: int = 0  # bidder id, 0 = none
    paddle: int = 0
    high_seq: int = 0
    bids: int = 0
    ends_at: int = 0
    extensions: int = 0
    opened_at: int = 0
    closed_at: int = 0
    deposit: int = 0  # 保证金 a bidder must hold to bid (R0), fen; named in deposit_required
    warned: int = 0  # last fair warning (1..3) since the last bid, 0 = none (C1)
    paused_at: int = 0  # when the lot was paused, 0 = running (C3)
    inc0: int = 0  # the lot's own increment (0: rooms made before it was kept, = inc)
    bands: str = ""  # the session's increment table, auction/domain/increments.py; "" = none
    inc_override: int = 0  # the auctioneer's increment (C8), 0 = follow the lot and the table
    final: int = 0  # 1: a closed live lot can no longer be reopened (C5); its result is settled
    max_ext: int = -1  # timed: the cap on extensions (R5), -1 = none (docs/formats.md)
    hard_end: int = 0  # timed: no close after this (R5), 0 = none
    # formats (docs/formats.md, auction/domain/formats.py)
    format: LotFormat = LotFormat.ENGLISH
    revisions: int = 0  # sealed: how many times a bidder may revise its quote (S2)
    quotes: int = 0  # sealed: how many bidders have quoted (public: quote_received {count})
    step: int = 0  # dutch: the price falls by this (fen) …
    interval_ms: int = 0  # … every interval from the opening …
    floor: int = 0  # … down to this price (fen)
    book: str = ""  # secret: proxy maxima (english) or quotes (sealed), auction/domain/book.py
    book_n: int = 0  # entries ever written to the book (their order)
    proxies: int = 0  # english: how many bidders hold a proxy (staff see it, not the maxima)
    free_ms: int = 0  # rounds: the free phase's length from the opening …
    round_ms: int = 0  # … then rounds of this length
    round: int = 0  # rounds: the current round, 0 = the free phase
    holders: str = ""  # preemptive-right holders (R9), auction/domain/book.py holders()
    preempt_ms: int = 0  # R10: a timed english lot's preemption window after its clock

    def next_minimum(self) -> int:
        """The lowest acceptable next bid (R2/R3)."""
        return self.start if self.bids == 0 else self.high + self.inc

    @property
    def price(self) -> int:
        """The price the increment table is read at: the standing high, else the start."""
        return self.high if self.bids else self.start


def increment_for(state: RoomState) -> int:
    """R8, the increment at the room's price: the auctioneer's override (C8) when set; else the
    lot's own increment while the price is in the band of the start price; above it, the
    session table's increment for the price's band (docs/formats.md)."""
    if state.inc_override:
        return state.inc_override
    base = state.inc0 or state.inc
    bands = increments.parse(state.bands)
    if not bands:
        return base
    band = increments.band_of(bands, state.price)
    if band <= increments.band_of(bands, state.start):
        return base
    return bands[band][1]


def follow_increment(state: RoomState, now: int) -> tuple[RoomState, list[LotEvent]]:
    """R8 after the price moved (a bid, an undo): the room's ``inc`` becomes
    :func:`increment_for`; a change is the event ``increment_changed {inc, by: "table"}``."""
    inc = increment_for(state)
    if inc == state.inc:
        return state, []
    state = replace(state, inc=inc, inc0=state.inc0 or state.inc)
    state, ev = emit(state, "increment_changed", now, inc=inc, by="table")
    return state, [ev]


@dataclass(frozen=True, slots=True)
class LotEvent:
    """One entry of a lot's event stream. ``seq`` is gapless per lot (invariant 2)."""

    seq: int
    kind: str
    at: int
    data: dict[str, Any] = field(default_factory=dict)

    def to_map(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "at": self.at, **self.data}

    @classmethod
    def from_map(cls, m: dict[str, Any]) -> LotEvent:
        rest = {k: v for k, v in m.items() if k not in ("seq", "kind", "at")}
        return cls(seq=int(m["seq"]), kind=str(m["kind"]), at=int(m["at"]), data=rest)


@dataclass(frozen=True, slots=True)
class Outcome:
    state: RoomState
    events: tuple[LotEvent, ...]


def emit(state: RoomState, kind: str, now: int, **data: Any) -> tuple[RoomState, LotEvent]:
    """The next event of the room (gapless seq) and the state with its seq."""
    seq = state.seq + 1
    return replace(state, seq=seq), LotEvent(seq=seq, kind=kind, at=now, data=data)


def open_lot(
    state: RoomState, now: int, *, ends_at: int = 0, max_ext: int = -1, hard_end: int = 0
) -> Outcome:
    """开拍. A timed lot closes at ``now + duration``, or at ``ends_at`` (its session's
    schedule) when that is later than now, never after ``hard_end`` (0: none); ``max_ext``
    caps its extensions (-1: none). The caps are named in ``opened`` when set. A Dutch or
    rounds lot, live or timed, closes by its own clock (D4, T1) and takes no schedule."""
    status = state.status.to(LotStatus.OPEN)
    extra: dict[str, int] = {}
    close = 0
    # the session's schedule (its close, cap and hard end) governs timed english and sealed
    # lots; Dutch and rounds lots run on their own clocks (docs/formats.md "Scheduling")
    scheduled = state.format in (LotFormat.ENGLISH, LotFormat.SEALED)
    if state.mode is LotMode.TIMED:
        close = ends_at if scheduled and ends_at > now else now + state.duration_ms
        if not scheduled:
            max_ext, hard_end = -1, 0
        if hard_end > 0:
            close = min(close, hard_end)
            extra["hard_end"] = hard_end
        if max_ext >= 0:
            extra["max_ext"] = max_ext
        state = replace(state, max_ext=max_ext, hard_end=hard_end)
    if state.format is LotFormat.DUTCH:  # D4: the clock ends a Dutch lot, live or timed
        close = now + book.dutch_span(state.start, state.step, state.interval_ms, state.floor)
    if state.format is LotFormat.ROUNDS:  # T1: the free phase, live or timed
        close = now + state.free_ms
    state = replace(state, status=status, opened_at=now, ends_at=close)
    state, ev = emit(state, "opened", now, start=state.start, inc=state.inc, ends_at=close,
                     **extra)
    return Outcome(state, (ev,))


def extension_end(state: RoomState, now: int) -> int:
    """R5 with its caps: the close a bid at ``now`` moves an open timed lot to, or 0 for none.
    Only a bid in the last window extends; not once the lot has had ``max_ext`` extensions;
    never past ``hard_end``; never earlier than the close it has (``extension_end`` in
    ``_common.lua``)."""
    if state.ends_at - now > state.window_ms:
        return 0
    if 0 <= state.max_ext <= state.extensions:
        return 0
    new_end = now + state.ext_ms
    if state.hard_end > 0:
        new_end = min(new_end, state.hard_end)
    return new_end if new_end > state.ends_at else 0


def deposit_required(requirement_fen: int) -> Rejection:
    """The R0 refusal; ``required_fen`` is absent when the requirement is not known (0)."""
    if requirement_fen <= 0:
        return Rejection("deposit_required")
    return Rejection(
        "deposit_required", f"保证金不足: 本标的须缴纳保证金 {requirement_fen} 分并经确认",
        required_fen=requirement_fen,
    )


def admit(
    state: RoomState, amount: int, now: int, *, eligible: bool, bidder: int = 0
) -> None:
    """The checks every bid and quote passes first: the amount, R0, R1 and C3, and the clock
    (R10: a holder's equal bid in the preemption window after it)."""
    if not is_fen(amount):
        raise Rejection("bad_amount")
    if not eligible:  # R0
        raise deposit_required(state.deposit)
    state.status.require(LotStatus.OPEN)  # R1
    if state.paused_at:  # C3: a paused lot's clock is stopped, so this comes before it
        raise Rejection("lot_paused")
    # a rounds lot's clock is its own (auction/domain/formats.py T2)
    if state.mode is LotMode.TIMED and state.format is not LotFormat.ROUNDS \
            and now >= state.ends_at and not in_window(state, bidder, amount, now):
        raise Rejection("lot_closed", ends_at=state.ends_at)


def in_window(state: RoomState, bidder: int, amount: int, now: int) -> bool:
    """R10: is this a holder's equal bid (R9) within the preemption window after a timed
    english lot's clock?"""
    return (state.format is LotFormat.ENGLISH and now < state.ends_at + state.preempt_ms
            and state.bids > 0 and amount == state.high and preempts(state, bidder))


def preemptable(state: RoomState) -> bool:
    """R10: could some holder still equal the high (so the window holds the close)?"""
    if state.format is not LotFormat.ENGLISH or state.bids == 0 or not state.preempt_ms:
        return False
    return any(preempts(state, holder) for holder in book.holders(state.holders))


def place_bid(
    state: RoomState, bidder: int, paddle: int, amount: int, now: int, *, eligible: bool,
    source: str = "online",
) -> Outcome:
    """A bid by ``bidder`` on an ``english`` lot; ``eligible`` is whether the bidder is in the
    lot's eligible set; ``source`` is ``online``, or ``floor`` / ``phone`` for a bid the
    auctioneer enters (C7). Proxies answering it: :func:`auction.domain.formats.bid`."""
    admit(state, amount, now, eligible=eligible, bidder=bidder)
    if bidder == state.leader:  # R4
        raise Rejection("already_leading")
    if state.bids == 0 and amount < state.start:  # R2
        raise Rejection("below_start", minimum=state.start)
    preempt = state.bids > 0 and amount == state.high and preempts(state, bidder)  # R9
    if not preempt and state.bids > 0 and amount < state.high + state.inc:  # R3
        raise Rejection("too_low", minimum=state.high + state.inc)
    if not preempt and (amount - state.price) % state.inc != 0:  # R2 (R8: the grid)
        raise Rejection("off_increment", minimum=state.next_minimum())
    return record_bid(state, bidder, paddle, amount, now, source=source, preempt=preempt)


def preempts(state: RoomState, bidder: int) -> bool:
    """R9: may ``bidder`` equal the standing high and lead? A holder of a preemptive right may,
    unless the leader holds one of the same or a better order (1 = first)."""
    holders = book.holders(state.holders)
    mine = holders.get(bidder)
    if mine is None:
        return False
    theirs = holders.get(state.leader)
    return theirs is None or mine < theirs


def record_bid(
    state: RoomState, bidder: int, paddle: int, amount: int, now: int, *, source: str,
    auto: bool = False, preempt: bool = False,
) -> Outcome:
    """An accepted bid written: the ``bid`` event (``auto: true`` for a proxy's, P2), then R8
    and R5."""
    state = replace(
        state, high=amount, leader=bidder, paddle=paddle, bids=state.bids + 1, warned=0
    )
    data: dict[str, Any] = {"bidder": bidder, "paddle": paddle, "amount": amount,
                            "source": source}
    if auto:
        data["auto"] = True
    if preempt:  # R9: an equal bid by a preemptive right (优先权)
        data["preempt"] = True
    state, bid = emit(state, "bid", now, **data)
    state = replace(state, high_seq=bid.seq)
    state, changed = follow_increment(state, now)  # R8
    events = [bid, *changed]
    # R5 with its caps (english lots only: rounds have T3 instead; never in the preemption
    # window, R10: the clock has ended)
    extends = state.mode is LotMode.TIMED and state.format is LotFormat.ENGLISH \
        and now < state.ends_at
    new_end = extension_end(state, now) if extends else 0
    if new_end:
        state = replace(state, ends_at=new_end, extensions=state.extensions + 1)
        state, ext = emit(state, "extended", now, ends_at=new_end)
        events.append(ext)
    return Outcome(state, tuple(events))


def reveal(state: RoomState, now: int) -> tuple[RoomState, list[LotEvent]]:
    """S4: a sealed lot's quotes, revealed at its close as ``bid`` events with ``sealed:
    true`` and the quote's own time (``quoted_at``), lowest first, so the last one is the
    winner: the highest, of equal quotes the earlier (its ``order``)."""
    events: list[LotEvent] = []
    for e in sorted(book.parse(state.book), key=lambda e: (e.amount, -e.order)):
        state = replace(state, high=e.amount, leader=e.bidder, paddle=e.paddle,
                        bids=state.bids + 1)
        state, ev = emit(state, "bid", now, bidder=e.bidder, paddle=e.paddle, amount=e.amount,
                         source="online", sealed=True, quoted_at=e.at)
        state = replace(state, high_seq=ev.seq)
        events.append(ev)
    return state, events


def _settle(state: RoomState, now: int, *, forced_reason: str | None = None) -> Outcome:
    """R6: sold to the leader if at or above reserve, else passed (S4: a sealed lot's quotes
    are revealed first)."""
    revealed: list[LotEvent] = []
    if state.format is LotFormat.SEALED:
        state, revealed = reveal(state, now)
    if forced_reason is None and state.bids > 0 and state.high >= state.reserve:
        state = replace(state, status=state.status.to(LotStatus.SOLD), closed_at=now)
        state, ev = emit(
            state, "sold", now,
            bidder=state.leader, paddle=state.paddle, amount=state.high, winning_seq=state.high_seq,
        )
        return Outcome(state, (*revealed, ev))
    reason = forced_reason or ("no_bids" if state.bids == 0 else "reserve_not_met")
    state = replace(state, status=state.status.to(LotStatus.PASSED), closed_at=now)
    state, ev = emit(state, "passed", now, reason=reason)
    return Outcome(state, (*revealed, ev))


def close_timed(state: RoomState, now: int) -> Outcome:
    """R7, timed: the closer calls this when the clock says so; idempotence lives in the caller.
    A Dutch or rounds lot, live or timed, is closed by its clock too (D4, T4); the end of a
    rounds lot's free phase starts round 1 instead (T2)."""
    clocked = state.format in (LotFormat.DUTCH, LotFormat.ROUNDS)
    if state.mode is not LotMode.TIMED and not clocked:
        raise Rejection("wrong_mode")
    state.status.require(LotStatus.OPEN)
    if state.paused_at:
        raise Rejection("lot_paused")
    if now < state.ends_at:
        raise Rejection("not_due", ends_at=state.ends_at)
    if preemptable(state) and now < state.ends_at + state.preempt_ms:  # R10
        raise Rejection("not_due", ends_at=state.ends_at + state.preempt_ms)
    if state.format is LotFormat.ROUNDS and state.round == 0 \
            and now < state.ends_at + state.round_ms:
        ends_at = state.ends_at + state.round_ms
        state, ev = emit(replace(state, round=1, ends_at=ends_at), "round_started", now,
                         n=1, ends_at=ends_at)
        return Outcome(state, (ev,))
    return _settle(state, now)


def hammer(state: RoomState, now: int) -> Outcome:
    """R7, live: 落槌. Needs a bid; below the reserve the lot passes instead of selling."""
    if state.mode is not LotMode.LIVE:
        raise Rejection("wrong_mode")
    state.status.require(LotStatus.OPEN)
    if state.paused_at:
        raise Rejection("lot_paused")
    if state.bids == 0 and state.quotes == 0:  # S4: a sealed lot's quotes are its bids
        raise Rejection("no_bids")
    return _settle(state, now)


def pass_lot(state: RoomState, now: int) -> Outcome:
    """R7, live: the auctioneer passes the lot (流拍) whatever the bids."""
    if state.mode is not LotMode.LIVE:
        raise Rejection("wrong_mode")
    state.status.require(LotStatus.OPEN)
    if state.paused_at:
        raise Rejection("lot_paused")
    return _settle(state, now, forced_reason="auctioneer")


def change_terms(
    state: RoomState, *, start: int, inc: int, reserve: int, duration_ms: int, deposit: int
) -> RoomState:
    """The lot's terms edited before bidding (issue 12, ``PATCH /lots/{id}``): only a
    ``scheduled`` room takes them, else ``wrong_state`` (bidding started: nothing changes). The
    lot's own increment becomes ``inc`` (``inc0``) and the room's increment follows R8 (an
    auctioneer's override stays). No event: nobody has bid, and ``opened`` carries the start
    and the increment every watcher then sees (``terms.lua``)."""
    if state.status is not LotStatus.SCHEDULED:
        raise Rejection("wrong_state", status=state.status.value)
    state = replace(state, start=start, inc0=inc, inc=inc, reserve=reserve,
                    duration_ms=duration_ms, deposit=deposit)
    return replace(state, inc=increment_for(state))
