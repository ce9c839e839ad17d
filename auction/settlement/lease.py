"""A Redis lease: at most one process runs a singleton loop (the drainer) at a time.

The lease is a string key (``keys.lease(name)``) holding a random token, set with ``NX PX``.
The holder renews it well inside its time to live; if the holder dies, the key expires and
another process takes over on its next try. Renewal and release compare the token first
in one script of one key (``lease.lua``: Redis Cluster safe; redis-py's cluster client runs a
``WATCH`` on a thread of its own that blocks the event loop), so a process whose lease expired
never extends or deletes its successor's.

A lease is advisory: a holder stalled past the TTL may overlap its successor briefly. The drain
is idempotent (``ON CONFLICT``), so an overlap costs work, never correctness.
"""

from __future__ import annotations

import secrets
from importlib import resources

from redis.asyncio import Redis

SCRIPT = (resources.files("auction.rooms") / "lua" / "lease.lua").read_text(encoding="utf-8")


class Lease:
    """Hold ``key`` for ``ttl_ms``; call :meth:`acquire` on every tick."""

    def __init__(self, redis: Redis, key: str, *, ttl_ms: int = 5_000) -> None:
        self.redis = redis
        self.key = key
        self.ttl_ms = ttl_ms
        self.token = secrets.token_hex(16)
        self._script = redis.register_script(SCRIPT)

    async def acquire(self) -> bool:
        """Take the lease if free, renew it if ours; ``True`` while we hold it."""
        if await self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms):
            return True
        return await self._if_ours(renew=True)

    async def release(self) -> None:
        """Give the lease up now (if still ours) so a successor need not wait for the TTL."""
        await self._if_ours(renew=False)

    async def _if_ours(self, *, renew: bool) -> bool:
        ttl_ms = self.ttl_ms if renew else 0
        return bool(await self._script(keys=[self.key], args=[self.token, ttl_ms]))
