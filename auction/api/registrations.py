"""Registrations (报名) over HTTP, with separation of duties (docs/roles.md "Registration and
deposits"): apply (the bidder) → approve (the market admin) → deposit confirmed (finance) →
paddle → the bidder's own login takes its bid credential.

- ``POST /api/v1/sessions/{id}/registrations {bidder_id, agreed?, refund_name?, refund_bank?,
  refund_account?}``: the bidder's own login applies (``applied``, 201; accepting the desk's
  invitation if there is one, 200), with the account its deposit is to go back to (all three
  or none: :func:`auction.api.refunds.refund_account_of`), agreeing to the session's
  拍卖公告 and 竞买须知 (``agreed: true``, required when the session has them;
  recorded with the server's time and the texts' SHA-256), until the registration deadline
  (then 409 ``registration_closed``, but for accepting an invitation; a buyer who defaulted on
  a lot the session relists: 409 ``defaulted_bidder``, the desk alike); staff of the
  session's market register at the desk (``invited``): it takes effect only once the bidder's
  account accepts it (``POST /api/v1/registrations/{id}/accept``). Until then the market sees
  no name: a market sees a bidder's identity only once the bidder applied to its session.
- ``GET /api/v1/sessions/{id}/registrations``: market admin, finance.
- ``POST /api/v1/registrations/{id}/approve`` / ``reject {reason}``: the market admin.
- ``POST /api/v1/registrations/{id}/withdraw``: the bidder's own login.
- ``POST /api/v1/registrations/{id}/deposit {deposit_fen, lot_id?}``: finance, on an approved
  registration; the answer carries the paddle and never a credential.
- ``POST /api/v1/registrations/{id}/token``: the bidder's own login (or its agent's, for the
  registration the agent is bound to) → the bid credential (a token naming the account, the
  registration, the session and the paddle). Nobody else can obtain one.
- ``GET /api/v1/registrations/mine``: the bidder's own login lists its registrations.
- ``GET /api/v1/registrations/{id}/history``: every step with its actor and time (market admin,
  finance, the bidder's own login).
- ``GET /api/v1/registrations/{id}``: the registration as its bidder's page shows it: status in
  words, reason, agreement, agent, documents (uploaded through :mod:`auction.api.files`), the
  deposit asked for (amount, payee, the transfer reference ``BZJ-<session>-<registration>``,
  the deadline) and the paddle once paid (the bidder's own login; market admin, finance).

Rejecting, withdrawing (and forfeiting, :mod:`auction.api.deposits`; disabling the account,
:mod:`auction.api.auth`) revoke the registration's credentials: their sockets close with 4401
and a bid on them is refused at once. Every change that can change who may bid pushes the
session's eligibility into Redis after PostgreSQL committed (:mod:`auction.rooms.eligibility`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction.accounts import revocation
from auction.accounts.policy import Action
from auction.accounts.policy import scope as policy_scope
from auction.api import guard, me, publication
from auction.api.admin import missing, registration_scope, session_scope
from auction.api.guard import Denied
from auction.api.http_errors import MAX_FEN, BadRequest, read_body
from auction.api.refunds import refund_account_of
from auction.api.tokens import Principal, account_keys
from auction.rooms import eligibility
from auction.services import Services
from auction.store import accounts as account_store
from auction.store import calendar, deals, files, ledger, steps
from auction.store import refunds as store_refunds
from auction.store import registrations as store_registrations
from auction.store.errors import Conflict, NotFound
from auction.store.records import Session, rfc3339
from auction.store.steps import Actor

MAX_ID = 2**63 - 1


def actor_of(who: Principal) -> Actor:
    """The step's actor: the token's role, account and name."""
    return Actor(role=who.role, name=who.subject or who.role, account_id=who.account_id or None)


async def _own_registration(
    request: Request, who: Principal
) -> tuple[int, int, int, int]:
    """The path's registration, which must be of ``who``'s own enterprise, asked with its own
    login: ``(id, session, market, bidder)``; else 403."""
    if who.role == "viewer":
        raise Denied("unauthorized", "请先登录竞买人账号")
    if who.role != "bidder" or not who.is_own_login:
        raise Denied("forbidden", "只有竞买人本人的登录令牌可以办理")
    return await registration_scope(request, who, Action.OWN_REGISTRATION)


async def _revoke(services: Services, registration_id: int) -> None:
    """Every credential of the registration is void; its sockets close with 4401."""
    await revocation.revoke_registration(
        services.redis, account_keys(services), registration_id=registration_id
    )


async def apply_registration(request: Request) -> JSONResponse:
    """报名 by the bidder's own login, or a desk registration by the market (``invited``)."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    body = await read_body(request)
    bidder_id = body.integer("bidder_id", minimum=1, maximum=MAX_ID)
    agreed = body.raw("agreed")
    refund = refund_account_of(body)
    body.done()
    session_id = int(request.path_params["session_id"])
    try:
        market = await guard.session_market(services, session_id)
    except NotFound:
        raise missing(who, "场次不存在", "session_id") from None
    if who.role == "bidder" and not who.is_own_login:
        raise Denied("forbidden", "只有竞买人本人的登录令牌可以报名")
    await guard.require(
        services, who, Action.REGISTER, market_id=market, bidder_id=bidder_id,
        session_id=session_id,
    )
    await services.store.get_bidder(bidder_id)
    await publication.require_published(services, session_id)  # a draft: 409 not_published
    if await calendar.defaulted_in(services.store, session_id, bidder_id):
        # issue 15: the buyer who defaulted on a lot does not bid on its relisting
        raise Conflict("defaulted_bidder", "该竞买人曾对本场次重新挂拍的标的悔拍, 不能报名",
                       "bidder_id")
    if who.role == "bidder":
        await _not_an_agent(services, who)
        session = await services.store.get_session(session_id)
        deadline = session.registration_deadline
        registration, created = await store_registrations.apply(
            services.store, session_id, bidder_id, by=actor_of(who),
            agreed=_agreement(agreed, session),
            open_for_new=deadline is None or datetime.now(UTC) <= deadline, refund=refund,
        )
        return JSONResponse(registration.to_json(), status_code=201 if created else 200)
    if agreed is not None:
        raise BadRequest("只有竞买人本人可以同意拍卖公告和竞买须知", "agreed")
    if refund is not None:
        raise BadRequest("退款账户只能由竞买人本人填写", "refund_name")
    registration = await store_registrations.invite(
        services.store, session_id, bidder_id, by=actor_of(who)
    )
    return JSONResponse(registration.to_json(), status_code=201)


async def list_registrations(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    session_id = await session_scope(request, who, Action.VIEW_REGISTRATIONS)
    rows = await store_registrations.list_for_session(services.store, session_id)
    documents = await files.of_registrations(services.store, [int(r["id"]) for r in rows])
    for row in rows:
        row["documents"] = [d.to_json() for d in documents.get(int(row["id"]), [])]
    return JSONResponse({"session_id": session_id, "registrations": rows})


async def accept_registration(request: Request) -> JSONResponse:
    """The bidder accepts the desk's registration: ``invited`` → ``applied``."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    registration_id, session_id, *_ = await _own_registration(request, who)
    body = await read_body(request, optional=True)
    agreed = body.raw("agreed")
    body.done()
    await _not_an_agent(services, who)
    session = await services.store.get_session(session_id)
    registration = await store_registrations.change(
        services.store, registration_id, "accepted", by=actor_of(who),
        agreed=_agreement(agreed, session),
    )
    return JSONResponse(registration.to_json())


def _agreement(agreed: object, session: Session) -> str | None:
    """The bidder's ``agreed`` to the session's 拍卖公告 and 竞买须知: the SHA-256 of the texts
    agreed to, or ``None`` when the session has none and nothing was said. A session with
    texts needs ``agreed: true`` (400 ``agreement_required`` naming ``agreed``)."""
    if agreed is not None and type(agreed) is not bool:
        raise BadRequest("字段 agreed 应为 true 或 false", "agreed")
    if agreed is False or (agreed is None and (session.announcement or session.terms)):
        raise BadRequest("须阅读并同意本场次的拍卖公告和竞买须知 (agreed: true)", "agreed",
                         code="agreement_required")
    return session.texts_sha256 if agreed else None


async def withdraw_registration(request: Request) -> JSONResponse:
    """The bidder withdraws (before bidding starts: its confirmed deposits are released)."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    registration_id, session_id, *_ = await _own_registration(request, who)
    (await read_body(request, optional=True)).done()
    await _not_an_agent(services, who)
    registration = await store_registrations.change(
        services.store, registration_id, "withdrawn", by=actor_of(who)
    )
    await _revoke(services, registration_id)
    await eligibility.push_session(services, session_id)
    return JSONResponse(registration.to_json())


async def approve_registration(request: Request) -> JSONResponse:
    """Approved by the market admin: the band deposit becomes ``required`` (its amount in
    ``deposit_required_fen``: the session's largest lot requirement)."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    registration_id, session_id, *_ = await registration_scope(
        request, who, Action.REVIEW_REGISTRATIONS
    )
    (await read_body(request, optional=True)).done()
    registration = await store_registrations.change(
        services.store, registration_id, "approved", by=actor_of(who)
    )
    required = await ledger.require_deposit(
        services.store, registration_id, actor=who.subject or who.role
    )
    await eligibility.push_session(services, session_id)
    return JSONResponse({**registration.to_json(), "deposit_required_fen": required})


async def reject_registration(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    registration_id, session_id, *_ = await registration_scope(
        request, who, Action.REVIEW_REGISTRATIONS
    )
    body = await read_body(request)
    reason = body.text("reason", max_len=500)
    body.done()
    registration = await store_registrations.change(
        services.store, registration_id, "rejected", by=actor_of(who), reason=reason
    )
    await _revoke(services, registration_id)
    await eligibility.push_session(services, session_id)
    return JSONResponse(registration.to_json())


async def confirm_deposit(request: Request) -> JSONResponse:
    """Deposit received, confirmed by finance on an approved registration: the deposit is
    ``confirmed`` in the ledger and the registration gets the next paddle of the session. With
    ``lot_id`` the deposit covers that lot only, else the session band. The amount must reach
    the requirement (422 ``deposit_insufficient``); repeating the call with the same amount
    returns the same answer, with another amount it is 409 ``conflict``. No credential is
    handed out here: the bidder takes it with its own login."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    registration_id, session_id, *_ = await registration_scope(
        request, who, Action.CONFIRM_DEPOSIT
    )
    body = await read_body(request)
    deposit = body.integer("deposit_fen", maximum=MAX_FEN)
    lot_id = body.integer("lot_id", minimum=1, maximum=MAX_ID, default=0) or None
    body.done()
    try:
        registration = await ledger.confirm_deposit(
            services.store, registration_id, deposit, lot_id=lot_id,
            actor=who.subject or who.role, by=actor_of(who),
        )
    except Conflict as exc:
        if exc.code == "deposit_insufficient":
            raise BadRequest(exc.message, "deposit_fen", code=exc.code, status=422) from exc
        raise
    await eligibility.push_session(services, session_id)
    return JSONResponse({"registration": registration.to_json(), "paddle": registration.paddle})


async def _not_an_agent(services: Services, who: Principal) -> None:
    """Applying, accepting and withdrawing are the enterprise's own decisions, not its
    agent's (an agent's account is bound to one registration)."""
    account = await account_store.get_account(services.store, who.account_id)
    if account.registration_id is not None:
        raise Denied("forbidden", "委托代理人不能办理此项")


async def registration_token(request: Request) -> JSONResponse:
    """The bid credential of the registration (deposit confirmed), for the bidder's own login
    only: an enterprise account of the bidder, or the agent account bound to this very
    registration. It names the account, the registration, the session and the paddle."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    registration_id, session_id, market_id, bidder_id = await _own_registration(request, who)
    (await read_body(request, optional=True)).done()
    account = await account_store.get_account(services.store, who.account_id)
    if account.disabled or account.bidder_id != bidder_id or (
        account.registration_id is not None and account.registration_id != registration_id
    ):
        raise Denied("forbidden", "只能为本人的报名领取竞买凭证")
    registration = await services.store.get_registration(registration_id)
    if registration.status != "deposit_paid" or not registration.paddle:
        raise Denied("deposit_required", "保证金确认到账后才能领取竞买凭证")
    principal = Principal(
        role="bidder", subject=who.subject, bidder_id=bidder_id, session_id=session_id,
        paddle=registration.paddle, market_id=market_id, account_id=who.account_id,
        registration_id=registration_id,
    )
    token = services.tokens.mint(principal)
    minted = services.tokens.verify(token)
    await store_registrations.note(
        services.store, registration_id, "credential_issued", by=actor_of(who),
        detail={"jti": minted.jti, "expires_at": minted.expires_at},
    )
    return JSONResponse({
        "registration": registration.to_json(), "paddle": registration.paddle, "token": token,
        "token_type": "Bearer", "expires_at": minted.expires_at,
    })


async def my_registrations(request: Request) -> JSONResponse:
    """The caller's own registrations (its own login: every registration of its enterprise; an
    agent's: the one it is bound to), newest first — how a bidder's page finds the one whose
    credential to take."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    if who.role != "bidder" or not who.is_own_login:
        raise Denied("forbidden", "只有竞买人本人的登录令牌可以查看")
    account = await account_store.get_account(services.store, who.account_id)
    rows = await store_registrations.of_bidder(services.store, who.bidder_id)
    if account.registration_id is not None:
        rows = [r for r in rows if r.id == account.registration_id]
    return JSONResponse({"registrations": [r.to_json() for r in rows]})


async def get_registration(request: Request) -> JSONResponse:
    """One registration as its bidder's page shows it (and the market's desk): status in words,
    the reason when rejected, the agreement, the agent, the documents, the deposit asked for
    (amount, payee, the reference to write on the transfer, the deadline) and its deposits; the
    paddle once paid. The bidder's own login (an agent's: its own registration only), or staff
    who may read the session's registrations."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    if who.role == "bidder":
        registration_id, session_id, *_ = await _own_registration(request, who)
        account = await account_store.get_account(services.store, who.account_id)
        if account.registration_id not in (None, registration_id):
            raise Denied("forbidden", "只能查看本人的报名")
    else:
        registration_id, session_id, *_ = await registration_scope(
            request, who, Action.VIEW_REGISTRATIONS
        )
    store = services.store
    registration = await store.get_registration(registration_id)
    session = await store.get_session(session_id)
    more = await store_registrations.detail(store, registration_id)
    documents = (await files.of_registrations(store, [registration_id])).get(registration_id, [])
    band = next((d for d in more.deposits if d[1] is None), None)
    if band is not None:
        asked, state = band[2], band[3]
    else:  # not yet approved: what approval will ask (the session's largest lot deposit)
        lots = await ledger.lot_deposits(store, [lot.id for lot in await store.list_lots(
            session_id)])
        asked, state = max(lots.values(), default=0), None
    deadline = session.registration_deadline or session.starts_at
    extra: dict[str, Any] = {}
    if who.role != "bidder":  # issue 13: the bidder's defaults (悔拍) in the caller's markets
        markets = policy_scope(who.actor, await guard.market_tree(services))
        extra["defaults"] = [{
            "lot_id": d.lot_id, "title": d.title, "session_id": d.session_id,
            "market": {"code": d.market_code, "name": d.market_name}, "reason": d.reason,
            "forfeited_fen": d.forfeited_fen, "declared_at": rfc3339(d.declared_at),
        } for d in await deals.defaults_of(store, registration.bidder_id, markets)]
    return JSONResponse({
        **extra,
        **registration.to_json(),
        "status_text": store_registrations.STATUS_WORDS.get(registration.status, ""),
        "created_at": rfc3339(more.created_at), "agreed_at": rfc3339(more.agreed_at),
        # the session's texts changed since the bidder agreed (PATCH /sessions/{id})
        "agreed_to_current": bool(more.agreed_sha256)
        and more.agreed_sha256 == session.texts_sha256,
        "agent": None if not more.agent_name else {
            # masked as the agent route answers it (auction/api/deposits.py)
            "name": more.agent_name, "resident_id": "*" * 14 + more.agent_resident_id[-4:],
            "recorded_at": rfc3339(more.agent_recorded_at),
        },
        "documents": [d.to_json() for d in documents],
        "session": {
            "id": session.id, "name": session.name, "starts_at": rfc3339(session.starts_at),
            "registration_deadline": rfc3339(session.registration_deadline),
            "contact_phone": session.contact_phone,
        },
        "deposit": {
            "amount_fen": asked, "state": state, "payee_name": session.payee_name,
            "payee_bank": session.payee_bank, "payee_account": session.payee_account,
            "reference": f"BZJ-{session_id}-{registration_id}", "deadline": rfc3339(deadline),
        },
        "deposits": [
            {"id": d[0], "lot_id": d[1], "amount_fen": d[2], "state": d[3]}
            for d in more.deposits
        ],
        # 退款账户: PUT /registrations/{id}/refund-account (auction/api/refunds.py)
        "refund_account": (await store_refunds.refund_account(store, registration_id)).to_json(),
    })


async def registration_history(request: Request) -> JSONResponse:
    """Every step of the registration with its actor and time."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    if who.role == "bidder":
        registration_id, *_ = await _own_registration(request, who)
    else:
        registration_id, *_ = await registration_scope(request, who, Action.VIEW_REGISTRATIONS)
    history = await steps.history(services.store, registration_id)
    registration = await services.store.get_registration(registration_id)
    return JSONResponse({
        "registration": registration.to_json(), "steps": [s.to_json() for s in history],
    })


routes: list[BaseRoute] = [
    Route("/api/v1/registrations/mine", my_registrations, methods=["GET"]),
    Route(
        "/api/v1/sessions/{session_id:int}/registrations", apply_registration, methods=["POST"]
    ),
    Route(
        "/api/v1/sessions/{session_id:int}/registrations", list_registrations, methods=["GET"]
    ),
    Route(
        "/api/v1/registrations/{registration_id:int}/accept", accept_registration,
        methods=["POST"],
    ),
    Route(
        "/api/v1/registrations/{registration_id:int}/withdraw", withdraw_registration,
        methods=["POST"],
    ),
    Route(
        "/api/v1/registrations/{registration_id:int}/approve", approve_registration,
        methods=["POST"],
    ),
    Route(
        "/api/v1/registrations/{registration_id:int}/reject", reject_registration,
        methods=["POST"],
    ),
    Route(
        "/api/v1/registrations/{registration_id:int}/deposit", confirm_deposit,
        methods=["POST"],
    ),
    Route(
        "/api/v1/registrations/{registration_id:int}/token", registration_token,
        methods=["POST"],
    ),
    Route(
        "/api/v1/registrations/{registration_id:int}/history", registration_history,
        methods=["GET"],
    ),
    Route("/api/v1/registrations/{registration_id:int}", get_registration, methods=["GET"]),
    *me.routes,  # 我的竞拍: the bidder's own registrations, deposits, bids and wins
]
