"""``GET /metrics``: Prometheus text format that prometheus_client's parser reads, with every
metric of auction/metrics.py, and the connections gauge counting open websockets."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from auction import metrics
from auction.settings import Settings
from tests.e2e.harness import raw_client, running

EXPECTED = {
    "auction_bids_accepted", "auction_bids_refused", "auction_ack_latency_seconds",
    "auction_connections", "auction_watchers", "auction_slow_clients_dropped",
    "auction_drain_lag_events", "auction_drain_lag_seconds", "auction_outbox_pending",
    "auction_outbox_dead", "auction_outbox_oldest_pending_seconds", "auction_history_loss",
    "auction_redis_errors", "auction_postgres_errors",
}


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
    """``bid_refused`` (a cached labelled child) counts on the exposed
    ``auction_bids_refused_total{code}``, each code apart."""
    def refused(code: str) -> float:
        value = metrics.REGISTRY.get_sample_value("auction_bids_refused_total", {"code": code})
        return value or 0.0

    before_low, before_over = refused("too_low"), refused("overloaded")
    metrics.bid_refused("too_low")
    metrics.bid_refused("too_low")
    metrics.bid_refused("overloaded")
    assert refused("too_low") == before_low + 2
    assert refused("overloaded") == before_over + 1
