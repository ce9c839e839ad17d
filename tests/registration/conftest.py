"""Registration test fixtures: a database of their own (the deliverer claims every due row, so
rows of other tests must not be in reach) and a running receiver."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]
import pytest
from registration_factory import Receiver, serve_receiver

from auction.settings import Settings
from auction.store import Store
from auction.store.migrate import migrate


@pytest.fixture
async def outbox_database_url(postgres_admin_url: str) -> AsyncIterator[str]:
    """A fresh migrated database private to the test, dropped afterwards."""
    name = f"auction_test_reg_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(postgres_admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = urlunsplit(urlsplit(postgres_admin_url)._replace(path=f"/{name}"))
        await migrate(url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def outbox_store(outbox_database_url: str) -> AsyncIterator[Store]:
    """A Store on the test's private database."""
    store = await Store.connect(outbox_database_url, max_size=4)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def outbox_settings(settings: Settings, outbox_database_url: str) -> Settings:
    """The session settings pointed at the test's private database."""
    return settings.with_changes(database_url=outbox_database_url)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A live HTTP receiver on a free local port."""
    async with serve_receiver() as running:
        yield running
