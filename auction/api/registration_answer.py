"""Registration per market and the office's answer (docs/http-api.md "Registration").

- ``GET / PUT / DELETE /api/v1/markets/{code}/registration-endpoint``: the market's own
  endpoint ``{url, secret}`` (PUT), back to inheriting (DELETE), and where the market's packets
  go (GET: the url and the market it is inherited from, never the secret). A market admin of the
  market or above (``manage_sessions`` there), the platform admin.
- ``POST /api/v1/registration/callback``: the office's later answer ``{idempotency_key,
  packet_id?, status, registration_no?, reason?}``, signed like a packet
  (``X-Auction-Signature: sha256=<hex HMAC-SHA256 of the raw body>``) with the secret of the
  lot's market's endpoint. Every callback, taken or refused, is a row of
  ``registration_callbacks``: 401 ``bad_signature``, 403 ``no_secret`` (no secret to verify
  with), 404 ``unknown_key``, 409 ``superseded`` (a corrected version replaced that key) or
  ``already_answered`` (another answer is stored), 400 ``invalid_registration_no`` (not
  ``^\\d{16}$``) or ``bad_request``; the same answer twice is 200 again. More than 60
  refusals from one address in 10 minutes: 429 ``rate_limited``, no longer recorded.
- ``POST /api/v1/lots/{lot_id}/registration/versions``: ``{corrections: {contract_subtype?,
  tech_amount_fen?, seller_nature?, buyer_nature?, seller_region?, buyer_region?}}`` → 201, the
  next version of a ``rejected`` (未予登记) registration, queued under ``<first key>:v<n>``;
  409 ``wrong_state`` from any other status. Market admin of the lot's market or above.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction import outage
from auction.accounts import limits
from auction.accounts.policy import Action
from auction.api import guard
from auction.api.admin import lot_scope, missing, vocabularies_today
from auction.api.headers import client_address
from auction.api.http_errors import MAX_BODY_BYTES, BadRequest, error_response, read_body
from auction.api.tokens import account_keys
from auction.domain.inputs import text_problem
from auction.domain.lot_vocabularies import Vocabulary
from auction.domain.registration_form import NATURES, SUBTYPES, is_region_code, is_registration_no
from auction.registration import routing
from auction.registration.packet import CORRECTABLE, corrected_packet, packet_body
from auction.registration.signing import HEADER, verify
from auction.services import Services
from auction.store import answers
from auction.store.errors import NotFound
from auction.store.records import Market

log = logging.getLogger("auction.registration")

MAX_URL_CHARS = 500
MAX_SECRET_CHARS = 200
MAX_REASON_CHARS = 500
CALLBACK_FIELDS = frozenset({"idempotency_key", "packet_id", "status", "registration_no",
                             "reason"})


# -- the market's endpoint ----------------------------------------------------------------------


async def _market(request: Request) -> tuple[Services, Market, str]:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    await guard.require_staff(services, who)
    try:
        market = await services.store.get_market_by_code(request.path_params["code"])
    except NotFound:
        raise missing(who, "技术市场不存在", "code") from None
    await guard.require(services, who, Action.MANAGE_SESSIONS, market_id=market.id)
    return services, market, who.subject or who.role


async def _view(services: Services, market: Market) -> dict[str, Any]:
    table = await answers.endpoints(services.store)
    found = routing.resolve(table, market.id, services.settings)
    source = found.source_market_id
    if source == market.id:
        kind = "own"
    elif source is not None:
        kind = "inherited"
    else:
        kind = "default" if found.url else "none"
    return {
        "market_code": market.code, "url": found.url, "source": kind,
        "inherited_from": table.codes.get(source) if kind == "inherited" and source else None,
        "has_secret": bool(found.secret),
    }


async def get_endpoint(request: Request) -> JSONResponse:
    services, market, _ = await _market(request)
    return JSONResponse(await _view(services, market))


def _url(value: str) -> str:
    if not value.startswith(("http://", "https://")) or len(value) <= len("https://"):
        raise BadRequest("字段 url 应为 http:// 或 https:// 开头的地址", "url")
    if any(ch.isspace() for ch in value):
        raise BadRequest("字段 url 不能含空白字符", "url")
    return value


async def put_endpoint(request: Request) -> JSONResponse:
    services, market, by = await _market(request)
    body = await read_body(request)
    url = _url(body.text("url", max_len=MAX_URL_CHARS))
    secret = body.text("secret", max_len=MAX_SECRET_CHARS)
    body.done()
    await answers.set_endpoint(services.store, market.id, url, secret, by)
    log.info("market %s: registration endpoint set by %s", market.code, by)
    return JSONResponse(await _view(services, market))


async def delete_endpoint(request: Request) -> JSONResponse:
    services, market, by = await _market(request)
    had = await answers.clear_endpoint(services.store, market.id)
    if had:
        log.info("market %s: registration endpoint removed by %s (inherits)", market.code, by)
    return JSONResponse({**await _view(services, market), "deleted": had})


# -- the office's callback ----------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, status: int, code: str, outcome: str, message: str,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.outcome, self.message, self.field = (
            status, code, outcome, message, field)


def _fields(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _Refused(400, "bad_request", "invalid", "请求体应为 JSON 对象")
    unknown = sorted(set(data) - CALLBACK_FIELDS)
    if unknown:
        raise _Refused(400, "bad_request", "invalid", f"未知字段 {unknown[0]}", unknown[0])
    key = data.get("idempotency_key")
    if not isinstance(key, str) or not key or text_problem(key, max_len=200) is not None:
        raise _Refused(400, "bad_request", "invalid", "缺少字段 idempotency_key",
                       "idempotency_key")
    return data


def _answer(data: dict[str, Any]) -> tuple[str, str | None, str]:
    status = data.get("status")
    if status not in ("registered", "rejected"):
        raise _Refused(400, "bad_request", "invalid", "字段 status 应为 registered 或 rejected",
                       "status")
    reason = data.get("reason") or ""
    if not isinstance(reason, str) or text_problem(
        reason, max_len=MAX_REASON_CHARS, multiline=True
    ) is not None:
        raise _Refused(400, "bad_request", "invalid",
                       f"字段 reason 应为至多 {MAX_REASON_CHARS} 字的文字", "reason")
    packet_id = data.get("packet_id")
    if packet_id is not None and not isinstance(packet_id, str):
        raise _Refused(400, "bad_request", "invalid", "字段 packet_id 应为字符串", "packet_id")
    number = data.get("registration_no")
    if status == "registered":
        if not is_registration_no(number):
            raise _Refused(400, "invalid_registration_no", "invalid",
                           "字段 registration_no 应为 16 位数字", "registration_no")
        return status, str(number), reason.strip()
    if number is not None:
        raise _Refused(400, "bad_request", "invalid", "未予登记 (rejected) 不带 registration_no",
                       "registration_no")
    return status, None, reason.strip()


async def callback(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    raw = await request.body()
    lot_id: int | None = None
    key = ""
    try:
        if len(raw) > MAX_BODY_BYTES:
            raise _Refused(413, "too_large", "invalid", "请求体过大")
        try:
            data = _fields(json.loads(raw))
        except (ValueError, RecursionError):
            raise _Refused(400, "bad_request", "invalid", "请求体不是合法的 JSON") from None
        key = str(data["idempotency_key"])
        target = await answers.callback_target(services.store, key)
        if target is None:
            lot_id = await answers.is_superseded(services.store, key)
            if lot_id is not None:
                raise _Refused(409, "superseded", "superseded",
                               "该版本已被更正后的新版本取代", "idempotency_key")
            raise _Refused(404, "unknown_key", "unknown_key", "没有这个幂等键的登记",
                           "idempotency_key")
        lot_id = target.lot_id
        endpoint = routing.resolve(
            await answers.endpoints(services.store), target.market_id, services.settings
        )
        if not endpoint.secret:
            raise _Refused(403, "no_secret", "no_secret", "该市场未配置签名密钥, 不接受回调")
        if not verify(endpoint.secret, raw, request.headers.get(HEADER, "")):
            raise _Refused(401, "bad_signature", "bad_signature",
                           f"签名 ({HEADER}) 不正确", HEADER)
        status, number, reason = _answer(data)
        outcome = "accepted"
        if not await answers.answer_callback(
            services.store, key, status=status, registration_no=number, reason=reason
        ):
            now = await answers.callback_target(services.store, key)
            if now is None or (now.status, now.registration_no) != (status, number):
                raise _Refused(409, "already_answered", "conflict",
                               "该登记已有不同的答复", "status")
            outcome = "duplicate"
    except _Refused as refused:
        wait_ms = await _too_many_refusals(services, request)
        if wait_ms is not None:
            return error_response(429, "rate_limited", "拒绝次数过多, 请稍后重试",
                                  retry_after_ms=wait_ms)
        await _record(services, request, lot_id, key, refused.outcome, refused.status,
                      refused.message, raw)
        log.info("registration callback refused (%s): lot %s key %r from %s",
                 refused.code, lot_id, key[:80], client_address(request))
        return error_response(refused.status, refused.code, refused.message, refused.field)
    await _record(services, request, lot_id, key, outcome, 200, status, raw)
    log.info("registration callback %s: lot %d %s %s", outcome, lot_id, status,
             number or reason)
    return JSONResponse({"lot_id": lot_id, "idempotency_key": key, "status": status,
                         "registration_no": number, "reason": reason, "outcome": outcome})


async def _too_many_refusals(services: Services, request: Request) -> int | None:
    """Count a refusal of the caller's address; once it is over
    :data:`limits.CALLBACK_REFUSED_PER_ADDRESS` the ms to wait (the refusal is then answered
    429 and not recorded: a flood cannot fill the table), else ``None``. Redis away: not
    counted."""
    try:
        await limits.check(services.redis, account_keys(services),
                           (limits.CALLBACK_REFUSED_PER_ADDRESS, client_address(request)))
    except limits.RateLimited as exc:
        return exc.retry_after_ms
    except (RedisError, OSError) as exc:
        outage.REDIS.failed(exc, where="registration callback")
    return None


async def _record(services: Services, request: Request, lot_id: int | None, key: str,
                  outcome: str, status: int, detail: str, raw: bytes) -> None:
    await answers.record_callback(
        services.store, lot_id=lot_id, key=key[:200].replace("\x00", ""), outcome=outcome,
        http_status=status,
        detail=detail, address=client_address(request),
        body_excerpt=raw[:500].decode("utf-8", "replace").replace("\x00", ""),
    )


# -- correct and resend -------------------------------------------------------------------------


def _corrections(value: Any, natures: Vocabulary | None = None) -> dict[str, Any]:
    """The corrections of a new version, checked; a nature must be a term of ``natures`` (the
    主体性质 list in force, issue 16: its label, key or alias, stored as the label), or of
    :data:`NATURES` when no list is given."""
    if not isinstance(value, dict) or not value:
        raise BadRequest("字段 corrections 应为非空对象", "corrections")
    found: dict[str, Any] = {}
    for name, item in value.items():
        field = f"corrections.{name}"
        if name not in CORRECTABLE:
            raise BadRequest(f"不可更正的字段 {name} (可更正: {', '.join(CORRECTABLE)})", field)
        if name == "contract_subtype":
            if item not in SUBTYPES:
                raise BadRequest(f"字段 {field} 应为 {' / '.join(SUBTYPES)} 之一", field)
        elif name == "tech_amount_fen":
            if type(item) is not int or item < 0:
                raise BadRequest(f"字段 {field} 应为非负整数 (金额以分计)", field)
        elif name.endswith("_nature"):
            allowed = natures.values if natures is not None else NATURES
            label = natures.canonical(item) if natures is not None and isinstance(
                item, str) else (item if item in NATURES else None)
            if label is None:
                raise BadRequest(f"字段 {field} 应为 {' / '.join(allowed)} 之一", field)
            item = label
        elif not (isinstance(item, str) and is_region_code(item)):
            raise BadRequest(f"字段 {field} 应为 6 位行政区划代码", field)
        found[name] = item
    return found


async def new_version(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    await lot_scope(request, who, Action.MANAGE_SESSIONS)
    lot_id = int(request.path_params["lot_id"])
    body = await read_body(request)
    corrections = _corrections(body.raw("corrections"),
                               (await vocabularies_today(services)).get("party_nature"))
    body.done()

    def build(previous_json: str, previous_key: str, version: int) -> tuple[str, bytes]:
        previous = json.loads(previous_json)
        total = int(previous["contract"]["total_amount_fen"])
        if corrections.get("tech_amount_fen", 0) > total:
            raise BadRequest(f"技术交易额不能大于合同交易总额 {total} 分",
                             "corrections.tech_amount_fen")
        packet = corrected_packet(previous, previous_key, version, corrections)
        return str(packet["idempotency_key"]), packet_body(packet)

    by = who.subject or who.role
    view = await answers.new_version(services.store, lot_id, build, by)
    row = await services.store.registration_status(lot_id)
    log.info("lot %d: registration corrected by %s, version %d queued: %s", lot_id, by,
             view.version, sorted(corrections))
    return JSONResponse({"lot_id": lot_id, **view.to_json(),
                         "idempotency_key": row.idempotency_key, "corrections": corrections},
                        status_code=201)


routes: list[BaseRoute] = [
    Route("/api/v1/markets/{code}/registration-endpoint", get_endpoint, methods=["GET"]),
    Route("/api/v1/markets/{code}/registration-endpoint", put_endpoint, methods=["PUT"]),
    Route("/api/v1/markets/{code}/registration-endpoint", delete_endpoint, methods=["DELETE"]),
    Route("/api/v1/registration/callback", callback, methods=["POST"]),
    Route("/api/v1/lots/{lot_id:int}/registration/versions", new_version, methods=["POST"]),
]
