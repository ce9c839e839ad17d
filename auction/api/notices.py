"""成交公示 settings and objections over HTTP (docs/http-api.md "成交公示"; the public list is
``GET /api/v1/publicity`` in :mod:`auction.api.listing`).

- ``PATCH /api/v1/markets/{code} {notice_working_days?, objection_contact?}``: the market's notice
  period (1–30 working days; default :data:`auction.domain.deadlines.DEFAULT_NOTICE_WORKING_DAYS`)
  and the objection contact published with its notices; a market admin of the market or above
  (``manage_publicity``). A new period applies to notices opened after it.
- ``POST /api/v1/lots/{id}/objections {name, contact, text}``: anyone, without a login, while the
  lot's notice runs (after its last day: 409 ``notice_closed``); counted per client address
  (:data:`auction.accounts.limits.OBJECTION_PER_ADDRESS`: 429 ``rate_limited``)
- ``GET /api/v1/sessions/{id}/objections``: the objections against a session's lots, with the
  filer's contact, and the session's market's notice settings (``manage_publicity``)
- ``POST /api/v1/objections/{id}/resolution {resolution}``: how the market resolved it, once
"""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction.accounts import limits
from auction.accounts.policy import Action
from auction.api import guard
from auction.api.admin import missing, session_scope
from auction.api.guard import Denied
from auction.api.headers import client_address
from auction.api.http_errors import BadRequest, read_body
from auction.api.payments import server_day
from auction.api.tokens import account_keys
from auction.domain import deadlines
from auction.store import notices
from auction.store.errors import Conflict, NotFound
from auction.store.notices import MarketNotice, Notice, Objection
from auction.store.records import rfc3339

MAX_NOTICE_DAYS = 30


def market_json(market: MarketNotice) -> dict[str, Any]:
    return {"code": market.code, "name": market.name,
            "notice_working_days": market.notice_working_days,
            "objection_contact": market.objection_contact}


def period(notice: Notice, today: date) -> dict[str, Any]:
    """The notice's dates and whether it is still open on ``today`` (its last day included)."""
    ends = deadlines.notice_ends(notice.opened_at, notice.working_days)
    return {"opened_at": rfc3339(notice.opened_at),
            "starts_on": deadlines.day_in_china(notice.opened_at).isoformat(),
            "ends_on": ends.isoformat(), "working_days": notice.working_days,
            "open": today <= ends, "state": "current" if today <= ends else "closed"}


def objection_json(objection: Objection) -> dict[str, Any]:
    return {"id": objection.id, "lot_id": objection.lot_id, "title": objection.title,
            "name": objection.name, "contact": objection.contact, "text": objection.text,
            "filed_at": rfc3339(objection.filed_at), "resolution": objection.resolution,
            "resolved_by": objection.resolved_by, "resolved_at": rfc3339(objection.resolved_at)}


async def update_market(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    code = request.path_params["code"]
    market = await notices.market(services.store, code)
    if market is None:
        raise missing(who, "技术市场不存在", "code")
    await guard.require(services, who, Action.MANAGE_PUBLICITY, market_id=market.id)
    body = await read_body(request)
    days = None
    if body.raw("notice_working_days") is not None:
        days = body.integer("notice_working_days", minimum=1, maximum=MAX_NOTICE_DAYS)
    contact = None
    if body.raw("objection_contact") is not None:
        contact = body.text("objection_contact", max_len=200, allow_empty=True)
    body.done()
    if days is None and contact is None:
        raise BadRequest("请提供 notice_working_days 或 objection_contact")
    changed = await notices.update_market(services.store, market.id, working_days=days,
                                          contact=contact)
    return JSONResponse(market_json(changed))


async def file_objection(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    lot_id = int(request.path_params["lot_id"])
    body = await read_body(request)
    name = body.text("name", max_len=64)
    contact = body.text("contact", max_len=100)
    text = body.text("text", max_len=2000)
    body.done()
    try:
        await limits.check(services.redis, account_keys(services),
                           (limits.OBJECTION_PER_ADDRESS, client_address(request)))
    except limits.RateLimited as exc:
        raise Denied(exc.code, exc.message, retry_after_ms=exc.retry_after_ms) from exc
    notice = await notices.notice(services.store, lot_id)
    if notice is None:
        raise NotFound(message="该标的没有成交公示", field="lot_id")
    if not period(notice, server_day())["open"]:
        raise Conflict("notice_closed", "公示期已结束, 不再受理异议", "lot_id")
    objection = await notices.file_objection(services.store, lot_id, name=name,
                                             contact=contact, text=text)
    return JSONResponse({"id": objection.id, "lot_id": lot_id,
                         "filed_at": rfc3339(objection.filed_at), "status": "received"},
                        status_code=201)


async def session_objections(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    session_id = await session_scope(request, who, Action.MANAGE_PUBLICITY)
    rows = await notices.session_objections(services.store, session_id)
    session = await services.store.get_session(session_id)
    market = await notices.market(services.store, session.market_code)
    return JSONResponse({"session_id": session_id,
                         "market": None if market is None else market_json(market),
                         "objections": [objection_json(o) for o in rows]})


async def resolve_objection(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    objection_id = int(request.path_params["objection_id"])
    found = await notices.objection_scope(services.store, objection_id)
    if found is None:
        raise missing(who, "异议不存在", "objection_id")
    session_id, market_id = found
    await guard.require(services, who, Action.MANAGE_PUBLICITY, market_id=market_id,
                        session_id=session_id)
    body = await read_body(request)
    resolution = body.text("resolution", max_len=2000)
    body.done()
    objection = await notices.resolve(services.store, objection_id, resolution=resolution,
                                      by=who.subject or who.role)
    return JSONResponse(objection_json(objection))


routes: list[BaseRoute] = [
    Route("/api/v1/markets/{code}", update_market, methods=["PATCH"]),
    Route("/api/v1/lots/{lot_id:int}/objections", file_objection, methods=["POST"]),
    Route("/api/v1/sessions/{session_id:int}/objections", session_objections, methods=["GET"]),
    Route("/api/v1/objections/{objection_id:int}/resolution", resolve_objection,
          methods=["POST"]),
]
