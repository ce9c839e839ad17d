"""PostgreSQL: the asyncpg pool, the catalogue queries and the migration runner.

Nothing above this package imports asyncpg (house style rule 12); failures surface as the
:mod:`auction.store.errors` tree. :class:`Store` is made once, in the application lifespan
(``await Store.connect(dsn)``), and closed there. Other store modules (the journal, the outbox)
take ``store.pool``. Every wait on PostgreSQL is bounded (:mod:`auction.store.pool`): a server
that is down or frozen surfaces as ``Unavailable`` within a couple of seconds.
"""

from __future__ import annotations

from typing import Any

from auction.store.catalogue import Catalogue
from auction.store.errors import Conflict, Invalid, NotFound, StoreError, Unavailable, translated
from auction.store.pool import create_pool

__all__ = ["Conflict", "Invalid", "NotFound", "Store", "StoreError", "Unavailable"]


class Store(Catalogue):
    """The process's handle on PostgreSQL. ``pool`` is the asyncpg pool."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    @classmethod
    async def connect(
        cls, dsn: str, *, min_size: int = 0, max_size: int = 10, **timeouts: float
    ) -> Store:
        """Open a pool on ``dsn`` and check that the server answers; ``Unavailable`` when it
        cannot be reached. ``timeouts`` (``connect_timeout``, ``command_timeout``,
        ``acquire_timeout``) override the defaults of :mod:`auction.store.pool`."""
        with translated():
            pool = await create_pool(dsn, min_size=min_size, max_size=max_size, **timeouts)
        store = cls(pool)
        try:
            await store.ping()
        except BaseException:
            await pool.close()
            raise
        return store

    async def close(self) -> None:
        """Close the pool, waiting for connections in use to be released."""
        await self.pool.close()

    async def ping(self) -> None:
        """Round-trip ``SELECT 1``; raises ``Unavailable`` when PostgreSQL does not answer."""
        with translated():
            await self.pool.fetchval("SELECT 1")
