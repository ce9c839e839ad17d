"""Registration test fixtures: a database of their own (the deliverer claims every due row, so
rows of other tests must not be in reach), a running receiver, and ``api``: the registration
routes in process over that database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis
from registration_factory import SECRET, Receiver, serve_receiver
from starlette.applications import Starlette

from auction.api import (
    admin,
    auth,
    catalogue,
    http_errors,
    registration_answer,
    registration_packet,
    staff_accounts,
)
from auction.api.tokens import Tokens
from auction.rooms.keys import Keys
from auction.rooms.service import Rooms
from auction.services import Services
from auction.settings import Settings
from auction.store import Store
from tests.conftest import new_database, opened_store


@pytest.fixture
async def outbox_database_url(postgres_admin_url: str) -> AsyncIterator[str]:
    """A fresh migrated database private to the test, dropped afterwards."""
    async with new_database(postgres_admin_url) as url:
        yield url


@pytest.fixture
async def outbox_store(outbox_database_url: str) -> AsyncIterator[Store]:
    """A Store on the test's private database."""
    async with opened_store(outbox_database_url) as store:
        yield store


@pytest.fixture
def outbox_settings(settings: Settings, outbox_database_url: str) -> Settings:
    """The session settings pointed at the test's private database."""
    return settings.with_changes(database_url=outbox_database_url)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A live HTTP receiver on a free local port."""
    async with serve_receiver() as running:
        yield running


@pytest.fixture
async def api(
    outbox_store: Store, outbox_settings: Settings, redis: Redis, keys: Keys
) -> AsyncIterator[httpx.AsyncClient]:
    """The catalogue, the registration routes (answers, versions, the packet download) and the
    account routes over the test's private database; the deployment default endpoint is unset
    unless a test says otherwise, its secret is :data:`registration_factory.SECRET`."""
    settings = outbox_settings.with_changes(registration_secret=SECRET, password_profile="fast")
    services = Services(
        settings=settings, store=outbox_store, redis=redis, keys=keys,
        rooms=Rooms(redis, keys), tokens=Tokens(settings.secret, settings.admin_token),
        hub=None,  # type: ignore[arg-type]  # these routes never use it
    )
    app = Starlette(routes=[*catalogue.routes, *registration_answer.routes,
                            *registration_packet.routes, *admin.routes, *auth.routes,
                            *staff_accounts.routes],
                    exception_handlers=http_errors.exception_handlers())
    app.state.services = services
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as http:
        yield http
