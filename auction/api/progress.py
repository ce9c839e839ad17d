"""``GET /api/v1/sessions/{id}/progress``: where a session stands, for the console (场次进度).

Answer (docs/http-api.md "Console")::

    {session_id, registered, lots: {total, scheduled, open, sold, passed, withdrawn},
     hammer_total_fen, running_order: [{lot_id, ordinal, title, status, hammer_fen}]}

``registered`` is 报名人数 (:data:`auction.store.progress.REGISTERED`). A lot's ``status`` is its
room's (Redis) when the room exists, since the room is ahead of the catalogue (a lot hammered a
moment ago; a sold lot reopened, whose settlement waits until it is final); else the
catalogue's. ``hammer_fen`` is the room's high of a sold room, or the settled amount of a sold
lot without a room, else null; ``hammer_total_fen`` is their sum. With Redis away the catalogue
answers alone rather than failing the read.

Who: staff who may run the session's console or manage its sessions (the platform admin, a
market admin of its market or above, an auctioneer of its market, a session-bound auctioneer
token for its own session). An unknown session is answered like a session of another market
(403), except to the platform admin (404), as for the session's other routes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction import outage
from auction.accounts.policy import Action
from auction.api import guard
from auction.api.admin import missing
from auction.api.guard import Denied
from auction.domain.lot import LotStatus
from auction.services import Services
from auction.store import progress as store_progress
from auction.store.errors import NotFound

STATUSES = tuple(status.value for status in LotStatus)


async def _authorise(request: Request) -> int:
    """The path's session id, once the caller may see its progress (see module doc)."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    session_id = int(request.path_params["session_id"])
    try:
        market = await guard.session_market(services, session_id)
    except NotFound:
        raise missing(who, "场次不存在", "session_id") from None
    try:
        await guard.require(
            services, who, Action.RUN_CONSOLE, market_id=market, session_id=session_id
        )
    except Denied as exc:
        if exc.code != "forbidden":
            raise
        await guard.require(
            services, who, Action.MANAGE_SESSIONS, market_id=market, session_id=session_id
        )
    return session_id


async def _rooms(services: Services, lot_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Public room state per lot that has a room; ``{}`` when Redis does not answer."""
    try:
        snapshots = await asyncio.gather(*(services.rooms.snapshot(lot) for lot in lot_ids))
    except (RedisError, OSError) as exc:
        outage.REDIS.failed(exc, where="progress")
        return {}
    outage.REDIS.ok()
    return {snap.lot_id: snap.state for snap in snapshots if snap is not None}


async def session_progress(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    session_id = await _authorise(request)
    lines = await store_progress.running_order(services.store, session_id)
    registered = await store_progress.registered(services.store, session_id)
    rooms = await _rooms(services, [line.lot_id for line in lines])
    counts = dict.fromkeys(STATUSES, 0)
    order: list[dict[str, Any]] = []
    total = 0
    for line in lines:
        status, hammer = line.status, line.hammer_fen
        room = rooms.get(line.lot_id)
        if room is not None and room.get("status") in counts:
            status = str(room["status"])
            hammer = int(room.get("high") or 0) if status == LotStatus.SOLD.value else None
        counts[status] = counts.get(status, 0) + 1
        total += hammer or 0
        order.append({"lot_id": line.lot_id, "ordinal": line.ordinal, "title": line.title,
                      "status": status, "hammer_fen": hammer})
    return JSONResponse({
        "session_id": session_id, "registered": registered,
        "lots": {"total": len(lines), **counts}, "hammer_total_fen": total,
        "running_order": order,
    })


routes: list[BaseRoute] = [
    Route("/api/v1/sessions/{session_id:int}/progress", session_progress, methods=["GET"]),
]
