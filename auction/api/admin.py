"""Admin writes of the HTTP API (docs/http-api.md "Writes"): markets, sessions, lots, staff
tokens and the registration desk (approve, reject, deposit → paddle + bidder token).

Every handler first checks ``Authorization: Bearer <token>`` resolves to the admin
(:func:`require_admin`). Creating a lot also creates its Redis room, with the session's mode and
anti-sniping window (DESIGN §6).
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction.api.console import Denied
from auction.api.http_errors import MAX_FEN, BadRequest, read_body
from auction.api.tokens import Principal, TokenError
from auction.domain.identity import IdentityError, validate_uscc
from auction.domain.lot import LotMode
from auction.services import Services

_DIVISION_CODE = re.compile(r"^[0-9]{6}$")
_SLUG = re.compile(r"^[a-z0-9-]{2,64}$")
LEVELS = ("province", "city", "county")
SEASONS = ("spring", "autumn", "special")
MODES = tuple(m.value for m in LotMode)
TRANSACTION_MODES = ("转让", "许可", "作价投资")
CONTRACT_TYPES = ("技术转让", "技术许可", "技术开发", "技术咨询", "技术服务")
STAFF_ROLES = ("auctioneer",)
#: a day: longer windows or extensions are typos, not rules
MAX_WINDOW_S = 86_400
#: thirty days for one timed lot
MAX_DURATION_S = 30 * 86_400


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def require_admin(request: Request) -> Principal:
    """The admin principal of the request, else ``TokenError`` (401) / ``Denied`` (403)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenError("missing bearer token")
    principal = _services(request).tokens.verify(token.strip())
    if principal.role != "admin":
        raise Denied("forbidden", "需要管理员权限")
    return principal


def _division_code(value: str, field: str) -> str:
    if not _DIVISION_CODE.match(value):
        raise BadRequest(f"字段 {field} 应为 6 位行政区划代码", field)
    return value


async def create_market(request: Request) -> JSONResponse:
    require_admin(request)
    body = await read_body(request)
    code = _division_code(body.text("code", max_len=6), "code")
    slug = body.text("slug", max_len=64)
    if not _SLUG.match(slug):
        raise BadRequest("字段 slug 应为 2–64 位小写字母、数字或连字符", "slug")
    name = body.text("name")
    level = body.choice("level", LEVELS)
    parent = body.optional_text("parent_code", max_len=6)
    body.done()
    market = await _services(request).store.create_market(
        code=code, slug=slug, name=name, level=level,
        parent_code=None if parent is None else _division_code(parent, "parent_code"),
    )
    return JSONResponse(market.to_json(), status_code=201)


async def create_session(request: Request) -> JSONResponse:
    require_admin(request)
    body = await read_body(request)
    market_code = _division_code(body.text("market_code", max_len=6), "market_code")
    name = body.text("name")
    season = body.choice("season", SEASONS)
    mode = body.choice("mode", MODES)
    starts_at = body.timestamp("starts_at")
    window = body.integer("extension_window_s", maximum=MAX_WINDOW_S, default=300)
    extension = body.integer("extension_s", maximum=MAX_WINDOW_S, default=300)
    body.done()
    session = await _services(request).store.create_session(
        market_code=market_code, name=name, season=season, mode=mode, starts_at=starts_at,
        extension_window_s=window, extension_s=extension,
    )
    return JSONResponse(session.to_json(), status_code=201)


async def create_lot(request: Request) -> JSONResponse:
    """Insert the lot, then create its room (``Rooms.init_lot`` is a no-op if it exists)."""
    require_admin(request)
    services = _services(request)
    session = await services.store.get_session(request.path_params["session_id"])
    body = await read_body(request)
    title = body.text("title")
    result_type = body.text("result_type", max_len=50)
    ip_type = body.text("ip_type", max_len=50)
    technology_field = body.text("technology_field", max_len=50)
    transaction_mode = body.choice("transaction_mode", TRANSACTION_MODES)
    contract_type = body.choice("contract_type", CONTRACT_TYPES)
    holder_name = body.text("holder_name")
    description = body.text("description", default="", max_len=5000, allow_empty=True)
    raw_uscc = body.text("holder_uscc", max_len=40)
    start = body.integer("start_price_fen", minimum=1)
    inc = body.integer("increment_fen", minimum=1)
    reserve = body.integer("reserve_fen", default=0)
    non_tech = body.integer("non_tech_fen", default=0)
    duration = body.integer("duration_s", maximum=MAX_DURATION_S, default=0)
    body.done()
    try:
        holder_uscc = validate_uscc(raw_uscc)
    except IdentityError as exc:
        raise BadRequest(exc.message, "holder_uscc", code=exc.code) from exc
    mode = LotMode(session.mode)
    if mode is LotMode.TIMED and duration <= 0:
        raise BadRequest("限时竞价场次的标的须设置 duration_s (秒)", "duration_s")
    lot = await services.store.create_lot(
        session.id, title=title, result_type=result_type, ip_type=ip_type,
        technology_field=technology_field, transaction_mode=transaction_mode,
        contract_type=contract_type, holder_name=holder_name, holder_uscc=holder_uscc,
        start_price_fen=start, increment_fen=inc, reserve_fen=reserve, non_tech_fen=non_tech,
        duration_s=duration, description=description,
    )
    await services.rooms.init_lot(
        lot.id, mode=mode, start=start, inc=inc, reserve=reserve, session_id=session.id,
        window_ms=session.extension_window_s * 1000, ext_ms=session.extension_s * 1000,
        duration_ms=duration * 1000,
    )
    return JSONResponse(lot.to_json(), status_code=201)


async def create_staff_token(request: Request) -> JSONResponse:
    """A token for an auctioneer, bound to this session."""
    require_admin(request)
    services = _services(request)
    session = await services.store.get_session(request.path_params["session_id"])
    body = await read_body(request)
    role = body.choice("role", STAFF_ROLES, default="auctioneer")
    name = body.text("name", max_len=64)
    body.done()
    token = services.tokens.mint(Principal(role=role, subject=name, session_id=session.id))
    return JSONResponse({"token": token, "role": role, "session_id": session.id})


async def approve_registration(request: Request) -> JSONResponse:
    require_admin(request)
    (await read_body(request, optional=True)).done()
    registration = await _services(request).store.approve_registration(
        request.path_params["registration_id"]
    )
    return JSONResponse(registration.to_json())


async def reject_registration(request: Request) -> JSONResponse:
    require_admin(request)
    body = await read_body(request)
    reason = body.text("reason", max_len=500)
    body.done()
    registration = await _services(request).store.reject_registration(
        request.path_params["registration_id"], reason
    )
    return JSONResponse(registration.to_json())


async def mark_deposit_paid(request: Request) -> JSONResponse:
    """Deposit received: the next paddle of the session and a bidder token bound to it.
    Repeating the call returns the same paddle (and a fresh token)."""
    require_admin(request)
    body = await read_body(request)
    deposit = body.integer("deposit_fen", maximum=MAX_FEN)
    body.done()
    services = _services(request)
    registration = await services.store.mark_deposit_paid(
        request.path_params["registration_id"], deposit
    )
    paddle = registration.paddle or 0
    token = services.tokens.mint(
        Principal(
            role="bidder", subject=str(registration.bidder_id),
            bidder_id=registration.bidder_id, session_id=registration.session_id, paddle=paddle,
        )
    )
    return JSONResponse({"registration": registration.to_json(), "paddle": paddle, "token": token})


routes: list[BaseRoute] = [
    Route("/api/v1/markets", create_market, methods=["POST"]),
    Route("/api/v1/sessions", create_session, methods=["POST"]),
    Route("/api/v1/sessions/{session_id:int}/lots", create_lot, methods=["POST"]),
    Route(
        "/api/v1/sessions/{session_id:int}/staff-tokens", create_staff_token, methods=["POST"]
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
        "/api/v1/registrations/{registration_id:int}/deposit", mark_deposit_paid,
        methods=["POST"],
    ),
]
