"""HTTP error mapping, in one table (house style rule 5), and request-body validation.

Every error answer is ``{"error": {"code", "message", "field"?}}`` (docs/http-api.md)::

    exception                                   status  code
    BadRequest (bad JSON, a bad or unknown      400     bad_request / invalid_uscc / … (its own)
      field, a bad query parameter)
    auction.domain.identity.IdentityError       400     invalid_uscc / invalid_resident_id
    TokenError, missing bearer token            401     unauthorized
    guard.Denied                                401/403 unauthorized / forbidden /
                                                        deposit_required / csrf_failed (a
                                                        cookie write without X-CSRF-Token)
    guard.Denied rate_limited, RateLimited      429     rate_limited (+ retry_after_ms and a
                                                        Retry-After header)
    rooms.lanes.Overloaded (a floor bid queued  503     overloaded (+ retry_after_ms and a
      too long behind a flood of bids)                  Retry-After header)
    store NotFound                              404     not_found
    store Conflict                              409     conflict / wrong_state
    store Invalid (a CHECK constraint, or a     400     bad_request
      value PostgreSQL refused: out of range,
      a character it cannot store)
    store Unavailable, Redis connection errors, 503     unavailable (no traceback logged: the
      timeouts and OSErrors                             outage is one line, auction/outage.py)
    Rejection unknown_lot                       404     unknown_lot
    Rejection idempotency_conflict, wrong_state 409     (the rejection's code)
    Rejection not_published                     409     not_published (a draft's lot)
    Rejection not_yet                           409     not_yet (before the lot's time)
    Rejection listing_period                    409     listing_period (a listing's period)
    Rejection deposit_required                  403     deposit_required
    Rejection (any other rule)                  422     lot_closed / too_low / … (same as nack)
    starlette HTTPException                     its own not_found / method_not_allowed / …
    anything else                               500     internal_error (answered by
                                                        auction.api.inbound, which keeps the
                                                        connection alive)

:class:`Body` reads a JSON object field by field and raises :class:`BadRequest` naming the
field; money fields must be JSON integers (``true``, ``1.0`` and ``"100"`` are refused); text
fields follow :func:`auction.domain.inputs.text_problem` (no control characters, no lone
surrogates, a length limit). Query ids: :func:`query_int`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auction import outage
from auction.accounts.limits import RateLimited
from auction.api.english import HEADER, wants_english
from auction.api.english import message as english_message
from auction.api.guard import Denied
from auction.api.tokens import TokenError
from auction.domain.errors import Rejection
from auction.domain.identity import IdentityError
from auction.domain.inputs import parse_id, printable, text_problems
from auction.rooms.door import Overloaded
from auction.store.errors import (
    Conflict,
    Invalid,
    NotFound,
    StoreError,
    Unavailable,
    translate,
)

log = logging.getLogger("auction.api")

#: Largest request body read, and the largest money amount accepted. Amounts stay below 2^53
#: because the Lua scripts see numbers as doubles (10^15 fen = 10 万亿元).
MAX_BODY_BYTES = 64 * 1024
MAX_FEN = 10**15


class BadRequest(Exception):
    """The request itself is malformed. ``status`` is 400 unless said otherwise; ``en``: the
    message in English, when it says more than the code's (:mod:`auction.api.english`)."""

    def __init__(
        self, message: str, field: str | None = None, *, code: str = "bad_request",
        status: int = 400, en: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.status = status
        self.en = en


def error_response(
    status: int, code: str, message: str, field: str | None = None, **extra: Any
) -> JSONResponse:
    """The one error body of the API; ``extra`` (e.g. ``retry_after_ms``) joins ``error``.
    ``message`` and ``field`` may echo the caller's text (an unknown field's name): they are
    cut and escaped so that any input can be answered (a lone surrogate cannot be encoded)."""
    error: dict[str, Any] = {"code": code, "message": printable(message, 500), **extra}
    if field:
        error["field"] = printable(field)
    headers = None
    if "retry_after_ms" in extra:
        headers = {"Retry-After": str(max(1, -(-int(extra["retry_after_ms"]) // 1000)))}
    return JSONResponse({"error": error}, status_code=status, headers=headers)


_STORE_STATUS: tuple[tuple[type[StoreError], int], ...] = (
    (NotFound, 404), (Conflict, 409), (Invalid, 400), (Unavailable, 503),
)
_REJECTION_STATUS = {
    "unknown_lot": 404, "idempotency_conflict": 409, "wrong_state": 409, "deposit_required": 403,
    "not_published": 409, "not_yet": 409, "listing_period": 409,
}
_DENIED_STATUS = {"unauthorized": 401, "bad_credentials": 401, "rate_limited": 429}
_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 503: "unavailable",
}
_HTTP_MESSAGES = {404: "请求的资源不存在", 405: "不支持该请求方法"}


def to_response(exc: Exception, *, english: bool = False) -> JSONResponse:
    """The error answer for ``exc`` (the table in the module docstring); with ``english`` its
    ``message`` in English (:mod:`auction.api.english`)."""

    def reply(
        status: int, code: str, message: str, field: str | None = None, **extra: Any
    ) -> JSONResponse:
        if english:
            own = exc.en if isinstance(exc, BadRequest) else None
            message = english_message(code, message, field, own)
        return error_response(status, code, message, field, **extra)

    if isinstance(exc, BadRequest):
        return reply(exc.status, exc.code, exc.message, exc.field)
    if isinstance(exc, IdentityError):
        return reply(400, exc.code, exc.message)
    if isinstance(exc, TokenError):
        return reply(401, "unauthorized", "需要有效的访问令牌 (Authorization: Bearer)")
    if isinstance(exc, Denied):
        status = _DENIED_STATUS.get(exc.code, 403)
        return reply(status, exc.code, exc.message, **exc.extra)
    if isinstance(exc, RateLimited):
        return reply(429, exc.code, exc.message, retry_after_ms=exc.retry_after_ms)
    if isinstance(exc, Overloaded):
        return reply(503, exc.code, exc.message, retry_after_ms=exc.retry_after_ms)
    if isinstance(exc, StoreError):
        for cls, status in _STORE_STATUS:
            if isinstance(exc, cls):
                return reply(status, exc.code, exc.message, exc.field)
        log.error("store error without an HTTP mapping: %r", exc)
        return reply(500, "internal_error", "服务器内部错误")
    if isinstance(exc, Rejection):
        return reply(_REJECTION_STATUS.get(exc.code, 422), exc.code, exc.message)
    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        outage.REDIS.failed(exc, where="http")
        return reply(503, "unavailable", "实时竞价服务暂时不可用")
    if isinstance(exc, HTTPException):
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = _HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
        return reply(exc.status_code, code, message)
    mapped = translate(exc)  # a database failure that escaped the store's translation
    if mapped is not None:
        if isinstance(mapped, Unavailable):
            log.warning("answered 503: %s: %s", type(exc).__name__, exc)
        return to_response(mapped, english=english)
    log.exception("unhandled error", exc_info=exc)
    return reply(500, "internal_error", "服务器内部错误")


async def _handle(request: Request, exc: Exception) -> Response:
    return to_response(exc, english=wants_english(request.headers.get(HEADER)))


Handler = Callable[[Request, Exception], Awaitable[Response]]


def exception_handlers() -> dict[Any, Handler]:
    """For ``Starlette(exception_handlers=...)``: every mapped exception → :func:`to_response`."""
    mapped: list[type[Exception]] = [
        BadRequest, IdentityError, TokenError, Denied, RateLimited, StoreError, Rejection,
        RedisConnectionError, RedisTimeoutError, HTTPException, TimeoutError, OSError,
    ]
    # Anything else reaches auction.api.inbound.Inbound, which answers 500 and keeps the connection
    # (ServerErrorMiddleware, where a handler for Exception would run, re-raises to the server,
    # which logs a second traceback and drops the keep-alive connection).
    return {cls: _handle for cls in mapped}


# -- request bodies ---------------------------------------------------------------------------


async def read_body(request: Request, *, optional: bool = False) -> Body:
    """The request's JSON object. An empty body is ``{}`` when ``optional``."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest("请求体过大", code="too_large", status=413,
                         en="The request body is too large")
    if not raw.strip():
        if optional:
            return Body({})
        raise BadRequest("请求体不能为空, 应为 JSON 对象",
                         en="The request body is empty: a JSON object is expected")
    try:
        data = json.loads(raw)
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError included
        raise BadRequest(f"请求体不是合法的 JSON: {exc}",
                         en=f"The request body is not valid JSON: {exc}") from exc
    except RecursionError:
        raise BadRequest("请求体嵌套过深", en="The request body is nested too deeply") from None
    if not isinstance(data, dict):
        raise BadRequest("请求体应为 JSON 对象", en="The request body must be a JSON object")
    return Body(data)


_MISSING = object()


def _integer_unit(name: str) -> tuple[str, str]:
    """What an integer field counts, for its message in Chinese and in English: money in fen
    (``*_fen``), seconds (``*_s``), or nothing to add (ids)."""
    if name.endswith("_fen"):
        return " (金额以分计)", " (money in fen)"
    return (" (单位: 秒)", " (seconds)") if name.endswith("_s") else ("", "")


class Body:
    """Typed access to a JSON object; each getter raises :class:`BadRequest` naming the field.
    Call :meth:`done` last: a field nobody asked for is refused (a misspelt ``reserve`` must not
    be silently dropped)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data
        self._seen: set[str] = set()

    def over(self, base: dict[str, Any]) -> Body:
        """This body laid over ``base``: a field it does not give takes ``base``'s value (an
        edit: what is not given stays); one it gives as ``null`` is absent (its default)."""
        return Body({**base, **self._data})

    def _get(self, name: str) -> Any:
        self._seen.add(name)
        value = self._data.get(name, _MISSING)
        return _MISSING if value is None else value

    def text(
        self, name: str, *, default: str | None = None, max_len: int = 200,
        allow_empty: bool = False, multiline: bool | None = None,
    ) -> str:
        """A JSON string, stripped, at most ``max_len`` characters, with no control character
        and no lone surrogate. ``multiline`` allows line breaks and tabs; by default a field
        longer than a line (``max_len`` above 200: descriptions, reasons) allows them."""
        value = self._get(name)
        if value is _MISSING:
            if default is None:
                raise BadRequest(f"缺少字段 {name}", name, en=f"Missing field {name}")
            return default
        if not isinstance(value, str):
            raise BadRequest(f"字段 {name} 应为字符串", name, en=f"Field {name} must be text")
        value = value.strip()
        if not value and not allow_empty:
            raise BadRequest(f"字段 {name} 不能为空", name, en=f"Field {name} may not be empty")
        if multiline is None:
            multiline = max_len > 200
        problems = text_problems(value, max_len=max_len, multiline=multiline)
        if problems is not None:
            raise BadRequest(f"字段 {name} {problems[0]}", name,
                             en=f"Field {name} {problems[1]}")
        return value

    def gives(self, name: str) -> bool:
        """Does the body hold ``name`` at all (``null`` included)? An edit tells "keep" (absent)
        from "back to the default" (``null``) by it."""
        return name in self._data

    def raw(self, name: str) -> Any:
        """The field as JSON gave it (``None`` when absent), for a caller that checks it."""
        value = self._get(name)
        return None if value is _MISSING else value

    def optional_text(
        self, name: str, *, max_len: int = 200, multiline: bool | None = None
    ) -> str | None:
        if self._get(name) is _MISSING:
            return None
        return self.text(name, max_len=max_len, multiline=multiline)

    def integer(
        self, name: str, *, minimum: int = 0, maximum: int = MAX_FEN, default: int | None = None
    ) -> int:
        """A JSON integer in ``[minimum, maximum]``; ``bool``, floats and strings are refused."""
        value = self._get(name)
        if value is _MISSING:
            if default is None:
                raise BadRequest(f"缺少字段 {name}", name, en=f"Missing field {name}")
            return default
        if type(value) is not int:
            unit, unit_en = _integer_unit(name)
            raise BadRequest(f"字段 {name} 应为整数{unit}", name,
                             en=f"Field {name} must be a whole number{unit_en}")
        if not minimum <= value <= maximum:
            raise BadRequest(f"字段 {name} 应在 {minimum} 到 {maximum} 之间", name,
                             en=f"Field {name} must be between {minimum} and {maximum}")
        return value

    def choice(self, name: str, options: tuple[str, ...], *, default: str | None = None) -> str:
        value = self.text(name, default=default)
        if value not in options:
            raise BadRequest(f"字段 {name} 应为 {' / '.join(options)} 之一", name,
                             en=f"Field {name} must be one of {' / '.join(options)}")
        return value

    def timestamp(self, name: str) -> datetime:
        """An RFC 3339 timestamp with an offset, e.g. ``2026-04-18T09:30:00+08:00``."""
        value = self.text(name, max_len=40)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise BadRequest(f"字段 {name} 应为 RFC 3339 时间", name,
                             en=f"Field {name} must be an RFC 3339 time") from exc
        if parsed.tzinfo is None:
            raise BadRequest(f"字段 {name} 须带时区偏移, 如 +08:00", name,
                             en=f"Field {name} needs a time zone offset, e.g. +08:00")
        return parsed

    def done(self) -> None:
        """Refuse fields that were not read."""
        for name in self._data:
            if name not in self._seen:
                shown = printable(name)  # the caller's text: cut, and escaped if need be
                raise BadRequest(f"未知字段 {shown}", shown, en=f"Unknown field {shown}")


def query_int(request: Request, name: str) -> int | None:
    """An optional id query parameter (``?session=``): ``None`` when absent or empty, 400 when
    it is not an integer, and ``UNKNOWN_ID`` when it is out of ``1 .. 2^63 − 1`` (answered like
    any unknown id, as in a path)."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_id(raw)
    except ValueError:
        raise BadRequest(f"查询参数 {name} 应为正整数", name,
                         en=f"Query parameter {name} must be a positive whole number") from None
