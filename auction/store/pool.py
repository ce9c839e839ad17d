"""The asyncpg connection pool, with ``jsonb`` decoded to and from Python objects, and with every
wait bounded (issue 8: HTTP answers 503 within 2 s when PostgreSQL is down or frozen).

Created by :meth:`auction.store.Store.connect` inside the application lifespan; never at import.

Timeouts (one set for everything that uses the pool: HTTP handlers and background loops alike;
a loop whose tick times out retries on its next tick, so it needs no longer budget):

- :data:`CONNECT_TIMEOUT_S` opening a connection (a frozen server accepts the TCP handshake in
  its kernel and then never answers the startup packet);
- :data:`COMMAND_TIMEOUT_S` each query (asyncpg's ``command_timeout``), unless a call passes its
  own ``timeout=``;
- :data:`ACQUIRE_TIMEOUT_S` waiting for a free connection (asyncpg waits forever by default).

Releasing a connection after a *failed* block does not make the caller wait: after a query timed
out, asyncpg sends a cancel request and waits for the server to acknowledge it (up to another
command timeout on a frozen server) before the connection can be reused; that wait happens in a
background task, so the caller's error (→ 503) is not delayed by it. So the worst case for an
HTTP request on a frozen server is one command timeout (a connection was free) or one acquire
timeout (none was), both under 2 s.

The pool keeps no minimum of open connections (``min_size=0``): asyncpg's floor maintenance logs
a traceback at every retry while the server is away; connections are opened on demand instead.
"""

from __future__ import annotations

import asyncio
import json
from types import TracebackType
from typing import Any

import asyncpg
import asyncpg.pool

CONNECT_TIMEOUT_S = 1.0
COMMAND_TIMEOUT_S = 1.2
ACQUIRE_TIMEOUT_S = 1.2


async def _init_connection(conn: asyncpg.Connection) -> None:
    """Every pooled connection maps ``jsonb``/``json`` with the json module."""
    for typename in ("jsonb", "json"):
        await conn.set_type_codec(
            typename,
            encoder=lambda value: json.dumps(value, ensure_ascii=False, separators=(",", ":")),
            decoder=json.loads,
            schema="pg_catalog",
        )


class _Acquire:
    """``async with pool.acquire() as conn`` (or ``await pool.acquire()``), bounded; after a
    failed block the connection is released in the background (see the module docstring)."""

    __slots__ = ("connection", "pool", "timeout")

    def __init__(self, pool: BoundedPool, timeout: float) -> None:
        self.pool = pool
        self.timeout = timeout
        self.connection: Any = None

    async def __aenter__(self) -> Any:
        self.connection = await asyncpg.pool.Pool.acquire(self.pool, timeout=self.timeout)
        return self.connection

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self.connection = self.connection, None
        if exc_type is None:
            await self.pool.release(connection)
        else:
            self.pool.release_later(connection)

    def __await__(self) -> Any:
        return asyncpg.pool.Pool.acquire(self.pool, timeout=self.timeout).__await__()


class BoundedPool(asyncpg.pool.Pool):  # type: ignore[misc]
    """An asyncpg pool whose :meth:`acquire` waits at most ``acquire_timeout`` by default (the
    pool's own ``fetch``/``execute``/… shortcuts go through it too)."""

    __slots__ = ("_acquire_timeout", "_releasing")

    def __init__(self, *args: Any, acquire_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._acquire_timeout = acquire_timeout
        self._releasing: set[asyncio.Task[None]] = set()

    def acquire(self, *, timeout: float | None = None) -> _Acquire:
        return _Acquire(self, self._acquire_timeout if timeout is None else timeout)

    def release_later(self, connection: Any) -> None:
        """Return ``connection`` to the pool from a background task (errors there only mean
        the connection was terminated, which the pool handles)."""
        task = asyncio.get_running_loop().create_task(self._quiet_release(connection))
        self._releasing.add(task)
        task.add_done_callback(self._releasing.discard)

    async def _quiet_release(self, connection: Any) -> None:
        try:
            await self.release(connection)
        except (Exception, asyncio.CancelledError):
            # release() terminated the connection; the holder is back in the pool
            return

    async def close(self) -> None:
        if self._releasing:
            await asyncio.wait(set(self._releasing), timeout=COMMAND_TIMEOUT_S * 2)
        await super().close()


async def create_pool(
    dsn: str, *, min_size: int = 0, max_size: int = 10,
    connect_timeout: float = CONNECT_TIMEOUT_S, command_timeout: float = COMMAND_TIMEOUT_S,
    acquire_timeout: float = ACQUIRE_TIMEOUT_S, **kwargs: Any,
) -> Any:
    """A ready pool for ``dsn``; the caller closes it. ``kwargs`` go to asyncpg's connect."""
    pool = BoundedPool(
        dsn, min_size=min_size, max_size=max_size, max_queries=50_000,
        max_inactive_connection_lifetime=300.0, setup=None, init=_init_connection, loop=None,
        connection_class=asyncpg.Connection, record_class=asyncpg.Record,
        acquire_timeout=acquire_timeout, timeout=connect_timeout,
        command_timeout=command_timeout, **kwargs,
    )
    await pool
    return pool
