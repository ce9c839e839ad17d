"""The buyer's payment of the balance and the default (悔拍) over HTTP (docs/http-api.md
"Payment of the balance"; rules in :mod:`auction.domain.payment`, rows in
:mod:`auction.store.deals`).

- ``GET /api/v1/lots/{id}/payment``: price, deposit applied, balance, paid, open, due date and
  status (待付款 / 已付清 / 逾期 / 悔拍) with the payments; the market (``manage_payments``:
  finance of the market, market admins above it) and the buyer's own login
- ``POST /api/v1/lots/{id}/payments {amount_fen, paid_on, bank_reference}``: one part payment
- ``GET /api/v1/sessions/{id}/payments``: every sold lot of the session with its money
- ``POST /api/v1/lots/{id}/default {reason}``: only after the due date passed unpaid; forfeits the
  buyer's deposit through the ledger, records the default against the bidder, revokes the
  registration's bid credentials and pushes the session's eligibility again

"Today" is the server's calendar day in China (:func:`server_day`): the due date is a day, so a
lot is overdue from the day after it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction.accounts import revocation
from auction.accounts.policy import Action
from auction.api import guard
from auction.api.admin import missing, session_scope
from auction.api.guard import Denied
from auction.api.http_errors import BadRequest, read_body
from auction.api.registrations import actor_of
from auction.api.tokens import Principal, account_keys
from auction.domain import deadlines
from auction.domain.errors import Rejection
from auction.domain.payment import STATUS_TEXT
from auction.domain.publicity import mask_person
from auction.rooms import eligibility
from auction.services import Services
from auction.store import deals
from auction.store.deals import Payment, Sale
from auction.store.records import rfc3339


def server_day() -> date:
    """The server clock's calendar day in China Standard Time."""
    return deadlines.day_in_china(datetime.now(UTC))


def payment_json(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id, "lot_id": payment.lot_id, "amount_fen": payment.amount_fen,
        "paid_on": payment.paid_on.isoformat(), "bank_reference": payment.bank_reference,
        "recorded_by": payment.recorded_by, "recorded_at": rfc3339(payment.recorded_at),
    }


def sale_json(sale: Sale, today: date, *, staff: bool) -> dict[str, Any]:
    """The money of a sold lot; staff see the buyer's name, the buyer its own page."""
    account = sale.account
    status = account.status(today)
    person = sale.buyer_kind == "person"
    return {
        "lot_id": sale.lot_id, "session_id": sale.session_id, "ordinal": sale.ordinal,
        "title": sale.title, "paddle": sale.paddle,
        "buyer": {"id": sale.winner_id, "kind": sale.buyer_kind,
                  "name": sale.buyer_name if staff or not person else mask_person(
                      sale.buyer_name)},
        "hammer_at": rfc3339(sale.closed_at), "price_fen": account.price_fen,
        "deposit_applied_fen": account.deposit_applied_fen, "balance_fen": account.balance_fen,
        "paid_fen": account.paid_fen, "open_fen": account.open_fen,
        "due_on": account.due_on.isoformat(), "status": STATUS_TEXT[status],
        "status_code": status.value,
        "default": None if not account.defaulted else {
            "reason": sale.default_reason, "declared_at": rfc3339(sale.defaulted_at),
            "forfeited_fen": sale.forfeited_fen,
        },
    }


async def _lot_scope(services: Services, who: Principal, lot_id: int) -> tuple[int, int]:
    """``(session_id, market_id)`` of the path's lot; an unknown lot is refused like another
    market's (404 for the platform admin only)."""
    try:
        terms = await guard.lot_terms(services, lot_id)
    except Rejection:
        raise missing(who, "标的不存在", "lot_id") from None
    return terms.session_id, terms.market_id


async def _staff_lot(request: Request) -> tuple[Services, Principal, int, int]:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    lot_id = int(request.path_params["lot_id"])
    session_id, market_id = await _lot_scope(services, who, lot_id)
    await guard.require(
        services, who, Action.MANAGE_PAYMENTS, market_id=market_id, session_id=session_id
    )
    return services, who, lot_id, session_id


async def _answer(services: Services, lot_id: int, *, staff: bool) -> dict[str, Any]:
    sale = await deals.sale(services.store, lot_id)
    assert sale is not None, "a payment or default was recorded: the lot is sold"
    return {**sale_json(sale, server_day(), staff=staff),
            "payments": [payment_json(p) for p in await deals.payments(services.store, lot_id)]}


async def get_payment(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    lot_id = int(request.path_params["lot_id"])
    session_id, market_id = await _lot_scope(services, who, lot_id)
    sale = await deals.sale(services.store, lot_id)
    if who.role == "bidder":
        # the buyer's own login (or its agent's), for its own purchase only
        if sale is None or sale.winner_id != who.bidder_id or who.kind != "account":
            raise Denied("forbidden", "只能查看本人买受标的的付款情况")
        staff = False
    else:
        await guard.require(services, who, Action.MANAGE_PAYMENTS, market_id=market_id,
                            session_id=session_id)
        staff = True
    if sale is None:
        raise BadRequest("该标的没有成交, 没有尾款", "lot_id", code="not_sold", status=404)
    return JSONResponse(await _answer(services, lot_id, staff=staff))


def _paid_on(text: str, today: date) -> date:
    try:
        if len(text) != 10:
            raise ValueError(text)
        value = date.fromisoformat(text)
    except ValueError:
        raise BadRequest("字段 paid_on 应为日期, 如 2026-04-20", "paid_on") from None
    if value > today:
        raise BadRequest("字段 paid_on 不能晚于今天", "paid_on")
    return value


async def record_payment(request: Request) -> JSONResponse:
    services, who, lot_id, _ = await _staff_lot(request)
    body = await read_body(request)
    amount = body.integer("amount_fen", minimum=1)
    paid_on = _paid_on(body.text("paid_on", max_len=10), server_day())
    reference = body.text("bank_reference", max_len=64)
    body.done()
    sale = await deals.sale(services.store, lot_id)
    if sale is not None and paid_on < deadlines.day_in_china(sale.closed_at):
        raise BadRequest("字段 paid_on 不能早于成交日", "paid_on")
    payment = await deals.record_payment(
        services.store, lot_id, amount_fen=amount, paid_on=paid_on, bank_reference=reference,
        recorded_by=who.subject or who.role,
    )
    return JSONResponse({"id": payment.id, "payment": payment_json(payment),
                         "account": await _answer(services, lot_id, staff=True)},
                        status_code=201)


async def session_payments(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    session_id = await session_scope(request, who, Action.MANAGE_PAYMENTS)
    today = server_day()
    sales = await deals.session_sales(services.store, session_id)
    return JSONResponse({"session_id": session_id, "today": today.isoformat(),
                         "sales": [sale_json(s, today, staff=True) for s in sales]})


async def declare_default(request: Request) -> JSONResponse:
    services, who, lot_id, session_id = await _staff_lot(request)
    body = await read_body(request)
    reason = body.text("reason", max_len=500)
    body.done()
    declared = await deals.declare_default(
        services.store, lot_id, reason=reason, today=server_day(),
        actor=who.subject or who.role, by=actor_of(who),
    )
    # the registration is forfeited: its credentials are revoked, its sockets closed (4401)
    for registration_id in declared.registration_ids:
        await revocation.revoke_registration(
            services.redis, account_keys(services), registration_id=registration_id
        )
    await eligibility.push_session(services, session_id)
    return JSONResponse({
        **await _answer(services, lot_id, staff=True),
        "forfeited_fen": declared.forfeited_fen, "forfeited_deposits": declared.deposit_ids,
    })


routes: list[BaseRoute] = [
    Route("/api/v1/lots/{lot_id:int}/payment", get_payment, methods=["GET"]),
    Route("/api/v1/lots/{lot_id:int}/payments", record_payment, methods=["POST"]),
    Route("/api/v1/lots/{lot_id:int}/default", declare_default, methods=["POST"]),
    Route("/api/v1/sessions/{session_id:int}/payments", session_payments, methods=["GET"]),
]
