"""LotView: snapshot, in-order events, duplicate drop, gap and epoch detection."""

from __future__ import annotations

from typing import Any

from auction_client.lot_view import LotView, Verdict
from auction_client.messages import Event, LotState, Resumed, Snapshot


def snap(seq: int = 2, epoch: str = "e1", **state: Any) -> Snapshot:
    base: dict[str, Any] = {"status": "open", "mode": "live", "start": 100, "inc": 10}
    base.update(state)
    return Snapshot(3, epoch, seq, LotState(**base))


def ev(seq: int, kind: str = "bid", epoch: str = "e1", **fields: Any) -> Event:
    return Event(3, epoch, seq, kind, 1000 + seq, fields)


def test_not_ready_before_snapshot() -> None:
    view = LotView(3)
    assert not view.ready
    assert view.apply_event(ev(1, paddle=101, amount=100)) is Verdict.NOT_READY
    assert view.seq == 0


def test_snapshot_then_events() -> None:
    view = LotView(3)
    view.apply_snapshot(snap())
    assert view.ready and view.next_minimum == 100
    assert view.apply_event(ev(3, paddle=101, amount=100)) is Verdict.APPLIED
    assert (view.seq, view.high, view.paddle, view.bids) == (3, 100, 101, 1)
    assert view.next_minimum == 110
    assert view.apply_event(ev(4, paddle=286, amount=120)) is Verdict.APPLIED
    assert view.apply_event(ev(5, "sold", paddle=286, amount=120, winning_seq=4)) is Verdict.APPLIED
    assert view.status == "sold" and view.terminal and view.closed_at == 1005


def test_duplicates_are_dropped() -> None:
    view = LotView(3)
    view.apply_snapshot(snap(seq=5, high=150, paddle=101, bids=3))
    assert view.apply_event(ev(5, paddle=999, amount=999)) is Verdict.DUPLICATE
    assert view.apply_event(ev(1, paddle=999, amount=999)) is Verdict.DUPLICATE
    assert (view.seq, view.high, view.paddle, view.bids) == (5, 150, 101, 3)


def test_gap_enters_resync_until_resumed() -> None:
    view = LotView(3)
    view.apply_snapshot(snap(seq=2))
    assert view.apply_event(ev(4, paddle=101, amount=100)) is Verdict.GAP
    assert view.resyncing and view.seq == 2
    assert view.apply_event(ev(3, paddle=101, amount=100)) is Verdict.NOT_READY
    view.apply_resumed(Resumed(3, "e1", 2, 2))
    assert not view.resyncing
    assert view.apply_event(ev(3, paddle=101, amount=100)) is Verdict.APPLIED
    assert view.apply_event(ev(4, paddle=102, amount=110)) is Verdict.APPLIED
    assert (view.seq, view.high, view.bids) == (4, 110, 2)


def test_epoch_change_voids_history_until_snapshot() -> None:
    view = LotView(3)
    view.apply_snapshot(snap(seq=2))
    assert view.apply_event(ev(3, epoch="e2")) is Verdict.EPOCH_CHANGED
    assert view.resyncing
    view.apply_snapshot(snap(seq=7, epoch="e2", high=300, bids=5, paddle=108))
    assert not view.resyncing and view.epoch == "e2" and view.next_minimum == 310


def test_unknown_kind_advances_seq_only() -> None:
    view = LotView(3)
    view.apply_snapshot(snap(seq=2, high=100, bids=1, paddle=101))
    assert view.apply_event(ev(3, "warned", count=1)) is Verdict.APPLIED
    assert (view.seq, view.high, view.status) == (3, 100, "open")


def test_timed_events() -> None:
    view = LotView(3)
    view.apply_snapshot(snap(seq=0, status="scheduled", mode="timed"))
    assert view.apply_event(ev(1, "opened", start=200, inc=20, ends_at=5000)) is Verdict.APPLIED
    assert view.is_open and view.ends_at == 5000 and view.start == 200
    view.apply_event(ev(2, paddle=101, amount=200))
    view.apply_event(ev(3, "extended", ends_at=9000))
    assert view.ends_at == 9000 and view.extensions == 1
    view.apply_event(ev(4, "passed", reason="reserve_not_met"))
    assert view.status == "passed" and view.reason == "reserve_not_met"


def test_console_events_keep_the_view_right() -> None:
    """An undo restores the previous high, a reopen opens the lot again, and the increment
    follows increment_changed: the next minimum is right after each."""
    view = LotView(3)
    view.apply_snapshot(snap(seq=2))
    view.apply_event(ev(3, paddle=101, amount=100, source="online"))
    view.apply_event(ev(4, paddle=102, amount=110, source="floor"))
    view.apply_event(ev(5, "bid_retracted", bid_seq=4, paddle=102, amount=110, high=100,
                        high_paddle=101, bids=1))
    assert (view.high, view.paddle, view.bids, view.next_minimum) == (100, 101, 1, 110)
    view.apply_event(ev(6, "increment_changed", inc=50, by="auctioneer"))
    assert view.next_minimum == 150
    view.apply_event(ev(7, "sold", paddle=101, amount=100, winning_seq=3))
    view.apply_event(ev(8, "reopened", high=100, paddle=101, bids=1))
    assert (view.status, view.terminal, view.closed_at) == ("open", False, 0)
    view.apply_event(ev(9, "bid_retracted", bid_seq=3, paddle=101, amount=100, high=0,
                        high_paddle=0, bids=0))
    assert (view.high, view.bids, view.next_minimum) == (0, 0, 100)
