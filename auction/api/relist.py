"""Relisting (重新挂拍) a passed (流拍) or defaulted (悔拍) lot (issue 15 item 3; docs/formats.md
"Relisting", docs/http-api.md "Relisting a lot").

``POST /api/v1/lots/{lot_id}/relist {session_id, start_price_fen, …}``: who may manage both the
lot's market and the target session's market. The lot must have passed, or sold to a buyer who
defaulted (``lot_defaults``), and not be relisted yet; the target session must be of the lot's
market or one below it, start later than the lot's session and still be ``scheduled``. The new
lot copies the old one's description and terms, its format with its terms too unless the body
names a ``format``; the body may change any field of ``POST /sessions/{id}/lots``
(``start_price_fen`` is required) and give a timed lot its own ``starts_at``. Its start price
is at least 80 % of the old one's (:func:`auction.domain.schedule.relist_floor`), else 409
``relist_discount_too_large``. The new
lot names the old one (``relisted_from``); the lot page shows the chain both ways
(``relist_history``). A buyer who defaulted on the old lot cannot register for the new lot's
session (409 ``defaulted_bidder``, :mod:`auction.api.registrations`).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction.accounts.policy import Action
from auction.api import guard
from auction.api.admin import check_lot, lot_start, missing, open_room, vocabularies_today
from auction.api.english import asked as asks_english
from auction.api.http_errors import Body, read_body
from auction.api.listing_sale import listing_terms
from auction.domain import schedule
from auction.domain.lot import LotMode
from auction.domain.money import format_yuan
from auction.store import calendar, ledger
from auction.store.errors import Conflict, NotFound
from auction.store.records import Lot

#: the old lot's fields a relisting copies unless the body changes them
COPIED = ("title", "result_type", "ip_type", "technology_field", "transaction_mode",
          "contract_type", "holder_name", "holder_uscc", "description", "increment_fen",
          "reserve_fen", "non_tech_fen", "duration_s", "appraisal_fen")


def _base(old: Lot, raw: Body) -> dict[str, Any]:
    """The old lot's terms, its format with them unless the body names another
    (docs/formats.md "Formats": a format's terms go with it)."""
    base = {name: getattr(old, name) for name in COPIED}
    if raw.raw("format") is None:
        base.update(old.format_json())
        if raw.raw("listing_days") is not None or raw.raw("listing_ends_at") is not None:
            # a listing's new period replaces the old one, whichever way it is given
            base.pop("listing_days", None)
            base.pop("listing_ends_at", None)
    return base


async def relist_lot(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    await guard.require_staff(services, who)
    lot_id = int(request.path_params["lot_id"])
    try:
        old = await services.store.get_lot(lot_id)
    except NotFound:
        raise missing(who, "标的不存在", "lot_id") from None
    old_session = await services.store.get_session(old.session_id)
    await guard.require(services, who, Action.MANAGE_SESSIONS, market_id=old_session.market_id,
                        session_id=old_session.id)
    raw = await read_body(request)
    session_id = raw.integer("session_id", minimum=1, maximum=2**62)
    body = raw.over(_base(old, raw))
    body.raw("session_id")
    try:
        target = await services.store.get_session(session_id)
    except NotFound:
        raise missing(who, "场次不存在", "session_id") from None
    await guard.require(services, who, Action.MANAGE_SESSIONS, market_id=target.market_id,
                        session_id=target.id)
    own_start = lot_start(body, target)
    spec = check_lot(body, LotMode(target.mode), await vocabularies_today(services))
    spec = listing_terms(spec, target, own_start)
    found = await calendar.relistable(services.store, old.id)
    if found is None:
        raise missing(who, "标的不存在", "lot_id")
    if found.relisted:
        raise Conflict("already_relisted", "该标的已经重新挂拍", "lot_id")
    if not found.may_relist:
        raise Conflict("not_relistable", "只有流拍或买受人悔拍的标的可以重新挂拍", "lot_id")
    tree = await guard.market_tree(services)
    if not tree.within(target.market_id, old_session.market_id):
        raise Conflict("wrong_market", "只能在本技术市场或下级市场的场次重新挂拍", "session_id")
    if target.starts_at <= old_session.starts_at or target.status != "scheduled":
        raise Conflict("not_later", "只能挂入晚于原场次且尚未开始的场次", "session_id")
    floor = schedule.relist_floor(old.start_price_fen)
    if spec.start_price_fen < floor:
        raise Conflict("relist_discount_too_large",
                       f"起拍价不得低于原起拍价的 {schedule.RELIST_FLOOR_PERCENT}%:"
                       f" {format_yuan(floor)} ({floor} 分)", "start_price_fen")
    lot = await services.store.create_lot(target.id, **spec.lot_fields(), starts_at=own_start,
                                          relisted_from=old.id)
    await ledger.set_lot_deposit(services.store, lot.id, spec.deposit_fen)
    return JSONResponse(await open_room(services, target, lot, spec.deposit_fen,
                                        english=asks_english(request)),
                        status_code=201)


routes: list[BaseRoute] = [
    Route("/api/v1/lots/{lot_id:int}/relist", relist_lot, methods=["POST"]),
]
