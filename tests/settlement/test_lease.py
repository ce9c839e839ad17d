"""The singleton-loop lease (auction/settlement/lease.py) against real Redis: one holder at a
time, renewal and release only by the holder, a successor after the TTL."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from auction.rooms.keys import Keys
from auction.settlement.lease import Lease


async def test_one_holder_and_only_the_holder_renews_or_releases(redis: Redis,
                                                                 keys: Keys) -> None:
    """A takes the lease; B cannot, nor can it release A's; A renews and releases it; B then
    takes it, and A's renew fails without touching B's."""
    key = keys.lease("test")
    a, b = Lease(redis, key, ttl_ms=5_000), Lease(redis, key, ttl_ms=5_000)
    assert await a.acquire()
    assert not await b.acquire()
    await b.release()
    assert (await redis.get(key)) == a.token.encode()
    await redis.pexpire(key, 1_000)
    assert await a.acquire()  # renewed: the TTL is back to 5 s
    assert await redis.pttl(key) > 4_000
    await a.release()
    assert await redis.get(key) is None
    assert await b.acquire()
    assert not await a.acquire()
    assert (await redis.get(key)) == b.token.encode()


async def test_an_expired_holder_never_extends_its_successor(redis: Redis, keys: Keys) -> None:
    """A's lease runs out; B takes over; A's next renew and release leave B's lease alone."""
    key = keys.lease("test")
    a, b = Lease(redis, key, ttl_ms=50), Lease(redis, key, ttl_ms=5_000)
    assert await a.acquire()
    await asyncio.sleep(0.1)
    assert await b.acquire()
    assert not await a.acquire()
    await a.release()
    assert (await redis.get(key)) == b.token.encode()
    assert await redis.pttl(key) > 4_000
