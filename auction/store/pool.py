"""The asyncpg connection pool, with ``jsonb`` decoded to and from Python objects.

Created by :meth:`auction.store.Store.connect` inside the application lifespan; never at import.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg


async def _init_connection(conn: asyncpg.Connection) -> None:
    """Every pooled connection maps ``jsonb``/``json`` with the json module."""
    for typename in ("jsonb", "json"):
        await conn.set_type_codec(
            typename,
            encoder=lambda value: json.dumps(value, ensure_ascii=False, separators=(",", ":")),
            decoder=json.loads,
            schema="pg_catalog",
        )


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10, **kwargs: Any) -> Any:
    """A ready pool for ``dsn``; the caller closes it. ``kwargs`` go to asyncpg."""
    return await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, **kwargs
    )
