"""成交公示 with its notice period and objections (issue 13 item 4), over real PostgreSQL and
Redis: a market's own period and contact, a notice that closes after its period by the server's
clock (one settled in April 2026, one settled now), objections accepted in the period, refused
after it and rate-limited per address, resolved by the market's staff only."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette

from auction.api import admin, auth, catalogue, http_errors, listing, notices, registrations
from auction.domain import deadlines
from auction.services import Services
from auction.store import Store
from tests.api.conftest import ADMIN, NewLot, NewSession, error_of
from tests.api.people import bidder, staff
from tests.api.test_publicity_http import settle

APRIL = datetime(2026, 4, 15, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Beijing
OBJECTION = {"name": "王五", "contact": "13900000000", "text": "买受人与出让方存在关联关系"}


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process app with the admin, account, listing and 成交公示 routes."""
    app = Starlette(
        routes=[*admin.routes, *auth.routes, *registrations.routes, *catalogue.routes,
                *listing.routes, *notices.routes],
        exception_handlers=http_errors.exception_handlers(),
    )
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def person(store: Store, name: str) -> int:
    resident_id = f"37010219900101{secrets.randbelow(10**4):04d}"
    async with store.pool.acquire() as conn:
        found: int = await conn.fetchval(
            "INSERT INTO bidders (name, uscc, kind, resident_id, phone)"
            " VALUES ($1, NULL, 'person', $2, '13800000000') RETURNING id", name, resident_id)
    return found


async def test_a_notice_runs_for_the_markets_period_and_closes_by_the_clock(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot, store: Store
) -> None:
    """The market sets 3 working days and its objection contact (its admin only); a lot settled
    now has a current notice from today to the 3rd working day after; one settled in April 2026
    is closed; a person buyer is masked."""
    session = await new_session()
    code, sid = session["market_code"], session["id"]
    market_admin = await staff(client, "market_admin", code)
    finance = await staff(client, "finance", code)
    _, own_login = await bidder(client)
    for headers, status in ((finance, 403), (own_login, 403), ({}, 401)):
        resp = await client.patch(f"/api/v1/markets/{code}", headers=headers,
                                  json={"notice_working_days": 3})
        assert resp.status_code == status, resp.text
    for body, field in (({"notice_working_days": 0}, "notice_working_days"),
                        ({"notice_working_days": 31}, "notice_working_days"),
                        ({"objection_contact": 5}, "objection_contact"),
                        ({"notice_days": 3}, "notice_days")):
        resp = await client.patch(f"/api/v1/markets/{code}", headers=market_admin, json=body)
        assert resp.status_code == 400 and error_of(resp)["field"] == field, resp.text
    resp = await client.patch(f"/api/v1/markets/{code}", headers=market_admin, json={
        "notice_working_days": 3, "objection_contact": "0531-12345678 (市场办公室)"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["notice_working_days"] == 3

    current, past = await new_lot(sid), await new_lot(sid)
    now = datetime.now(UTC)
    await settle(store, current["id"], "sold", at=now, amount=300_000_000,
                 winner=await person(store, "张三丰"), paddle=101)
    buyer = await store.create_bidder(name="甲公司", uscc=f"Q{past['id']:017d}")
    await settle(store, past["id"], "sold", at=APRIL, amount=200_000_000, winner=buyer.id,
                 paddle=102)
    answer = (await client.get("/api/v1/publicity", params={"session": sid})).json()
    entries = {e["lot_id"]: e for e in answer["sold"]}
    notice = entries[current["id"]]["publicity"]
    assert notice["starts_on"] == deadlines.day_in_china(now).isoformat() == answer["today"]
    assert notice["ends_on"] == deadlines.notice_ends(now, 3).isoformat()
    assert (notice["working_days"], notice["open"], notice["state"]) == (3, True, "current")
    assert entries[current["id"]]["buyer"] == {"kind": "person", "name": "张**"}
    assert "张三丰" not in str(answer)
    assert entries[current["id"]]["objection"]["contact"] == "0531-12345678 (市场办公室)"
    assert "0531-12345678" in entries[current["id"]]["objection"]["text"]
    closed = entries[past["id"]]["publicity"]
    assert (closed["starts_on"], closed["ends_on"]) == ("2026-04-15", "2026-04-20")
    assert (closed["open"], closed["state"]) == (False, "closed")
    assert entries[past["id"]]["buyer"]["name"] == "甲公司"


async def test_objections_in_the_period_only_and_rate_limited(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot, store: Store
) -> None:
    """Anyone files an objection without a login while the notice runs (201); after the period
    409 ``notice_closed``; a lot without a notice 404; bad input 400 (not counted); the 6th
    objection from one address in 10 minutes is 429 with Retry-After."""
    session = await new_session()
    sid = session["id"]
    current, past, unsold = await new_lot(sid), await new_lot(sid), await new_lot(sid)
    buyer = await store.create_bidder(name="乙公司", uscc=f"R{current['id']:017d}")
    await settle(store, current["id"], "sold", at=datetime.now(UTC), amount=300_000_000,
                 winner=buyer.id, paddle=101)
    await settle(store, past["id"], "sold", at=APRIL, amount=300_000_000, winner=buyer.id,
                 paddle=101)
    url = f"/api/v1/lots/{current['id']}/objections"
    for body, field in (({**OBJECTION, "text": ""}, "text"),
                        ({"name": "王五", "contact": "1"}, "text"),
                        ({**OBJECTION, "name": "王" * 65}, "name"),
                        ({**OBJECTION, "extra": 1}, "extra")):
        resp = await client.post(url, json=body)
        assert resp.status_code == 400 and error_of(resp)["field"] == field, resp.text
    first = await client.post(url, json=OBJECTION)
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "received"
    late = await client.post(f"/api/v1/lots/{past['id']}/objections", json=OBJECTION)
    assert late.status_code == 409 and error_of(late)["code"] == "notice_closed"
    none = await client.post(f"/api/v1/lots/{unsold['id']}/objections", json=OBJECTION)
    assert none.status_code == 404
    for _ in range(2):
        assert (await client.post(url, json=OBJECTION)).status_code == 201
    limited = await client.post(url, json=OBJECTION)
    assert limited.status_code == 429 and error_of(limited)["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0
    async with store.pool.acquire() as conn:
        count = await conn.fetchval(
            "SELECT count(*) FROM publicity_objections WHERE lot_id = $1", current["id"])
    assert count == 3


async def test_the_market_lists_and_resolves_objections(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot, store: Store
) -> None:
    """The market admin lists a session's objections with the filer's contact and records a
    resolution once; finance, an auctioneer, a bidder and anonymous callers may not."""
    session = await new_session()
    code, sid = session["market_code"], session["id"]
    lot = await new_lot(sid)
    buyer = await store.create_bidder(name="丙公司", uscc=f"S{lot['id']:017d}")
    await settle(store, lot["id"], "sold", at=datetime.now(UTC), amount=300_000_000,
                 winner=buyer.id, paddle=101)
    filed = await client.post(f"/api/v1/lots/{lot['id']}/objections", json=OBJECTION)
    objection_id = filed.json()["id"]
    market_admin = await staff(client, "market_admin", code)
    _, own_login = await bidder(client)
    others = [await staff(client, "finance", code), await staff(client, "auctioneer", code),
              own_login]
    for headers in [*others, {}]:
        listed = await client.get(f"/api/v1/sessions/{sid}/objections", headers=headers)
        assert listed.status_code in (401, 403)
        resp = await client.post(f"/api/v1/objections/{objection_id}/resolution",
                                 headers=headers, json={"resolution": "驳回"})
        assert resp.status_code in (401, 403), resp.text
    listed = await client.get(f"/api/v1/sessions/{sid}/objections", headers=market_admin)
    assert listed.json()["market"]["code"] == code
    assert listed.json()["market"]["notice_working_days"] == 5
    assert [(o["id"], o["contact"], o["resolution"]) for o in listed.json()["objections"]] == [
        (objection_id, "13900000000", None)]
    empty = await client.post(f"/api/v1/objections/{objection_id}/resolution",
                              headers=market_admin, json={"resolution": " "})
    assert empty.status_code == 400
    answer = "经核实无关联关系, 维持成交"
    done = await client.post(f"/api/v1/objections/{objection_id}/resolution",
                             headers=market_admin, json={"resolution": answer})
    assert done.status_code == 200, done.text
    assert done.json()["resolution"] == answer and done.json()["resolved_at"]
    again = await client.post(f"/api/v1/objections/{objection_id}/resolution",
                              headers=market_admin, json={"resolution": "改判"})
    assert again.status_code == 409 and error_of(again)["code"] == "already_resolved"
    unknown = await client.post("/api/v1/objections/999999999/resolution", headers=ADMIN,
                                json={"resolution": "x"})
    assert unknown.status_code == 404
