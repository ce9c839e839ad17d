"""Payment of the balance and default (悔拍) over HTTP (issue 13 item 2), over real PostgreSQL and
Redis: part payments, overpayment, a duplicate bank reference, the status, and a default only
after the due date, forfeiting the deposit with the ledger still conserved.

"The due date passed" is set up honestly for this test's own database only: the lot's
settlement row is moved back to a hammer in April 2026 by SQL (time travel; nothing else is
touched), so the server's clock finds the due date in the past.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette

from auction.api import (
    admin,
    auth,
    catalogue,
    deposits,
    http_errors,
    me,
    payments,
    registrations,
)
from auction.domain import deadlines
from auction.services import Services
from auction.settlement.drainer import Drainer
from tests.api.conftest import ADMIN, NewLot, NewSession, error_of
from tests.api.people import bearer, staff
from tests.e2e.harness import Enrolled, enrol

PRICE = 230_000_000
DEPOSIT = 25_000_000
BALANCE = PRICE - DEPOSIT
APRIL = datetime(2026, 4, 17, 6, 30, tzinfo=UTC)  # a Friday, 14:30 in Beijing


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process app with the admin, registration, deposit and payment routes."""
    app = Starlette(
        routes=[*admin.routes, *auth.routes, *registrations.routes, *deposits.routes,
                *catalogue.routes, *payments.routes, *me.routes],
        exception_handlers=http_errors.exception_handlers(),
    )
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def sell(client: httpx.AsyncClient, services: Services, new_session: NewSession,
               new_lot: NewLot, new_uscc: Callable[[], str]
               ) -> tuple[dict[str, object], int, Enrolled, Enrolled]:
    """A lot sold for 230万 to a buyer holding a 25万 band deposit (a rival bid too):
    ``(session, lot_id, buyer, rival)``, settled by the drainer."""
    session = await new_session()
    sid = session["id"]
    lot = await new_lot(sid, reserve_fen=None)
    rival = await enrol(client, sid, name="对手企业", uscc_code=new_uscc(),
                        deposit_fen=20_000_000)
    buyer = await enrol(client, sid, name="买受企业", uscc_code=new_uscc(),
                        deposit_fen=DEPOSIT)
    rooms = services.rooms
    await rooms.open(lot["id"])
    await rooms.bid(lot["id"], bidder=rival.bidder_id, paddle=rival.paddle, amount=220_000_000)
    await rooms.bid(lot["id"], bidder=buyer.bidder_id, paddle=buyer.paddle, amount=PRICE)
    await rooms.close(lot["id"], "hammer")
    drainer = Drainer(services.store, services.redis, services.keys)
    while await drainer.drain_once():
        pass
    return session, lot["id"], buyer, rival


async def test_part_payments_until_paid(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot,
    new_uscc: Callable[[], str],
) -> None:
    """The balance is the price less the deposit; two part payments pay it; an overpayment is
    400, a repeated bank reference 409, a default before the due date 409 ``not_overdue`` and
    after payment 409 ``paid``; the buyer reads its own status, others are refused."""
    session, lot_id, buyer, rival = await sell(client, services, new_session, new_lot, new_uscc)
    finance = await staff(client, "finance", str(session["market_code"]))
    resp = await client.get(f"/api/v1/lots/{lot_id}/payment", headers=finance)
    assert resp.status_code == 200, resp.text
    account = resp.json()
    hammer = datetime.fromisoformat(account["hammer_at"])
    assert (account["price_fen"], account["deposit_applied_fen"], account["balance_fen"],
            account["paid_fen"], account["open_fen"]) == (PRICE, DEPOSIT, BALANCE, 0, BALANCE)
    assert account["due_on"] == deadlines.balance_due(hammer).isoformat()
    assert (account["status"], account["status_code"]) == ("待付款", "pending")
    assert account["buyer"]["name"] == "买受企业" and account["paddle"] == buyer.paddle

    today = deadlines.day_in_china(datetime.now(UTC)).isoformat()
    first = {"amount_fen": 100_000_000, "paid_on": today, "bank_reference": "ICBC-0001"}
    resp = await client.post(f"/api/v1/lots/{lot_id}/payments", headers=finance, json=first)
    assert resp.status_code == 201, resp.text
    assert resp.json()["account"]["open_fen"] == BALANCE - 100_000_000
    assert resp.json()["account"]["status"] == "待付款"

    again = await client.post(f"/api/v1/lots/{lot_id}/payments", headers=finance,
                              json={**first, "amount_fen": 1})
    assert again.status_code == 409 and error_of(again)["code"] == "duplicate_reference"
    over = await client.post(f"/api/v1/lots/{lot_id}/payments", headers=finance, json={
        "amount_fen": BALANCE - 100_000_000 + 1, "paid_on": today, "bank_reference": "X-2"})
    assert over.status_code == 400 and error_of(over)["code"] == "overpayment"
    assert error_of(over)["field"] == "amount_fen"
    for bad, field in (({"amount_fen": 0}, "amount_fen"), ({"amount_fen": "5"}, "amount_fen"),
                       ({"paid_on": "2099-01-01"}, "paid_on"), ({"paid_on": "17/4"}, "paid_on"),
                       ({"bank_reference": ""}, "bank_reference")):
        resp = await client.post(f"/api/v1/lots/{lot_id}/payments", headers=finance,
                                 json={"amount_fen": 1, "paid_on": today,
                                       "bank_reference": "B-1", **bad})
        assert resp.status_code == 400 and error_of(resp)["field"] == field, resp.text
    early = await client.post(f"/api/v1/lots/{lot_id}/default", headers=finance,
                              json={"reason": "未付尾款"})
    assert early.status_code == 409 and error_of(early)["code"] == "not_overdue"

    # the buyer's own login reads its own purchase; the rival and an auctioneer may not
    mine = await client.get(f"/api/v1/lots/{lot_id}/payment",
                            headers=bearer(buyer.account_token))
    assert mine.status_code == 200 and mine.json()["open_fen"] == BALANCE - 100_000_000
    assert [p["bank_reference"] for p in mine.json()["payments"]] == ["ICBC-0001"]
    other = await client.get(f"/api/v1/lots/{lot_id}/payment",
                             headers=bearer(rival.account_token))
    assert other.status_code == 403
    auctioneer = await staff(client, "auctioneer", str(session["market_code"]))
    refused = await client.post(f"/api/v1/lots/{lot_id}/payments", headers=auctioneer, json={
        "amount_fen": 1, "paid_on": today, "bank_reference": "A-1"})
    assert refused.status_code == 403

    rest = await client.post(f"/api/v1/lots/{lot_id}/payments", headers=finance, json={
        "amount_fen": BALANCE - 100_000_000, "paid_on": today, "bank_reference": "ICBC-0002"})
    assert rest.status_code == 201, rest.text
    assert (rest.json()["account"]["open_fen"], rest.json()["account"]["status"]) == (
        0, "已付清")
    listed = await client.get(f"/api/v1/sessions/{session['id']}/payments", headers=finance)
    assert [(s["lot_id"], s["status"], s["paid_fen"]) for s in listed.json()["sales"]] == [
        (lot_id, "已付清", BALANCE)]
    paid = await client.post(f"/api/v1/lots/{lot_id}/default", headers=finance,
                             json={"reason": "未付尾款"})
    assert paid.status_code == 409 and error_of(paid)["code"] == "paid"


async def test_default_after_the_due_date_forfeits_the_deposit(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot,
    new_uscc: Callable[[], str],
) -> None:
    """With the hammer moved back to April (the due date long past) the lot is 逾期; a default
    forfeits the buyer's applied deposit through the ledger (still conserved), records the
    default against the bidder (shown on its registration to staff), and marks the lot 悔拍:
    no further payment or default."""
    session, lot_id, buyer, _ = await sell(client, services, new_session, new_lot, new_uscc)
    sid = session["id"]
    finance = await staff(client, "finance", str(session["market_code"]))
    settled = await client.post(f"/api/v1/sessions/{sid}/deposits/settle", headers=finance)
    assert settled.status_code == 200, settled.text
    async with services.store.pool.acquire() as conn:  # time travel, this database only
        await conn.execute("UPDATE lot_results SET closed_at = $2 WHERE lot_id = $1",
                           lot_id, APRIL)
    resp = await client.get(f"/api/v1/lots/{lot_id}/payment", headers=finance)
    assert (resp.json()["status"], resp.json()["due_on"]) == ("逾期", "2026-04-24")
    assert resp.json()["deposit_applied_fen"] == DEPOSIT

    missing_reason = await client.post(f"/api/v1/lots/{lot_id}/default", headers=finance,
                                       json={})
    assert missing_reason.status_code == 400
    resp = await client.post(f"/api/v1/lots/{lot_id}/default", headers=finance,
                             json={"reason": "逾期未付尾款"})
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    assert (answer["status"], answer["forfeited_fen"]) == ("悔拍", DEPOSIT)
    assert answer["default"]["reason"] == "逾期未付尾款"

    states = (await client.get(f"/api/v1/sessions/{sid}/deposits", headers=finance)).json()
    by_bidder = {d["bidder_id"]: d["state"] for d in states["deposits"]}
    assert by_bidder[buyer.bidder_id] == "forfeited"
    ledger = await client.get(f"/api/v1/markets/{session['market_code']}/ledger",
                              headers=finance)
    assert ledger.json()["conserved"] is True
    market = ledger.json()["markets"][0]
    assert market["balances"]["forfeited"] == DEPOSIT and market["balances"]["applied"] == 0

    registration = await client.get(f"/api/v1/registrations/{buyer.registration_id}",
                                    headers=finance)
    assert registration.json()["status"] == "forfeited"
    assert [(d["lot_id"], d["reason"], d["forfeited_fen"])
            for d in registration.json()["defaults"]] == [(lot_id, "逾期未付尾款", DEPOSIT)]
    own = await client.get(f"/api/v1/registrations/{buyer.registration_id}",
                           headers=bearer(buyer.account_token))
    assert "defaults" not in own.json()

    # 我的竞拍 no longer says 待登记 for a contract that will not be registered
    mine = await client.get("/api/v1/me/auction", headers=bearer(buyer.account_token))
    [won] = [w for w in mine.json()["won"] if w["lot_id"] == lot_id]
    assert won["next_step_code"] == "defaulted"
    assert won["registration"]["shown"] == "void", won

    twice = await client.post(f"/api/v1/lots/{lot_id}/default", headers=finance,
                              json={"reason": "再次"})
    assert twice.status_code == 409 and error_of(twice)["code"] == "defaulted"
    late = await client.post(f"/api/v1/lots/{lot_id}/payments", headers=finance, json={
        "amount_fen": 1, "paid_on": "2026-05-06", "bank_reference": "LATE-1"})
    assert late.status_code == 409 and error_of(late)["code"] == "defaulted"


async def test_an_unsold_or_unknown_lot_has_no_balance(
    client: httpx.AsyncClient, new_lot: NewLot
) -> None:
    """A lot without a sale is 404 ``not_sold`` (409 for a payment); an unknown lot 404 for
    the platform admin."""
    lot = await new_lot()
    resp = await client.get(f"/api/v1/lots/{lot['id']}/payment", headers=ADMIN)
    assert resp.status_code == 404 and error_of(resp)["code"] == "not_sold"
    pay = await client.post(f"/api/v1/lots/{lot['id']}/payments", headers=ADMIN, json={
        "amount_fen": 1, "paid_on": "2026-05-06", "bank_reference": "N-1"})
    assert pay.status_code == 409 and error_of(pay)["code"] == "not_sold"
    unknown = await client.get("/api/v1/lots/999999999/payment", headers=ADMIN)
    assert unknown.status_code == 404
