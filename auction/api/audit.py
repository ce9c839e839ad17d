"""The audit trail (docs/http-api.md "Audit trail"): every write that succeeded, recorded
append-only in PostgreSQL (:mod:`auction.store.audit`), and read by market.

What is recorded:

- **HTTP**: every ``POST`` / ``PUT`` / ``PATCH`` / ``DELETE`` answered 2xx, by :class:`Trail`,
  the app's middleware (inside :class:`auction.api.inbound.Inbound`, outside the routes). The
  console over HTTP (``POST /lots/{id}/commands``) is one of them.
- **the socket**: a ``cmd`` frame that was acked (:func:`command_acked`, one call in
  :mod:`auction.api.ws`). ``bid`` frames are not recorded: they are in their lot's journal.

Each entry: the server's time; the actor (role, account id, token subject, its market and
session binding, the client's address) read from the request's token without I/O (an anonymous
login is recorded as the account it logged in); the method and the route's template; the path's
ids and the query; the market the write concerns (resolved by the store); the JSON body with
secrets redacted (:func:`redact`; a body that is not JSON is recorded as its type and size);
the status; the ids it created (:func:`created_ids`).

**When the row cannot be written** (PostgreSQL away, a bug): the write itself already
happened and stays; its answer is not turned into an error. The row is logged in full at
ERROR level (``auction.audit``), so it can be put back from the log, and counted in
``auction_audit_failures_total``. An HTTP write's row is written *before* its answer leaves, so
a client holding a 2xx knows the row exists unless that counter moved; while PostgreSQL is known
to be away (:data:`auction.outage.POSTGRES`) no insert is tried, so a Redis-only console
command is not held up by a database timeout. A socket command's row is written after its ack,
in a task of its own: the console's next frame never waits for it.

Reading: ``GET /api/v1/markets/{code}/audit`` (JSON) and ``…/audit.csv`` (UTF-8 with a BOM, so
Excel opens Chinese text) for whoever may manage accounts there (:data:`Action.MANAGE_ACCOUNTS`:
a market admin, over its market and every market below it; the platform admin over every
market, and, asking at a top-level market, the entries of no market too: sign-ups, bidders'
own logins). Anyone else is refused like the ledger route (403; 401 without a login).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auction import eventloop, metrics, outage
from auction.accounts.policy import Action, allows
from auction.api import cookies, guard
from auction.api.admin import missing
from auction.api.http_errors import MAX_BODY_BYTES, BadRequest
from auction.api.tokens import VIEWER, Principal, TokenError, bearer
from auction.domain.identity import mask_resident_id
from auction.rooms.service import Accepted
from auction.services import Services
from auction.store import audit as audit_store
from auction.store.errors import NotFound
from auction.wire.codec import Cmd

log = logging.getLogger("auction.audit")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: field names whose value is never recorded
SECRET_FIELDS = frozenset({"password", "old_password", "new_password", "token"})
REDACTED = "***"
#: the answer's fields recorded as what the write created
CREATED_FIELDS = ("id", "seq", "paddle", "account_id")
#: the route (without converters) whose body ``code`` is the market it concerns
_MARKETS_ROUTE = "/api/v1/markets"
_CONVERTER = re.compile(r":[a-z]+}")
#: naive times in the query are China Standard Time, as the pages show them
CST = timezone(timedelta(hours=8))
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_CSV_ROWS = 10_000

def redact(value: Any, name: str = "") -> Any:
    """``value`` with secrets taken out, at any depth: ``password``, ``old_password``,
    ``new_password``, ``token`` and any field whose name contains ``secret`` become ``***``;
    a field whose name ends in ``resident_id`` keeps its first 6 and last 4 characters."""
    lowered = name.lower()
    if lowered in SECRET_FIELDS or "secret" in lowered:
        return REDACTED
    if lowered.endswith("resident_id") and isinstance(value, str):
        return mask_resident_id(value)
    if isinstance(value, dict):
        return {str(k): redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def created_ids(answer: Any) -> dict[str, Any]:
    """The ids an answer reports as made: its ``id`` (``seq`` of a command, ``paddle`` and
    ``account_id`` where given) and the ``id`` of each of its ``lots`` (an import)."""
    if not isinstance(answer, dict):
        return {}
    found = {k: answer[k] for k in CREATED_FIELDS if type(answer.get(k)) is int}
    lots = answer.get("lots")
    if isinstance(lots, list):
        ids = [lot["id"] for lot in lots if isinstance(lot, dict) and type(lot.get("id")) is int]
        if ids:
            found["lot_ids"] = ids
    return found


def _principal(services: Services, token: str | None) -> Principal:
    if not token:
        return VIEWER
    try:
        return services.tokens.verify(token)
    except TokenError:
        return VIEWER


def _request_principal(services: Services, scope: Scope) -> Principal:
    """Who made the request, from its token as the guard read it (no revocation check: a
    logout has just revoked its own token)."""
    conn = HTTPConnection(scope)
    header = conn.headers.get("authorization", "")
    if header:
        try:
            return _principal(services, bearer(header))
        except TokenError:
            return VIEWER
    return _principal(services, cookies.token_of(conn))


def _login_principal(services: Services, start: Message, answer: Any) -> Principal:
    """The account an anonymous request logged in as: the answer's token, else the login
    cookie it sets."""
    if isinstance(answer, dict) and isinstance(answer.get("token"), str):
        return _principal(services, answer["token"])
    prefix = f"{cookies.TOKEN_COOKIE}=".encode()
    for name, value in start.get("headers", ()):
        if name.lower() == b"set-cookie" and value.startswith(prefix):
            return _principal(services, value[len(prefix):].split(b";")[0].decode("latin-1"))
    return VIEWER


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def _entry(
    who: Principal, *, method: str, route: str, path_ids: dict[str, Any],
    query: dict[str, str], body: Any, status: int, created: dict[str, Any],
    refs: dict[str, Any],
) -> audit_store.Entry:
    return audit_store.Entry(
        actor_role=who.role, actor_account_id=who.account_id or None,
        actor_subject=who.subject, actor_market_id=who.market_id or None,
        actor_session_id=who.session_id or None, actor_address=who.address, method=method,
        route=route, path_ids=path_ids, query=query, body=body, status=status,
        created=created, refs=refs,
    )


async def record(services: Services, entry: audit_store.Entry) -> None:
    """Append ``entry``; never raises (see the module docstring: log, count, go on)."""
    try:
        if outage.POSTGRES.down:
            raise ConnectionError("PostgreSQL is away")
        await audit_store.append(services.store, entry)
    except Exception as exc:
        metrics.AUDIT_FAILURES.inc()
        try:
            row = json.dumps(
                {k: getattr(entry, k) for k in entry.__slots__}, ensure_ascii=False, default=str
            )
        except Exception:  # an entry that cannot be shown is still reported
            row = repr(entry)
        log.error("audit row NOT written (%s: %s): %s", type(exc).__name__, exc, row)


def command_acked(services: Services, who: Principal, msg: Cmd, result: Accepted) -> None:
    """A socket ``cmd`` was acked: record it (in a task of its own, after the ack)."""
    entry = _entry(
        who, method="WS", route="cmd", path_ids={"lot_id": msg.lot}, query={},
        body={"op": msg.op, "args": redact(msg.arg, "args"), "key": msg.key}, status=200,
        created={"lot_id": result.lot or msg.lot, "seq": result.seq,
                 **({"replay": True} if result.replay else {})},
        refs={"lot_id": msg.lot},
    )
    eventloop.detach(record(services, entry), "audit-cmd")


class Trail:
    """ASGI middleware recording successful HTTP writes (see the module docstring). Any other
    request passes through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        held: Message | None = None

        async def receiving() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                part = message.get("body", b"")
                size += len(part)
                if size <= MAX_BODY_BYTES:
                    chunks.append(part)
            return message

        async def sending(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and 200 <= message["status"] < 300:
                held = message  # the row is written before the answer leaves
                return
            if message["type"] == "http.response.body" and held is not None:
                start, held = held, None
                answer = b"" if message.get("more_body") else message.get("body", b"")
                await self._record(scope, start, b"".join(chunks), size, answer)
                await send(start)
            await send(message)

        await self.app(scope, receiving, sending)

    async def _record(
        self, scope: Scope, start: Message, raw: bytes, size: int, answer_raw: bytes
    ) -> None:
        try:
            services: Services = scope["app"].state.services
            entry = self._entry_of(services, scope, start, raw, size, answer_raw)
        except Exception:
            metrics.AUDIT_FAILURES.inc()
            log.exception("audit row NOT made for %s %s", scope.get("method"),
                          scope.get("path"))
            return
        await record(services, entry)

    @staticmethod
    def _entry_of(
        services: Services, scope: Scope, start: Message, raw: bytes, size: int,
        answer_raw: bytes,
    ) -> audit_store.Entry:
        conn = HTTPConnection(scope)
        route = scope.get("route")
        template = _CONVERTER.sub("}", getattr(route, "path", "") or scope["path"])
        path_ids = {str(k): v for k, v in scope.get("path_params", {}).items()}
        content_type = conn.headers.get("content-type", "").split(";")[0].strip().lower()
        body: Any = _json(raw) if size <= MAX_BODY_BYTES and (
            content_type in ("", "application/json") or content_type.endswith("+json")
        ) else None
        if body is None and size:
            body = {"content_type": content_type, "bytes": size}
        body = redact(body if body is not None else {})
        answer = _json(answer_raw) if answer_raw else None
        who = _request_principal(services, scope)
        if who.role == "viewer":
            who = _login_principal(services, start, answer)
        client = scope.get("client")
        if client:
            who = dataclasses.replace(who, address=str(client[0]))
        refs: dict[str, Any] = dict(path_ids)
        if isinstance(body, dict):
            for name in ("lot_id", "registration_id", "session_id", "market_code"):
                refs.setdefault(name, body.get(name))
            if template == _MARKETS_ROUTE:
                refs["market_code"] = body.get("code")
        if "code" in path_ids:
            refs["market_code"] = path_ids["code"]
        return _entry(
            who, method=scope["method"], route=f"{scope['method']} {template}",
            path_ids=path_ids, query=dict(conn.query_params), body=body,
            status=int(start["status"]), created=created_ids(answer), refs=refs,
        )


# -- reading --


def _time(request: Request, name: str) -> datetime | None:
    text = request.query_params.get(name, "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"查询参数 {name} 应为 ISO 8601 日期或时间", name) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=CST)


def _limit(request: Request, default: int, most: int) -> int:
    text = request.query_params.get("limit", "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= most:
        raise BadRequest(f"查询参数 limit 应为 1 到 {most} 的整数", "limit")
    return int(text)


async def _rows(request: Request, default: int, most: int) -> tuple[str, list[audit_store.Row]]:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    code = request.path_params["code"]
    try:
        market = await services.store.get_market_by_code(code)
    except NotFound:
        raise missing(who, "技术市场不存在", "code") from None
    await guard.require(services, who, Action.MANAGE_ACCOUNTS, market_id=market.id)
    since, until = _time(request, "from"), _time(request, "to")
    limit = _limit(request, default, most)
    actor = request.query_params.get("actor", "").strip() or None
    tree = await guard.market_tree(services)
    visible = [
        m for m in tree.subtree(market.id)
        if allows(who.actor, Action.MANAGE_ACCOUNTS, market_id=m, tree=tree)
    ]
    unplaced = guard.is_platform_admin(who) and tree.parent.get(market.id) is None
    rows = await audit_store.entries(
        services.store, visible, unplaced=unplaced, since=since, until=until, actor=actor,
        limit=limit,
    )
    return code, rows


async def market_audit(request: Request) -> JSONResponse:
    """GET /api/v1/markets/{code}/audit?from=&to=&actor=&limit=: newest first."""
    code, rows = await _rows(request, DEFAULT_LIMIT, MAX_LIMIT)
    return JSONResponse({"market_code": code, "entries": [r.to_json() for r in rows]})


CSV_COLUMNS = ("id", "时间 at", "角色 role", "账号 account_id", "主体 subject",
               "所属市场 actor_market_id", "场次 actor_session_id", "地址 address", "请求 route",
               "路径参数 ids", "查询 query", "市场 market_code", "请求体 body", "状态 status",
               "新建 created")


def _cell(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def defused(value: str) -> str:
    """A text cell Excel will not run as a formula (a staff token's name is free text)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


async def market_audit_csv(request: Request) -> Response:
    """GET /api/v1/markets/{code}/audit.csv: the same entries as CSV (UTF-8 with a BOM)."""
    code, rows = await _rows(request, MAX_CSV_ROWS, MAX_CSV_ROWS)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow((
            r.id, r.at.isoformat(), r.actor_role, r.actor_account_id or "",
            defused(r.actor_subject), r.actor_market_id or "", r.actor_session_id or "",
            defused(r.actor_address), r.route,
            _cell(r.path_ids), _cell(r.query), r.market_code or "", _cell(r.body), r.status,
            _cell(r.created),
        ))
    return Response(
        "\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{code}.csv"'},
    )


routes: list[BaseRoute] = [
    Route("/api/v1/markets/{code}/audit", market_audit, methods=["GET"]),
    Route("/api/v1/markets/{code}/audit.csv", market_audit_csv, methods=["GET"]),
]
