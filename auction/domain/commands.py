"""The auctioneer's console commands (issue 10): rules C1–C9 of a lot's room.

The reference model, like :mod:`auction.domain.room`; ``auction/rooms/lua/command.lua`` (C1–C6,
C8), ``bid.lua`` (C7) and ``finalize.lua`` (C9) are the same rules in Redis, tested as one
(tests/rooms/test_lua_equivalence.py). Arguments were validated at the edge
(:mod:`auction.wire.codec`); the rules, checked in this order:

- C1 ``warn n`` (fair warning 第一次/第二次/最后一次): live open lots, not paused; ``n`` must be
  greater than the last warning since the last bid (``warned``), else ``wrong_state``; an
  accepted bid resets ``warned`` to 0, so the next warning may start from 1 again;
- C2 ``announce text``: a scheduled or open lot (a closed one: ``lot_closed``); changes only seq;
- C3 ``pause`` / ``resume``: an open lot; pausing a paused lot or resuming a running one is
  ``wrong_state``; a timed lot whose clock already ran out cannot be paused (``lot_closed``: the
  closer is due). While paused (``paused_at`` > 0) bids, warnings, hammer, pass and the
  closer are refused with ``lot_paused``; resume moves a timed lot's ``ends_at`` by the paused
  time, so it keeps the time it had left;
- C4 ``withdraw reason`` (撤拍): a scheduled or open lot (paused or not) becomes ``withdrawn``;
- C5 ``reopen``: a live lot (``wrong_mode``) that is sold or passed, not ``final`` and closed
  less than the reopen window ago (else ``wrong_state``) is open again with its bids, leader and
  price as before the close (``warned`` back to 0). Whether another lot of the session opened
  since is the caller's check (other lots live in other Redis slots): it finalizes them;
- C6 ``undo`` (撤销上一口): a live (``wrong_mode``) open lot, paused or not, with a standing bid
  (``no_bids``): the highest standing bid is retracted (``bid_retracted``) and the previous
  standing bid is the high again (none: no high, the next bid is the start price); ``bids``
  counts standing bids. Which bids stand is read from the lot's own log (:func:`standing_bids`),
  so undo repeats, newest first; ``warned`` goes back to 0; R8 then follows the new price;
- C7 ``floor paddle amount source``: a bid the auctioneer enters for a paddle of the session
  (``floor`` / ``phone``): :func:`auction.domain.room.place_bid` with that ``source``, all its
  rules included (the paddle → bidder lookup, ``unknown_paddle``, is the caller's);
- C8 ``increment op [amount]``: a scheduled or open lot (closed: ``lot_closed``). ``set``
  overrides the increment with ``amount``; ``halve`` / ``double`` override it with half / twice
  the current one (below 1 fen or above 10^15: ``wrong_state``); ``reset`` drops the override,
  the table applies again (R8). Always ``increment_changed {inc, by}`` (``by``: ``auctioneer``
  while an override holds, else ``table``);
- C9 ``finalize`` (not a console op: the drainer, and the opening of another lot of the
  session): a closed lot becomes ``final``; a live sold or passed lot only once the reopen
  window has passed since its close (``not_due``). An open or scheduled lot: ``wrong_state``
  (a reopened lot is not final). No event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from auction.domain.errors import Rejection
from auction.domain.lot import LotFormat, LotMode, LotStatus
from auction.domain.money import MAX_FEN
from auction.domain.room import LotEvent, Outcome, RoomState, emit, follow_increment, increment_for

#: C8 ops
INCREMENT_OPS = ("set", "halve", "double", "reset")


def _english_only(state: RoomState) -> None:
    if state.format is not LotFormat.ENGLISH:
        raise Rejection("wrong_format", format=state.format.value)


def _not_dutch(state: RoomState) -> None:
    """A Dutch or rounds lot's clock cannot stop (D5, T5)."""
    if state.format in (LotFormat.DUTCH, LotFormat.ROUNDS):
        raise Rejection("wrong_format", format=state.format.value)


def warn(state: RoomState, n: int, now: int) -> Outcome:
    """C1: fair warning ``n`` (1..3, checked at the edge) on a live open lot."""
    if state.mode is not LotMode.LIVE:
        raise Rejection("wrong_mode")
    state.status.require(LotStatus.OPEN)
    if state.paused_at:
        raise Rejection("lot_paused")
    if n <= state.warned:
        raise Rejection("wrong_state", warned=state.warned)
    state, ev = emit(replace(state, warned=n), "warned", now, n=n)
    return Outcome(state, (ev,))


def announce(state: RoomState, text: str, now: int) -> Outcome:
    """C2: a message to every watcher of a scheduled or open lot."""
    state.status.require(LotStatus.SCHEDULED, LotStatus.OPEN)
    state, ev = emit(state, "announced", now, text=text)
    return Outcome(state, (ev,))


def pause(state: RoomState, now: int) -> Outcome:
    """C3: stop an open lot (and a timed lot's clock). A Dutch lot's clock cannot stop (D5)."""
    _not_dutch(state)
    state.status.require(LotStatus.OPEN)
    if state.paused_at:
        raise Rejection("wrong_state", status="paused")
    if state.mode is LotMode.TIMED and now >= state.ends_at:
        raise Rejection("lot_closed", ends_at=state.ends_at)
    state, ev = emit(replace(state, paused_at=now), "paused", now)
    return Outcome(state, (ev,))


def resume(state: RoomState, now: int) -> Outcome:
    """C3: restart a paused lot; a timed lot keeps the time it had left when paused."""
    _not_dutch(state)
    state.status.require(LotStatus.OPEN)
    if not state.paused_at:
        raise Rejection("wrong_state", status="open")
    ends_at = state.ends_at
    if state.mode is LotMode.TIMED:
        ends_at += max(0, now - state.paused_at)
    state, ev = emit(replace(state, paused_at=0, ends_at=ends_at), "resumed", now,
                      ends_at=ends_at)
    return Outcome(state, (ev,))


def withdraw(state: RoomState, reason: str, now: int) -> Outcome:
    """C4: 撤拍, a scheduled or open lot ends without a sale."""
    status = state.status.to(LotStatus.WITHDRAWN)
    state = replace(state, status=status, closed_at=now, paused_at=0)
    state, ev = emit(state, "withdrawn", now, reason=reason)
    return Outcome(state, (ev,))


def reopen(state: RoomState, window_ms: int, now: int) -> Outcome:
    """C5: undo a mistaken hammer or pass on a live lot that is not final (english only:
    S5, D5)."""
    _english_only(state)
    if state.mode is not LotMode.LIVE:
        raise Rejection("wrong_mode")
    if state.status not in (LotStatus.SOLD, LotStatus.PASSED):
        raise Rejection("wrong_state", status=state.status.value)
    if state.final or now - state.closed_at >= window_ms:
        raise Rejection("wrong_state", "该标的的结果已确定, 不能重新开拍", status="final")
    state = replace(state, status=LotStatus.OPEN, closed_at=0, warned=0)
    state, ev = emit(state, "reopened", now, high=state.high, paddle=state.paddle,
                     bids=state.bids)
    return Outcome(state, (ev,))


def standing_bids(log: Iterable[LotEvent]) -> list[LotEvent]:
    """The lot's ``bid`` events not retracted, oldest first (``log``: the lot's events)."""
    standing: list[LotEvent] = []
    retracted: set[int] = set()
    for event in log:
        if event.kind == "bid":
            standing.append(event)
        elif event.kind == "bid_retracted":
            retracted.add(int(event.data["bid_seq"]))
    return [e for e in standing if e.seq not in retracted]


def undo(state: RoomState, log: Iterable[LotEvent], now: int) -> Outcome:
    """C6: retract the highest standing bid; ``log`` is the lot's events so far (english
    only: S5, D5)."""
    _english_only(state)
    if state.mode is not LotMode.LIVE:
        raise Rejection("wrong_mode")
    state.status.require(LotStatus.OPEN)
    if state.bids == 0:
        raise Rejection("no_bids")
    standing = standing_bids(log)
    top = standing[-1]
    prev = standing[-2] if len(standing) > 1 else None
    state = replace(
        state,
        high=0 if prev is None else int(prev.data["amount"]),
        leader=0 if prev is None else int(prev.data["bidder"]),
        paddle=0 if prev is None else int(prev.data["paddle"]),
        high_seq=0 if prev is None else prev.seq,
        bids=state.bids - 1, warned=0,
    )
    state, ev = emit(
        state, "bid_retracted", now, bid_seq=top.seq, paddle=int(top.data["paddle"]),
        amount=int(top.data["amount"]), high=state.high, high_paddle=state.paddle,
        bids=state.bids,
    )
    state, changed = follow_increment(state, now)
    return Outcome(state, (ev, *changed))


def change_increment(state: RoomState, op: str, amount: int, now: int) -> Outcome:
    """C8: the auctioneer sets, halves, doubles or resets the increment."""
    state.status.require(LotStatus.SCHEDULED, LotStatus.OPEN)
    if op == "set":
        override = amount
    elif op == "halve":
        override = state.inc // 2
    elif op == "double":
        override = state.inc * 2
    else:  # reset
        override = 0
    if op != "reset" and not 1 <= override <= MAX_FEN:
        raise Rejection("wrong_state", inc=state.inc)
    state = replace(state, inc_override=override, inc0=state.inc0 or state.inc)
    inc = increment_for(state)
    state, ev = emit(replace(state, inc=inc), "increment_changed", now, inc=inc,
                     by="auctioneer" if override else "table")
    return Outcome(state, (ev,))


def finalize(state: RoomState, window_ms: int, now: int) -> Outcome:
    """C9: the lot's result is final (no event); refused while it may still be reopened."""
    if not state.status.terminal:
        raise Rejection("wrong_state", status=state.status.value)
    if state.final:
        return Outcome(state, ())
    reopenable = state.mode is LotMode.LIVE and state.status is not LotStatus.WITHDRAWN
    if reopenable and now - state.closed_at < window_ms:
        raise Rejection("not_due", ends_at=state.closed_at + window_ms)
    return Outcome(replace(state, final=1), ())
