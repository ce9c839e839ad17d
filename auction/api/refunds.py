"""Refunds (退款, issue 12 item 4; docs/http-api.md "Refunds"): the session's refund list with
the bidders' bank details, and the bidder's refund account.

- ``GET /api/v1/sessions/{id}/refunds``: per registration that paid a deposit: bidder, paddle,
  paid, applied to a won lot, forfeited, to refund, released so far, and the refund account;
  with totals, when the session closed and the refund due date
  (:func:`auction.domain.deadlines.refund_due`). The release itself is the ledger's settlement
  (``POST /sessions/{id}/deposits/settle``); ``releasable`` says it is due (every lot closed,
  some refund not yet released).
- ``GET /api/v1/sessions/{id}/refunds.csv``: the same list as CSV (UTF-8 with a BOM, amounts in
  元, text cells defused against formulas as ``audit.csv`` does).
- ``PUT /api/v1/registrations/{id}/refund-account {refund_name, refund_bank, refund_account}``:
  the bidder's own login (not an agent's) sets where its deposit goes back, until the
  registration is forfeited (409 ``wrong_state``).

The refund list is for whoever may manage the session's deposits (:data:`Action.MANAGE_DEPOSITS`:
finance of the session's market, a market admin of it or above, the platform admin); anyone
else 403 (a guessed id too), 401 without a login. Applying takes the same three fields
(:func:`refund_account_of`).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from auction.accounts.policy import Action
from auction.api import guard
from auction.api.admin import registration_scope, session_scope
from auction.api.audit import defused
from auction.api.guard import Denied
from auction.api.http_errors import BadRequest, Body, read_body
from auction.domain.deadlines import refund_due
from auction.store import accounts as account_store
from auction.store import refunds as store_refunds
from auction.store.records import rfc3339
from auction.store.refunds import Refund, RefundAccount

FIELDS = ("refund_name", "refund_bank", "refund_account")
#: a bank account number as people type it: digits, in groups separated by spaces or hyphens
_ACCOUNT = re.compile(r"^[0-9][0-9 \-]*[0-9]$")
MIN_DIGITS, MAX_DIGITS = 6, 32


def refund_account_of(body: Body, *, required: bool = False) -> RefundAccount | None:
    """The body's refund account (户名 ``refund_name``, 开户行 ``refund_bank``, 账号
    ``refund_account``): all three or none (``None``; with ``required``, 400 naming the first
    missing). The number is kept as its digits; 400 naming the field when it is not 6–32 digits
    (spaces and hyphens between groups are allowed)."""
    given = {f: body.optional_text(f, max_len=100) for f in FIELDS}
    if not required and all(v is None for v in given.values()):
        return None
    for name in FIELDS:
        if given[name] is None:
            raise BadRequest(f"缺少字段 {name} (户名、开户行、账号须一并填写)", name)
    number = str(given["refund_account"])
    digits = re.sub(r"[ \-]", "", number)
    if not _ACCOUNT.match(number) or not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        raise BadRequest(f"字段 refund_account 应为银行账号 ({MIN_DIGITS}–{MAX_DIGITS} 位数字)",
                         "refund_account")
    return RefundAccount(name=str(given["refund_name"]), bank=str(given["refund_bank"]),
                         account=digits)


async def set_refund_account(request: Request) -> JSONResponse:
    """The bidder's own login (not its agent's) sets its registration's refund account."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    if who.role == "viewer":
        raise Denied("unauthorized", "请先登录竞买人账号")
    if who.role != "bidder" or not who.is_own_login:
        raise Denied("forbidden", "只有竞买人本人的登录令牌可以办理")
    registration_id, *_ = await registration_scope(request, who, Action.OWN_REGISTRATION)
    body = await read_body(request)
    account = refund_account_of(body, required=True)
    body.done()
    assert account is not None  # required
    mine = await account_store.get_account(services.store, who.account_id)
    if mine.registration_id is not None:
        raise Denied("forbidden", "委托代理人不能修改退款账户")
    saved = await store_refunds.set_refund_account(services.store, registration_id, account)
    return JSONResponse({"registration_id": registration_id, **saved.to_json()})


async def _refund_view(request: Request) -> tuple[int, list[Refund], datetime | None]:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    session_id = await session_scope(request, who, Action.MANAGE_DEPOSITS)
    rows = await store_refunds.refund_list(services.store, session_id)
    closed = await store_refunds.session_closed_at(services.store, session_id)
    return session_id, rows, closed


async def session_refunds(request: Request) -> JSONResponse:
    """GET /api/v1/sessions/{id}/refunds (see the module doc)."""
    session_id, rows, closed = await _refund_view(request)
    totals = {k: sum(getattr(r, a) for r in rows) for k, a in (
        ("deposit_fen", "paid_fen"), ("applied_fen", "applied_fen"),
        ("forfeited_fen", "forfeited_fen"), ("refund_fen", "refund_fen"),
        ("released_fen", "released_fen"))}
    return JSONResponse({
        "session_id": session_id, "session_closed_at": rfc3339(closed),
        "refund_due": None if closed is None else refund_due(closed).isoformat(),
        "releasable": closed is not None and any(not r.released for r in rows),
        "refunds": [r.to_json() for r in rows], "totals": totals,
    })


CSV_COLUMNS = ("号牌", "竞买人", "统一社会信用代码", "报名编号", "已交保证金 (元)",
               "转为价款 (元)", "没收 (元)", "应退 (元)", "已退 (元)", "是否已退", "户名",
               "开户行", "账号")


def _yuan(fen: int) -> str:
    whole, cents = divmod(fen, 100)
    return f"{whole}.{cents:02d}"


def _grouped(digits: str) -> str:
    """``6222021234567890`` → ``6222 0212 3456 7890``: read as text by a spreadsheet (a long
    number would be shown in scientific notation and lose its last digits)."""
    return " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))


def _csv_row(r: Refund) -> tuple[Any, ...]:
    return (
        r.paddle or "", defused(r.bidder_name), r.bidder_uscc or "", r.registration_id,
        _yuan(r.paid_fen), _yuan(r.applied_fen), _yuan(r.forfeited_fen), _yuan(r.refund_fen),
        _yuan(r.released_fen), "是" if r.released else "否", defused(r.account.name),
        defused(r.account.bank), _grouped(r.account.account),
    )


async def session_refunds_csv(request: Request) -> Response:
    """GET /api/v1/sessions/{id}/refunds.csv: the refund list as CSV (UTF-8 with a BOM)."""
    session_id, rows, _ = await _refund_view(request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow(_csv_row(r))
    return Response(
        "\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="refunds-{session_id}.csv"'},
    )


routes: list[BaseRoute] = [
    Route("/api/v1/sessions/{session_id:int}/refunds", session_refunds, methods=["GET"]),
    Route("/api/v1/sessions/{session_id:int}/refunds.csv", session_refunds_csv,
          methods=["GET"]),
    Route("/api/v1/registrations/{registration_id:int}/refund-account", set_refund_account,
          methods=["PUT"]),
]
