"""Fixtures of the end-to-end tests (helpers live in tests/e2e/harness.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from auction.settings import Settings
from tests.e2e.harness import Server, free_port, running


@contextlib.asynccontextmanager
async def fresh_server(settings: Settings, tmp_path: Any, *, ws_protocol: str | None = None,
                       **changes: Any) -> AsyncIterator[Server]:
    """A server with its own Redis namespace (deleted after), background loops running (fast
    password hashing: tests only; every bidder signs up and logs in); ``ws_protocol``: see
    :func:`tests.e2e.harness.running`."""
    own = settings.with_changes(redis_namespace=f"test-{uuid.uuid4().hex[:10]}",
                                data_dir=tmp_path, password_profile="fast", **changes)
    async with running(own, ws_protocol=ws_protocol) as srv:
        yield srv
        from redis.asyncio import Redis

        redis = Redis.from_url(own.redis_url or "")
        async for key in redis.scan_iter(f"{own.redis_namespace}:*"):
            await redis.delete(key)
        await redis.aclose()


@pytest.fixture
async def server(settings: Settings, tmp_path: Any) -> AsyncIterator[Server]:
    """A fresh server per test (:func:`fresh_server`)."""
    async with fresh_server(settings, tmp_path) as srv:
        yield srv


@pytest.fixture
async def reopenable(settings: Settings, tmp_path: Any) -> AsyncIterator[Server]:
    """A fresh server whose live lots may be reopened for 10 minutes after their close (the
    other tests' servers settle a hammer at once: AUCTION_REOPEN_WINDOW_S=0)."""
    async with fresh_server(settings, tmp_path, reopen_window_s=600) as srv:
        yield srv


@pytest.fixture
async def two_servers(settings: Settings, tmp_path: Any) -> AsyncIterator[list[Server]]:
    """Two `auction serve` subprocesses sharing PostgreSQL, Redis and a fresh namespace."""
    namespace = f"test-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "", "REDIS_URL": settings.redis_url or "",
        "AUCTION_SECRET": settings.secret.value, "AUCTION_ADMIN_TOKEN": "test-admin-token",
        "AUCTION_REDIS_NAMESPACE": namespace, "AUCTION_DATA_DIR": str(tmp_path),
        # a hammered lot is final (and settled) at once, as the tests expect
        "AUCTION_REOPEN_WINDOW_S": "0",
        "AUCTION_LOG_LEVEL": "WARNING", "AUCTION_PASSWORD_PROFILE": "fast",
        # raw_client's ``address`` (X-Forwarded-For) is believed, as by harness.running
        "AUCTION_TRUSTED_PROXIES": "127.0.0.1",
    }
    procs, servers = [], []
    for _ in range(2):
        port = free_port()
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "auction", "serve", "--port", str(port)], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        servers.append(Server(f"http://127.0.0.1:{port}", settings))
    try:
        async with httpx.AsyncClient() as http:
            for srv, proc in zip(servers, procs, strict=True):
                for _ in range(300):
                    assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                    try:
                        if (await http.get(srv.base + "/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
        yield servers
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)
            if proc.stderr:
                proc.stderr.close()
