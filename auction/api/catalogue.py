"""Public reads and bidder sign-up of the HTTP API (docs/http-api.md "Public reads", bidders,
registrations). Handlers are thin: decode → store/rooms → encode; errors go through
:mod:`auction.api.http_errors`.

Nothing here shows a reserve price, a holder's credit code or a bidder's name next to a paddle.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction.api.http_errors import BadRequest, query_int, read_body
from auction.domain.identity import IdentityError, validate_uscc
from auction.services import Services


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def list_markets(request: Request) -> JSONResponse:
    markets = await _services(request).store.list_markets()
    return JSONResponse({"markets": [m.to_json() for m in markets]})


async def list_sessions(request: Request) -> JSONResponse:
    market = request.query_params.get("market") or None
    sessions = await _services(request).store.list_sessions(market)
    return JSONResponse({"sessions": [s.to_json() for s in sessions]})


async def get_session(request: Request) -> JSONResponse:
    session = await _services(request).store.get_session(request.path_params["session_id"])
    return JSONResponse(session.to_json())


async def list_lots(request: Request) -> JSONResponse:
    store = _services(request).store
    session = await store.get_session(request.path_params["session_id"])
    lots = await store.list_lots(session.id)
    return JSONResponse({"lots": [lot.public() for lot in lots]})


async def get_lot(request: Request) -> JSONResponse:
    """The public lot plus ``live``: the room snapshot (public fields, epoch, seq) or null."""
    services = _services(request)
    lot = await services.store.get_lot(request.path_params["lot_id"])
    snapshot = await services.rooms.snapshot(lot.id)
    live: dict[str, Any] | None = None
    if snapshot is not None:
        live = {**snapshot.state, "epoch": snapshot.epoch, "seq": snapshot.seq}
    return JSONResponse({**lot.public(), "live": live})


async def list_bids(request: Request) -> JSONResponse:
    store = _services(request).store
    lot = await store.get_lot(request.path_params["lot_id"])
    bids = await store.public_bids(lot.id)
    return JSONResponse({"lot_id": lot.id, "bids": [b.to_json() for b in bids]})


async def get_registration_status(request: Request) -> JSONResponse:
    status = await _services(request).store.registration_status(request.path_params["lot_id"])
    return JSONResponse(status.to_json())


async def list_results(request: Request) -> JSONResponse:
    results = await _services(request).store.results(query_int(request, "session"))
    return JSONResponse({"results": [r.to_json() for r in results]})


async def create_bidder(request: Request) -> JSONResponse:
    """Real-name sign-up by credit code; the check character is verified (invalid_uscc)."""
    body = await read_body(request)
    name = body.text("name")
    raw_uscc = body.text("uscc", max_len=40)
    contact = body.text("contact", default="", allow_empty=True)
    body.done()
    try:
        uscc = validate_uscc(raw_uscc)
    except IdentityError as exc:
        raise BadRequest(exc.message, "uscc", code=exc.code) from exc
    bidder = await _services(request).store.create_bidder(name=name, uscc=uscc, contact=contact)
    return JSONResponse(bidder.to_json(), status_code=201)


async def apply_registration(request: Request) -> JSONResponse:
    body = await read_body(request)
    bidder_id = body.integer("bidder_id", minimum=1, maximum=2**63 - 1)
    body.done()
    store = _services(request).store
    session = await store.get_session(request.path_params["session_id"])
    await store.get_bidder(bidder_id)
    registration = await store.apply_registration(session.id, bidder_id)
    return JSONResponse(registration.to_json(), status_code=201)


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
    Route(
        "/api/v1/sessions/{session_id:int}/registrations", apply_registration, methods=["POST"]
    ),
]
