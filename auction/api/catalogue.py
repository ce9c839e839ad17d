"""Public reads and bidder sign-up of the HTTP API (docs/http-api.md "Public reads", bidders,
registrations). Handlers are thin: decode → store/rooms → encode; errors go through
:mod:`auction.api.http_errors`.

A draft session and its lots are shown to the staff of its market only
(:mod:`auction.api.publication`): to anyone else they do not exist (404).

Nothing here shows a reserve price, a holder's credit code or a bidder's name next to a paddle.
Lots carry ``deposit_fen`` (the deposit needed to bid on them). Registrations (报名) are in
:mod:`auction.api.registrations`.

The lots of a session that the catalogue (PostgreSQL) has as ``open`` carry ``live``: their room
as it is in Redis, plus ``last_event_at`` (server ms of the room's last event), and the answer
carries ``server_time`` (Redis ``TIME``, ms). So a page can show a live session interrupted by a
restart — the room still open in Redis, nothing happening since — as it is, and the auctioneer
can carry on. Redis being unreachable leaves ``live`` null rather than failing the read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction import outage
from auction.api import files as file_routes
from auction.api import publication
from auction.api.http_errors import query_int
from auction.api.listing_sale import listing_json
from auction.api.signup import SIGNUP_ACCEPTED as SIGNUP_ACCEPTED  # sign-up lives there
from auction.api.signup import create_bidder
from auction.domain import schedule
from auction.services import Services
from auction.store import answers, calendar, files, ledger, progress
from auction.store.records import LotOutcome, rfc3339


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def list_markets(request: Request) -> JSONResponse:
    markets = await _services(request).store.list_markets()
    return JSONResponse({"markets": [m.to_json() for m in markets]})


async def list_sessions(request: Request) -> JSONResponse:
    """The published sessions, and the drafts of the caller's markets (staff)."""
    services = _services(request)
    market = request.query_params.get("market") or None
    drafts = await publication.draft_markets(services, await publication.reader(request))
    sessions = await services.store.list_sessions(market, drafts_of=drafts)
    return JSONResponse({"sessions": [s.to_json() for s in sessions]})


async def get_session(request: Request) -> JSONResponse:
    session = await _services(request).store.get_session(request.path_params["session_id"])
    await publication.visible_session(request, session)
    return JSONResponse(session.to_json())


async def _live(services: Services, lot_id: int) -> dict[str, Any] | None:
    """The room of ``lot_id`` (public fields, epoch, seq, ``last_event_at``) or ``None``."""
    snapshot = await services.rooms.snapshot(lot_id)
    if snapshot is None:
        return None
    last = await services.rooms.events_after(lot_id, max(snapshot.seq - 1, 0))
    last_at = last[-1].at if last else int(snapshot.state.get("opened_at") or 0)
    return {**snapshot.state, "epoch": snapshot.epoch, "seq": snapshot.seq,
            "last_event_at": last_at}


async def list_lots(request: Request) -> JSONResponse:
    """The session's lots; those the catalogue has as open carry ``live`` (see above)."""
    services = _services(request)
    store = services.store
    session = await store.get_session(request.path_params["session_id"])
    await publication.visible_session(request, session)
    lots = await store.list_lots(session.id)
    ids = [lot.id for lot in lots]
    deposits = await ledger.lot_deposits(store, ids)
    outcomes = await store.lot_outcomes(ids)
    registered = await answers.views(store, [i for i, o in outcomes.items()
                                             if o.outcome == "sold"])
    answer: dict[str, Any] = {
        "lots": [
            {**lot.public(), "deposit_fen": deposits.get(lot.id, 0),
             "result": _outcome(outcomes.get(lot.id), registered.get(lot.id))}
            for lot in lots
        ]
    }
    open_lots = [entry for entry in answer["lots"] if entry["status"] == "open"]
    if open_lots:
        # The catalogue is readable without Redis; only the live part is left out then.
        try:
            for entry in open_lots:
                entry["live"] = await _live(services, entry["id"])
            sec, usec = await services.redis.time()
            answer["server_time"] = int(sec) * 1000 + int(usec) // 1000
        except (RedisError, OSError) as exc:
            outage.REDIS.failed(exc, where="catalogue")
            for entry in open_lots:
                entry["live"] = None
        else:
            outage.REDIS.ok()
    return JSONResponse(answer)


def _outcome(
    found: LotOutcome | None, registration: answers.RegistrationView | None = None
) -> dict[str, Any] | None:
    """The lot's result; a sold lot's carries ``registration`` (待登记 / 已登记 + number /
    未予登记 + reason: :class:`auction.store.answers.RegistrationView`)."""
    if found is None:
        return None
    shown = found.to_json()
    if found.outcome == "sold":
        shown["registration"] = registration.to_json() if registration is not None else None
    return shown


async def get_lot(request: Request) -> JSONResponse:
    """The public lot, with what its page needs (issue 11): ``deposit_fen``, ``has_reserve``
    (保留价 有/无, never the amount), ``appraisal_fen``, the session's extension rule
    (``extension_window_s``, ``extension_s``), ``registered`` (报名人数: the session's
    registrations approved or further), ``attachments``, ``result`` (how it ended: final price
    and paddle, or the pass reason; null until settled), ``live``: the room snapshot
    (public fields, epoch, seq) or null, and the relisting (issue 15): ``relisted_from``,
    ``relisted_to`` (lot ids or null), ``relist_history`` (the chain of relistings through
    the lot, oldest first; ``[]`` when it was never relisted) and ``relistable`` (passed or
    defaulted, not relisted yet); ``closes_at``: a timed lot's planned close when its session
    has a schedule (docs/formats.md "Scheduling"), else null; a listing (挂牌) carries
    ``listing``: its period, price, number of qualified buyers (never who) and state
    (:func:`auction.api.listing_sale.listing_json`)."""
    services = _services(request)
    store = services.store
    lot = await store.get_lot(request.path_params["lot_id"])
    await publication.visible_lot(request, lot.session_id)
    session = await store.get_session(lot.session_id)
    deposit = (await ledger.lot_deposits(store, [lot.id])).get(lot.id, 0)
    attachments = (await files.of_lots(store, [lot.id])).get(lot.id, [])
    outcome = (await store.lot_outcomes([lot.id])).get(lot.id)
    registration = (await answers.views(store, [lot.id])).get(lot.id)
    registered = await progress.registered(store, lot.session_id)
    snapshot = await services.rooms.snapshot(lot.id)
    live: dict[str, Any] | None = None
    if snapshot is not None:
        live = {**snapshot.state, "epoch": snapshot.epoch, "seq": snapshot.seq}
    listed = await listing_json(services, [lot], {session.id: session.starts_at})
    history = await calendar.chain(store, lot.id)
    relisted_to = next((c.lot_id for c in history if c.relisted_from == lot.id), None)
    relistable = await calendar.relistable(store, lot.id)
    closes_at = None  # a timed lot of a session with a schedule: its planned close
    if session.mode == "timed" and session.ends_at is not None:
        order = [found.id for found in await store.list_lots(session.id)]
        planned = schedule.close_at(session.ends_at, session.close_gap_s, order.index(lot.id),
                                    session.hard_end_at)
        closes_at = rfc3339(datetime.fromtimestamp(planned / 1000, UTC))
    return JSONResponse({
        "closes_at": closes_at,
        "relisted_to": relisted_to,
        "relistable": relistable is not None and relistable.may_relist,
        "relist_history": [c.to_json() for c in history] if len(history) > 1 else [],
        **lot.public(), "deposit_fen": deposit,
        "extension_window_s": session.extension_window_s, "extension_s": session.extension_s,
        "registered": registered, "attachments": [a.to_json() for a in attachments],
        "result": _outcome(outcome, registration), "live": live,
        **({"listing": listed[lot.id]} if lot.id in listed else {}),
    })


async def list_bids(request: Request) -> JSONResponse:
    store = _services(request).store
    lot = await store.get_lot(request.path_params["lot_id"])
    await publication.visible_lot(request, lot.session_id)
    bids = await store.public_bids(lot.id)
    return JSONResponse({"lot_id": lot.id, "bids": [b.to_json() for b in bids]})


async def get_registration_status(request: Request) -> JSONResponse:
    status = await _services(request).store.registration_status(request.path_params["lot_id"])
    return JSONResponse(status.to_json())


async def list_results(request: Request) -> JSONResponse:
    store = _services(request).store
    results = await store.results(query_int(request, "session"))
    registered = await answers.views(store, [r.lot_id for r in results])
    return JSONResponse({"results": [
        {**r.to_json(), "registration": _registration(registered.get(r.lot_id))}
        for r in results
    ]})


def _registration(found: answers.RegistrationView | None) -> dict[str, Any] | None:
    return None if found is None else found.to_json()


routes: list[BaseRoute] = [
    Route("/api/v1/markets", list_markets, methods=["GET"]),
    Route("/api/v1/sessions", list_sessions, methods=["GET"]),
    Route("/api/v1/sessions/{session_id:int}", get_session, methods=["GET"]),
    Route("/api/v1/sessions/{session_id:int}/lots", list_lots, methods=["GET"]),
    Route("/api/v1/lots/{lot_id:int}", get_lot, methods=["GET"]),
    Route("/api/v1/lots/{lot_id:int}/bids", list_bids, methods=["GET"]),
    Route("/api/v1/lots/{lot_id:int}/registration", get_registration_status, methods=["GET"]),
    Route("/api/v1/results", list_results, methods=["GET"]),
    Route("/api/v1/bidders", create_bidder, methods=["POST"]),
    *file_routes.routes,  # lot attachments and registration documents
]
