"""Relisting (重新挂拍) over HTTP (issue 15 item 3), over real PostgreSQL and Redis: a passed
(流拍) lot relisted into a later session of its market at 80 % of its start (79 %: 409
``relist_discount_too_large``), the link and the history on both lots; the refusals; a lot
whose buyer defaulted (悔拍) relisted, and that buyer refused registration for it
(``defaulted_bidder``) while another bidder applies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from auction.api import admin, auth, catalogue, deposits, http_errors, payments, registrations
from auction.api import relist as relist_api
from auction.services import Services
from auction.settlement.drainer import Drainer
from tests.api.conftest import ADMIN, NewLot, NewSession, error_of
from tests.api.people import bearer, staff
from tests.api.test_payments_http import APRIL, sell

START = 200_000_000  # the lot_body factory's start price: 200万元


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(
        routes=[*admin.routes, *auth.routes, *registrations.routes, *deposits.routes,
                *catalogue.routes, *payments.routes, *relist_api.routes],
        exception_handlers=http_errors.exception_handlers(),
    )
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def later_session(client: httpx.AsyncClient, market_code: str, mode: str = "live",
                        starts_at: str = "2026-05-18T09:30:00+08:00") -> dict[str, Any]:
    resp = await client.post("/api/v1/sessions", headers=ADMIN, json={
        "market_code": market_code, "name": "2026年夏季重新挂拍专场", "season": "special",
        "mode": mode, "starts_at": starts_at})
    assert resp.status_code == 201, resp.text
    made: dict[str, Any] = resp.json()
    return made


async def passed_lot(services: Services, new_session: NewSession, new_lot: NewLot
                     ) -> tuple[dict[str, Any], int]:
    """A live lot passed by the auctioneer (流拍) and settled by the drainer."""
    session = await new_session()
    lot = (await new_lot(session["id"]))["id"]
    await services.rooms.open(lot)
    await services.rooms.close(lot, "pass")
    drainer = Drainer(services.store, services.redis, services.keys)
    while await drainer.drain_once():
        pass
    assert (await services.store.get_lot(lot)).status == "passed"
    return session, lot


async def relist(client: httpx.AsyncClient, lot: int, session_id: int, start: int,
                 **extra: Any) -> httpx.Response:
    return await client.post(f"/api/v1/lots/{lot}/relist", headers=ADMIN,
                             json={"session_id": session_id, "start_price_fen": start, **extra})


async def test_a_passed_lot_relisted_at_80_percent_with_its_history(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot,
) -> None:
    session, old = await passed_lot(services, new_session, new_lot)
    target = await later_session(client, session["market_code"])
    assert (await client.get(f"/api/v1/lots/{old}")).json()["relistable"] is True
    low = await relist(client, old, target["id"], START * 79 // 100)
    assert low.status_code == 409, low.text
    assert error_of(low)["code"] == "relist_discount_too_large"
    assert error_of(low)["field"] == "start_price_fen"
    assert (await services.store.list_lots(target["id"])) == []  # nothing written

    ok = await relist(client, old, target["id"], START * 80 // 100,
                      increment_fen=5_000_000, reserve_fen=0)
    assert ok.status_code == 201, ok.text
    new = ok.json()
    assert new["relisted_from"] == old and new["session_id"] == target["id"]
    assert (new["start_price_fen"], new["increment_fen"], new["reserve_fen"]) == (
        160_000_000, 5_000_000, 0)
    assert new["title"] == (await services.store.get_lot(old)).title  # copied
    assert new["deposit_fen"] == 16_000_000  # 10 % of the new start
    room = await services.rooms.room_state(new["id"])
    assert room is not None and room.start == 160_000_000

    old_page = (await client.get(f"/api/v1/lots/{old}")).json()
    new_page = (await client.get(f"/api/v1/lots/{new['id']}")).json()
    assert old_page["relisted_to"] == new["id"] and old_page["relisted_from"] is None
    assert old_page["relistable"] is False and new_page["relistable"] is False
    assert new_page["relisted_from"] == old and new_page["relisted_to"] is None
    for page in (old_page, new_page):
        chain = page["relist_history"]
        assert [(c["lot_id"], c["status"], c["start_price_fen"]) for c in chain] == [
            (old, "passed", START), (new["id"], "scheduled", 160_000_000)]
        assert chain[1]["session_name"] == "2026年夏季重新挂拍专场"
    unrelated = await new_lot()
    assert (await client.get(f"/api/v1/lots/{unrelated['id']}")).json()["relist_history"] == []

    again = await relist(client, old, target["id"], START)
    assert again.status_code == 409 and error_of(again)["code"] == "already_relisted"


async def test_what_cannot_be_relisted(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot,
) -> None:
    session, old = await passed_lot(services, new_session, new_lot)
    market = session["market_code"]
    target = await later_session(client, market)
    open_lot = (await new_lot(session["id"], title="未结束的标的"))["id"]
    resp = await relist(client, open_lot, target["id"], START)
    assert resp.status_code == 409 and error_of(resp)["code"] == "not_relistable"
    earlier = await later_session(client, market, starts_at="2026-04-01T09:30:00+08:00")
    resp = await relist(client, old, earlier["id"], START)
    assert resp.status_code == 409 and error_of(resp)["code"] == "not_later"
    elsewhere = await new_session(starts_at="2026-06-01T09:30:00+08:00")
    resp = await relist(client, old, elsewhere["id"], START)
    assert resp.status_code == 409 and error_of(resp)["code"] == "wrong_market"
    for body, field in (
        ({"session_id": target["id"]}, "start_price_fen"),
        ({"start_price_fen": START}, "session_id"),
        ({"session_id": target["id"], "start_price_fen": "一百万"}, "start_price_fen"),
        ({"session_id": target["id"], "start_price_fen": START, "colour": 1}, "colour"),
    ):
        resp = await client.post(f"/api/v1/lots/{old}/relist", headers=ADMIN, json=body)
        assert resp.status_code == 400, (body, resp.text)
        assert error_of(resp)["field"] == field, body
    timed = await later_session(client, market, mode="timed")
    resp = await relist(client, old, timed["id"], START)  # a timed lot needs its duration
    assert resp.status_code == 400 and error_of(resp)["field"] == "duration_s"
    missing = await client.post("/api/v1/lots/999999999/relist", headers=ADMIN,
                                json={"session_id": target["id"], "start_price_fen": START})
    assert missing.status_code == 404
    finance = await staff(client, "finance", market)
    denied = await client.post(f"/api/v1/lots/{old}/relist", headers=finance,
                               json={"session_id": target["id"], "start_price_fen": START})
    assert denied.status_code == 403
    assert await services.store.list_lots(target["id"]) == []
    assert await services.store.list_lots(timed["id"]) == []


async def test_a_defaulted_lot_relisted_and_its_buyer_kept_out(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot,
    new_uscc: Callable[[], str],
) -> None:
    session, lot, buyer, rival = await sell(client, services, new_session, new_lot, new_uscc)
    finance = await staff(client, "finance", str(session["market_code"]))
    target = await later_session(client, str(session["market_code"]))
    sold = await relist(client, lot, target["id"], START)
    assert sold.status_code == 409 and error_of(sold)["code"] == "not_relistable"
    settled = await client.post(f"/api/v1/sessions/{session['id']}/deposits/settle",
                                headers=finance)
    assert settled.status_code == 200, settled.text
    async with services.store.pool.acquire() as conn:  # time travel, this database only
        await conn.execute("UPDATE lot_results SET closed_at = $2 WHERE lot_id = $1",
                           lot, APRIL)
    resp = await client.post(f"/api/v1/lots/{lot}/default", headers=finance,
                             json={"reason": "逾期未付尾款"})
    assert resp.status_code == 200, resp.text

    new = await relist(client, lot, target["id"], 184_000_000)  # 92 % of its 200万 start
    assert new.status_code == 201, new.text
    chain = (await client.get(f"/api/v1/lots/{lot}")).json()["relist_history"]
    assert [(c["lot_id"], c["defaulted"]) for c in chain] == [
        (lot, True), (new.json()["id"], False)]
    refused = await client.post(f"/api/v1/sessions/{target['id']}/registrations",
                                headers=bearer(buyer.account_token),
                                json={"bidder_id": buyer.bidder_id})
    assert refused.status_code == 409, refused.text
    assert error_of(refused)["code"] == "defaulted_bidder"
    applied = await client.post(f"/api/v1/sessions/{target['id']}/registrations",
                                headers=bearer(rival.account_token),
                                json={"bidder_id": rival.bidder_id})
    assert applied.status_code == 201, applied.text


async def test_a_relisted_lot_keeps_its_format_unless_the_body_names_one(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot,
) -> None:
    """A relisting copies the old lot's format (issue 14) with its terms; a body naming a
    ``format`` gives the new lot that format, with that format's checks."""
    session = await new_session()
    old = (await new_lot(session["id"], format="sealed", revisions=2,
                         preempt_window_s=30))["id"]
    await services.rooms.open(old)
    await services.rooms.close(old, "pass")
    drainer = Drainer(services.store, services.redis, services.keys)
    while await drainer.drain_once():
        pass
    target = await later_session(client, session["market_code"])
    bad = await relist(client, old, target["id"], START, format="dutch", step_fen=100,
                       interval_s=60, floor_fen=START + 1)
    assert bad.status_code == 400 and error_of(bad)["field"] == "floor_fen"
    ok = await relist(client, old, target["id"], START)
    assert ok.status_code == 201, ok.text
    assert (ok.json()["format"], ok.json()["revisions"], ok.json()["preempt_window_s"]) == (
        "sealed", 2, 30)
    room = await services.rooms.room_state(ok.json()["id"])
    assert room is not None and room.format.value == "sealed" and room.revisions == 2
