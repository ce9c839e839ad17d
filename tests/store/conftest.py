"""Store test fixtures: an empty database per test (for the migration runner) and a factory
for catalogue rows with unique codes."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]
import pytest

from auction.store import Store
from auction.store.records import Lot, Session
from tests.codes import market_code

USCC_OK = "91350100M000100Y43"


@pytest.fixture
async def empty_database(postgres_admin_url: str) -> AsyncIterator[str]:
    """The URL of a new, empty database on the test server, dropped after the test."""
    name = f"auction_empty_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(postgres_admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(postgres_admin_url)._replace(path=f"/{name}"))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def unique_code() -> str:
    """A 6-digit market code no helper gave before in this run (tests/codes.py)."""
    return market_code()


MakeSession = Callable[..., Awaitable[Session]]
MakeLot = Callable[..., Awaitable[Lot]]


@pytest.fixture
def make_session(store: Store) -> MakeSession:
    """Factory: a new market and one live session in it."""

    async def make(mode: str = "live") -> Session:
        tag = secrets.token_hex(4)
        market = await store.create_market(
            code=unique_code(), slug=f"m-{tag}", name=f"测试市场{tag}", level="city"
        )
        return await store.create_session(
            market_code=market.code, name="2026年春季科技成果竞价活动", season="spring",
            mode=mode, starts_at=datetime(2026, 4, 18, 1, 30, tzinfo=UTC),
        )

    return make


@pytest.fixture
def make_lot(store: Store, make_session: MakeSession) -> MakeLot:
    """Factory: a lot (start 100万, 10万一加, reserve 120万) in a new session."""

    async def make(session_id: int | None = None) -> Lot:
        if session_id is None:
            session_id = (await make_session()).id
        return await store.create_lot(
            session_id, title="一种高效固废资源化处理方法", result_type="专利",
            ip_type="发明专利", technology_field="环境保护与资源综合利用",
            transaction_mode="转让", contract_type="技术转让", holder_name="某大学",
            holder_uscc=USCC_OK, start_price_fen=1_000_000_00, increment_fen=100_000_00,
            reserve_fen=1_200_000_00,
        )

    return make
