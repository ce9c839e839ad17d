"""The door in front of the bid lanes (auction/rooms/lanes.py): how deep the queues may get,
how fast each busy lane drains, and the refusal a bid gets when it would wait too long
(:class:`Overloaded`: nack ``overloaded`` with ``retry_after_ms``, before any work).

Why (issue 17 item 1, docs/operations.md "Bid queues"): past capacity the queues would grow
and every answer would come later; the door keeps every answer within about the wait, and
bounds the queues by how long the lanes, at their measured rates, would take to send them
rather than by a count alone, because under load a round trip takes a lot's whole queue and
lasts a busy event-loop turn or two.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

#: the most bids one script call carries: Redis runs a call as one command, ≈ 25-30 µs a bid,
#: so 512 hold it for ≈ 15 ms; a larger batch is split into calls of at most this many, sent in
#: one pipeline (one round trip, in order on one connection, other clients served between them)
MAX_CALL = 512
#: the most bids one round trip carries, whatever a lot may queue
MAX_BATCH = 4096


def lane_batch(per_lot: int) -> int:
    """The batch for a lot queue of ``per_lot`` bids: the whole queue in one round trip, up to
    :data:`MAX_BATCH`."""
    return max(1, min(per_lot, MAX_BATCH))


@dataclass(frozen=True, slots=True)
class LaneLimits:
    """How deep the queues may get (``AUCTION_BID_QUEUE_*``, auction/settings.py)."""

    #: bids one lot may queue whatever its rate; past this many its queue grows only while the
    #: lot drains it within a quarter of :attr:`wait_ms` at the rate last measured. Past this
    #: many in the whole process, the busy lanes' rates bound the process's queue the same
    #: way (:meth:`Door.shed`)
    per_lot: int = 512
    #: bids one lot may queue at most, however fast it drains (at least :attr:`per_lot`)
    most: int = 4096
    #: bids queued in this process, all lots together
    total: int = 8192
    #: a bid that waited longer than this (ms) when its batch is taken is refused, never sent
    wait_ms: int = 500
    #: most bids in one round trip (never more than :attr:`deepest`:
    #: :attr:`auction.rooms.lanes.BidLanes.batch`, so by default one round trip takes the
    #: lot's whole queue). A lane carries at most one batch per round trip, and under load a
    #: round trip lasts a busy event-loop turn or two: a batch of 256 capped one lot at
    #: ≈ 12,000 accepted bids/s where 512 takes ≈ 14,000 (docs/performance.md, "Issue 17,
    #: sixth pass"). A batch larger than :data:`MAX_CALL` goes as several script calls in one
    #: pipeline.
    batch: int = MAX_BATCH

    @property
    def deepest(self) -> int:
        """The deepest a lot's queue may get."""
        return max(self.per_lot, self.most)


class Overloaded(Exception):
    """The bid was not taken: this server's queue is too deep. Nothing was done; retry after
    ``retry_after_ms`` (with the same key)."""

    code = "overloaded"

    def __init__(self, retry_after_ms: int) -> None:
        super().__init__(f"overloaded; retry after {retry_after_ms} ms")
        self.retry_after_ms = retry_after_ms
        self.message = f"服务器繁忙, 请 {retry_after_ms} 毫秒后用同一 key 重试"


#: the most lots whose time per bid the door remembers while their lanes are idle: past this
#: many, the estimates measured longest ago are forgotten (a lot busy again starts afresh,
#: as a new lot does), so a process that runs for many sessions does not keep one per lot
#: it ever served
KEEP_ESTIMATES = 4096

#: the door's refusals by ``retry_after_ms`` (5 … 1,000: at most 996 of them)
_SHED: dict[int, Overloaded] = {}


def overloaded(retry_after_ms: int) -> Overloaded:
    """The door's refusal with this ``retry_after_ms``, built once and shared."""
    refusal = _SHED.get(retry_after_ms)
    if refusal is None:
        refusal = _SHED[retry_after_ms] = Overloaded(retry_after_ms)
    return refusal


def retry_ms(depth: int, per_bid_s: float) -> int:
    """``retry_after_ms`` for a bid behind ``depth`` others at ``per_bid_s`` a bid (0.5 ms
    before anything is measured): at least a few ms, at most one second."""
    return max(5, min(1000, int(depth * (per_bid_s or 0.0005) * 1000) + 1))


class Door:
    """Whether a bid may join the queues of one process (one
    :class:`auction.rooms.lanes.BidLanes`): its :class:`LaneLimits`, each lot's measured time
    per bid, and the busy lanes' rates summed."""

    __slots__ = ("_budget_s", "_rate", "_rates", "limits", "per_bid")

    def __init__(self, limits: LaneLimits) -> None:
        self.limits = limits
        #: the longest a queue may take to drain before the door sheds past ``per_lot``: a
        #: quarter of the wait (:meth:`shed`)
        self._budget_s = limits.wait_ms / 4000
        #: per lot, how long its lane took per bid while busy (s; a moving average of its
        #: batches' cycles, from one batch answered to the next); kept while the lane is idle
        self.per_bid: dict[int, float] = {}
        #: per busy lane whose rate is measured, the bids a second it drains (1 / its per-bid
        #: time), and their sum: the process's drain rate
        self._rates: dict[int, float] = {}
        self._rate = 0.0

    def shed(self, lot: int, depth: int, queued: int) -> Overloaded | None:
        """At the door: :class:`Overloaded` when a bid on ``lot`` would wait too long. The
        refusal is shared by every bid refused with the same ``retry_after_ms`` (built once:
        past capacity most bids end here); it is an answer to hand on, never to raise.

        A lot's queue takes :attr:`LaneLimits.per_lot` bids, and more (up to
        :attr:`LaneLimits.most`) while the lane, at the rate it last drained, would send the
        whole queue within a quarter of :attr:`LaneLimits.wait_ms` (a bid at the back waits
        for the batch in flight, then for its own, and a batch's answers lengthen the event
        loop's turn for every socket: half of the wait let answers pass 1 s). A round trip
        takes the lot's whole queue, so under load a lot's rate grows with its queue; bounding
        the queue by its expected wait rather than by a count lets the round trips fill up
        past capacity, where a fixed 512 lets the refusals' work shrink what the lot takes
        (docs/performance.md, "twelfth pass": more in most pairs of runs, not in all).

        The same bound holds for the process: busy lots' calls share round trips, so past
        :attr:`LaneLimits.per_lot` bids queued in all, the door sheds every lot while the
        busy lanes together (the sum of their measured rates) would need more than the quarter
        of the wait to drain them. Ten lots' queues of ``per_lot`` each filled one shared
        round trip of ≈ 0.4 s on a slow guest and answers passed 1 s ("thirteenth pass").
        Before a lane has been measured it adds nothing, so a burst on many quiet lots is
        taken (up to :attr:`LaneLimits.total`)."""
        limits = self.limits
        if depth >= limits.per_lot:
            per_bid = self.per_bid.get(lot, 0.0)
            if depth >= limits.most or not per_bid or depth * per_bid >= self._budget_s:
                return overloaded(retry_ms(depth, per_bid))
        if queued >= limits.total:
            return overloaded(retry_ms(queued, self.per_bid.get(lot, 0.0)))
        rate = self._rate
        if queued >= limits.per_lot and rate > 0.0 and queued >= rate * self._budget_s:
            return overloaded(retry_ms(queued, 1.0 / rate))
        return None

    def retry_after_ms(self, lot: int, depth: int) -> int:
        """``retry_after_ms`` for a bid behind ``depth`` others on ``lot``, at its rate."""
        return retry_ms(depth, self.per_bid.get(lot, 0.0))

    def measured(self, lot: int, per_bid_s: float) -> None:
        """The lot's lane, busy, took ``per_bid_s`` a bid over its last batch: its estimate
        (a moving average) and the process's drain rate follow."""
        last = self.per_bid.pop(lot, None)  # re-inserted: the dict runs oldest first
        per_bid = self.per_bid[lot] = per_bid_s if last is None else (last + per_bid_s) / 2
        rates = self._rates
        rate = self._rate - rates.pop(lot, 0.0)
        if per_bid > 0.0:
            rates[lot] = 1.0 / per_bid
            rate += rates[lot]
        self._rate = rate if rates else 0.0

    def idle(self, lot: int) -> None:
        """The lot's lane went idle: it no longer adds to the process's drain rate (its own
        estimate is kept for when it is busy again, among the :data:`KEEP_ESTIMATES` measured
        last)."""
        rates = self._rates
        rate = self._rate - rates.pop(lot, 0.0)
        self._rate = rate if rates else 0.0  # none busy: no rounding left over from the sums
        per_bid = self.per_bid
        excess = len(per_bid) - KEEP_ESTIMATES
        if excess > 0:  # oldest first; a busy lane's estimate is its rate: never dropped
            idle = (old for old in per_bid if old not in rates)
            for old in list(itertools.islice(idle, excess)):
                del per_bid[old]
