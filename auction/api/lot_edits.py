"""Editing a session's lots until bidding starts (issue 12 item 3; docs/http-api.md "Lot edits").

- ``GET /api/v1/lots/{id}/edit``: the lot as its edit form needs it (the admin's view with
  ``deposit_fen``, ``editable`` and ``warnings``).
- ``PATCH /api/v1/lots/{id}``: any field ``POST /sessions/{id}/lots`` takes, checked by the same
  :func:`auction.api.admin.check_lot`; a field not given keeps its value (``null``: the field's
  default, as at creation). Answered as creation answers (``deposit_fen``, ``warnings``).
  ``starts_at`` (a timed lot's own opening time, :func:`auction.api.admin.lot_start`'s rule;
  ``null``: it opens with its session) moves only while that opening has not come: see below.
- ``PUT /api/v1/sessions/{id}/order {lot_ids}``: the running order; ``lot_ids`` must be
  exactly the session's lots, each once (else 400 naming ``lot_ids``); ordinals become 1..n.

Who: as for creating a lot, :data:`Action.MANAGE_SESSIONS` on the lot's market (a guessed id of
another market is 403, 404 to the platform admin only). Once bidding started — the lot's row
(for the order: any lot of the session) or its Redis room is no longer ``scheduled`` — 409
``bidding_started`` and nothing changes.

The room's terms (start, increment, reserve, duration, deposit) change in one script with the
check that it is still scheduled (``terms.lua``), called inside the PostgreSQL transaction that
changes the row: a room that refuses rolls the row back. Should the commit fail after the room
changed, the room gets its old terms back. A changed deposit re-pushes the lot's eligible set
(:mod:`auction.rooms.eligibility`): who covers the lot may have changed.

A lot's opening time lives in PostgreSQL alone: the scheduler opens a lot when
``coalesce(lot.starts_at, session.starts_at) <= now()`` (:mod:`auction.store.calendar`) and the
console's ``open`` checks the same row (``not_yet``), so a committed ``starts_at`` moves the
opening. It may change only while the current opening time is still ahead (checked under the
row's lock, by PostgreSQL's clock as the scheduler's query is): once it has come, the scheduler
or the auctioneer may be opening the lot from the old time, and a move would race that, so it
is 409 ``start_passed`` naming ``starts_at`` (a draft session's lots never open: always
movable). A listing's period begins at its opening, so a listing's start is fixed at creation
(400 naming ``starts_at``).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction.accounts.policy import Action
from auction.api import guard
from auction.api.admin import (
    FORMAT_FIELDS,
    LotSpec,
    check_lot,
    lot_answer,
    lot_start,
    missing,
    open_room,
    session_scope,
    vocabularies_today,
)
from auction.api.english import asked as asks_english
from auction.api.http_errors import BadRequest, read_body
from auction.api.tokens import Principal
from auction.domain.errors import Rejection
from auction.domain.lot import LotMode
from auction.rooms import eligibility
from auction.services import Services
from auction.store import ledger, lot_edits
from auction.store.errors import Conflict, StoreError
from auction.store.records import Lot

log = logging.getLogger("auction.api.lot_edits")

#: more lots than any session holds: a longer list is refused before it is read further
MAX_ORDER = 5_000


async def _lot_scope(request: Request, who: Principal) -> tuple[int, int]:
    """The path's lot, which ``who`` must manage: ``(lot_id, session_id)``."""
    services = guard.services_of(request)
    lot_id = int(request.path_params["lot_id"])
    try:
        terms = await guard.lot_terms(services, lot_id)
    except Rejection:
        raise missing(who, "标的不存在", "lot_id") from None
    await guard.require(services, who, Action.MANAGE_SESSIONS, market_id=terms.market_id,
                        session_id=terms.session_id)
    return lot_id, terms.session_id


def _started(what: str, field: str) -> Conflict:
    return Conflict("bidding_started", f"竞价已开始, 不能再{what}", field)


async def _room_scheduled(services: Services, lot: Lot) -> bool:
    """Is the lot still before bidding, in PostgreSQL and in its room (none: not yet made)?"""
    state = await services.rooms.room_state(lot.id)
    return lot.status == "scheduled" and (state is None or state.status.value == "scheduled")


def _current(lot: Lot, deposit: int) -> dict[str, Any]:
    """The lot's fields as a creation body would give them (what an edit leaves as it was)."""
    values = {f.name: getattr(lot, f.name) for f in dataclasses.fields(LotSpec)
              if f.name != "deposit_fen" and f.name not in FORMAT_FIELDS}
    return {**values, **lot.format_json(), "deposit_fen": deposit}


async def get_lot_for_edit(request: Request) -> JSONResponse:
    """The lot's edit form: the admin's view (reserve, holder's credit code), ``deposit_fen``,
    ``warnings``, ``editable`` (false once bidding started) and the session's ``mode``."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    lot_id, session_id = await _lot_scope(request, who)
    lot = await services.store.get_lot(lot_id)
    session = await services.store.get_session(session_id)
    deposit = (await ledger.lot_deposits(services.store, [lot_id])).get(lot_id, 0)
    return JSONResponse({
        **lot_answer(lot, deposit, english=asks_english(request)),
        "editable": await _room_scheduled(services, lot),
        "session": {"id": session.id, "name": session.name, "mode": session.mode},
    })


async def update_lot(request: Request) -> JSONResponse:
    """Edit a lot until bidding starts (see the module doc)."""
    services = guard.services_of(request)
    store = services.store
    who = await guard.principal_of(request)
    lot_id, session_id = await _lot_scope(request, who)
    session = await store.get_session(session_id)
    was = await store.get_lot(lot_id)
    old_deposit = (await ledger.lot_deposits(store, [lot_id])).get(lot_id, 0)
    given = await read_body(request)
    for name in FORMAT_FIELDS:  # a lot's format is set at its creation (docs/formats.md)
        if given.raw(name) is not None:
            raise BadRequest(f"字段 {name} 只能在创建标的时设置", name)
    body = given.over(_current(was, old_deposit))
    own_start = was.starts_at
    if given.gives("starts_at"):  # absent: kept; null: back to the session's start
        own_start = lot_start(body, session)
    moves = own_start != was.starts_at
    if moves and was.format == "listing":
        raise BadRequest("挂牌标的的挂牌期自其开始时间起算, 开始时间只能在创建时设置",
                         "starts_at")
    spec = check_lot(body, LotMode(session.mode), await vocabularies_today(services))
    if not await _room_scheduled(services, was):
        raise _started("修改标的", "lot_id")
    fields = {**spec.lot_fields(), "deposit_fen": spec.deposit_fen, "starts_at": own_start}
    room = {"changed": False, "missing": False}

    async def set_room(lot: Lot) -> None:
        try:
            changed = await services.rooms.set_terms(
                lot.id, start=lot.start_price_fen, inc=lot.increment_fen,
                reserve=lot.reserve_fen, duration_ms=lot.duration_s * 1000,
                deposit_fen=spec.deposit_fen,
            )
        except Rejection as exc:
            if exc.code == "wrong_state":
                raise _started("修改标的", "lot_id") from None
            raise
        room["changed"], room["missing"] = changed, not changed

    try:
        lot = await lot_edits.update_lot(store, lot_id, fields, set_room, start_moves=moves)
    except StoreError:
        if room["changed"]:  # the row stayed as it was: so must the room
            await _restore_room(services, was, old_deposit)
        raise
    if room["missing"]:  # a lot whose room was never made (Redis was away): make it now
        return JSONResponse(await open_room(services, session, lot, spec.deposit_fen,
                                            english=asks_english(request)))
    if spec.deposit_fen != old_deposit:
        await eligibility.push_lot(services, lot_id)
    return JSONResponse(lot_answer(lot, spec.deposit_fen, english=asks_english(request)))


async def _restore_room(services: Services, lot: Lot, deposit: int) -> None:
    try:
        await services.rooms.set_terms(
            lot.id, start=lot.start_price_fen, inc=lot.increment_fen, reserve=lot.reserve_fen,
            duration_ms=lot.duration_s * 1000, deposit_fen=deposit,
        )
    except Exception:
        log.exception("lot %s: the room keeps the edited terms, PostgreSQL the old ones", lot.id)


def _lot_ids(raw: object) -> list[int]:
    """The body's ``lot_ids``: a list of distinct positive integers, else 400 naming it."""
    if not isinstance(raw, list) or not raw or len(raw) > MAX_ORDER:
        raise BadRequest("字段 lot_ids 应为本场次全部标的编号组成的数组", "lot_ids")
    if any(type(v) is not int or v <= 0 for v in raw):
        raise BadRequest("字段 lot_ids 的每一项应为标的编号 (正整数)", "lot_ids")
    if len(set(raw)) != len(raw):
        raise BadRequest("字段 lot_ids 中有重复的标的", "lot_ids")
    return list(raw)


async def reorder_lots(request: Request) -> JSONResponse:
    """Set the session's running order (see the module doc); the lots in their new order."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    session_id = await session_scope(request, who, Action.MANAGE_SESSIONS)
    body = await read_body(request)
    lot_ids = _lot_ids(body.raw("lot_ids"))
    body.done()
    current = await services.store.list_lots(session_id)
    if sorted(lot_ids) != sorted(lot.id for lot in current):
        raise BadRequest("字段 lot_ids 应恰为本场次的全部标的, 每个一次", "lot_ids")

    async def rooms_scheduled(lots: list[Lot]) -> None:
        for lot in lots:
            if not await _room_scheduled(services, lot):
                raise _started("调整标的顺序", "session_id")

    for lot in current:  # before taking any lock: the usual answer once the sale is on
        if not await _room_scheduled(services, lot):
            raise _started("调整标的顺序", "session_id")
    lots = await lot_edits.reorder(services.store, session_id, lot_ids, rooms_scheduled)
    return JSONResponse({"session_id": session_id, "lots": [lot.to_json() for lot in lots]})


routes: list[BaseRoute] = [
    Route("/api/v1/lots/{lot_id:int}", update_lot, methods=["PATCH"]),
    Route("/api/v1/lots/{lot_id:int}/edit", get_lot_for_edit, methods=["GET"]),
    Route("/api/v1/sessions/{session_id:int}/order", reorder_lots, methods=["PUT"]),
]
