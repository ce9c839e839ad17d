"""Fixtures: a real server (uvicorn, background loops) and an HTTP client on it.

The server's shutdown is bounded: a background loop (closer, drainer) whose cancellation was
swallowed by a client library (it then sleeps in ``cancelling`` state) is cancelled again after
a few seconds instead of hanging the test session; see the report in docs/roles.md "Known
issues".
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from auction.api.app import create_app
from auction.settings import Settings
from auction.wire.codec import MAX_FRAME
from tests.e2e.harness import Server, free_port

BACKGROUND = ("closer", "drainer", "deliverer")


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Server]:
    port = free_port()
    settings = settings.with_changes(port=port)
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, lifespan="on",
                            ws_max_size=MAX_FRAME, log_level="warning")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield Server(f"http://127.0.0.1:{port}", settings)
    finally:
        server.should_exit = True
        for _ in range(10):
            done, _ = await asyncio.wait({task}, timeout=3)
            if done:
                break
            for stuck in asyncio.all_tasks():
                if stuck.get_name() in BACKGROUND and stuck.cancelling():
                    stuck.cancel()
        await task


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
