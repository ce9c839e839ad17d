"""Listing (挂牌) rules L1–L3 of :mod:`auction.domain.formats` in Lua and in Python as one rule
(house style rule 8): a case table for each rule and a Hypothesis state machine that ends
listings with 0, 1 or more buyers and bids on what they became; both sides must agree on the
outcome, the events and the whole state."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from auction.domain import formats
from auction.domain.errors import Rejection
from auction.domain.lot import LotFormat, LotMode, LotStatus
from auction.domain.replay import replay
from auction.domain.room import LotEvent, Outcome, RoomState
from tests.rooms.test_lua_equivalence import DEPOSIT, ELIGIBLE, INC, START, Harness


class ListingHarness(Harness):
    """:class:`Harness` with the listing's end (``end``: buyers, the one buyer, and the
    auction's schedule)."""

    def lua_data(self, lot: int, command: tuple[Any, ...]) -> tuple[str, int, dict[str, Any]]:
        name, *args = command
        if name != "end":
            return super().lua_data(lot, command)
        buyers, buyer, planned, cap, hard = args
        try:
            acc = self.run(self.rooms.end_listing(
                lot, buyers=buyers, buyer=buyer, paddle=100 + buyer if buyer else 0,
                ends_at=planned, max_ext=cap, hard_end=hard))
        except Rejection as rej:
            return rej.code, int(rej.data["at"]), {}
        return "ok", acc.at, {}

    def model(
        self, state: RoomState, command: tuple[Any, ...], now: int,
        eligible: frozenset[int] = ELIGIBLE, log: list[LotEvent] | None = None,
    ) -> Outcome | Rejection:
        name, *args = command
        if name != "end":
            return super().model(state, command, now, eligible, log)
        buyers, buyer, planned, cap, hard = args
        try:
            return formats.end_listing(state, now, buyers=buyers, buyer=buyer,
                                       paddle=100 + buyer if buyer else 0, ends_at=planned,
                                       max_ext=cap, hard_end=hard)
        except Rejection as rej:
            return rej


@pytest.fixture
def harness(redis_url: str) -> Iterator[ListingHarness]:
    h = ListingHarness(redis_url)
    yield h
    h.close()


def listing(**kw: Any) -> RoomState:
    terms: dict[str, Any] = {"mode": LotMode.TIMED, "start": START, "inc": INC, "inc0": INC,
                             "window_ms": 300_000, "ext_ms": 300_000, "duration_ms": 600_000,
                             "deposit": DEPOSIT, "format": LotFormat.LISTING}
    return RoomState(**{**terms, **kw})


# (rule, state, command, expected outcome)
CASES: list[tuple[str, RoomState, tuple[Any, ...], str]] = [
    ("L1 a bid during the period", listing(), ("bid", 1, START), "listing_period"),
    ("L1 a floor bid during the period", listing(), ("floor", 2, START, "phone"),
     "listing_period"),
    ("L1 R0 first: no deposit", listing(), ("bid", 5, START), "deposit_required"),
    ("L1 the amount first", listing(), ("bid", 1, 0), "bad_amount"),
    ("L1 open by hand", listing(), ("open",), "listing_period"),
    ("L1 proxy", listing(), ("proxy", 1, START), "wrong_format"),
    ("L1 accept", listing(), ("accept", 1), "wrong_format"),
    ("L1 a withdrawn listing is closed", listing(status=LotStatus.WITHDRAWN, seq=1),
     ("bid", 1, START), "lot_closed"),
    ("L1 the clock does not close a listing", listing(), ("timed",), "lot_not_open"),
    ("L1 a listing may be withdrawn", listing(), ("withdraw", "卖方撤回"), "ok"),
    ("L2 no buyers: expired", listing(), ("end", 0, 0, 0, -1, 0), "ok"),
    ("L2 one buyer: 协议成交", listing(), ("end", 1, 3, 0, -1, 0), "ok"),
    ("L2 three buyers: an auction", listing(), ("end", 3, 0, 0, 2, 0), "ok"),
    ("L2 not a listing", RoomState(mode=LotMode.TIMED, start=START, inc=INC),
     ("end", 1, 1, 0, -1, 0), "wrong_format"),
    ("L2 ended twice", listing(status=LotStatus.OPEN, seq=1, opened_at=1),
     ("end", 2, 0, 0, -1, 0), "wrong_state"),
    ("L2 a withdrawn listing does not end", listing(status=LotStatus.WITHDRAWN, seq=1),
     ("end", 1, 1, 0, -1, 0), "lot_closed"),
]


@pytest.mark.parametrize(("rule", "state", "command", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_case_table(harness: ListingHarness, rule: str, state: RoomState,
                    command: tuple[Any, ...], expected: str) -> None:
    """Each listing rule gives the same outcome, events and state in Lua and in Python."""
    lot = harness.place(state)
    harness.check(lot, state, command)
    assert harness.last_outcome == expected, rule


def test_the_three_ends(harness: ListingHarness) -> None:
    """0 buyers: passed ``no_buyers``; 1: sold at the listing price to that buyer, its bid
    marked ``source: listing``; 3: an open english timed auction from the listing price on the
    given schedule, which a qualified buyer's bid extends under the cap; and the log of each
    replays to the live state."""
    now = harness.server_now()
    ends = {}
    for buyers, buyer in ((0, 0), (1, 2), (3, 0)):
        state = listing()
        lot = harness.place(state)
        after = harness.check(lot, state, ("end", buyers, buyer, now + 60_000, 1, 0))
        log = harness.run(harness.rooms.events_after(lot, 0)) or []
        assert replay(listing(), log) == after
        assert after.format is LotFormat.ENGLISH
        ends[buyers] = (after, log)
    expired, log = ends[0]
    assert expired.status is LotStatus.PASSED
    assert [e.kind for e in log] == ["opened", "passed"]
    assert log[1].data == {"reason": "no_buyers"} and log[0].data["buyers"] == 0
    agreed, log = ends[1]
    assert agreed.status is LotStatus.SOLD and agreed.high == START and agreed.leader == 2
    assert [e.kind for e in log] == ["opened", "bid", "sold"]
    assert log[1].data["source"] == "listing"
    assert log[2].data == {"bidder": 2, "paddle": 102, "amount": START, "winning_seq": 2}
    auction, log = ends[3]
    assert auction.status is LotStatus.OPEN and auction.ends_at == now + 60_000
    assert auction.max_ext == 1 and log[0].data["buyers"] == 3
    lot = harness.place(auction)
    after = harness.check(lot, auction, ("bid", 1, START))  # in the last window: extended
    assert after.high == START and after.extensions == 1


class ListingMachine(RuleBasedStateMachine):
    """Random sequences on a listing: bids, proxies, openings and withdrawals during the
    period, its end with any number of buyers on any schedule, then bids and closes on what it
    became; Lua and the model never disagree."""

    harness: ListingHarness

    def __init__(self) -> None:
        super().__init__()
        self.lot = 0
        self.state = listing()
        self.eligible = ELIGIBLE

    @initialize(duration=st.sampled_from([30, 3_600_000]))
    def setup(self, duration: int) -> None:
        self.state = listing(duration_ms=duration)
        self.lot = self.harness.place(self.state, self.eligible)

    def _step(self, *command: Any) -> None:
        self.state = self.harness.check(self.lot, self.state, command, self.eligible)

    @rule(bidder=st.integers(1, 5), grant=st.booleans())
    def eligibility_pushed(self, bidder: int, grant: bool) -> None:
        self.harness.set_eligible(self.lot, bidder, grant)
        self.eligible = self.eligible | {bidder} if grant else self.eligible - {bidder}

    @rule(bidder=st.integers(1, 5), steps=st.integers(-1, 3))
    def bid(self, bidder: int, steps: int) -> None:
        self._step("bid", bidder, self.state.next_minimum() + steps * self.state.inc)

    @rule(bidder=st.integers(1, 5), steps=st.integers(0, 3))
    def proxy(self, bidder: int, steps: int) -> None:
        self._step("proxy", bidder, self.state.next_minimum() + steps * self.state.inc)

    @rule()
    def open(self) -> None:
        self._step("open")

    @rule(buyers=st.sampled_from([0, 1, 2, 3]), buyer=st.integers(1, 4),
          planned=st.sampled_from([0, 20, 120_000]), cap=st.sampled_from([-1, 0, 1]),
          hard=st.sampled_from([0, 0, 60_000]))
    def end(self, buyers: int, buyer: int, planned: int, cap: int, hard: int) -> None:
        now = self.harness.server_now()
        self._step("end", buyers, buyer if buyers == 1 else 0, now + planned if planned else 0,
                   cap, now + hard if hard else 0)

    @rule(ms=st.sampled_from([0, 40]))
    def wait(self, ms: int) -> None:
        time.sleep(ms / 1000)

    @rule()
    def close(self) -> None:
        self._step("timed")

    @rule(dice=st.integers(0, 5))
    def withdraw(self, dice: int) -> None:
        if dice == 0:
            self._step("withdraw", "撤回")

    @invariant()
    def the_log_replays(self) -> None:
        if self.lot:
            events = self.harness.run(self.harness.rooms.events_after(self.lot, 0)) or []
            assert len(events) == self.state.seq
            folded = replay(listing(duration_ms=self.state.duration_ms), events)
            assert (folded.status, folded.format, folded.high, folded.leader) == (
                self.state.status, self.state.format, self.state.high, self.state.leader)


def test_listing_machine(harness: ListingHarness) -> None:
    """Hypothesis explores listings and what they become; both implementations agree."""
    ListingMachine.harness = harness
    test = ListingMachine.TestCase
    test.settings = settings(max_examples=80, stateful_step_count=20, deadline=None,
                             suppress_health_check=list(HealthCheck))
    test().runTest()
