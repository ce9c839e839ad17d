"""The door (auction/rooms/door.py) on its own: when a bid is refused ``overloaded``, from the
queue depths and the lanes' measured rates, with what ``retry_after_ms``."""

from __future__ import annotations

import pytest

from auction.rooms import door as door_module
from auction.rooms.door import Door, LaneLimits, Overloaded, overloaded, retry_ms


def test_a_lot_takes_per_lot_unmeasured_and_more_while_it_drains_within_a_quarter_wait() -> None:
    door = Door(LaneLimits(per_lot=10, most=100, total=10_000, wait_ms=400))  # budget 100 ms
    assert door.shed(1, depth=9, queued=9) is None
    assert isinstance(door.shed(1, depth=10, queued=10), Overloaded), "unmeasured: per_lot"
    door.measured(1, 0.001)  # 1 ms a bid: 100 bids in 100 ms
    assert door.shed(1, depth=99, queued=99) is None
    assert isinstance(door.shed(1, depth=100, queued=100), Overloaded)
    door.measured(1, 0.009)  # the average: 5 ms a bid, 20 bids in the budget
    assert door.per_bid[1] == pytest.approx(0.005)
    assert door.shed(1, depth=19, queued=19) is None
    refusal = door.shed(1, depth=21, queued=21)
    assert isinstance(refusal, Overloaded) and 105 <= refusal.retry_after_ms <= 106  # 21 × 5 ms


def test_busy_lanes_rates_add_up_and_bound_the_process_queue() -> None:
    door = Door(LaneLimits(per_lot=10, most=100, total=10_000, wait_ms=400))
    for lot in (1, 2, 3, 4):
        door.measured(lot, 0.01)  # 100 bids/s each, 400 together: 40 bids in 100 ms
    assert door.shed(9, depth=0, queued=39) is None
    refusal = door.shed(9, depth=0, queued=40)
    assert isinstance(refusal, Overloaded), "a quiet lot shares the busy lanes' round trips"
    assert refusal.retry_after_ms == 101  # 40 bids at 400 a second
    door.idle(1)
    door.idle(2)  # 200 bids/s left: 20 bids in 100 ms
    assert isinstance(door.shed(9, depth=0, queued=20), Overloaded)
    assert door.shed(9, depth=0, queued=19) is None
    door.idle(3)
    door.idle(4)
    assert door.shed(9, depth=0, queued=9_999) is None, "none busy: only total bounds it"
    assert isinstance(door.shed(9, depth=0, queued=10_000), Overloaded)
    assert door.per_bid[1] == 0.01, "an idle lane keeps its estimate"


def test_a_lane_measured_again_replaces_its_rate_in_the_sum() -> None:
    door = Door(LaneLimits(per_lot=1, most=100, total=10_000, wait_ms=4000))  # budget 1 s
    door.measured(1, 0.01)
    door.measured(1, 0.01)
    door.measured(1, 0.01)  # still 100 bids/s, not 300
    assert door.shed(2, depth=0, queued=99) is None
    assert isinstance(door.shed(2, depth=0, queued=100), Overloaded)


def test_retry_after_ms_is_the_wait_ahead_between_5_ms_and_1_s() -> None:
    assert retry_ms(0, 0.0) == 5
    assert retry_ms(100, 0.0) == 51  # 0.5 ms a bid before anything is measured
    assert retry_ms(100, 0.002) == 201
    assert retry_ms(10_000, 0.01) == 1000
    assert overloaded(201) is overloaded(201), "one shared refusal per retry_after_ms"
    door = Door(LaneLimits())
    door.measured(7, 0.002)
    assert door.retry_after_ms(7, 100) == 201
    assert door.retry_after_ms(8, 100) == 51


def test_the_door_forgets_the_estimates_measured_longest_ago_but_never_a_busy_lanes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(door_module, "KEEP_ESTIMATES", 3)
    door = Door(LaneLimits(per_lot=10, most=100, total=10_000, wait_ms=400))
    door.measured(1, 0.01)  # lot 1 stays busy throughout
    for lot in (2, 3, 4, 5):
        door.measured(lot, 0.01)
        door.idle(lot)
    assert list(door.per_bid) == [1, 4, 5], "lots 2 and 3 forgotten, busy lot 1 kept"
    door.measured(4, 0.01)  # measured again: now the newest
    door.idle(4)
    door.measured(6, 0.01)
    door.idle(6)
    assert list(door.per_bid) == [1, 4, 6]
    assert isinstance(door.shed(9, depth=0, queued=20), Overloaded), "lot 1's rate still counts"
    assert door.shed(9, depth=0, queued=9) is None
