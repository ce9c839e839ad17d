"""Process metrics in Prometheus text format (``GET /metrics``), with ``prometheus-client``.

Why the library: it is the reference implementation of the exposition format, thread- and
asyncio-safe for counters and histograms, and every scraper understands it; a hand-written
formatter would have to get escaping, ``# TYPE`` lines and histogram buckets right by itself.

Every metric of the engine is declared here, once, in one registry (:data:`REGISTRY`), so a test
can build several apps in one process without "duplicated timeseries" errors and a reader sees
the whole list in one place. Code elsewhere only calls ``.inc()`` / ``.observe()`` / ``.set()``,
or, for the four per-bid metrics, :func:`bid_accepted`, :func:`bid_refused`, :func:`bid_direct`
and :func:`ack_latency`. Gauges that describe shared state (outbox backlog, drain lag) are
refreshed by whoever computes them (the deliverer, the drainer) or at scrape time by the
``/metrics`` handler.

The per-bid metrics (the first four below) are a tally in plain ints, written only by the
event loop's thread and turned into the same families at scrape time (:class:`_BidTally`):
a prometheus_client counter or histogram takes a lock per call, 0.3–0.7 µs, two or three times
per bid frame, and at overload one core handles ≈ 24,000 bid frames a second.

Names (all prefixed ``auction_``):

==============================  =========  ===============================================
bids_accepted_total             counter    bids the room accepted (acks, replays excluded)
bids_refused_total{code}        counter    bids refused, by stable rejection code
ws_bids_direct_total            counter    bids taken straight from the socket, not through
                                           the ASGI receive queue (auction/api/direct_read.py)
ack_latency_seconds             histogram  frame received → ack/nack queued, per bid
connections                     gauge      open websocket connections of this process
watchers                        gauge      (connection, lot) subscriptions of this process
slow_clients_dropped_total      counter    connections closed with 4429 (send queue full)
drain_lag_events                gauge      events in Redis not yet in PostgreSQL (last pass)
drain_lag_seconds               gauge      age of the oldest event the last pass copied
outbox_pending                  gauge      registration rows pending delivery
outbox_dead                     gauge      registration rows dead-lettered
outbox_oldest_pending_seconds   gauge      age of the oldest pending registration row
history_loss_total{kind}        counter    history lost in Redis and told (``rebuilt``,
                                           ``epoch_bumped``, ``journal_mismatch``)
redis_errors_total              counter    Redis calls that failed (connection, timeout)
postgres_errors_total           counter    PostgreSQL calls that failed (unavailable, timeout)
audit_failures_total            counter    audit rows not written (the write stood; the row is
                                           in the log: auction/api/audit.py)
event_loop_lag_seconds          histogram  how late the event loop ran a 100 ms timer (a
                                           server process: auction/eventloop.py ``watch``)
gc_pause_seconds{generation}    histogram  garbage collections, each one's pause (the loop
                                           stops while it runs)
==============================  =========  ===============================================
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

REGISTRY = CollectorRegistry(auto_describe=True)

#: ``auction_ack_latency_seconds``'s bucket bounds (+Inf implied)
ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: the buckets' ``le`` labels, as prometheus_client writes them (``repr`` for these bounds)
_ACK_LE = (*(repr(bound) for bound in ACK_BUCKETS), "+Inf")

# The tally (see the module docstring). Each ack-latency bucket counts the observations that fall
# in it alone, the last one (+Inf) those over the largest bound; the exposition adds them up.
_accepted = 0
_direct = 0
_refused: dict[str, int] = {}
_ack_buckets = [0] * (len(ACK_BUCKETS) + 1)
_ack_sum = 0.0
# each series' start, exposed as ``…_created`` as prometheus_client does for its own metrics
_started = time.time()
_refused_started: dict[str, float] = {}


def bid_accepted() -> None:
    """Count one accepted bid (``auction_bids_accepted_total``)."""
    global _accepted
    _accepted += 1


def bid_refused(code: str) -> None:
    """Count one refused bid under ``code`` (``auction_bids_refused_total{code}``)."""
    try:
        _refused[code] += 1
    except KeyError:
        _refused[code] = 1
        _refused_started[code] = time.time()


def bid_direct() -> None:
    """Count one bid taken straight from the socket (``auction_ws_bids_direct_total``)."""
    global _direct
    _direct += 1


def ack_latency(seconds: float) -> None:
    """Observe one bid's frame-to-answer time (``auction_ack_latency_seconds``): it falls in the
    first bucket whose bound it does not exceed, as in prometheus_client."""
    global _ack_sum
    _ack_buckets[bisect_left(ACK_BUCKETS, seconds)] += 1
    _ack_sum += seconds


# the tally's current values, for tests (the exposition is what a scraper reads)


def bids_accepted_count() -> int:
    return _accepted


def bids_refused_count(code: str) -> int:
    return _refused.get(code, 0)


def bids_direct_count() -> int:
    return _direct


def ack_latency_count() -> int:
    return sum(_ack_buckets)


class _BidTally(Collector):
    """The tally as the families prometheus_client's own counters and histogram exposed: the
    same names, labels, bucket bounds, help texts and ``_created`` samples."""

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily("auction_bids_accepted", "Bids the room accepted",
                                  value=_accepted, created=_started)
        refused = CounterMetricFamily("auction_bids_refused", "Bids refused, by rejection code",
                                      labels=["code"])
        for code, count in list(_refused.items()):
            refused.add_metric([code], count, created=_refused_started[code])
        yield refused
        yield CounterMetricFamily(
            "auction_ws_bids_direct",
            "Bids taken straight from the socket, not through the ASGI receive queue "
            "(auction/api/direct_read.py)", value=_direct, created=_started,
        )
        latency = HistogramMetricFamily("auction_ack_latency_seconds",
                                        "Bid frame received to ack or nack queued")
        cumulative, buckets = 0, []
        for le, count in zip(_ACK_LE, list(_ack_buckets), strict=True):
            cumulative += count
            buckets.append((le, float(cumulative)))
        latency.add_metric([], buckets, _ack_sum)
        latency.samples.append(Sample("auction_ack_latency_seconds_created", {}, _started))
        yield latency


REGISTRY.register(_BidTally())
CONNECTIONS = Gauge(
    "auction_connections", "Open websocket connections of this process", registry=REGISTRY
)
WATCHERS = Gauge(
    "auction_watchers", "Lot subscriptions of this process's connections", registry=REGISTRY
)
SLOW_CLIENTS_DROPPED = Counter(
    "auction_slow_clients_dropped", "Connections closed because they fell too far behind",
    registry=REGISTRY,
)
DRAIN_LAG_EVENTS = Gauge(
    "auction_drain_lag_events", "Events in Redis not yet copied to PostgreSQL", registry=REGISTRY
)
DRAIN_LAG_SECONDS = Gauge(
    "auction_drain_lag_seconds", "Age of the oldest event the last drain pass copied",
    registry=REGISTRY,
)
OUTBOX_PENDING = Gauge(
    "auction_outbox_pending", "Registration packets pending delivery", registry=REGISTRY
)
OUTBOX_DEAD = Gauge(
    "auction_outbox_dead", "Registration packets dead-lettered", registry=REGISTRY
)
OUTBOX_OLDEST_PENDING_SECONDS = Gauge(
    "auction_outbox_oldest_pending_seconds", "Age of the oldest pending registration packet",
    registry=REGISTRY,
)
HISTORY_LOSS = Counter(
    "auction_history_loss", "History lost in Redis, detected and told", ["kind"],
    registry=REGISTRY,
)
REDIS_ERRORS = Counter(
    "auction_redis_errors", "Redis calls that failed", registry=REGISTRY
)
POSTGRES_ERRORS = Counter(
    "auction_postgres_errors", "PostgreSQL calls that failed", registry=REGISTRY
)

AUDIT_FAILURES = Counter(
    "auction_audit_failures", "Audit rows that could not be written (logged instead)",
    registry=REGISTRY,
)

_PAUSE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
EVENT_LOOP_LAG = Histogram(
    "auction_event_loop_lag_seconds", "How late the event loop ran a 100 ms timer",
    buckets=_PAUSE_BUCKETS, registry=REGISTRY,
)
GC_PAUSE = Histogram(
    "auction_gc_pause_seconds", "Garbage collections by generation, each one's pause",
    ["generation"], buckets=_PAUSE_BUCKETS, registry=REGISTRY,
)


def exposition() -> bytes:
    """The registry in Prometheus text format (``text/plain; version=0.0.4``)."""
    return generate_latest(REGISTRY)


CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
