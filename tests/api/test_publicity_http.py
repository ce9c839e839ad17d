"""``GET /api/v1/publicity``: 成交公示 with the buyer's name, 公示期, the objection channel and
the passed lots in a list of their own, over real PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette

from auction.api import admin, catalogue, http_errors, listing
from auction.services import Services
from auction.store import Store
from auction.store.listing import PublicityRow
from tests.api.conftest import ADMIN, NewLot, NewSession, error_of, new_city_and_county

FRIDAY = datetime(2026, 4, 17, 6, 30, tzinfo=UTC)  # 14:30 in Beijing


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process app with the admin, catalogue and listing routes."""
    app = Starlette(routes=[*admin.routes, *catalogue.routes, *listing.routes],
                    exception_handlers=http_errors.exception_handlers())
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def settle(store: Store, lot_id: int, outcome: str, *, at: datetime = FRIDAY,
                 amount: int | None = None, reason: str = "", winner: int | None = None,
                 paddle: int | None = None) -> None:
    """Write the lot's settlement as the drainer would, settled at ``at`` (its notice opens
    then)."""
    async with store.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO lot_results (lot_id, outcome, reason, winner_id, paddle, amount_fen,"
            " winning_seq, closed_at, bid_count, bid_log_sha256, settled_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, repeat('0', 64), $8)",
            lot_id, outcome, reason, winner, paddle, amount, 2 if winner else None, at,
            3 if winner else 0,
        )
        await conn.execute("UPDATE lots SET status = $2 WHERE id = $1", lot_id, outcome)


async def test_sold_lots_name_the_buyer_with_the_notice_period_and_channel(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot, store: Store
) -> None:
    """A sale shows the enterprise's name, paddle, price, hammer time, a 公示期 from the day it
    was settled to 5 working days later (a Friday settlement ends the next Friday) and the
    market's objection channel; passed and withdrawn lots come in their own lists with
    reasons."""
    session = await new_session()
    sid = session["id"]
    sold, passed, quiet, withdrawn, open_lot = [await new_lot(sid) for _ in range(5)]
    buyer = await store.create_bidder(name="济南某新材料有限公司", uscc=f"P{sold['id']:017d}")
    await settle(store, sold["id"], "sold", amount=1_585_000_000, winner=buyer.id, paddle=105)
    await settle(store, passed["id"], "passed", reason="reserve_not_met")
    await settle(store, quiet["id"], "passed", reason="no_bids")
    await settle(store, withdrawn["id"], "withdrawn", reason="权属争议")
    resp = await client.get("/api/v1/publicity", params={"session": sid})
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    assert [entry["lot_id"] for entry in answer["sold"]] == [sold["id"]]
    entry = answer["sold"][0]
    assert entry["buyer"] == {"kind": "enterprise", "name": "济南某新材料有限公司"}
    assert (entry["paddle"], entry["amount_fen"], entry["hammer_at"]) == (
        105, 1_585_000_000, "2026-04-17T14:30:00.000+08:00")
    assert entry["publicity"]["starts_on"] == "2026-04-17"
    assert entry["publicity"]["ends_on"] == "2026-04-24"
    # by the server's clock: closed once 24 April 2026 has passed
    assert entry["publicity"]["open"] is (answer["today"] <= "2026-04-24")
    assert entry["market"] == {"code": session["market_code"], "name": "历城区技术市场"}
    assert entry["session_name"] == session["name"]
    objection = entry["objection"]
    assert objection["market"] == "历城区技术市场" and objection["phone"] is None
    assert "历城区技术市场" in objection["text"] and "异议" in objection["text"]
    reasons = {e["lot_id"]: (e["reason"], e["reason_text"]) for e in answer["passed"]}
    assert reasons == {passed["id"]: ("reserve_not_met", "未达保留价"),
                       quiet["id"]: ("no_bids", "无人出价")}
    assert [(e["lot_id"], e["reason_text"]) for e in answer["withdrawn"]] == [
        (withdrawn["id"], "撤拍：权属争议")]
    listed = [e["lot_id"] for part in ("sold", "passed", "withdrawn") for e in answer[part]]
    assert open_lot["id"] not in listed
    assert buyer.uscc not in resp.text


async def test_market_filter_covers_its_subtree(
    client: httpx.AsyncClient, new_lot: NewLot, store: Store
) -> None:
    """``market`` of a city lists the sales of its counties, and not of other markets."""
    city, county = await new_city_and_county(client, "02", "p")
    session = await client.post("/api/v1/sessions", headers=ADMIN, json={
        "market_code": county, "name": "专场", "season": "special", "mode": "live",
        "starts_at": "2026-04-18T09:30:00+08:00"})
    lot = await new_lot(session.json()["id"])
    elsewhere = await new_lot()
    for item in (lot, elsewhere):
        await settle(store, item["id"], "passed", reason="no_bids")
    answer = (await client.get("/api/v1/publicity", params={"market": city})).json()
    listed = {e["lot_id"] for e in answer["passed"]}
    assert lot["id"] in listed and elsewhere["id"] not in listed


async def test_the_sessions_contact_phone_is_the_objection_channel(
    client: httpx.AsyncClient, new_lot: NewLot, store: Store
) -> None:
    """A session with a contact phone publishes it with the objection text."""
    lot = await new_lot()
    async with store.pool.acquire() as conn:
        await conn.execute("UPDATE sessions SET contact_phone = '0531-88888888' WHERE id = $1",
                           lot["session_id"])
    buyer = await store.create_bidder(name="乙公司", uscc=f"Q{lot['id']:017d}")
    await settle(store, lot["id"], "sold", amount=200_000_000, winner=buyer.id, paddle=101)
    answer = (await client.get("/api/v1/publicity", params={"session": lot["session_id"]})).json()
    objection = answer["sold"][0]["objection"]
    assert objection["phone"] == "0531-88888888" and "0531-88888888" in objection["text"]


async def test_a_natural_person_buyer_is_published_masked(
    client: httpx.AsyncClient, new_lot: NewLot, store: Store
) -> None:
    """A buyer who is a natural person (bidder ``kind`` person) is published as 张*, never
    with the identity number."""
    lot = await new_lot()
    resident_id = f"37010219900101{secrets.randbelow(10**4):04d}"
    async with store.pool.acquire() as conn:
        buyer = await conn.fetchval(
            "INSERT INTO bidders (name, uscc, kind, resident_id, phone)"
            " VALUES ('张三', NULL, 'person', $1, '13800000000') RETURNING id", resident_id)
    await settle(store, lot["id"], "sold", amount=200_000_000, winner=buyer, paddle=102)
    resp = await client.get("/api/v1/publicity", params={"session": lot["session_id"]})
    assert resp.json()["sold"][0]["buyer"] == {"kind": "person", "name": "张*"}
    assert "张三" not in resp.text and resident_id not in resp.text


@pytest.mark.parametrize(("params", "field"), [
    ({"market": "3701"}, "market"), ({"session": "x"}, "session"),
])
async def test_bad_filters_are_400(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    """A malformed market code or session id is 400 naming it."""
    resp = await client.get("/api/v1/publicity", params=params)
    assert (resp.status_code, error_of(resp)["field"]) == (400, field)


def test_a_natural_person_is_masked_and_a_contact_phone_is_published() -> None:
    """A buyer whose bidder row is a person is published as 张*; a contact phone of the
    session or market joins the objection text."""
    row = PublicityRow(
        lot_id=1, session_id=1, ordinal=1, title="t", session_name="s", market_code="370100",
        market_name="济南市技术市场", outcome="sold", reason="", paddle=101, amount_fen=1,
        closed_at=FRIDAY, bid_count=1, buyer_name="张三", buyer_kind="person",
        contact_phone="0531-88888888", market_id=1, notice_opened_at=None, notice_days=None,
        objection_contact="", defaulted=False,
    )
    entry = listing._sold(row, FRIDAY.date())
    assert entry["buyer"] == {"kind": "person", "name": "张*"}
    assert entry["objection"]["phone"] == "0531-88888888"
    assert "0531-88888888" in entry["objection"]["text"]
