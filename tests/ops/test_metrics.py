"""``GET /metrics``: Prometheus text format that prometheus_client's parser reads, with every
metric of auction/metrics.py, and the connections gauge counting open websockets."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from auction import metrics
from auction.settings import Settings
from tests.e2e.harness import raw_client, running

EXPECTED = {
    "auction_bids_accepted", "auction_bids_refused", "auction_ack_latency_seconds",
    "auction_connections", "auction_watchers", "auction_slow_clients_dropped",
    "auction_drain_lag_events", "auction_drain_lag_seconds", "auction_outbox_pending",
    "auction_outbox_dead", "auction_outbox_oldest_pending_seconds", "auction_history_loss",
    "auction_redis_errors", "auction_postgres_errors", "auction_ws_bids_direct",
}
#: the metrics kept in the plain-int tally (auction/metrics.py), by family name
TALLIED = ("auction_bids_accepted", "auction_bids_refused", "auction_ws_bids_direct",
           "auction_ack_latency_seconds")


def _families(text: str) -> dict[str, Any]:
    return {family.name: family for family in text_string_to_metric_families(text)}


async def test_metrics_parse_and_count_connections(settings: Settings, tmp_path: Any) -> None:
    """The exposition parses, names every declared metric, and auction_connections is the
    number of open websockets at scrape time."""
    own = settings.with_changes(redis_namespace=f"test-ops-{uuid.uuid4().hex[:10]}",
                                data_dir=tmp_path)
    async with running(own) as server, httpx.AsyncClient(base_url=server.base) as http:
        answer = await http.get("/metrics")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == metrics.CONTENT_TYPE
        families = _families(answer.text)
        assert EXPECTED <= families.keys(), EXPECTED - families.keys()
        assert families["auction_ack_latency_seconds"].type == "histogram"
        assert families["auction_bids_refused"].type == "counter"
        async with raw_client(server), raw_client(server):
            during = _families((await http.get("/metrics")).text)
        assert during["auction_connections"].samples[0].value == 2
        for _ in range(100):  # the handlers return just after the clients closed
            after = _families((await http.get("/metrics")).text)
            if after["auction_connections"].samples[0].value == 0:
                break
            await asyncio.sleep(0.02)
        assert after["auction_connections"].samples[0].value == 0


def test_bid_refused_counts_under_its_code() -> None:
    """``bid_refused`` counts on the exposed ``auction_bids_refused_total{code}``, each code
    apart."""
    def refused(code: str) -> float:
        value = metrics.REGISTRY.get_sample_value("auction_bids_refused_total", {"code": code})
        return value or 0.0

    before_low, before_over = refused("too_low"), refused("overloaded")
    metrics.bid_refused("too_low")
    metrics.bid_refused("too_low")
    metrics.bid_refused("overloaded")
    assert refused("too_low") == before_low + 2
    assert refused("overloaded") == before_over + 1


def _tallied(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The samples of the tallied families in an exposition, by (name, sorted labels)."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) if family.name in TALLIED
            for sample in family.samples}


def test_bid_tally_is_exposed_with_its_names_labels_and_cumulative_buckets() -> None:
    """Each tally function counts on its exposed series: the counters by one, a refusal under
    its code, each latency in the first bucket whose bound it does not exceed (buckets
    cumulative up to ``+Inf`` = ``_count``), ``_sum`` the latencies' sum; the read accessors
    agree."""
    codes = ("too_low", "overloaded")
    latencies = (0.0004, 0.001, 0.0011, 0.3, 0.5, 5.0, 7.5)
    before = _tallied(metrics.exposition().decode())
    counts_before = (metrics.bids_accepted_count(), metrics.bids_direct_count(),
                     metrics.ack_latency_count(), *map(metrics.bids_refused_count, codes))
    for _ in range(3):
        metrics.bid_accepted()
    metrics.bid_direct()
    metrics.bid_direct()
    metrics.bid_refused("too_low")
    metrics.bid_refused("too_low")
    metrics.bid_refused("overloaded")
    for seconds in latencies:
        metrics.ack_latency(seconds)
    text = metrics.exposition().decode()
    after = _tallied(text)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0.0)

    assert grew("auction_bids_accepted_total") == 3
    assert grew("auction_ws_bids_direct_total") == 2
    assert grew("auction_bids_refused_total", code="too_low") == 2
    assert grew("auction_bids_refused_total", code="overloaded") == 1
    assert (metrics.bids_accepted_count(), metrics.bids_direct_count(),
            metrics.ack_latency_count(), *map(metrics.bids_refused_count, codes)) == (
        counts_before[0] + 3, counts_before[1] + 2, counts_before[2] + len(latencies),
        counts_before[3] + 2, counts_before[4] + 1)
    assert metrics.bids_refused_count("no_such_code") == 0

    families = _families(text)
    assert {name: families[name].type for name in TALLIED} == {
        "auction_bids_accepted": "counter", "auction_bids_refused": "counter",
        "auction_ws_bids_direct": "counter", "auction_ack_latency_seconds": "histogram"}
    hist = "auction_ack_latency_seconds"
    bounds = [*metrics.ACK_BUCKETS, float("inf")]
    les = [s.labels["le"] for s in families[hist].samples if s.name == f"{hist}_bucket"]
    assert les == ["0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
                   "1.0", "2.5", "5.0", "+Inf"]
    # this test's latencies, bucket by bucket, cumulative: each bucket counts those ≤ its bound
    assert [grew(f"{hist}_bucket", le=le) for le in les] == [
        sum(1 for seconds in latencies if seconds <= bound) for bound in bounds]
    assert [grew(f"{hist}_bucket", le=le) for le in les] == [2, 3, 3, 3, 3, 3, 3, 3, 5, 5, 5,
                                                              6, 7]
    assert grew(f"{hist}_count") == len(latencies)
    assert abs(grew(f"{hist}_sum") - sum(latencies)) < 1e-9
    # and the whole histogram, not only this test's part: cumulative, +Inf = _count
    totals = [after[(f"{hist}_bucket", (("le", le),))] for le in les]
    assert totals == sorted(totals)
    assert totals[-1] == after[(f"{hist}_count", ())] == metrics.ack_latency_count()


def test_bid_tally_exposition_is_the_one_prometheus_client_wrote() -> None:
    """The tallied families' lines (``# HELP``, ``# TYPE``, each sample's name and labels, in
    order) are those prometheus_client's own Counter and Histogram write for the same
    declarations, ``_created`` samples included."""
    metrics.bid_refused("too_low")
    reference = CollectorRegistry()
    Counter("auction_bids_accepted", "Bids the room accepted", registry=reference)
    refused = Counter("auction_bids_refused", "Bids refused, by rejection code", ["code"],
                      registry=reference)
    Counter("auction_ws_bids_direct",
            "Bids taken straight from the socket, not through the ASGI receive queue "
            "(auction/api/direct_read.py)", registry=reference)
    Histogram("auction_ack_latency_seconds", "Bid frame received to ack or nack queued",
              buckets=metrics.ACK_BUCKETS, registry=reference)
    ours = metrics.exposition().decode()
    codes = [s.labels["code"] for family in text_string_to_metric_families(ours)
             if family.name == "auction_bids_refused" for s in family.samples
             if s.name == "auction_bids_refused_total"]
    assert "too_low" in codes
    for code in codes:
        refused.labels(code=code)

    def shape(text: str) -> list[str]:
        """Lines of the tallied families, without the sample values."""
        names = tuple(f"{name}_" for name in TALLIED)
        return [line if line.startswith("#") else line.rsplit(" ", 1)[0]
                for line in text.splitlines()
                if line.removeprefix("# HELP ").removeprefix("# TYPE ").startswith(names)]

    assert shape(ours) == shape(generate_latest(reference).decode())
