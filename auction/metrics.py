"""Process metrics in Prometheus text format (``GET /metrics``), with ``prometheus-client``.

Why the library: it is the reference implementation of the exposition format, thread- and
asyncio-safe for counters and histograms, and every scraper understands it; a hand-written
formatter would have to get escaping, ``# TYPE`` lines and histogram buckets right by itself.

Every metric of the engine is declared here, once, in one registry (:data:`REGISTRY`), so a test
can build several apps in one process without "duplicated timeseries" errors and a reader sees
the whole list in one place. Code elsewhere only calls ``.inc()`` / ``.observe()`` / ``.set()``.
Gauges that describe shared state (outbox backlog, drain lag) are refreshed by whoever computes
them (the deliverer, the drainer) or at scrape time by the ``/metrics`` handler.

Names (all prefixed ``auction_``):

==============================  =========  ===============================================
bids_accepted_total             counter    bids the room accepted (acks, replays excluded)
bids_refused_total{code}        counter    bids refused, by stable rejection code
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

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

BIDS_ACCEPTED = Counter(
    "auction_bids_accepted", "Bids the room accepted", registry=REGISTRY
)
BIDS_REFUSED = Counter(
    "auction_bids_refused", "Bids refused, by rejection code", ["code"], registry=REGISTRY
)
BIDS_DIRECT = Counter(
    "auction_ws_bids_direct",
    "Bids taken straight from the socket, not through the ASGI receive queue "
    "(auction/api/direct_read.py)", registry=REGISTRY,
)
#: :data:`BIDS_REFUSED`'s child per code, looked up once: ``labels()`` costs ≈ 1.7 µs a call,
#: ≈ 6 % of a bid refused at the door (docs/performance.md); the codes are a fixed vocabulary
_REFUSED_BY_CODE: dict[str, Counter] = {}


def bid_refused(code: str) -> None:
    """Count one refused bid under ``code`` (``auction_bids_refused_total{code}``)."""
    child = _REFUSED_BY_CODE.get(code)
    if child is None:
        child = _REFUSED_BY_CODE[code] = BIDS_REFUSED.labels(code=code)
    child.inc()


ACK_LATENCY = Histogram(
    "auction_ack_latency_seconds", "Bid frame received to ack or nack queued",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
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
