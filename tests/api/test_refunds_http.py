"""The refund list with the bidders' bank details (issue 12 item 4): the refund account given
when applying or later by the bidder's own login, ``GET /sessions/{id}/refunds`` and its CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import httpx
import pytest
from starlette.applications import Starlette

from auction.api import (
    admin,
    auth,
    catalogue,
    deposits,
    http_errors,
    refunds,
    registrations,
)
from auction.domain.deadlines import refund_due
from auction.services import Services
from auction.settlement.drainer import Drainer
from auction.store import ledger
from tests.api.conftest import ADMIN, NewLot, NewSession, error_of
from tests.api.people import PASSWORD, bidder, staff
from tests.e2e.harness import Enrolled, enrol
from tests.isolation.test_matrix import resident_id

ACCOUNT = {"refund_name": "对手企业", "refund_bank": "中国工商银行济南分行营业部",
           "refund_account": "6222 0212 3456 7890 123"}


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process app with the admin, registration, deposit and refund routes."""
    app = Starlette(
        routes=[*admin.routes, *auth.routes, *registrations.routes, *deposits.routes,
                *refunds.routes, *catalogue.routes],
        exception_handlers=http_errors.exception_handlers(),
    )
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def _own(enrolled: Enrolled) -> dict[str, str]:
    return {"Authorization": f"Bearer {enrolled.account_token}"}


async def _sale(
    client: httpx.AsyncClient, services: Services, session_id: int, lot_id: int,
    new_uscc: Callable[[], str],
) -> tuple[Enrolled, Enrolled]:
    """Two bidders enrolled; the rival gives its refund account; the buyer wins the lot."""
    rival = await enrol(client, session_id, name="对手企业", uscc_code=new_uscc(),
                        deposit_fen=20_000_000)
    buyer = await enrol(client, session_id, name="买受企业", uscc_code=new_uscc(),
                        deposit_fen=25_000_000)
    resp = await client.put(f"/api/v1/registrations/{rival.registration_id}/refund-account",
                            headers=_own(rival), json=ACCOUNT)
    assert resp.status_code == 200, resp.text
    assert resp.json()["refund_account"] == "6222021234567890123"
    rooms = services.rooms
    await rooms.open(lot_id)
    await rooms.bid(lot_id, bidder=rival.bidder_id, paddle=rival.paddle, amount=200_000_000)
    await rooms.bid(lot_id, bidder=buyer.bidder_id, paddle=buyer.paddle, amount=210_000_000)
    await rooms.close(lot_id, "hammer")
    drainer = Drainer(services.store, services.redis, services.keys)
    while await drainer.drain_once():
        pass
    return rival, buyer


async def test_the_refund_list_after_a_sale(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot,
    new_uscc: Callable[[], str],
) -> None:
    """Before settlement the loser's deposit is due back, not yet released, and the due date
    counts from the last close, the winner's counted as applied; after it, released; the
    winner's applied, nothing to refund. The loser's bank details are listed; the CSV holds
    the same."""
    session = await new_session()
    sid = session["id"]
    lot = await new_lot(sid, reserve_fen=None)
    rival, buyer = await _sale(client, services, sid, lot["id"], new_uscc)
    finance = await staff(client, "finance", session["market_code"])

    before = await client.get(f"/api/v1/sessions/{sid}/refunds", headers=finance)
    assert before.status_code == 200, before.text
    body = before.json()
    closed = datetime.fromisoformat(body["session_closed_at"])
    assert body["refund_due"] == refund_due(closed).isoformat()
    assert body["releasable"] is True
    lines = {r["paddle"]: r for r in body["refunds"]}
    assert (lines[rival.paddle]["refund_fen"], lines[rival.paddle]["released"]) == (
        20_000_000, False)
    # the winner's held deposit counts as applied before the settlement applies it
    assert (lines[buyer.paddle]["applied_fen"], lines[buyer.paddle]["refund_fen"],
            lines[buyer.paddle]["released"]) == (25_000_000, 0, True)

    settled = await client.post(f"/api/v1/sessions/{sid}/deposits/settle", headers=finance)
    assert settled.status_code == 200, settled.text
    body = (await client.get(f"/api/v1/sessions/{sid}/refunds", headers=finance)).json()
    lines = {r["paddle"]: r for r in body["refunds"]}
    loser = lines[rival.paddle]
    assert (loser["bidder_name"], loser["deposit_fen"], loser["applied_fen"],
            loser["refund_fen"], loser["released_fen"], loser["released"]) == (
        "对手企业", 20_000_000, 0, 20_000_000, 20_000_000, True)
    assert (loser["refund_name"], loser["refund_bank"], loser["refund_account"]) == (
        "对手企业", "中国工商银行济南分行营业部", "6222021234567890123")
    winner = lines[buyer.paddle]
    assert (winner["deposit_fen"], winner["applied_fen"], winner["refund_fen"],
            winner["released"]) == (25_000_000, 25_000_000, 0, True)
    assert winner["refund_account"] == ""
    assert body["totals"] == {"deposit_fen": 45_000_000, "applied_fen": 25_000_000,
                              "forfeited_fen": 0, "refund_fen": 20_000_000,
                              "released_fen": 20_000_000}
    assert body["releasable"] is False

    sheet = await client.get(f"/api/v1/sessions/{sid}/refunds.csv", headers=finance)
    assert sheet.status_code == 200, sheet.text
    assert sheet.headers["content-type"].startswith("text/csv")
    assert sheet.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["号牌", "竞买人"]
    by_paddle = {r[0]: r for r in rows[1:]}
    line = by_paddle[str(rival.paddle)]
    assert line[4] == "200000.00" and line[7] == "200000.00" and line[9] == "是"
    assert line[10:] == ["对手企业", "中国工商银行济南分行营业部", "6222 0212 3456 7890 123"]


async def test_before_the_sale_ends_no_due_date(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot,
    new_uscc: Callable[[], str],
) -> None:
    """A paid registration before any lot closed: listed with its whole deposit to refund, no
    due date, not releasable."""
    sid = (await new_session())["id"]
    await new_lot(sid)
    paid = await enrol(client, sid, name="已交企业", uscc_code=new_uscc(), deposit_fen=20_000_000)
    body = (await client.get(f"/api/v1/sessions/{sid}/refunds", headers=ADMIN)).json()
    assert (body["refund_due"], body["session_closed_at"], body["releasable"]) == (
        None, None, False)
    [line] = body["refunds"]
    assert (line["registration_id"], line["refund_fen"], line["released"]) == (
        paid.registration_id, 20_000_000, False)


async def test_a_formula_in_the_bank_details_is_defused(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot,
    new_uscc: Callable[[], str],
) -> None:
    """A 户名 starting with ``=`` reaches the CSV as text (a leading apostrophe)."""
    sid = (await new_session())["id"]
    await new_lot(sid)
    paid = await enrol(client, sid, name="公式企业", uscc_code=new_uscc(), deposit_fen=20_000_000)
    resp = await client.put(f"/api/v1/registrations/{paid.registration_id}/refund-account",
                            headers=_own(paid), json={**ACCOUNT, "refund_name": "=1+2"})
    assert resp.status_code == 200, resp.text
    sheet = await client.get(f"/api/v1/sessions/{sid}/refunds.csv", headers=ADMIN)
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert rows[1][10] == "'=1+2"


async def test_applying_with_a_refund_account(
    client: httpx.AsyncClient, new_session: NewSession
) -> None:
    """The account given when applying is on the registration's page; part of it, or a bad
    number, is 400 naming the field and registers nothing; the desk cannot give one."""
    session = await new_session()
    sid = session["id"]
    bidder_id, own = await bidder(client)
    url = f"/api/v1/sessions/{sid}/registrations"
    partial = await client.post(url, headers=own, json={
        "bidder_id": bidder_id, "refund_name": "某企业", "refund_bank": "某银行"})
    assert partial.status_code == 400 and error_of(partial)["field"] == "refund_account"
    bad = await client.post(url, headers=own, json={
        "bidder_id": bidder_id, **ACCOUNT, "refund_account": "62220212345A"})
    assert bad.status_code == 400 and error_of(bad)["field"] == "refund_account"
    short = await client.post(url, headers=own, json={
        "bidder_id": bidder_id, **ACCOUNT, "refund_account": "12345"})
    assert short.status_code == 400 and error_of(short)["field"] == "refund_account"
    mine = await client.get("/api/v1/registrations/mine", headers=own)
    assert mine.json()["registrations"] == []
    resp = await client.post(url, headers=own, json={"bidder_id": bidder_id, **ACCOUNT})
    assert resp.status_code == 201, resp.text
    view = await client.get(f"/api/v1/registrations/{resp.json()['id']}", headers=own)
    assert view.json()["refund_account"] == {
        "refund_name": "对手企业", "refund_bank": "中国工商银行济南分行营业部",
        "refund_account": "6222021234567890123"}
    other_id, _ = await bidder(client)
    desk = await client.post(url, headers=ADMIN, json={"bidder_id": other_id, **ACCOUNT})
    assert desk.status_code == 400 and error_of(desk)["field"] == "refund_name"


async def test_only_the_bidder_changes_its_account_until_forfeited(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot,
    new_uscc: Callable[[], str],
) -> None:
    """Another bidder and the market's staff get 403; once the deposit is forfeited, 409
    ``wrong_state``."""
    session = await new_session()
    sid = session["id"]
    await new_lot(sid)
    paid = await enrol(client, sid, name="没收企业", uscc_code=new_uscc(), deposit_fen=20_000_000)
    url = f"/api/v1/registrations/{paid.registration_id}/refund-account"
    _, stranger = await bidder(client)
    finance = await staff(client, "finance", session["market_code"])
    for who in (stranger, finance, ADMIN):
        assert (await client.put(url, headers=who, json=ACCOUNT)).status_code == 403
    assert (await client.put(url, json=ACCOUNT)).status_code == 401
    await ledger.hold_session(services.store, sid, actor="test")
    [deposit] = (await client.get(f"/api/v1/sessions/{sid}/deposits", headers=finance)).json()[
        "deposits"]
    forfeited = await client.post(f"/api/v1/deposits/{deposit['id']}/forfeit", headers=finance,
                                  json={"reason": "悔拍"})
    assert forfeited.status_code == 200, forfeited.text
    late = await client.put(url, headers=_own(paid), json=ACCOUNT)
    assert late.status_code == 409 and error_of(late)["code"] == "wrong_state"
    line = (await client.get(f"/api/v1/sessions/{sid}/refunds", headers=finance)).json()[
        "refunds"][0]
    assert (line["forfeited_fen"], line["refund_fen"], line["released"]) == (
        20_000_000, 0, True)


async def test_who_reads_the_refund_list(
    client: httpx.AsyncClient, new_session: NewSession
) -> None:
    """Finance and the admin of the session's market read it (JSON and CSV); its auctioneer,
    another market's finance, a bidder get 403; anonymous 401; an unknown session is 403, 404
    to the platform admin only."""
    session = await new_session()
    sid = session["id"]
    code = session["market_code"]
    other_code = (await new_session())["market_code"]
    _, own = await bidder(client)
    for path in ("refunds", "refunds.csv"):
        url = f"/api/v1/sessions/{sid}/{path}"
        for role in ("finance", "market_admin"):
            resp = await client.get(url, headers=await staff(client, role, code))
            assert resp.status_code == 200, (role, resp.text)
        for who in (await staff(client, "auctioneer", code),
                    await staff(client, "finance", other_code), own):
            assert (await client.get(url, headers=who)).status_code == 403
        assert (await client.get(url)).status_code == 401
        finance = await staff(client, "finance", code)
        assert (await client.get(f"/api/v1/sessions/987654321/{path}",
                                 headers=finance)).status_code == 403
        assert (await client.get(f"/api/v1/sessions/987654321/{path}",
                                 headers=ADMIN)).status_code == 404


async def test_an_agent_cannot_redirect_the_refund(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot,
    new_uscc: Callable[[], str],
) -> None:
    """The agent's own login (bound to the registration) may bid but not set where the deposit
    goes back: 403, the account unchanged."""
    sid = (await new_session())["id"]
    await new_lot(sid)
    paid = await enrol(client, sid, name="代理企业", uscc_code=new_uscc(), deposit_fen=20_000_000)
    agent = await client.post(f"/api/v1/registrations/{paid.registration_id}/agent",
                              headers=_own(paid), json={
                                  "agent_name": "张三", "agent_resident_id": resident_id(),
                                  "username": f"agent-{paid.registration_id}-{sid}",
                                  "password": PASSWORD})
    assert agent.status_code == 200, agent.text
    login = await client.post("/api/v1/auth/login", json={
        "username": f"agent-{paid.registration_id}-{sid}", "password": PASSWORD})
    assert login.status_code == 200, login.text
    url = f"/api/v1/registrations/{paid.registration_id}/refund-account"
    resp = await client.put(url, headers={"Authorization": f"Bearer {login.json()['token']}"},
                            json=ACCOUNT)
    assert resp.status_code == 403, resp.text
    view = await client.get(f"/api/v1/registrations/{paid.registration_id}",
                            headers=_own(paid))
    assert view.json()["refund_account"]["refund_account"] == ""
