"""Several lots' bid calls in one round trip (issue 17 item 2; docs/performance.md "Issue 17,
tenth pass").

A lot's lane (:mod:`auction.rooms.lanes`) sends its batch as one ``bid.lua`` call and waits for
the answer before sending the next, so one lot's bids stay in order. Lanes of *different* lots
used to send their calls each on its own pooled connection: at 1,000 bids/s spread over ten
lots that is one write, one read and one trip through redis-py's command path per bid, where a
pipeline of ten costs about a third of the client CPU a call (``python -m
loadtests.shared_round_trips``; figures in docs/performance.md).

:class:`Coalescer` gathers the calls issued in one event-loop turn: the first caller waits one
turn (``asyncio.sleep(0)``) so that the other lanes ready in that turn can join, then sends them
all in one non-transactional pipeline (a Redis Cluster client splits it by node) and hands each
caller its own reply or error (a ``NOSCRIPT`` goes to each caller, whose lane runs the fence and
sends again). A lone call goes out as a plain command: a pipeline of one costs more than the
command. Each lane still has at most one call in flight, so per-lot order is unchanged; calls
of different lots never depended on each other's order.

The lanes use it only while more than one lot's lane is busy: a single hot lot would only pay the
turn's wait (docs/performance.md).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from redis.exceptions import ConnectionError as RedisConnectionError

if TYPE_CHECKING:
    from redis.asyncio import Redis

#: one caller's command and where its reply goes
Waiting = tuple[tuple[Any, ...], "asyncio.Future[Any]"]


class Coalescer:
    """Commands issued in one event-loop turn, sent in one round trip (one per process)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._pending: list[Waiting] = []
        self._leading = False

    async def execute(self, *args: Any) -> Any:
        """Run the command ``args`` together with the others issued in this event-loop turn;
        returns its reply, or raises its error (its own, or the round trip's)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((args, future))
        if self._leading:
            return await future
        self._leading = True
        try:
            await asyncio.sleep(0)  # the other lanes ready in this turn join
        except BaseException:
            self._leading = False
            _fail(self._take(), RedisConnectionError("the bid lanes are stopping"))
            _retrieved(future)
            raise
        self._leading = False
        batch = self._take()
        try:
            await self._send(batch)
        except BaseException as exc:  # cancelled (shutdown) or a bug: every caller is told
            _fail(batch, exc if isinstance(exc, Exception)
                  else RedisConnectionError("the bid lanes are stopping"))
            _retrieved(future)
            raise
        return await future

    def _take(self) -> list[Waiting]:
        batch, self._pending = self._pending, []
        return batch

    async def _send(self, batch: list[Waiting]) -> None:
        live = [(args, future) for args, future in batch if not future.done()]
        if not live:
            return
        if len(live) == 1:
            (args, future), = live
            try:
                reply = await self.redis.execute_command(*args)  # type: ignore[no-untyped-call]
            except Exception as exc:
                future.set_exception(exc)
            else:
                future.set_result(reply)
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for args, _ in live:
                    pipe.execute_command(*args)
                replies = await pipe.execute(raise_on_error=False)
        except Exception as exc:  # the round trip failed: every caller gets its error
            _fail(live, exc)
            return
        for (_, future), reply in zip(live, replies, strict=True):
            if future.done():
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)


def _fail(batch: list[Waiting], exc: Exception) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(exc)


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Mark the leader's own future's error as seen (the leader raises another)."""
    if future.done() and not future.cancelled():
        future.exception()
