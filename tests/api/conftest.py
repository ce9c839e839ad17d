"""HTTP test fixtures: a minimal Starlette app with the catalogue, admin, registration, account
and OpenAPI routes over
real PostgreSQL and Redis, and an httpx client talking to it in-process."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from auction.api import admin, auth, catalogue, deposits, http_errors, openapi, registrations
from auction.api.tokens import Tokens
from auction.domain.identity import USCC_CHARSET, uscc_check_char
from auction.domain.schedule import CHINA
from auction.rooms.keys import Keys
from auction.rooms.service import Rooms
from auction.services import Services
from auction.settings import Settings
from auction.store import Store
from tests.codes import city_with_counties, market_code

ADMIN = {"Authorization": "Bearer test-admin-token"}


@pytest.fixture
def services(settings: Settings, store: Store, redis: Redis, keys: Keys) -> Services:
    """Services for one test: its own Redis namespace, no fan-out hub."""
    return Services(
        settings=settings.with_changes(password_profile="fast"), store=store, redis=redis,
        keys=keys, rooms=Rooms(redis, keys),
        tokens=Tokens(settings.secret, settings.admin_token),
        hub=None,  # type: ignore[arg-type]  # the catalogue and admin routes never use it
    )


@contextlib.asynccontextmanager
async def app_client(services: Services, routes: list[BaseRoute]
                     ) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on an in-process app holding ``routes`` over ``services`` (a test
    module's own ``client`` fixture names the routes it needs)."""
    app = Starlette(routes=routes, exception_handlers=http_errors.exception_handlers())
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on an in-process app holding only this package's HTTP routes."""
    async with app_client(services, [*openapi.routes, *admin.routes, *registrations.routes,
                                     *auth.routes, *deposits.routes, *catalogue.routes]) as http:
        yield http


def china_iso(at: datetime) -> str:
    """``at`` as RFC 3339 in China Standard Time, to the second (what the admin pages send)."""
    return at.astimezone(CHINA).isoformat(timespec="seconds")


USCC = "91350100M000100Y43"

LotBody = Callable[..., dict[str, Any]]
NewSession = Callable[..., Awaitable[dict[str, Any]]]
NewLot = Callable[..., Awaitable[dict[str, Any]]]




def division_code() -> str:
    """A random county's division code, never a code any helper gave before in this test run
    (tests/codes.py; a county's form leaves the most room: auction/domain/divisions.py)."""
    return market_code(lambda: f"{secrets.randbelow(89) + 11:02d}{secrets.randbelow(99) + 1:02d}"
                               f"{secrets.randbelow(99) + 1:02d}")


async def new_city_with_counties(client: httpx.AsyncClient, county_suffixes: tuple[str, ...],
                                 slug: str) -> tuple[str, list[str]]:
    """A city market and county markets under it (``XXYY`` + each suffix), all made now: a
    city's subtree then holds only what the test puts there. (A code some module drew without
    tests/codes.py makes a POST answer 409: draw again.)"""
    for _ in range(50):
        city, counties = city_with_counties(*county_suffixes)
        made = await client.post("/api/v1/markets", headers=ADMIN, json={
            "code": city, "slug": f"{slug}-{city}", "name": f"{city}市场", "level": "city"})
        if made.status_code == 409:
            continue
        assert made.status_code == 201, made.text
        for county in counties:
            made = await client.post("/api/v1/markets", headers=ADMIN, json={
                "code": county, "slug": f"{slug}-{county}", "name": f"{county}市场",
                "level": "county", "parent_code": city})
            if made.status_code == 409:
                break
            assert made.status_code == 201, made.text
        else:
            return city, counties
    raise AssertionError("no free city code in 50 draws")


async def new_city_and_county(client: httpx.AsyncClient, county_suffix: str,
                              slug: str) -> tuple[str, str]:
    """A city market and one county market under it (:func:`new_city_with_counties`)."""
    city, (county,) = await new_city_with_counties(client, (county_suffix,), slug)
    return city, county


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The ``error`` object of an error answer."""
    error: dict[str, Any] = response.json()["error"]
    return error


@pytest.fixture
def lot_body() -> LotBody:
    """Factory: a valid lot-creation body (start 200万, 10万一加, reserve 250万) with changes;
    a change to ``None`` drops the field."""

    def make(**changes: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "title": "一种高效固废资源化处理方法", "result_type": "专利", "ip_type": "发明专利",
            "technology_field": "环境保护与资源综合利用", "transaction_mode": "转让",
            "contract_type": "技术转让", "holder_name": "山东某大学", "holder_uscc": USCC,
            "start_price_fen": 200_000_000, "increment_fen": 10_000_000,
            "reserve_fen": 250_000_000, "non_tech_fen": 5_000_000,
        }
        body.update(changes)
        return {k: v for k, v in body.items() if v is not None}

    return make


@pytest.fixture
def new_session(client: httpx.AsyncClient) -> NewSession:
    """Factory: a new market and a session in it, through the admin API."""

    async def make(mode: str = "live", **extra: Any) -> dict[str, Any]:
        while True:  # a code another module's market took (drawn without division_code): again
            code = division_code()
            market = await client.post("/api/v1/markets", headers=ADMIN, json={
                "code": code, "slug": f"m-{code}", "name": "历城区技术市场", "level": "county",
            })
            if market.status_code != 409:
                break
        assert market.status_code == 201, market.text
        session = await client.post("/api/v1/sessions", headers=ADMIN, json={
            "market_code": code, "name": "2026年春季科技成果竞价活动", "season": "spring",
            "mode": mode, "starts_at": "2026-04-18T09:30:00+08:00", **extra,
        })
        assert session.status_code == 201, session.text
        result: dict[str, Any] = session.json()
        return result

    return make


@pytest.fixture
def new_lot(client: httpx.AsyncClient, new_session: NewSession, lot_body: LotBody) -> NewLot:
    """Factory: a lot (in a new live session unless ``session_id`` is given)."""

    async def make(session_id: int | None = None, **changes: Any) -> dict[str, Any]:
        if session_id is None:
            session_id = (await new_session())["id"]
        resp = await client.post(f"/api/v1/sessions/{session_id}/lots", headers=ADMIN,
                                 json=lot_body(**changes))
        assert resp.status_code == 201, resp.text
        result: dict[str, Any] = resp.json()
        return result

    return make


@pytest.fixture
def new_uscc() -> Callable[[], str]:
    """Factory: a random valid enterprise credit code (bidders are unique by code)."""

    def make() -> str:
        body = "913701" + "".join(secrets.choice(USCC_CHARSET) for _ in range(11))
        return body + uscc_check_char(body)

    return make
