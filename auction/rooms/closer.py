"""The closer of timed lots: closes every open timed lot whose clock has run out.

Safe when every server process runs it at once: the decision is made inside ``close.lua``
(atomic, server time), so the first call closes the lot and the others get ``lot_closed``.
The ``timed`` sorted set only holds a lower bound of each lot's close time: an extension moves
the real close later without touching the set (that would cross cluster slots), so a call that
comes too early gets ``not_due`` with the real time and the entry is rescored.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from auction import outage
from auction.background import pause, raise_if_stopping
from auction.domain.errors import Rejection
from auction.rooms.keys import Keys
from auction.rooms.service import Rooms
from auction.store.errors import StoreError

log = logging.getLogger("auction.closer")


class Closer:
    def __init__(self, redis: Redis, keys: Keys, rooms: Rooms, *, interval_s: float = 0.1):
        self.redis = redis
        self.keys = keys
        self.rooms = rooms
        self.interval_s = interval_s

    async def run(self) -> None:
        while True:
            raise_if_stopping()
            try:
                await self.close_due()
                outage.REDIS.ok()
            except (RedisError, OSError) as exc:
                raise_if_stopping()
                outage.REDIS.failed(exc, where="closer")
            except StoreError:
                # a restarted Redis waits for its check against PostgreSQL (rooms/recovery.py),
                # which cannot run while PostgreSQL is away (reported by the store)
                raise_if_stopping()
            await pause(self.interval_s)

    async def close_due(self, *, batch: int = 500) -> list[int]:
        """Close every due lot; return the ids this call closed."""
        sec, usec = await self.redis.time()
        now_ms = sec * 1000 + usec // 1000
        due = await self.redis.zrangebyscore(self.keys.timed, "-inf", now_ms, start=0, num=batch)
        closed: list[int] = []
        for raw in due:
            lot = int(raw.decode() if isinstance(raw, bytes) else str(raw))
            try:
                result = await self.rooms.close(lot, "timed")
            except Rejection as rej:
                if rej.code == "not_due":
                    await self.redis.zadd(self.keys.timed, {str(lot): rej.data["ends_at"]})
                else:  # already closed elsewhere, paused (resume puts it back), never opened,
                    # or gone
                    await self.redis.zrem(self.keys.timed, str(lot))
                continue
            if result.outcome == "round":  # a rounds lot's round 1 began (formats.py T2)
                await self.redis.zadd(self.keys.timed, {str(lot): result.ends_at})
                continue
            await self.redis.zrem(self.keys.timed, str(lot))
            log.info("lot %s closed by the clock: %s", lot, result.outcome)
            closed.append(lot)
        return closed
