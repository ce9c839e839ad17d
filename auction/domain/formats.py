"""The rules of the formats beyond plain English bidding (docs/formats.md, issue 14).

The reference model, like :mod:`auction.domain.room`; the Lua side is ``_book.lua``,
``_proxy.lua``, ``_sealed.lua`` (prepended to every script), ``proxy.lua``, ``accept.lua`` and
the format branches of ``bid.lua``, ``open.lua``, ``close.lua`` and ``command.lua``, tested as
one (tests/rooms/test_lua_equivalence.py). A lot's ``format`` is set at its creation.

**Proxy bids** (``english`` lots; the maxima live in the room's secret book,
:mod:`auction.domain.book`):

- P1 ``proxy max`` sets or changes the bidder's maximum, on a scheduled lot too (an absentee
  bid); checked in this order: ``bad_amount``, R0 (``deposit_required``), ``wrong_format`` (not
  english), the lot scheduled or open (``lot_closed``), C3 and the clock as for a bid;
  then the leader's maximum may not be below its standing bid (``too_low``, ``minimum`` = the
  high) and anyone else's must reach the next valid bid (``below_start`` / ``too_low`` with
  ``minimum``). The maximum counts as set now (its ``order``), also when it is changed;
- P2 after every accepted bid, every ``proxy`` on an open lot and the opening, the room bids
  for the proxies, in the same script call: while some eligible holder other than the leader
  has a maximum at least the next valid bid, the best of them (highest maximum; equal: set
  earlier) is the challenger;
- P3 when the leader holds a proxy that beats the challenger (a higher maximum, or an equal one
  set earlier) the leader's proxy answers at the lower of its maximum and the challenger's
  maximum + the increment; otherwise the challenger bids the lower of its maximum and the
  leader's maximum + the increment (the leader holds a live maximum at least the next valid
  bid) or the next valid bid (it does not). So equal maxima leave the earlier one leading at
  that amount. An automatic bid is a ``bid`` event with ``auto: true``, followed by R8 and R5
  like any bid; it need not lie on the grid (the grid is anchored at the new high, R2);
- P4 at most :data:`MAX_AUTO` automatic bids per call (each raises the high, so a handful
  settle any war);
- P5 a maximum is never in an event or a snapshot but its owner's (``mine``); staff see how
  many bidders hold one (``proxies``);
- P6 an undo (C6) does not call on the proxies; the next bid does.

**Sealed quotes** (``sealed`` lots):

- S1 a ``bid`` is a quote: the bid checks (amount, R0, R1, C3, the clock), then at least the
  start price (``below_start``); no grid, no extension;
- S2 a bidder with a quote may replace it ``revisions`` times (default 0), else
  ``no_revisions_left``; the replacement counts as set now;
- S3 the event is ``quote_received {count}`` (bidders who quoted); the snapshot shows
  ``quotes``; the quote itself only in its owner's ``mine``;
- S4 at the close (clock, hammer — which needs a quote — or pass) every quote is revealed as a
  ``bid`` event (``sealed: true``, ``quoted_at``), lowest first; the last is the highest, of
  equal quotes the earlier; then R6 (the reserve applies);
- S5 ``proxy``, ``accept``, ``undo`` and ``reopen``: ``wrong_format``.

**Dutch** (``dutch`` lots):

- D1 ``start`` (the start price), ``step``, ``interval_ms``, ``floor`` (1 ≤ floor ≤ start);
- D2 the price ``elapsed`` ms after the opening is ``max(floor, start − step × ⌊elapsed /
  interval⌋)`` (:func:`auction.domain.book.dutch_price`), from the server's time;
- D3 ``accept`` takes the lot at that price: ``deposit_required`` (R0), ``wrong_format`` (not
  dutch), R1, then ``lot_closed`` once the clock ran out; accepted: a ``bid`` event at the
  price and at once ``sold`` (the floor is the lowest price: no reserve): the first acceptance
  wins, a later one finds the lot ``lot_closed``;
- D4 ``ends_at`` = opening + (⌈(start − floor) / step⌉ + 1) × interval: the floor is offered for
  one interval, then the closer passes the lot (``no_bids``), live or timed;
- D5 ``bid`` (and the console's ``floor``), ``proxy``, ``pause``, ``resume``, ``undo``,
  ``reopen``: ``wrong_format``.

**Rounds** (``rounds`` lots, 自由报价 → 限时报价):

- T1 terms ``free_ms`` and ``round_ms``; the opening starts the free phase: ``ends_at`` =
  opening + ``free_ms``, ``round`` 0;
- T2 when the free phase is over round 1 runs from its end for ``round_ms``: the closer starts
  it (``round_started {n: 1, ends_at}``), or a bid that comes first does, in its own call, just
  before itself;
- T3 bids follow R0–R4 and R8 (no extension, R5); in the free phase nothing else happens; a bid
  in round n starts round n + 1 at once: ``round_started {n + 1, ends_at: now + round_ms}``
  after the bid; a bid after the running round's end is ``lot_closed``;
- T4 a round that ends without a bid ends the lot: the closer settles it (R6: sold to the
  highest bid at or above the reserve, else passed);
- T5 ``proxy``, ``accept``, ``pause``, ``resume``, ``undo``, ``reopen``: ``wrong_format``.

**Listing** (``listing`` lots, 挂牌; the period and who qualifies:
:mod:`auction.domain.listing_sale`):

- L1 during the listing period the room is ``scheduled``: a ``bid`` (or the console's
  ``floor``) passes the amount check and R0, then is refused ``listing_period``; ``open`` (by
  hand or by the schedule) is refused ``listing_period``; ``proxy`` and ``accept`` are
  ``wrong_format`` (P1, D3). A withdrawn listing refuses as any closed lot (``lot_closed``);
- L2 the listing's end (:func:`end_listing`, the scheduler; ``listing.lua``): on a scheduled
  room (else R1's codes: ``wrong_state`` / ``lot_closed``) of a listing (else
  ``wrong_format``), with ``buyers`` qualified buyers, the room becomes an ``english`` lot and
  opens: ``opened {start, inc, ends_at, buyers}``. 0 buyers: at once ``passed {reason:
  "no_buyers"}`` (the listing expired); 1: at once ``bid {bidder, paddle, amount: start,
  source: "listing"}`` and ``sold`` — 协议成交 at the listing price (a listing has no reserve);
  2 or more: a timed auction from the listing price, opened like any timed lot with the
  session's schedule (its close ``ends_at``, the cap ``max_ext``, the hard end) and R5;
- L3 only the buyers qualified at the end may bid in that auction: the eligibility push
  keeps the room's eligible set (R0) to them (:mod:`auction.rooms.eligibility`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from auction.domain import book
from auction.domain.errors import Rejection
from auction.domain.lot import LotFormat, LotMode, LotStatus
from auction.domain.money import is_fen
from auction.domain.room import (
    LotEvent,
    Outcome,
    RoomState,
    admit,
    deposit_required,
    emit,
    place_bid,
    record_bid,
)
from auction.domain.room import open_lot as room_open_lot

#: P4
MAX_AUTO = 100


def bid(
    state: RoomState, bidder: int, paddle: int, amount: int, now: int, *,
    eligible: Collection[int], source: str = "online",
) -> Outcome:
    """A ``bid`` frame (or the console's ``floor``) on a lot of any format."""
    if state.format is LotFormat.LISTING and state.status is LotStatus.SCHEDULED:  # L1
        if not is_fen(amount):
            raise Rejection("bad_amount")
        if bidder not in eligible:
            raise deposit_required(state.deposit)
        raise Rejection("listing_period")
    if state.format is LotFormat.SEALED:
        return sealed_quote(state, bidder, paddle, amount, now, eligible=bidder in eligible)
    if state.format is LotFormat.ROUNDS:
        return rounds_bid(state, bidder, paddle, amount, now, eligible=bidder in eligible,
                          source=source)
    if state.format is not LotFormat.ENGLISH:
        admit(state, amount, now, eligible=bidder in eligible)
        raise Rejection("wrong_format", format=state.format.value)
    out = place_bid(state, bidder, paddle, amount, now, eligible=bidder in eligible,
                    source=source)
    if not out.state.book or (state.mode is LotMode.TIMED and now >= state.ends_at):
        return out  # no proxy answers in the preemption window (R10)
    state, auto = resolve_proxies(out.state, now, eligible)
    return Outcome(state, (*out.events, *auto))


def sealed_quote(
    state: RoomState, bidder: int, paddle: int, amount: int, now: int, *, eligible: bool
) -> Outcome:
    """S1–S3."""
    admit(state, amount, now, eligible=eligible)
    if amount < state.start:
        raise Rejection("below_start", minimum=state.start)
    entries = book.parse(state.book)
    mine = book.find(entries, bidder)
    if mine is not None and mine.n >= state.revisions:
        raise Rejection("no_revisions_left", revisions=state.revisions)
    order = state.book_n + 1
    entry = book.Entry(bidder, paddle, amount, order, 0 if mine is None else mine.n + 1, now)
    entries = book.put(entries, entry)
    state = replace(state, book=book.to_text(entries), book_n=order, quotes=len(entries))
    state, ev = emit(state, "quote_received", now, count=len(entries))
    return Outcome(state, (ev,))


def set_proxy(
    state: RoomState, bidder: int, paddle: int, maximum: int, now: int, *,
    eligible: Collection[int],
) -> Outcome:
    """P1, then P2."""
    if not is_fen(maximum):
        raise Rejection("bad_amount")
    if bidder not in eligible:
        raise deposit_required(state.deposit)
    if state.format is not LotFormat.ENGLISH:
        raise Rejection("wrong_format", format=state.format.value)
    state.status.require(LotStatus.SCHEDULED, LotStatus.OPEN)
    if state.paused_at:
        raise Rejection("lot_paused")
    opened = state.status is LotStatus.OPEN
    if opened and state.mode is LotMode.TIMED and now >= state.ends_at:
        raise Rejection("lot_closed", ends_at=state.ends_at)
    if bidder == state.leader:
        if maximum < state.high:
            raise Rejection("too_low", minimum=state.high)
    elif maximum < state.next_minimum():
        code = "below_start" if state.bids == 0 else "too_low"
        raise Rejection(code, minimum=state.next_minimum())
    order = state.book_n + 1
    entries = book.put(book.parse(state.book),
                       book.Entry(bidder, paddle, maximum, order, 0, now))
    state = replace(state, book=book.to_text(entries), book_n=order, proxies=len(entries))
    if not opened:  # an absentee bid: the proxies bid when the lot opens
        return Outcome(state, ())
    state, auto = resolve_proxies(state, now, eligible)
    return Outcome(state, tuple(auto))


def open_lot(
    state: RoomState, now: int, *, eligible: Collection[int], ends_at: int = 0,
    max_ext: int = -1, hard_end: int = 0,
) -> Outcome:
    """The opening (:func:`auction.domain.room.open_lot`, with a timed lot's schedule), then
    P2: proxies set before it bid at once. A listing opens only at its end (L1, L2)."""
    if state.format is LotFormat.LISTING and state.status is LotStatus.SCHEDULED:
        raise Rejection("listing_period")
    out = room_open_lot(state, now, ends_at=ends_at, max_ext=max_ext, hard_end=hard_end)
    if state.format is not LotFormat.ENGLISH or not state.book:
        return out
    after, auto = resolve_proxies(out.state, now, eligible)
    return Outcome(after, (*out.events, *auto))


def resolve_proxies(
    state: RoomState, now: int, eligible: Collection[int]
) -> tuple[RoomState, list[LotEvent]]:
    """P2–P4: the automatic bids the proxies make against the standing high."""
    events: list[LotEvent] = []
    entries = book.parse(state.book)
    for _ in range(MAX_AUTO):
        minimum = state.next_minimum()
        rivals = [e for e in entries if e.bidder != state.leader and e.bidder in eligible
                  and e.amount >= minimum]
        if not rivals:
            break
        challenger = min(rivals, key=lambda e: (-e.amount, e.order))
        holder = book.find(entries, state.leader) if state.leader else None
        if holder is not None and holder.bidder not in eligible:
            holder = None
        if holder is not None and (
            holder.amount > challenger.amount
            or (holder.amount == challenger.amount and holder.order < challenger.order)
        ):
            who, amount = holder, min(holder.amount, challenger.amount + state.inc)
        elif holder is not None and holder.amount >= minimum:
            who, amount = challenger, min(challenger.amount, holder.amount + state.inc)
        else:
            who, amount = challenger, minimum
        out = record_bid(state, who.bidder, who.paddle, amount, now, source="online", auto=True)
        state = out.state
        events.extend(out.events)
    return state, events


def accept(
    state: RoomState, bidder: int, paddle: int, now: int, *, eligible: bool
) -> Outcome:
    """D3: take a Dutch lot at the current price."""
    if not eligible:
        raise deposit_required(state.deposit)
    if state.format is not LotFormat.DUTCH:
        raise Rejection("wrong_format", format=state.format.value)
    state.status.require(LotStatus.OPEN)
    if now >= state.ends_at:
        raise Rejection("lot_closed", ends_at=state.ends_at)
    price = book.dutch_price(state.start, state.step, state.interval_ms, state.floor,
                             now - state.opened_at)
    state = replace(state, high=price, leader=bidder, paddle=paddle, bids=state.bids + 1)
    state, ev = emit(state, "bid", now, bidder=bidder, paddle=paddle, amount=price,
                     source="online", accepted=True)
    state = replace(state, high_seq=ev.seq, status=state.status.to(LotStatus.SOLD),
                    closed_at=now)
    state, sold = emit(state, "sold", now, bidder=bidder, paddle=paddle, amount=price,
                       winning_seq=ev.seq)
    return Outcome(state, (ev, sold))


def rounds_bid(
    state: RoomState, bidder: int, paddle: int, amount: int, now: int, *, eligible: bool,
    source: str,
) -> Outcome:
    """T2, T3: a bid on a rounds lot."""
    admit(state, amount, now, eligible=eligible)
    round_n, ends_at = state.round, state.ends_at
    if round_n == 0 and now >= ends_at:  # T2: the free phase is over, round 1 runs
        round_n, ends_at = 1, ends_at + state.round_ms
    if round_n > 0 and now >= ends_at:
        raise Rejection("lot_closed", ends_at=ends_at)
    events: list[LotEvent] = []
    if round_n != state.round:
        state, started = emit(replace(state, round=round_n, ends_at=ends_at), "round_started",
                              now, n=round_n, ends_at=ends_at)
        events.append(started)
    out = place_bid(state, bidder, paddle, amount, now, eligible=True, source=source)
    state = out.state
    events.extend(out.events)
    if round_n > 0:  # T3: the bid starts the next round
        ends_at = now + state.round_ms
        state, started = emit(replace(state, round=round_n + 1, ends_at=ends_at),
                              "round_started", now, n=round_n + 1, ends_at=ends_at)
        events.append(started)
    return Outcome(state, tuple(events))


def end_listing(
    state: RoomState, now: int, *, buyers: int, buyer: int = 0, paddle: int = 0,
    ends_at: int = 0, max_ext: int = -1, hard_end: int = 0,
) -> Outcome:
    """L2: the end of a listing period with ``buyers`` qualified buyers (``buyer`` and its
    ``paddle``: the one buyer when there is exactly one). ``ends_at``, ``max_ext``,
    ``hard_end``: the auction's schedule, as for :func:`open_lot`."""
    state.status.require(LotStatus.SCHEDULED)
    if state.format is not LotFormat.LISTING:
        raise Rejection("wrong_format", format=state.format.value)
    english = replace(state, format=LotFormat.ENGLISH)
    if buyers >= 2:  # an auction among them, from the listing price
        out = room_open_lot(english, now, ends_at=ends_at, max_ext=max_ext, hard_end=hard_end)
        opened = out.events[0]
        return Outcome(out.state, (replace(opened, data={**opened.data, "buyers": buyers}),))
    state = replace(english, status=LotStatus.OPEN, opened_at=now, ends_at=now)
    state, opened = emit(state, "opened", now, start=state.start, inc=state.inc, ends_at=now,
                         buyers=buyers)
    if buyers == 0:  # the listing expired
        state = replace(state, status=state.status.to(LotStatus.PASSED), closed_at=now)
        state, passed = emit(state, "passed", now, reason="no_buyers")
        return Outcome(state, (opened, passed))
    # 协议成交: the one buyer takes the lot at the listing price
    state = replace(state, high=state.start, leader=buyer, paddle=paddle, bids=1)
    state, bid_ev = emit(state, "bid", now, bidder=buyer, paddle=paddle, amount=state.start,
                         source="listing")
    state = replace(state, high_seq=bid_ev.seq, status=state.status.to(LotStatus.SOLD),
                    closed_at=now)
    state, sold = emit(state, "sold", now, bidder=buyer, paddle=paddle, amount=state.start,
                       winning_seq=bid_ev.seq)
    return Outcome(state, (opened, bid_ev, sold))
