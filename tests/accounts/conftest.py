"""Fixtures: a real server (uvicorn, background loops) and an HTTP client on it.

The server's shutdown is bounded: a background loop (closer, drainer) whose cancellation was
swallowed by a client library (it then sleeps in ``cancelling`` state) is cancelled again after
a few seconds instead of hanging the test session; see the report in docs/roles.md "Known
issues".
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from auction.settings import Settings
from tests.e2e.harness import Server, running


@pytest.fixture
async def server(settings: Settings, tmp_path: Any) -> AsyncIterator[Server]:
    """A fresh server with its own Redis namespace (fast password hashing: tests only)."""
    own = settings.with_changes(redis_namespace=f"test-{uuid.uuid4().hex[:10]}",
                                data_dir=tmp_path, password_profile="fast")
    async with running(own) as srv:
        yield srv
        from redis.asyncio import Redis

        redis = Redis.from_url(own.redis_url or "")
        async for key in redis.scan_iter(f"{own.redis_namespace}:*"):
            await redis.delete(key)
        await redis.aclose()


@pytest.fixture
async def http(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as client:
        yield client
