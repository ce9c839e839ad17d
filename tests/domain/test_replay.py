"""Replaying a lot's events reproduces the room state the rules produced (invariant 10), which is
what a room rebuilt from the PostgreSQL journal relies on (invariant 11)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auction.domain import book, formats
from auction.domain.commands import (
    announce,
    change_increment,
    pause,
    reopen,
    resume,
    undo,
    warn,
    withdraw,
)
from auction.domain.errors import Rejection
from auction.domain.lot import LotFormat, LotMode
from auction.domain.replay import BookWrite, ReplayError, replay
from auction.domain.room import (
    LotEvent,
    RoomState,
    close_timed,
    hammer,
    open_lot,
    pass_lot,
    place_bid,
)

commands = st.lists(
    st.tuples(
        st.sampled_from(["open", "bid", "bid", "bid", "hammer", "pass", "close", "warn",
                         "announce", "pause", "resume", "withdraw", "undo", "undo", "reopen",
                         "floor", "set", "halve", "double", "reset"]),
        st.integers(1, 4),  # bidder
        st.integers(0, 6),  # increments above the minimum
        st.integers(0, 400_000),  # ms since the previous command
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(mode=st.sampled_from(list(LotMode)), steps=commands, reserve=st.integers(0, 3_000))
def test_replay_of_the_events_is_the_state(
    mode: LotMode, steps: list[tuple[str, int, int, int]], reserve: int
) -> None:
    """Whatever commands ran, folding their events over the initial state gives the final
    state field for field."""
    initial = RoomState(mode=mode, start=1_000, inc=100, reserve=reserve, window_ms=300_000,
                        ext_ms=300_000, duration_ms=600_000, deposit=500, inc0=100,
                        bands="0:100,1300:200,1600:500")
    state, now, log = initial, 1_700_000_000_000, []
    for op, bidder, extra, dt in steps:
        now += dt
        try:
            if op == "open":
                outcome = open_lot(state, now)
            elif op == "bid":
                amount = state.next_minimum() + extra * state.inc
                outcome = place_bid(state, bidder, 100 + bidder, amount, now, eligible=True)
            elif op == "hammer":
                outcome = hammer(state, now)
            elif op == "pass":
                outcome = pass_lot(state, now)
            elif op == "warn":
                outcome = warn(state, 1 + extra % 3, now)
            elif op == "announce":
                outcome = announce(state, "注意", now)
            elif op == "pause":
                outcome = pause(state, now)
            elif op == "resume":
                outcome = resume(state, now)
            elif op == "withdraw":
                outcome = withdraw(state, "委托方撤回", now)
            elif op == "undo":
                outcome = undo(state, log, now)
            elif op == "reopen":
                outcome = reopen(state, 10**13, now)
            elif op == "floor":
                outcome = place_bid(state, bidder, 100 + bidder, state.next_minimum(), now,
                                    eligible=True, source="phone")
            elif op in ("set", "halve", "double", "reset"):
                outcome = change_increment(state, op, 50 * (1 + extra), now)
            else:
                outcome = close_timed(state, now)
        except Rejection:
            continue
        state = outcome.state
        log.extend(outcome.events)
    assert replay(initial, log) == state


def test_a_log_with_a_gap_is_refused() -> None:
    """A log missing an event cannot be folded into a state: that state would be a lie."""
    initial = RoomState(mode=LotMode.LIVE, start=1_000, inc=100)
    events = [LotEvent(1, "opened", 10, {"start": 1_000, "inc": 100, "ends_at": 0}),
              LotEvent(3, "bid", 20, {"bidder": 1, "paddle": 7, "amount": 1_000})]
    with pytest.raises(ReplayError):
        replay(initial, events)


def test_unknown_kinds_advance_only_the_seq() -> None:
    """An event kind the fold does not know (a later console event) changes nothing else."""
    initial = RoomState(mode=LotMode.LIVE, start=1_000, inc=100)
    events = [LotEvent(1, "opened", 10, {"start": 1_000, "inc": 100, "ends_at": 0}),
              LotEvent(2, "announced", 20, {"text": "注意"})]
    opened = replay(initial, events[:1])
    assert replay(initial, events) == replace(opened, seq=2)


def _writes(before: RoomState, after: RoomState) -> list[BookWrite]:
    """The book write a command made, as the scripts journal it (lot_book)."""
    if after.book_n == before.book_n:
        return []
    entry = next(e for e in book.parse(after.book) if e.order == after.book_n)
    return [BookWrite(n=entry.order, after_seq=before.seq, bidder=entry.bidder,
                      paddle=entry.paddle, amount=entry.amount, revision=entry.n, at=entry.at)]


format_steps = st.lists(
    st.tuples(st.sampled_from(["open", "bid", "bid", "proxy", "proxy", "close", "hammer", "pass",
                               "undo", "reopen", "accept"]),
              st.integers(1, 4), st.integers(0, 6), st.integers(0, 400_000)),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(fmt=st.sampled_from([LotFormat.ENGLISH, LotFormat.SEALED, LotFormat.DUTCH,
                            LotFormat.ROUNDS]), mode=st.sampled_from(list(LotMode)),
       steps=format_steps, revisions=st.integers(0, 2))
def test_replay_of_events_and_book_is_the_state_for_every_format(
    fmt: LotFormat, mode: LotMode, steps: list[tuple[str, int, int, int]], revisions: int
) -> None:
    """With proxy maxima and sealed quotes journalled as book writes (each after the seq the
    room was at), the events and the book fold into the final state, secret book included."""
    initial = RoomState(mode=mode, start=1_000, inc=100, reserve=1_100, window_ms=300_000,
                        ext_ms=300_000, duration_ms=600_000, deposit=500, inc0=100,
                        format=fmt, revisions=revisions, step=100, interval_ms=60_000,
                        floor=700, free_ms=120_000, round_ms=60_000)
    eligible = {1, 2, 3, 4}
    state, now, log, writes = initial, 1_700_000_000_000, [], []
    for op, bidder, extra, dt in steps:
        now += dt
        try:
            if op == "open":
                outcome = formats.open_lot(state, now, eligible=eligible)
            elif op == "bid":
                amount = state.next_minimum() + extra * state.inc
                outcome = formats.bid(state, bidder, 100 + bidder, amount, now,
                                      eligible=eligible)
            elif op == "proxy":
                outcome = formats.set_proxy(state, bidder, 100 + bidder,
                                            state.next_minimum() + extra * state.inc, now,
                                            eligible=eligible)
            elif op == "accept":
                outcome = formats.accept(state, bidder, 100 + bidder, now, eligible=True)
            elif op == "hammer":
                outcome = hammer(state, now)
            elif op == "pass":
                outcome = pass_lot(state, now)
            elif op == "undo":
                outcome = undo(state, log, now)
            elif op == "reopen":
                outcome = reopen(state, 10**13, now)
            else:
                outcome = close_timed(state, now)
        except Rejection:
            continue
        writes += _writes(state, outcome.state)
        state = outcome.state
        log.extend(outcome.events)
    assert replay(initial, log, writes) == state


def test_a_book_write_past_the_log_or_out_of_order_is_refused() -> None:
    """A book write whose place is after the log's end, or that skips an order, cannot be
    folded."""
    initial = RoomState(mode=LotMode.LIVE, start=1_000, inc=100)
    events = [LotEvent(1, "opened", 10, {"start": 1_000, "inc": 100, "ends_at": 0})]
    late = BookWrite(n=1, after_seq=2, bidder=1, paddle=7, amount=2_000, revision=0, at=11)
    with pytest.raises(ReplayError):
        replay(initial, events, [late])
    with pytest.raises(ReplayError):
        replay(initial, events, [replace(late, n=2, after_seq=1)])
    folded = replay(initial, events, [replace(late, after_seq=0)])
    assert folded.proxies == 1 and folded.book_n == 1 and folded.seq == 1
