"""Deposits over HTTP (finance): lists and refunds, settling a session's deposits, forfeits, the
ledger's conservation view, and recording an agent before bidding starts.

- ``GET /api/v1/sessions/{id}/deposits?state=`` (``state=released``: the refunds to pay)
- ``POST /api/v1/sessions/{id}/deposits/settle``: every lot settled → winners' deposits
  ``applied``, the others ``released``; idempotent
- ``POST /api/v1/deposits/{id}/forfeit {reason}``: default (悔拍); the registration is
  forfeited with it and its credentials revoked (sockets closed with 4401)
- ``GET /api/v1/markets/{code}/ledger``: per market of the caller's scope under ``code`` (the
  market and every market below it), received vs. balances per state, and ``conserved``
- ``POST /api/v1/registrations/{id}/agent {agent_name, agent_resident_id, username?,
  password?}``: 委托代理竞买; with a username and password (the bidder's own login only) the
  agent gets its own bidder account, bound to this registration

Settling and forfeiting change who may bid: both push the session's eligible sets into Redis
after PostgreSQL committed (:mod:`auction.rooms.eligibility`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction.accounts import passwords, revocation
from auction.accounts.policy import Action, allows
from auction.api import guard
from auction.api.admin import missing, registration_scope, session_scope
from auction.api.guard import Denied
from auction.api.http_errors import BadRequest, read_body
from auction.api.registrations import actor_of
from auction.api.tokens import account_keys
from auction.domain.deposits import DepositState
from auction.domain.identity import IdentityError, mask_resident_id, validate_resident_id
from auction.rooms import eligibility
from auction.store import accounts as account_store
from auction.store import ledger
from auction.store import registrations as store_registrations
from auction.store.errors import Conflict, NotFound
from auction.store.records import CST, rfc3339


async def list_deposits(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    session_id = await session_scope(request, who, Action.MANAGE_DEPOSITS)
    state = request.query_params.get("state") or None
    if state is not None and state not in tuple(DepositState):
        raise BadRequest("查询参数 state 不是保证金状态", "state")
    deposits = await ledger.list_deposits(services.store, session_id, state)
    return JSONResponse({
        "session_id": session_id, "deposits": [d.to_json() for d in deposits],
        "total_fen": sum(d.amount_fen for d in deposits),
    })


async def settle_deposits(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    session_id = await session_scope(request, who, Action.MANAGE_DEPOSITS)
    (await read_body(request, optional=True)).done()
    summary = await ledger.settle_session(
        services.store, session_id, actor=who.subject or who.role
    )
    await eligibility.push_session(services, session_id)
    return JSONResponse({"session_id": session_id, **summary})


async def forfeit_deposit(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    deposit_id = int(request.path_params["deposit_id"])
    found = await ledger.deposit_scope(services.store, deposit_id)
    if found is None:
        raise missing(who, "保证金记录不存在", "deposit_id")
    session_id, market_id = found
    await guard.require(
        services, who, Action.MANAGE_DEPOSITS, market_id=market_id, session_id=session_id
    )
    body = await read_body(request)
    reason = body.text("reason", max_len=500)
    body.done()
    deposit = await ledger.forfeit(
        services.store, deposit_id, reason=reason, actor=who.subject or who.role,
        by=actor_of(who),
    )
    # the registration is forfeited: its credentials are revoked, its sockets closed (4401)
    await revocation.revoke_registration(
        services.redis, account_keys(services), registration_id=deposit.registration_id
    )
    await eligibility.push_session(services, session_id)
    return JSONResponse(deposit.to_json())


async def market_ledger(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    code = request.path_params["code"]
    try:
        market = await services.store.get_market_by_code(code)
    except NotFound:
        raise missing(who, "技术市场不存在", "code") from None
    await guard.require(services, who, Action.VIEW_LEDGER, market_id=market.id)
    tree = await guard.market_tree(services)
    visible = [
        m for m in tree.subtree(market.id)
        if allows(who.actor, Action.VIEW_LEDGER, market_id=m, tree=tree)
    ]
    rows = await ledger.balances(services.store, visible)
    return JSONResponse({
        "market_code": code, "markets": [r.to_json() for r in rows],
        "conserved": all(r.conserved for r in rows),
    })


async def record_agent(request: Request) -> JSONResponse:
    """The agent authorised to bid for the enterprise; refused once a lot of the session has
    been opened (``bidding_started``). The enterprise's own login may also give the agent an
    account (``username``, ``password``): the agent then logs in as itself and takes the bid
    credential of this registration (and of no other)."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    if who.role == "bidder":
        if not who.is_own_login:
            raise Denied("forbidden", "只有竞买人本人的登录令牌可以登记代理人")
        registration_id, session_id, _, bidder_id = await registration_scope(
            request, who, Action.OWN_REGISTRATION
        )
    else:
        registration_id, session_id, _, bidder_id = await registration_scope(
            request, who, Action.REVIEW_REGISTRATIONS
        )
    body = await read_body(request)
    agent_name = body.text("agent_name", max_len=64)
    raw_id = body.text("agent_resident_id", max_len=40)
    username = body.optional_text("username", max_len=64)
    password = body.optional_text("password", max_len=passwords.MAX_LENGTH)
    body.done()
    try:
        resident_id = validate_resident_id(raw_id, today=datetime.now(CST).date())
    except IdentityError as exc:
        raise BadRequest(exc.message, "agent_resident_id", code=exc.code) from exc
    if (username is None) != (password is None):
        raise BadRequest("username 与 password 须同时提供",
                         "password" if password is None else "username")
    if username is not None and who.role != "bidder":
        # the market must never know the password of a login that can bid for the bidder
        raise Denied("forbidden", "代理人账号只能由竞买人本人创建", field="username")
    if password is not None:
        weak = passwords.weakness(password, username=username or "")
        if weak is not None:
            raise BadRequest(weak, "password")
    for lot in await services.store.list_lots(session_id):
        state = await services.rooms.room_state(lot.id)
        if lot.status != "scheduled" or (state is not None and state.status.value != "scheduled"):
            raise Conflict("bidding_started", "竞价已开始, 不能再登记委托代理人", "registration_id")
    row = await ledger.record_agent(
        services.store, registration_id, agent_name=agent_name, agent_resident_id=resident_id
    )
    answer: dict[str, Any] = {
        "registration_id": registration_id, "agent_name": row["agent_name"],
        "agent_resident_id": mask_resident_id(resident_id),
        "recorded_at": rfc3339(row["agent_recorded_at"]),
    }
    if username is not None and password is not None:
        account = await account_store.create_account(
            services.store, username=username, password_hash=await passwords.hash_password(
                password, services.settings.password_profile
            ),
            role="bidder", bidder_id=bidder_id, person_name=agent_name, resident_id=resident_id,
            registration_id=registration_id,
        )
        answer["account_id"] = account.id
    await store_registrations.note(
        services.store, registration_id, "agent_recorded", by=actor_of(who),
        detail={"agent_name": agent_name, "account_id": answer.get("account_id")},
    )
    return JSONResponse(answer)


routes: list[BaseRoute] = [
    Route("/api/v1/sessions/{session_id:int}/deposits", list_deposits, methods=["GET"]),
    Route(
        "/api/v1/sessions/{session_id:int}/deposits/settle", settle_deposits, methods=["POST"]
    ),
    Route("/api/v1/deposits/{deposit_id:int}/forfeit", forfeit_deposit, methods=["POST"]),
    Route("/api/v1/markets/{code}/ledger", market_ledger, methods=["GET"]),
    Route("/api/v1/registrations/{registration_id:int}/agent", record_agent, methods=["POST"]),
]
