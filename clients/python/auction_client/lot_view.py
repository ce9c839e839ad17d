"""The client's local picture of one lot, kept current from a snapshot and the events after it.

Rules (docs/protocol.md, "Resume"):

- a snapshot replaces everything (epoch, seq, state);
- an event is applied only when it is the next one: same epoch, ``seq == last + 1``;
- ``seq <= last`` in the same epoch is a duplicate and is dropped;
- ``seq > last + 1`` is a gap, and an event of another epoch voids the history: both are
  reported (nothing is applied) so the caller resubscribes with resume; until a snapshot or a
  ``resumed`` arrives the view ignores events (``resyncing``);
- unknown kinds are not an error: they advance ``seq`` and change nothing else.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from auction_client.messages import Event, Resumed, Snapshot

TERMINAL = frozenset({"sold", "passed", "withdrawn"})


class Verdict(enum.StrEnum):
    """What :meth:`LotView.apply_event` did with an event."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"  # seq <= last: dropped
    GAP = "gap"  # seq > last + 1: dropped; resubscribe with resume
    EPOCH_CHANGED = "epoch_changed"  # other epoch: dropped; resubscribe
    NOT_READY = "not_ready"  # no snapshot yet, or waiting for a resync: dropped


@dataclass(slots=True)
class LotView:
    """Mutable, per-lot state. ``ready`` once a snapshot arrived. Amounts are fen, times ms."""

    lot: int
    epoch: str = ""
    seq: int = 0
    status: str = ""
    mode: str = ""
    start: int = 0
    inc: int = 0
    high: int = 0
    paddle: int = 0
    bids: int = 0
    ends_at: int = 0
    extensions: int = 0
    opened_at: int = 0
    closed_at: int = 0
    high_seq: int = 0
    session: int = 0
    reason: str = ""  # why a lot passed (``no_bids`` / ``reserve_not_met`` / ``auctioneer``)
    last_event_at: int = 0
    resyncing: bool = False

    @property
    def ready(self) -> bool:
        """True once a snapshot has been applied."""
        return self.epoch != ""

    @property
    def terminal(self) -> bool:
        """Sold, passed or withdrawn."""
        return self.status in TERMINAL

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def next_minimum(self) -> int:
        """The lowest valid next bid: ``start`` with no bids, else ``high + inc``."""
        return self.start if self.bids == 0 else self.high + self.inc

    def apply_snapshot(self, snap: Snapshot) -> None:
        """Replace the whole view with ``snap``."""
        s = snap.state
        self.epoch = snap.epoch
        self.seq = snap.seq
        self.status = s.status
        self.mode = s.mode
        self.start = s.start
        self.inc = s.inc
        self.high = s.high
        self.paddle = s.paddle
        self.bids = s.bids
        self.ends_at = s.ends_at
        self.extensions = s.extensions
        self.opened_at = s.opened_at
        self.closed_at = s.closed_at
        self.high_seq = s.high_seq
        self.session = s.session
        self.reason = ""
        self.resyncing = False

    def apply_resumed(self, msg: Resumed) -> None:
        """A resume was granted: the events after ``msg.after`` follow. Ends a resync."""
        if self.ready and msg.epoch != self.epoch:
            # Should not happen (the server sends a snapshot then); keep waiting for one.
            self.resyncing = True
            return
        self.resyncing = False

    def check(self, ev: Event) -> Verdict:
        """Classify ``ev`` against the view without changing anything."""
        if not self.ready or self.resyncing:
            return Verdict.NOT_READY
        if ev.epoch != self.epoch:
            return Verdict.EPOCH_CHANGED
        if ev.seq <= self.seq:
            return Verdict.DUPLICATE
        if ev.seq > self.seq + 1:
            return Verdict.GAP
        return Verdict.APPLIED

    def apply_event(self, ev: Event) -> Verdict:
        """Apply ``ev`` if it is the next event (see module rules); return what happened.

        On ``GAP`` / ``EPOCH_CHANGED`` the view enters ``resyncing`` and drops events until
        :meth:`apply_snapshot` or :meth:`apply_resumed`.
        """
        verdict = self.check(ev)
        if verdict in (Verdict.GAP, Verdict.EPOCH_CHANGED):
            self.resyncing = True
        if verdict is not Verdict.APPLIED:
            return verdict
        self.seq = ev.seq
        self.last_event_at = ev.at
        kind = ev.kind
        if kind == "opened":
            self.status = "open"
            self.start = ev.get_int("start", self.start)
            self.inc = ev.get_int("inc", self.inc)
            self.ends_at = ev.get_int("ends_at", 0)
            self.opened_at = ev.at
        elif kind == "bid":
            self.high = ev.amount
            self.paddle = ev.paddle
            self.bids += 1
            self.high_seq = ev.seq
        elif kind == "extended":
            self.ends_at = ev.get_int("ends_at", self.ends_at)
            self.extensions += 1
        elif kind == "sold":
            self.status = "sold"
            self.paddle = ev.get_int("paddle", self.paddle)
            self.high = ev.get_int("amount", self.high)
            self.closed_at = ev.at
        elif kind == "passed":
            self.status = "passed"
            self.reason = ev.reason
            self.closed_at = ev.at
        elif kind == "withdrawn":
            self.status = "withdrawn"
            self.closed_at = ev.at
        elif kind == "increment_changed":
            self.inc = ev.get_int("inc", self.inc)
        elif kind == "bid_retracted":  # the auctioneer's undo: the previous bid is the high
            self.high = ev.get_int("high", 0)
            self.paddle = ev.get_int("high_paddle", 0)
            self.bids = ev.get_int("bids", max(0, self.bids - 1))
        elif kind == "reopened":  # a mistaken hammer or pass undone
            self.status = "open"
            self.closed_at = 0
            self.high = ev.get_int("high", self.high)
            self.paddle = ev.get_int("paddle", self.paddle)
            self.bids = ev.get_int("bids", self.bids)
        elif kind == "resumed":  # a timed lot keeps the time it had left
            self.ends_at = ev.get_int("ends_at", self.ends_at)
        return Verdict.APPLIED
