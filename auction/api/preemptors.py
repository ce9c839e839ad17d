"""Preemptive rights (优先购买权) on a lot (issue 14 item 5; rule R9 of docs/formats.md):

- ``GET /api/v1/lots/{id}/preemptors`` → ``{lot_id, holders: [{bidder_id, order}]}``
- ``PUT /api/v1/lots/{id}/preemptors`` ``{holders: [{bidder_id, order}]}`` replaces them, until
  bidding starts (then 409 ``bidding_started``); each bidder must be registered in the lot's
  session (400 ``unknown_bidder``). Who: as a lot edit (its market's admin or above).

PostgreSQL holds them (the room is rebuilt with them); the room's ``holders`` field is written
by ``holders.lua`` atomically with the check that the lot is still scheduled.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction.api import guard
from auction.api.http_errors import BadRequest, read_body
from auction.api.lot_edits import _lot_scope, _room_scheduled, _started
from auction.domain import book
from auction.domain.errors import Rejection
from auction.domain.inputs import MAX_ID
from auction.store import preemptors

#: holders per lot, and the worst order
MAX_HOLDERS = 20
MAX_ORDER = 99


def _answer(lot_id: int, pairs: list[tuple[int, int]]) -> dict[str, Any]:
    return {"lot_id": lot_id,
            "holders": [{"bidder_id": b, "order": o} for b, o in pairs]}


def check_holders(raw: object) -> list[tuple[int, int]]:
    """``[{bidder_id, order}]``: at most 20, distinct bidders, order 1–99."""
    if not isinstance(raw, list) or len(raw) > MAX_HOLDERS:
        raise BadRequest(f"字段 holders 须为至多 {MAX_HOLDERS} 项的数组", "holders")
    pairs: list[tuple[int, int]] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) != {"bidder_id", "order"}:
            raise BadRequest("每项须为 {bidder_id, order}", f"holders[{i}]")
        bidder, order = item["bidder_id"], item["order"]
        if type(bidder) is not int or not 1 <= bidder <= MAX_ID:
            raise BadRequest("bidder_id 须为竞买人编号", f"holders[{i}].bidder_id")
        if type(order) is not int or not 1 <= order <= MAX_ORDER:
            raise BadRequest(f"order 须为 1–{MAX_ORDER} 的整数 (1 为第一顺位)",
                             f"holders[{i}].order")
        if any(b == bidder for b, _ in pairs):
            raise BadRequest("同一竞买人只能出现一次", f"holders[{i}].bidder_id")
        pairs.append((bidder, order))
    return pairs


async def get_preemptors(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    lot_id, _session = await _lot_scope(request, who)
    return JSONResponse(_answer(lot_id, await preemptors.holders(services.store, lot_id)))


async def put_preemptors(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    lot_id, session_id = await _lot_scope(request, who)
    body = await read_body(request)
    pairs = check_holders(body.raw("holders"))
    body.done()
    lot = await services.store.get_lot(lot_id)
    if not await _room_scheduled(services, lot):
        raise _started("设置优先购买权", "lot_id")
    await preemptors.replace_holders(services.store, lot_id, session_id, pairs)
    try:
        await services.rooms.set_holders(lot_id, book.holders_text(dict(pairs)))
    except Rejection as exc:  # bidding started meanwhile: the room keeps what it had
        if exc.code == "wrong_state":
            raise _started("设置优先购买权", "lot_id") from None
        raise
    return JSONResponse(_answer(lot_id, await preemptors.holders(services.store, lot_id)))


routes: list[BaseRoute] = [
    Route("/api/v1/lots/{lot_id:int}/preemptors", get_preemptors, methods=["GET"]),
    Route("/api/v1/lots/{lot_id:int}/preemptors", put_preemptors, methods=["PUT"]),
]
