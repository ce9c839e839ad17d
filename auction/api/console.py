"""Console commands (开拍 / 落槌 / 流拍) and bids, shared by the websocket and HTTP handlers.

Authorisation lives here, once: bids need a bidder token of the lot's session; commands need
the admin or an auctioneer of the lot's session. The rules themselves are in the Lua scripts.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from auction.api.tokens import Principal, TokenError
from auction.rooms.service import Accepted
from auction.services import Services


class Denied(Exception):
    """The principal may not do this. ``code`` is ``unauthorized`` or ``forbidden``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def place_bid(
    services: Services, who: Principal, lot: int, amount: int, key: str
) -> Accepted:
    if who.role == "viewer":
        raise Denied("unauthorized", "请先登录竞买人账号")
    session = await services.rooms.session_of(lot)
    if not who.may_bid(session):
        raise Denied("forbidden", "您不是本场次的竞买人")
    return await services.rooms.bid(
        lot, bidder=who.bidder_id, paddle=who.paddle, amount=amount, idem=f"b{who.bidder_id}:{key}"
    )


async def run_command(services: Services, who: Principal, lot: int, op: str, key: str) -> Accepted:
    if who.role == "viewer":
        raise Denied("unauthorized", "需要拍卖师或管理员身份")
    session = await services.rooms.session_of(lot)
    if not who.may_run(session):
        raise Denied("forbidden", "您不是本场次的拍卖师")
    idem = f"s{who.role}:{who.subject}:{key}"
    if op == "open":
        return await services.rooms.open(lot, idem=idem)
    return await services.rooms.close(lot, op, idem=idem)


def accepted_json(lot: int, result: Accepted) -> dict[str, Any]:
    return {
        "lot_id": lot, "seq": result.seq, "at": result.at, "ends_at_ms": result.ends_at,
        "outcome": result.outcome, "replay": result.replay,
    }


async def command_endpoint(request: Request) -> JSONResponse:
    """POST /api/v1/lots/{id}/commands {op, key}: the console over HTTP."""
    services: Services = request.app.state.services
    auth = request.headers.get("authorization", "")
    if not auth.startswith("Bearer "):
        raise TokenError("missing bearer token")
    who = services.tokens.verify(auth[7:])
    try:
        body = await request.json()
    except ValueError:
        body = None
    op = body.get("op") if isinstance(body, dict) else None
    key = body.get("key") if isinstance(body, dict) else None
    if op not in ("open", "hammer", "pass") or not isinstance(key, str) or not 0 < len(key) <= 64:
        return JSONResponse(
            {"error": {"code": "bad_request", "message": "需要 op(open/hammer/pass) 与 key",
                       "field": "op" if op not in ("open", "hammer", "pass") else "key"}},
            status_code=400,
        )
    lot = int(request.path_params["lot_id"])
    result = await run_command(services, who, lot, op, key)
    return JSONResponse(accepted_json(lot, result))


routes = [Route("/api/v1/lots/{lot_id:int}/commands", command_endpoint, methods=["POST"])]
