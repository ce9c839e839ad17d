"""Registrations (报名) over HTTP: applying for a session and a bidder's credential for it.

- ``POST /api/v1/sessions/{id}/registrations {bidder_id}``: by the bidder's own account, or by
  staff of the session's market (the registration desk).
- ``POST /api/v1/registrations/{id}/token``: the bidder account's credential for the
  registration's session (with its paddle), once the deposit is confirmed.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction.accounts.policy import Action
from auction.api import guard
from auction.api.guard import Denied
from auction.api.http_errors import read_body
from auction.api.tokens import Principal
from auction.store import accounts as account_store
from auction.store.errors import NotFound


async def apply_registration(request: Request) -> JSONResponse:
    """报名: by the bidder's own account, or by staff of the session's market for a bidder."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    body = await read_body(request)
    bidder_id = body.integer("bidder_id", minimum=1, maximum=2**63 - 1)
    body.done()
    store = services.store
    try:
        market = await guard.session_market(services, int(request.path_params["session_id"]))
    except NotFound:
        if who.role != "admin":
            raise Denied("forbidden", "无权为该场次报名") from None
        raise
    await guard.require(
        services, who, Action.REGISTER, market_id=market, bidder_id=bidder_id,
        session_id=int(request.path_params["session_id"]),
    )
    session = await store.get_session(request.path_params["session_id"])
    await store.get_bidder(bidder_id)
    registration = await store.apply_registration(session.id, bidder_id)
    return JSONResponse(registration.to_json(), status_code=201)


async def registration_token(request: Request) -> JSONResponse:
    """The bidder's token for the registration's session, with its paddle (deposit confirmed)."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    registration_id = int(request.path_params["registration_id"])
    found = await account_store.registration_scope(services.store, registration_id)
    if who.role != "bidder" or found is None or found[2] != who.bidder_id:
        raise Denied("forbidden", "只能为本企业的报名领取竞买令牌")
    (await read_body(request, optional=True)).done()
    registration = await services.store.get_registration(registration_id)
    if registration.status != "deposit_paid" or not registration.paddle:
        raise Denied("deposit_required", "保证金确认到账后才能领取竞买号牌")
    session_id, market_id, _ = found
    token = services.tokens.mint(Principal(
        role="bidder", subject=who.subject, bidder_id=who.bidder_id, session_id=session_id,
        paddle=registration.paddle, market_id=market_id, account_id=who.account_id,
    ), ttl_s=services.settings.token_ttl_s)
    return JSONResponse({"registration": registration.to_json(), "paddle": registration.paddle,
                         "token": token})


routes: list[BaseRoute] = [
    Route(
        "/api/v1/sessions/{session_id:int}/registrations", apply_registration, methods=["POST"]
    ),
    Route(
        "/api/v1/registrations/{registration_id:int}/token", registration_token,
        methods=["POST"],
    ),
]
