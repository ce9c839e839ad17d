"""``POST /api/v1/registration/retry``: put dead registration rows back in the delivery queue.

Body, exactly one of::

    {"lot_id": <positive integer>}   that lot's row (it must be dead)
    {"all_dead": true}               every dead row

Answer ``{"requeued": [lot ids]}``. Who: the platform admin (``AUCTION_ADMIN_TOKEN`` or a
``platform_admin`` account) for both; a market admin for a lot of its markets
(``manage_sessions`` there, docs/roles.md). A re-queued row is due at once with fresh counters
and a fresh 7-day retry window; its ``last_error`` keeps why it had died
(:func:`auction.store.outbox.requeue`).

Errors (docs/http-api.md): 400 ``bad_request`` for a body that is not exactly one of the above,
401/403 for the caller, 404 ``not_found`` for an unknown lot or a lot without a registration row
(not sold), 409 ``wrong_state`` for a row that is not dead, 503 ``unavailable``.
"""

from __future__ import annotations

import json
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction.accounts.policy import Action
from auction.api import guard
from auction.api.admin import missing
from auction.api.guard import Denied
from auction.api.http_errors import BadRequest, read_body
from auction.domain.errors import Rejection
from auction.store import outbox

log = logging.getLogger("auction.registration")

MAX_LOT_ID = 2**63 - 1


def _target(data: dict[str, object]) -> int | None:
    """The lot id asked for, or ``None`` for every dead row."""
    unknown = sorted(set(data) - {"lot_id", "all_dead"})
    if unknown:
        raise BadRequest(f"未知字段 {unknown[0]}", unknown[0])
    if ("lot_id" in data) == ("all_dead" in data):
        raise BadRequest("请求体应为 {\"lot_id\": 标的编号} 或 {\"all_dead\": true} 之一")
    if "all_dead" in data:
        if data["all_dead"] is not True:
            raise BadRequest("字段 all_dead 只能为 true", "all_dead")
        return None
    lot_id = data["lot_id"]
    if type(lot_id) is not int or not 1 <= lot_id <= MAX_LOT_ID:
        raise BadRequest("字段 lot_id 应为正整数", "lot_id")
    return lot_id


async def retry(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    await guard.require_staff(services, who)
    await read_body(request)  # size, JSON and "an object" are checked there
    target = _target(json.loads(await request.body()))
    if target is None:
        if not guard.is_platform_admin(who):
            raise Denied("forbidden", "只有平台管理员可以重新排队全部死信")
        requeued = await outbox.requeue_all_dead(services.store)
    else:
        try:
            terms = await guard.lot_terms(services, target)
        except Rejection:
            raise missing(who, f"标的 {target} 不存在", "lot_id") from None
        await guard.require(
            services, who, Action.MANAGE_SESSIONS, market_id=terms.market_id,
            session_id=terms.session_id,
        )
        await outbox.requeue(services.store, target)
        requeued = [target]
    log.info("registration re-queued by %s: lots %s",
             who.subject or who.role, requeued or "none (no dead rows)")
    return JSONResponse({"requeued": requeued})


routes: list[BaseRoute] = [Route("/api/v1/registration/retry", retry, methods=["POST"])]
