"""``GET /api/v1/listing``: the public catalogue with filters, search, pages and the real price
under a labelled column, over real PostgreSQL and Redis."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from auction.api import admin, catalogue, http_errors, listing
from auction.services import Services
from auction.store import Store
from tests.api.conftest import ADMIN, NewLot, NewSession, error_of, new_city_and_county

HAMMER = datetime(2026, 4, 17, 6, 30, tzinfo=UTC)  # a Friday, 14:30 in Beijing


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process app with the admin, catalogue and listing routes."""
    app = Starlette(routes=[*admin.routes, *catalogue.routes, *listing.routes],
                    exception_handlers=http_errors.exception_handlers())
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def room(services: Services, lot_id: int, **fields: int | str) -> None:
    """Set fields of the lot's room in Redis, as the scripts would have."""
    await services.redis.hset(services.keys.lot(lot_id).state, mapping=fields)


async def settle(store: Store, lot_id: int, outcome: str, *, amount: int | None = None,
                 reason: str = "", winner: int | None = None) -> None:
    """Write the lot's settlement as the drainer would."""
    async with store.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO lot_results (lot_id, outcome, reason, winner_id, paddle, amount_fen,"
            " winning_seq, closed_at, bid_count, bid_log_sha256)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, repeat('0', 64))",
            lot_id, outcome, reason, winner, 101 if winner else None, amount,
            2 if winner else None, HAMMER, 1 if winner else 0,
        )
        await conn.execute("UPDATE lots SET status = $2 WHERE id = $1", lot_id, outcome)


async def get(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    resp = await client.get("/api/v1/listing", params=params)
    assert resp.status_code == 200, resp.text
    answer: dict[str, Any] = resp.json()
    return answer


async def test_each_status_shows_its_labelled_price(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot, services: Services,
    store: Store,
) -> None:
    """起拍价 before the start and with no bid, 当前价 = the room's high, 成交价 = the hammer
    price (never the start price), 流拍 with its reason; names of market and session."""
    session = await new_session()
    sid = session["id"]
    waiting, quiet, bidding, sold, passed = [
        await new_lot(sid, title=f"标的{i}") for i in range(5)]
    await room(services, quiet["id"], status="open")
    await room(services, bidding["id"], status="open", high=258_000_000, bids=3, paddle=102)
    await room(services, sold["id"], status="sold", high=1_585_000_000, bids=9, paddle=105)
    await settle(store, sold["id"], "sold", amount=1_585_000_000,
                 winner=(await store.create_bidder(name="甲公司", uscc=f"L{sold['id']:017d}")).id)
    await settle(store, passed["id"], "passed", reason="reserve_not_met")
    await services.redis.delete(services.keys.lot(passed["id"]).state)
    lots = {lot["id"]: lot for lot in (await get(client, session=sid))["lots"]}
    assert len(lots) == 5
    assert (lots[waiting["id"]]["price_label"], lots[waiting["id"]]["price_fen"]) == (
        "起拍价", 200_000_000)
    assert (lots[quiet["id"]]["status"], lots[quiet["id"]]["price_label"],
            lots[quiet["id"]]["current_fen"]) == ("open", "起拍价", 200_000_000)
    assert (lots[bidding["id"]]["price_label"], lots[bidding["id"]]["current_fen"],
            lots[bidding["id"]]["bids"]) == ("当前价", 258_000_000, 3)
    won = lots[sold["id"]]
    assert (won["status"], won["price_label"], won["final_fen"], won["price_fen"],
            won["current_fen"], won["final_paddle"]) == (
        "sold", "成交价", 1_585_000_000, 1_585_000_000, None, 105)
    lost = lots[passed["id"]]
    assert (lost["price_label"], lost["price_fen"], lost["pass_reason"],
            lost["pass_reason_text"]) == ("流拍", None, "reserve_not_met", "未达保留价")
    assert won["market"] == {"code": session["market_code"], "name": "历城区技术市场"}
    assert won["session"]["name"] == "2026年春季科技成果竞价活动"
    assert won["session"]["mode"] == "live" and "reserve_fen" not in won
    assert "holder_uscc" not in won


async def test_a_sale_hammered_but_not_settled_shows_the_rooms_price(
    client: httpx.AsyncClient, new_lot: NewLot, services: Services
) -> None:
    """The room is ahead of the catalogue: a lot hammered a moment ago reads 成交价 already."""
    lot = await new_lot()
    await room(services, lot["id"], status="sold", high=300_000_000, bids=2, paddle=103)
    entry = (await get(client, session=lot["session_id"]))["lots"][0]
    assert (entry["status"], entry["price_label"], entry["final_fen"]) == (
        "sold", "成交价", 300_000_000)


async def test_timed_lots_carry_their_end_time(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot, services: Services
) -> None:
    """An open timed lot shows the room's ``ends_at``; a live lot has none."""
    timed = await new_session(mode="timed")
    lot = await new_lot(timed["id"], duration_s=600)
    ends = int(datetime(2026, 4, 18, 2, 10, tzinfo=UTC).timestamp() * 1000)
    await room(services, lot["id"], status="open", ends_at=ends)
    entry = (await get(client, session=timed["id"]))["lots"][0]
    assert entry["ends_at"] == "2026-04-18T10:10:00.000+08:00"
    assert entry["session"]["mode"] == "timed"
    live = await new_lot()
    assert (await get(client, session=live["session_id"]))["lots"][0]["ends_at"] is None


async def test_filters_by_market_subtree_status_season_and_field(
    client: httpx.AsyncClient, new_lot: NewLot, lot_body: Any
) -> None:
    """A city's code lists its counties' lots; status, season and field narrow the list."""
    city, county = await new_city_and_county(client, "01", "l")
    session = await client.post("/api/v1/sessions", headers=ADMIN, json={
        "market_code": county, "name": "秋季专场", "season": "autumn", "mode": "live",
        "starts_at": "2026-10-18T09:30:00+08:00"})
    assert session.status_code == 201, session.text
    sid = session.json()["id"]
    energy = await new_lot(sid, technology_field="新能源与高效节能")
    await new_lot(sid)
    in_city = await get(client, market=city, limit=100)
    assert {energy["id"]} <= {lot["id"] for lot in in_city["lots"]}
    assert all(lot["market"]["code"] in (city, county) for lot in in_city["lots"])
    assert {"新能源与高效节能", "环境保护与资源综合利用"} <= set(in_city["fields"])
    narrowed = await get(client, market=county, season="autumn",
                         field="新能源与高效节能", status="scheduled")
    assert [lot["id"] for lot in narrowed["lots"]] == [energy["id"]]
    assert (await get(client, market=county, season="spring"))["lots"] == []
    assert (await get(client, market=county, status="sold"))["total"] == 0


async def test_search_matches_title_holder_and_description_literally(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot
) -> None:
    """``q`` finds words of the title, the holder or the description; ``%`` and ``_`` are
    plain characters, not wildcards."""
    sid = (await new_session())["id"]
    tag = secrets.token_hex(4)
    by_title = await new_lot(sid, title=f"石墨烯{tag}涂层")
    by_holder = await new_lot(sid, holder_name=f"齐鲁{tag}研究院")
    by_text = await new_lot(sid, description=f"收率提高到 95%_{tag}")
    await new_lot(sid)
    found = await get(client, q=tag, session=sid)
    assert {lot["id"] for lot in found["lots"]} == {by_title["id"], by_holder["id"], by_text["id"]}
    assert [lot["id"] for lot in (await get(client, q="95%_", session=sid))["lots"]] == [
        by_text["id"]]
    assert (await get(client, q="%", session=sid))["total"] == 1
    assert (await get(client, q="_", session=sid))["total"] == 1


async def test_pages_and_limit(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot
) -> None:
    """``limit`` lots a page in running order, ``total`` counts them all; past the end is an
    empty page."""
    sid = (await new_session())["id"]
    made = [(await new_lot(sid))["id"] for _ in range(5)]
    first = await get(client, session=sid, limit=2)
    second = await get(client, session=sid, limit=2, page=2)
    third = await get(client, session=sid, limit=2, page=3)
    assert (first["total"], first["page"], first["limit"]) == (5, 1, 2)
    assert [lot["id"] for lot in first["lots"] + second["lots"] + third["lots"]] == made
    assert (await get(client, session=sid, limit=2, page=9))["lots"] == []


@pytest.mark.parametrize(("params", "field"), [
    ({"market": "37"}, "market"), ({"market": "abcdef"}, "market"),
    ({"status": "open,sold"}, "status"), ({"season": "winter"}, "season"),
    ({"page": "0"}, "page"), ({"page": "-1"}, "page"), ({"page": "x"}, "page"),
    ({"limit": "101"}, "limit"), ({"limit": "1.5"}, "limit"), ({"session": "abc"}, "session"),
    ({"q": "长" * 101}, "q"), ({"field": "领" * 65}, "field"),
])
async def test_bad_filters_are_400_naming_the_parameter(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    """Each malformed filter is a 400 ``bad_request`` whose ``field`` is the parameter."""
    resp = await client.get("/api/v1/listing", params=params)
    assert resp.status_code == 400, resp.text
    assert (error_of(resp)["code"], error_of(resp)["field"]) == ("bad_request", field)


async def test_unknown_market_or_session_is_an_empty_list(client: httpx.AsyncClient) -> None:
    """A well-formed code or id that names nothing lists nothing."""
    assert (await get(client, market="999999"))["lots"] == []
    assert (await get(client, session="999999999999"))["total"] == 0


async def test_redis_away_leaves_open_prices_unknown(
    client: httpx.AsyncClient, new_lot: NewLot, services: Services, store: Store
) -> None:
    """Without Redis the catalogue still answers; an open lot's price is null rather than
    stale, and the answer says the rooms were not read."""
    lot = await new_lot()
    async with store.pool.acquire() as conn:
        await conn.execute("UPDATE lots SET status = 'open' WHERE id = $1", lot["id"])

    async def broken(lot_id: int) -> None:
        raise ConnectionError("redis is away")

    services.rooms.snapshot = broken  # type: ignore[method-assign, assignment]
    answer = await get(client, session=lot["session_id"])
    assert answer["rooms"] == "unavailable"
    entry = answer["lots"][0]
    assert (entry["status"], entry["price_label"], entry["current_fen"]) == (
        "open", "当前价", None)
