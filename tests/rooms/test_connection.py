"""The engine's Redis connection (auction/rooms/connection.py): a command's write costs no task
of its own, and a write that cannot finish is still bounded by ``socket_timeout``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
import uuid
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import TimeoutError as RedisTimeoutError

from auction.rooms import connection
from tests.faults.cluster import RedisServer, make_root


async def _tasks_made_by(coro: Coroutine[Any, Any, Any]) -> int:
    """How many tasks the event loop made while ``coro`` ran."""
    loop = asyncio.get_running_loop()
    made = 0
    old = loop.get_task_factory()

    def factory(loop: asyncio.AbstractEventLoop, c: Any, **kw: Any) -> asyncio.Task[Any]:
        nonlocal made
        made += 1
        return asyncio.Task(c, loop=loop, **kw)

    loop.set_task_factory(factory)
    try:
        await coro
    finally:
        loop.set_task_factory(old)
    return made


async def test_commands_are_sent_without_a_task_each(redis_url: str) -> None:
    redis = connection.connect(redis_url, socket_timeout=5)
    key = f"test-connection:{uuid.uuid4().hex}"
    try:
        await redis.ping()  # connected: the next commands take the cheap write

        async def commands() -> None:
            for i in range(50):
                await redis.set(key, str(i))
                assert await redis.get(key) == str(i).encode()

        assert await _tasks_made_by(commands()) == 0
    finally:
        await redis.delete(key)
        await redis.aclose()


@contextlib.asynccontextmanager
async def own_redis(socket_timeout: float) -> AsyncIterator[tuple[RedisServer, Redis]]:
    """A Redis of the test's own (no AOF) and the engine's client for it; both gone after."""
    root = make_root("auction-own-redis-")
    server = RedisServer(root)
    server.start("--appendonly", "no")
    redis = None
    try:
        await server.wait_ready()
        redis = connection.connect(server.url, socket_timeout=socket_timeout)
        yield server, redis
    finally:
        if redis is not None:
            await redis.aclose()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


async def test_a_write_to_a_frozen_redis_times_out_and_the_connection_recovers() -> None:
    """SIGSTOP a Redis of the test's own, write more than the sockets hold: the write gives
    up after ``socket_timeout`` with redis-py's ``TimeoutError``; after SIGCONT the client
    works again on a new connection."""
    async with own_redis(socket_timeout=0.5) as (server, redis):
        assert await redis.ping()
        assert server.process.proc is not None
        os.kill(server.process.proc.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            with pytest.raises(RedisTimeoutError) as info:
                await redis.set("big", b"x" * (64 << 20))
            took = time.monotonic() - started
        finally:
            os.kill(server.process.proc.pid, signal.SIGCONT)
        assert "writing" in str(info.value), info.value
        assert took < 3, took
        assert await redis.ping()
        assert await redis.set("small", "1")


async def test_pooled_connections_to_a_redis_that_restarted_are_made_anew_not_failed() -> None:
    """Redis killed and started again on the same port: connections the pool held to the old
    process were closed by it, and each is made anew before its next command is sent, so no
    command fails once Redis is back. (Before, each failed one command with "Connection
    closed by server", and a sub right after a restart was answered ``unavailable``.)"""
    async with own_redis(socket_timeout=2) as (server, redis):
        # each holds its connection a moment: the pool grows to 8
        await asyncio.gather(*(redis.blpop(["nothing"], timeout=0.1) for _ in range(8)))
        assert len(redis.connection_pool._available_connections) == 8
        server.kill9()
        server.start("--appendonly", "no")
        await server.wait_ready()
        await asyncio.sleep(0.1)  # the loop sees the old connections' ends
        answers = await asyncio.gather(*(redis.ping() for _ in range(8)),
                                       return_exceptions=True)
        assert answers == [True] * 8, answers
        assert [await redis.ping() for _ in range(8)] == [True] * 8
