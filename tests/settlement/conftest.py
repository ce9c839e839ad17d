"""Settlement test fixtures: ``make_lot`` builds a market, a session, a live lot, its room and
registered bidders. The fixtures above the TEMPORARY line stand in for tests/conftest.py
until it lands."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from redis.asyncio import Redis
from settlement_factory import MakeLot, lot_maker

from auction.rooms.keys import Keys
from auction.rooms.service import Rooms
from auction.settings import Settings
from auction.store import Store
from auction.store.migrate import migrate

PG = "postgresql://postgres@127.0.0.1:5432"


@pytest.fixture
def rooms(redis: Redis, keys: Keys) -> Rooms:
    return Rooms(redis, keys)


@pytest.fixture
def make_lot(store: Store, rooms: Rooms) -> MakeLot:
    """Factory: catalogue rows for one live lot (start 100万, 10万一加) plus its Redis room."""
    return lot_maker(store, rooms)


# ---- TEMPORARY: stand-ins for the shared tests/conftest.py ----------------------------------


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    name = f"test_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f"CREATE DATABASE {name}")
    url = f"{PG}/{name}"
    await migrate(url)
    yield url
    await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    await admin.close()


@pytest.fixture(scope="session")
def redis_url() -> str:
    return "redis://127.0.0.1:6379/0"


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def keys(redis: Redis) -> AsyncIterator[Keys]:
    k = Keys(namespace=f"t{secrets.token_hex(4)}")
    yield k
    async for key in redis.scan_iter(match=k.pattern):
        await redis.delete(key)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    s = await Store.connect(database_url)
    yield s
    await s.close()


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    return Settings.from_env(
        {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "AUCTION_DATA_DIR": str(tmp_path)}
    )
