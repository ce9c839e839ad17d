"""One Redis connection that sends each command at once and reads the replies in the order sent
(Redis pipelining without waiting for a batch to fill): the bid lanes' calls
(:mod:`auction.rooms.lanes`, docs/performance.md "Issue 17, eleventh pass").

Why: a pooled command holds its connection until its reply is read, so a lot whose bids must
reach the script in order could have only one call in flight, and Redis sat idle while the
server answered one batch's bids and sent the next (on the 2-core machine about half the time).
On this connection a lane sends its next batch while the one before it still runs, and Redis
runs them in the order written: one connection, one order.

Every command's reply (or its error reply, e.g. ``NOSCRIPT``) goes to the future :meth:`send`
returned, in order. When the connection fails (reset, closed, a write or read that failed)
every command still waiting gets the error — whether each of them ran is unknown, as for any
command whose reply was lost — and the next :meth:`send` connects again.

Only for one Redis (``redis://``, ``rediss://``, ``unix://``): a Redis Cluster client routes each
command to its shard itself (:func:`for_client` returns ``None``; the lanes then keep one call in
flight per lot).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING, Any, cast

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.connection import AbstractConnection

log = logging.getLogger("auction.rooms.ordered")


class OrderedLink:
    """Commands written as they are issued on one connection; replies handed out in order."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._conn: AbstractConnection | None = None
        #: connections that failed, to disconnect and give back to the pool
        self._dropped: list[AbstractConnection] = []
        self._connecting: asyncio.Lock | None = None
        #: one future per command written and not yet answered, in the order written
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    def for_client(cls, redis: Redis) -> OrderedLink | None:
        """A link to the Redis behind ``redis``; ``None`` for a Redis Cluster."""
        if isinstance(redis, RedisCluster):
            return None
        return cls(redis)

    @property
    def waiting(self) -> int:
        """Commands written whose replies have not been read yet."""
        return len(self._waiting)

    async def send(self, *args: Any) -> asyncio.Future[Any]:
        """Write the command ``args`` now, behind every command written before it; returns the
        future of its reply (awaiting it raises the command's error reply, or the connection's
        failure). Raises only when nothing could be written (no connection)."""
        conn = self._conn
        if conn is None or not conn.is_connected:
            conn = await self._connect()
        writer = conn._writer  # written synchronously here: the order of writes is ours
        if writer is None:
            raise RedisConnectionError("the lanes' Redis connection is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        # no ``await`` between queueing the future and writing the command: the futures stay
        # in the order the commands went out
        self._waiting.append(future)
        writer.writelines(conn.pack_command(*args))
        if self._reader is None:
            self._reader = loop.create_task(self._read(conn), name="redis-ordered-reader")
        try:
            await writer.drain()
        except OSError as exc:
            self._fail(conn, RedisConnectionError(f"Error while writing to Redis: {exc}"))
        return future

    async def _connect(self) -> AbstractConnection:
        """A connection of the client's pool, held for good (closing the client's pool closes
        it too); the ones that failed go back to the pool first."""
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            conn = self._conn
            if conn is not None and conn.is_connected:
                return conn
            pool = self.redis.connection_pool
            if conn is not None:
                self._conn = None
                self._dropped.append(conn)
            dropped, self._dropped = self._dropped, []
            for old in dropped:
                await old.disconnect(nowait=True)
                await pool.release(old)
            conn = cast("AbstractConnection",
                        await pool.get_connection())  # type: ignore[no-untyped-call]
            self._conn = conn
            return conn

    async def _read(self, conn: AbstractConnection) -> None:
        """Read one reply per waiting command, in order, until none waits."""
        try:
            while self._waiting and self._conn is conn:
                try:
                    reply = await conn.read_response()
                except ResponseError as exc:  # the command's own error reply; the next follows
                    reply = exc
                if not self._waiting or self._conn is not conn:
                    break
                future = self._waiting.popleft()
                if future.done():
                    continue
                if isinstance(reply, Exception):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)
        except asyncio.CancelledError:
            if self._conn is conn:
                self._fail(conn, RedisConnectionError("the lanes' Redis connection is closing"))
            raise
        except Exception as exc:  # reset, closed, unreadable: every waiting command is told
            if self._conn is conn:
                self._fail(conn, exc if isinstance(exc, RedisConnectionError)
                           else RedisConnectionError(f"Error while reading from Redis: {exc}"))
        finally:
            if self._reader is asyncio.current_task():
                self._reader = None

    def _fail(self, conn: AbstractConnection, exc: Exception) -> None:
        """``conn`` is done: every waiting command gets ``exc``; the next send takes another
        connection."""
        if self._conn is conn:
            self._conn = None
            self._dropped.append(conn)
        waiting, self._waiting = self._waiting, deque()
        for future in waiting:
            if not future.done():
                future.set_exception(exc)
                future.exception()  # its caller may have stopped waiting: no "never retrieved"
        reader, self._reader = self._reader, None
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()

    async def close(self) -> None:
        """Give the connections back to the pool, disconnected; commands still waiting get an
        error."""
        conn, self._conn = self._conn, None
        if conn is not None:
            self._dropped.append(conn)
        waiting, self._waiting = self._waiting, deque()
        for future in waiting:
            if not future.done():
                future.set_exception(RedisConnectionError("the lanes' Redis connection closed"))
                future.exception()
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
        dropped, self._dropped = self._dropped, []
        for old in dropped:
            await old.disconnect(nowait=True)
            await self.redis.connection_pool.release(old)
