"""The registration backlog: its numbers, the outbox gauges, and ``/healthz`` details, with
PostgreSQL up, and frozen (``/healthz`` still answers within about 2 s)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis
from registration_factory import sold_lot
from starlette.applications import Starlette

from auction import metrics
from auction.api import health, http_errors
from auction.api.tokens import Tokens
from auction.registration import backlog
from auction.rooms.keys import Keys
from auction.rooms.service import Rooms
from auction.services import Services
from auction.settings import Settings
from auction.store import Store, outbox
from auction.store.pool import create_pool


def gauge(name: str) -> float | None:
    return metrics.REGISTRY.get_sample_value(name)


async def backlog_of_three(store: Store) -> None:
    """Two pending rows, the older sold 90 s ago, and one dead row."""
    older, _, dead = [await sold_lot(store) for _ in range(3)]
    await store.pool.execute(
        "UPDATE registration_outbox SET created_at = now() - interval '90 seconds'"
        " WHERE lot_id = $1", older.lot_id,
    )
    await outbox.mark_dead(store, dead.lot_id, error="HTTP 400: bad")


def healthz_client(
    settings: Settings, store: Store, redis: Redis, keys: Keys
) -> httpx.AsyncClient:
    services = Services(
        settings=settings, store=store, redis=redis, keys=keys, rooms=Rooms(redis, keys),
        tokens=Tokens(settings.secret, settings.admin_token),
        hub=None,  # type: ignore[arg-type]  # /healthz never uses it
    )
    app = Starlette(routes=health.routes, exception_handlers=http_errors.exception_handlers())
    app.state.services = services
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_backlog_counts_and_sets_the_gauges(outbox_store: Store) -> None:
    """Pending and dead counts, the oldest pending row's age, and the three gauges agree."""
    assert await backlog.report(outbox_store) == outbox.Backlog(0, 0, 0.0)
    assert (gauge("auction_outbox_pending"), gauge("auction_outbox_dead")) == (0, 0)
    await backlog_of_three(outbox_store)
    found = await backlog.report(outbox_store)
    assert (found.pending, found.dead) == (2, 1)
    assert 90 <= found.oldest_pending_age_s < 120
    assert (gauge("auction_outbox_pending"), gauge("auction_outbox_dead")) == (2, 1)
    assert gauge("auction_outbox_oldest_pending_seconds") == found.oldest_pending_age_s


async def test_healthz_reports_the_registration_backlog(
    settings: Settings, outbox_store: Store, redis: Redis, keys: Keys
) -> None:
    """``details.registration`` has pending, dead and the oldest age; the gauges follow."""
    await backlog_of_three(outbox_store)
    metrics.OUTBOX_PENDING.set(-1)
    async with healthz_client(settings, outbox_store, redis, keys) as http:
        r = await http.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert (body["status"], body["postgres"], body["redis"]) == ("ok", "ok", "ok")
    registration = body["details"]["registration"]
    assert {k: registration[k] for k in ("status", "pending", "dead")} == {
        "status": "ok", "pending": 2, "dead": 1,
    }
    assert 90 <= registration["oldest_pending_age_s"] < 120
    assert gauge("auction_outbox_pending") == 2


@pytest.fixture
async def frozen_postgres() -> AsyncIterator[str]:
    """A DSN whose server accepts TCP connections and never says a word (SIGSTOPped PostgreSQL
    as a client sees it)."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/frozen"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_healthz_answers_within_2s_when_postgres_is_frozen(
    settings: Settings, frozen_postgres: str, redis: Redis, keys: Keys
) -> None:
    """Even with a pool that would wait 30 s, /healthz answers 503 in about 2 s, naming
    PostgreSQL, with the registration details marked unavailable."""
    pool = await create_pool(
        frozen_postgres, connect_timeout=30, acquire_timeout=30, command_timeout=30
    )
    try:
        async with healthz_client(settings, Store(pool), redis, keys) as http:
            started = time.monotonic()
            r = await http.get("/healthz")
            took = time.monotonic() - started
    finally:
        pool.terminate()
    assert r.status_code == 503 and took < 3.0
    body = r.json()
    assert body["status"] == "degraded" and body["postgres"].startswith("error")
    assert body["redis"] == "ok"
    assert body["details"]["registration"]["status"] == "unavailable"
