"""Draft sessions and ``POST /api/v1/sessions/{id}/publish`` (issue 12 item 2): a draft is
seen by its market's staff only, nobody applies to it, none of its lots opens; publishing
needs a lot, is idempotent and belongs to who may manage the session's market."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from auction.api import (
    admin,
    auth,
    catalogue,
    console,
    deposits,
    http_errors,
    listing,
    publication,
    registrations,
)
from auction.services import Services
from auction.store import Store
from tests.api.conftest import ADMIN, LotBody, division_code, error_of
from tests.api.people import bidder, staff
from tests.api.test_listing_http import settle


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The package's HTTP routes with publishing, the catalogue and the console."""
    app = Starlette(
        routes=[*admin.routes, *publication.routes, *registrations.routes, *auth.routes,
                *deposits.routes, *catalogue.routes, *listing.routes, *console.routes],
        exception_handlers=http_errors.exception_handlers(),
    )
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def market(client: httpx.AsyncClient) -> str:
    code = division_code()
    resp = await client.post("/api/v1/markets", headers=ADMIN, json={
        "code": code, "slug": f"p-{code}", "name": "草稿测试技术市场", "level": "county"})
    assert resp.status_code == 201, resp.text
    return code


async def session(client: httpx.AsyncClient, code: str, headers: dict[str, str] = ADMIN,
                  **extra: Any) -> dict[str, Any]:
    resp = await client.post("/api/v1/sessions", headers=headers, json={
        "market_code": code, "name": f"草稿场次 {uuid.uuid4().hex[:6]}", "season": "special",
        "mode": "timed", "starts_at": "2026-11-18T09:30:00+08:00", **extra})
    assert resp.status_code == 201, resp.text
    made: dict[str, Any] = resp.json()
    return made


async def lot(client: httpx.AsyncClient, session_id: int, lot_body: LotBody) -> dict[str, Any]:
    resp = await client.post(f"/api/v1/sessions/{session_id}/lots", headers=ADMIN,
                             json=lot_body(duration_s=600))
    assert resp.status_code == 201, resp.text
    made: dict[str, Any] = resp.json()
    return made


async def ids_listed(client: httpx.AsyncClient, code: str,
                     headers: dict[str, str] | None = None) -> set[int]:
    resp = await client.get("/api/v1/sessions", params={"market": code}, headers=headers or {})
    assert resp.status_code == 200, resp.text
    return {s["id"] for s in resp.json()["sessions"]}


async def test_sessions_are_published_at_once_unless_draft(client: httpx.AsyncClient) -> None:
    """Without ``draft`` a session is published at creation; ``draft: true`` makes a draft;
    a ``draft`` that is not a boolean is 400 naming it."""
    code = await market(client)
    public = await session(client, code)
    assert public["published"] is True and public["published_at"]
    draft = await session(client, code, draft=True)
    assert draft["published"] is False and draft["published_at"] is None
    bad = await client.post("/api/v1/sessions", headers=ADMIN, json={
        "market_code": code, "name": "x", "season": "special", "mode": "timed",
        "starts_at": "2026-12-18T09:30:00+08:00", "draft": "yes"})
    assert bad.status_code == 400 and error_of(bad)["field"] == "draft"


async def test_a_draft_is_shown_to_its_market_staff_only(
    client: httpx.AsyncClient, store: Store, lot_body: LotBody
) -> None:
    """No public read shows a draft or its lot (404 as for none, absent from lists, the
    catalogue and the publicity); its market's admin and finance see it, another market's
    admin and a bidder do not."""
    code = await market(client)
    other = await market(client)
    draft = await session(client, code, draft=True)
    made = await lot(client, draft["id"], lot_body)
    await settle(store, made["id"], "passed", reason="无人出价")  # publicity's filter
    sid, lid = draft["id"], made["id"]
    _, bidder_login = await bidder(client)
    outsiders: dict[str, dict[str, str]] = {
        "anonymous": {}, "bidder": bidder_login,
        "other market admin": await staff(client, "market_admin", other),
        "bad token": {"Authorization": "Bearer not-a-token"},
    }
    for who, headers in outsiders.items():
        for path in (f"/api/v1/sessions/{sid}", f"/api/v1/sessions/{sid}/lots",
                     f"/api/v1/lots/{lid}", f"/api/v1/lots/{lid}/bids"):
            resp = await client.get(path, headers=headers)
            assert resp.status_code == 404, (who, path, resp.text)
            assert error_of(resp)["code"] == "not_found"
        assert sid not in await ids_listed(client, code, headers), who
    listed = (await client.get("/api/v1/listing", params={"session": sid})).json()
    assert listed["total"] == 0 and listed["lots"] == []
    publicity = (await client.get("/api/v1/publicity", params={"session": sid})).json()
    assert publicity["sold"] == [] and publicity["passed"] == []
    insiders = {"admin": ADMIN, "market admin": await staff(client, "market_admin", code),
                "finance": await staff(client, "finance", code)}
    for who, headers in insiders.items():
        got = await client.get(f"/api/v1/sessions/{sid}", headers=headers)
        assert got.status_code == 200 and got.json()["published"] is False, who
        assert (await client.get(f"/api/v1/lots/{lid}", headers=headers)).status_code == 200
        assert sid in await ids_listed(client, code, headers), who


async def test_nobody_applies_to_a_draft_and_none_of_its_lots_opens(
    client: httpx.AsyncClient, lot_body: LotBody
) -> None:
    """Applying (the bidder) and registering at the desk are 409 ``not_published``; ``open``
    and ``next`` on its lot are 409 ``not_published``; once published all three work."""
    code = await market(client)
    draft = await session(client, code, draft=True)
    made = await lot(client, draft["id"], lot_body)
    bidder_id, bidder_login = await bidder(client)
    apply = await client.post(f"/api/v1/sessions/{draft['id']}/registrations",
                              headers=bidder_login, json={"bidder_id": bidder_id})
    assert apply.status_code == 409 and error_of(apply)["code"] == "not_published", apply.text
    desk = await client.post(f"/api/v1/sessions/{draft['id']}/registrations", headers=ADMIN,
                             json={"bidder_id": bidder_id})
    assert desk.status_code == 409 and error_of(desk)["code"] == "not_published"
    for op in ("open", "next"):
        resp = await client.post(f"/api/v1/lots/{made['id']}/commands", headers=ADMIN,
                                 json={"op": op, "key": f"k-{op}"})
        assert resp.status_code == 409, resp.text
        assert error_of(resp)["code"] == "not_published"
    assert (await client.post(f"/api/v1/sessions/{draft['id']}/publish",
                              headers=ADMIN)).status_code == 200
    apply = await client.post(f"/api/v1/sessions/{draft['id']}/registrations",
                              headers=bidder_login, json={"bidder_id": bidder_id})
    assert apply.status_code == 201, apply.text
    opened = await client.post(f"/api/v1/lots/{made['id']}/commands", headers=ADMIN,
                               json={"op": "open", "key": "k-open-2"})
    assert opened.status_code == 200, opened.text
    assert (await client.get(f"/api/v1/lots/{made['id']}")).json()["live"]["status"] == "open"


async def test_publishing_needs_a_lot_and_is_idempotent(
    client: httpx.AsyncClient, lot_body: LotBody
) -> None:
    """A draft without lots: 409 ``no_lots``, still a draft; with one: 200 published, then
    public; publishing again answers 200 with the session unchanged."""
    code = await market(client)
    admin_login = await staff(client, "market_admin", code)
    draft = await session(client, code, admin_login, draft=True)
    path = f"/api/v1/sessions/{draft['id']}/publish"
    empty = await client.post(path, headers=admin_login)
    assert empty.status_code == 409 and error_of(empty)["code"] == "no_lots", empty.text
    assert (await client.get(f"/api/v1/sessions/{draft['id']}")).status_code == 404
    await lot(client, draft["id"], lot_body)
    first = await client.post(path, headers=admin_login)
    assert first.status_code == 200, first.text
    assert first.json()["published"] is True and first.json()["published_at"]
    assert draft["id"] in await ids_listed(client, code)
    again = await client.post(path, headers=admin_login)
    assert again.status_code == 200 and again.json() == first.json()
    public = await client.get(f"/api/v1/sessions/{draft['id']}")
    assert public.status_code == 200 and public.json()["published"] is True


async def test_only_who_manages_the_market_publishes(
    client: httpx.AsyncClient, lot_body: LotBody
) -> None:
    """Another market's admin, the market's finance and auctioneer: 403; anonymous: 401; an
    unknown session: 403 (404 to the platform admin only); nothing is published."""
    code = await market(client)
    other = await market(client)
    draft = await session(client, code, draft=True)
    await lot(client, draft["id"], lot_body)
    path = f"/api/v1/sessions/{draft['id']}/publish"
    for role, where in (("market_admin", other), ("finance", code), ("auctioneer", code)):
        resp = await client.post(path, headers=await staff(client, role, where))
        assert resp.status_code == 403 and error_of(resp)["code"] == "forbidden", (role, resp.text)
    assert (await client.post(path)).status_code == 401
    outsider = await staff(client, "market_admin", other)
    assert (await client.post("/api/v1/sessions/999999999/publish",
                              headers=outsider)).status_code == 403
    assert (await client.post("/api/v1/sessions/999999999/publish",
                              headers=ADMIN)).status_code == 404
    still = await client.get(f"/api/v1/sessions/{draft['id']}", headers=ADMIN)
    assert still.json()["published"] is False
