"""What a lot's public page needs (issue 11): the session's texts and facts, and in the lot JSON
the deposit, 保留价 有/无, 评估价, the extension rule, 报名人数, attachments and how it ended."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from auction.store import Store
from tests.api.conftest import ADMIN, error_of

NewSession = Callable[..., Awaitable[dict[str, Any]]]
NewLot = Callable[..., Awaitable[dict[str, Any]]]

TEXTS = {
    "announcement": "拍卖公告\n受委托, 定于2026年4月18日举行科技成果竞价活动。",
    "terms": "竞买须知\n一、竞买人须交纳保证金。\n二、成交后5个工作日内签约。",
    "contact_phone": "0531-8888 6666",
    "registration_deadline": "2026-04-17T17:00:00+08:00",
    "payee_name": "济南技术市场服务中心", "payee_bank": "中国工商银行济南历下支行",
    "payee_account": "1602 0011 0920 0123 456",
}


async def test_session_carries_its_texts_and_facts(
    client: httpx.AsyncClient, new_session: NewSession
) -> None:
    """拍卖公告, 竞买须知, phone, deadline and payee are stored and shown in the session JSON."""
    session = await new_session(**TEXTS)
    assert session["announcement"] == TEXTS["announcement"]
    assert session["terms"] == TEXTS["terms"]
    assert session["contact_phone"] == "0531-8888 6666"
    assert session["registration_deadline"] == "2026-04-17T17:00:00.000+08:00"
    assert (session["payee_name"], session["payee_bank"], session["payee_account"]) == (
        TEXTS["payee_name"], TEXTS["payee_bank"], TEXTS["payee_account"])
    assert (await client.get(f"/api/v1/sessions/{session['id']}")).json() == session
    plain = await new_session()
    assert plain["announcement"] == "" and plain["registration_deadline"] is None


async def test_bad_session_texts_are_refused_naming_the_field(
    client: httpx.AsyncClient, new_session: NewSession
) -> None:
    """A deadline after the start, a phone with letters, a too-long text: 400 naming it."""
    market = (await new_session())["market_code"]
    base = {"market_code": market, "name": "场次", "season": "spring", "mode": "live",
            "starts_at": "2026-04-18T09:30:00+08:00"}
    cases = {
        "registration_deadline": "2026-04-19T09:00:00+08:00",
        "contact_phone": "call me",
        "terms": "须" * 8001,
        "payee_account": 123,
    }
    for name, value in cases.items():
        resp = await client.post("/api/v1/sessions", headers=ADMIN, json={**base, name: value})
        assert resp.status_code == 400, (name, resp.text)
        assert error_of(resp)["field"] == name
    resp = await client.post("/api/v1/sessions", headers=ADMIN,
                             json={**base, "registration_deadline": "2026-04-17 17:00"})
    assert resp.status_code == 400 and error_of(resp)["field"] == "registration_deadline"


async def test_lot_json_has_what_the_page_needs(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot
) -> None:
    """Deposit, reserve yes/no (never the amount), appraisal, extension rule, no attachments and
    no result yet; a lot without reserve or appraisal says so."""
    session = await new_session(extension_window_s=120, extension_s=60)
    created = await new_lot(session["id"], appraisal_fen=300_000_000, deposit_fen=20_000_000)
    assert created["appraisal_fen"] == 300_000_000
    lot = (await client.get(f"/api/v1/lots/{created['id']}")).json()
    assert lot["has_reserve"] is True and "reserve_fen" not in lot
    assert lot["appraisal_fen"] == 300_000_000 and lot["deposit_fen"] == 20_000_000
    assert (lot["extension_window_s"], lot["extension_s"]) == (120, 60)
    assert lot["registered"] == 0 and lot["attachments"] == [] and lot["result"] is None
    bare = await new_lot(session["id"], reserve_fen=None)
    lot = (await client.get(f"/api/v1/lots/{bare['id']}")).json()
    assert lot["has_reserve"] is False and lot["appraisal_fen"] is None
    listed = (await client.get(f"/api/v1/sessions/{session['id']}/lots")).json()["lots"]
    assert [item["has_reserve"] for item in listed] == [True, False]
    assert all("reserve_fen" not in item and item["result"] is None for item in listed)
    bad = await client.post(f"/api/v1/sessions/{session['id']}/lots", headers=ADMIN,
                            json={"appraisal_fen": "300万"})
    assert bad.status_code == 400


async def _bidder_row(store: Store, tag: str) -> int:
    from tests.api.people import new_uscc

    return int(await store.pool.fetchval(
        "INSERT INTO bidders (name, uscc) VALUES ($1, $2) RETURNING id", f"企业{tag}", new_uscc()
    ))


async def test_registered_counts_approved_or_further(
    client: httpx.AsyncClient, new_lot: NewLot, store: Store
) -> None:
    """报名人数 counts the session's registrations approved, paid or forfeited only."""
    lot = await new_lot()
    statuses = ("invited", "applied", "approved", "deposit_paid", "forfeited", "rejected",
                "withdrawn")
    for status in statuses:
        await store.pool.execute(
            "INSERT INTO registrations (session_id, bidder_id, status) VALUES ($1, $2, $3)",
            lot["session_id"], await _bidder_row(store, status), status,
        )
    assert (await client.get(f"/api/v1/lots/{lot['id']}")).json()["registered"] == 3


async def test_closed_lot_shows_its_result(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot, store: Store
) -> None:
    """A sold lot shows the final price and the buyer's paddle (no name); a passed one why."""
    session = await new_session()
    sold = await new_lot(session["id"])
    passed = await new_lot(session["id"])
    winner = await _bidder_row(store, "买受人")
    now = datetime.now(UTC)
    await store.pool.execute(
        "INSERT INTO lot_results (lot_id, outcome, winner_id, paddle, amount_fen, closed_at,"
        " bid_count, bid_log_sha256) VALUES ($1, 'sold', $2, 108, 258000000, $3, 7, $4)",
        sold["id"], winner, now, "0" * 64,
    )
    await store.pool.execute(
        "INSERT INTO lot_results (lot_id, outcome, reason, closed_at, bid_count,"
        " bid_log_sha256) VALUES ($1, 'passed', 'no_bids', $2, 0, $3)",
        passed["id"], now, "0" * 64,
    )
    result = (await client.get(f"/api/v1/lots/{sold['id']}")).json()["result"]
    assert result["outcome"] == "sold" and result["amount_fen"] == 258_000_000
    assert result["paddle"] == 108 and result["bid_count"] == 7 and result["reason_text"] == ""
    assert "winner_id" not in result
    result = (await client.get(f"/api/v1/lots/{passed['id']}")).json()["result"]
    assert result["outcome"] == "passed" and result["amount_fen"] is None
    assert (result["reason"], result["reason_text"]) == ("no_bids", "无人出价")
    listed = (await client.get(f"/api/v1/sessions/{session['id']}/lots")).json()["lots"]
    assert [item["result"]["outcome"] for item in listed] == ["sold", "passed"]


async def test_market_staff_change_the_texts_until_bidding_starts(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot, services: Any
) -> None:
    """PATCH changes the fields given and keeps the others; a bad field is 400; a bidder who
    agreed to the old texts shows ``agreed_to_current: false``; once a lot opens, 409."""
    from tests.api.people import bidder, staff

    session = await new_session(**{**TEXTS, "starts_at": "2099-04-18T09:30:00+08:00",
                                   "registration_deadline": "2099-04-17T17:00:00+08:00"})
    lot = await new_lot(session["id"])
    url = f"/api/v1/sessions/{session['id']}"
    bidder_id, own = await bidder(client)
    reg = (await client.post(f"{url}/registrations", headers=own,
                             json={"bidder_id": bidder_id, "agreed": True})).json()
    view = f"/api/v1/registrations/{reg['id']}"
    assert (await client.get(view, headers=own)).json()["agreed_to_current"] is True
    outsider = await staff(client, "market_admin", (await new_session())["market_code"])
    assert (await client.patch(url, headers=outsider, json={"terms": "x"})).status_code == 403
    assert (await client.patch(url, json={"terms": "x"})).status_code == 401
    bad = await client.patch(url, headers=ADMIN,
                             json={"registration_deadline": "2099-05-01T00:00:00+08:00"})
    assert bad.status_code == 400 and error_of(bad)["field"] == "registration_deadline"
    admin = await staff(client, "market_admin", session["market_code"])
    changed = await client.patch(url, headers=admin, json={
        "terms": "竞买须知 (修订): 须交纳保证金。", "contact_phone": "0531-66668888"})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["terms"].startswith("竞买须知 (修订)") and body["contact_phone"] == "0531-66668888"
    assert body["announcement"] == TEXTS["announcement"]
    assert body["registration_deadline"] == "2099-04-17T17:00:00.000+08:00"
    assert (await client.get(url)).json() == body
    assert (await client.get(view, headers=own)).json()["agreed_to_current"] is False
    await services.rooms.open(lot["id"])
    late = await client.patch(url, headers=admin, json={"terms": "再改"})
    assert late.status_code == 409 and error_of(late)["code"] == "bidding_started"
    assert (await client.get(url)).json() == body
