"""Registration test fixtures: a database of their own (the deliverer claims every due row, so
rows of other tests must not be in reach) and a running receiver."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]
import pytest
from registration_factory import Receiver, serve_receiver

from auction.store import Store
from auction.store.migrate import migrate


@pytest.fixture
async def outbox_store(postgres_admin_url: str) -> AsyncIterator[Store]:
    """A Store on a fresh migrated database private to the test, dropped afterwards."""
    name = f"auction_test_reg_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(postgres_admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = urlunsplit(urlsplit(postgres_admin_url)._replace(path=f"/{name}"))
        await migrate(url)
        store = await Store.connect(url, max_size=4)
        try:
            yield store
        finally:
            await store.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A live HTTP receiver on a free local port."""
    async with serve_receiver() as running:
        yield running
