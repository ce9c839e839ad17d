"""GET /api/v1/sessions/{id}/progress: who may read it, and what it counts (rooms over the
catalogue)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from auction.api import (
    admin,
    auth,
    catalogue,
    deposits,
    http_errors,
    openapi,
    progress,
    registrations,
)
from auction.services import Services
from tests.api.conftest import ADMIN, NewLot, NewSession, error_of
from tests.e2e.harness import enrol

PASSWORD = "Progress-Desk-2026"


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The package's HTTP routes with the progress route."""
    app = Starlette(
        routes=[*openapi.routes, *admin.routes, *progress.routes, *registrations.routes,
                *auth.routes, *deposits.routes, *catalogue.routes],
        exception_handlers=http_errors.exception_handlers(),
    )
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def _staff(client: httpx.AsyncClient, role: str, market_code: str) -> dict[str, str]:
    """The bearer header of a new staff account of ``role`` in the market, logged in."""
    username = f"{role[:4]}-{uuid.uuid4().hex[:10]}"
    made = await client.post("/api/v1/accounts", headers=ADMIN, json={
        "username": username, "password": PASSWORD, "role": role, "market_code": market_code})
    assert made.status_code == 201, made.text
    login = await client.post("/api/v1/auth/login",
                              json={"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['token']}"}


async def _session_token(client: httpx.AsyncClient, session_id: int) -> dict[str, str]:
    made = await client.post(f"/api/v1/sessions/{session_id}/staff-tokens", headers=ADMIN,
                             json={"name": "李拍卖师"})
    assert made.status_code == 200, made.text
    return {"Authorization": f"Bearer {made.json()['token']}"}


def _path(session_id: int) -> str:
    return f"/api/v1/sessions/{session_id}/progress"


async def test_progress_of_a_new_session(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot,
) -> None:
    """A session with two scheduled lots and nobody registered: every count in place."""
    session = await new_session()
    first = await new_lot(session["id"], title="第一件")
    second = await new_lot(session["id"], title="第二件")
    resp = await client.get(_path(session["id"]), headers=ADMIN)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "session_id": session["id"], "registered": 0,
        "lots": {"total": 2, "scheduled": 2, "open": 0, "sold": 0, "passed": 0, "withdrawn": 0},
        "hammer_total_fen": 0,
        "running_order": [
            {"lot_id": first["id"], "ordinal": 1, "title": "第一件", "status": "scheduled",
             "hammer_fen": None},
            {"lot_id": second["id"], "ordinal": 2, "title": "第二件", "status": "scheduled",
             "hammer_fen": None},
        ],
    }


async def test_who_may_read_progress(
    client: httpx.AsyncClient, new_session: NewSession,
) -> None:
    """Market admin and auctioneer of the market, and the session's own auctioneer token, may;
    no token is 401; finance, staff of another market and a token of another session are 403;
    an unknown session is 404 to the platform admin and 403 to everyone else."""
    session = await new_session()
    other = await new_session()
    code = session["market_code"]
    allowed = [
        ADMIN, await _staff(client, "market_admin", code), await _staff(client, "auctioneer", code),
        await _session_token(client, session["id"]),
    ]
    for headers in allowed:
        resp = await client.get(_path(session["id"]), headers=headers)
        assert resp.status_code == 200, resp.text
    assert (await client.get(_path(session["id"]))).status_code == 401
    refused = [
        await _staff(client, "finance", code),
        await _staff(client, "market_admin", other["market_code"]),
        await _staff(client, "auctioneer", other["market_code"]),
        await _session_token(client, other["id"]),
    ]
    for headers in refused:
        resp = await client.get(_path(session["id"]), headers=headers)
        assert (resp.status_code, error_of(resp)["code"]) == (403, "forbidden"), resp.text
    unknown = 9_000_000_000
    assert (await client.get(_path(unknown), headers=ADMIN)).status_code == 404
    assert (await client.get(_path(unknown), headers=allowed[1])).status_code == 403
    assert (await client.get(_path(2**63), headers=ADMIN)).status_code == 404
    assert (await client.get(_path(0), headers=allowed[2])).status_code == 403


async def test_a_bidder_may_not_read_progress(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot,
    new_uscc: Callable[[], str],
) -> None:
    """A bidder's own login and its bid credential are 403, even in its own session."""
    session = await new_session()
    await new_lot(session["id"])
    made = await enrol(client, session["id"], name="竞买企业", uscc_code=new_uscc(),
                       deposit_fen=20_000_000)
    for token in (made.account_token, made.token):
        resp = await client.get(_path(session["id"]),
                                headers={"Authorization": f"Bearer {token}"})
        assert (resp.status_code, error_of(resp)["code"]) == (403, "forbidden")


async def test_progress_follows_the_rooms(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot,
    new_uscc: Callable[[], str],
) -> None:
    """Registered counts approved-or-further registrations only; statuses and hammer prices
    come from the rooms (sold, passed, open, scheduled), and from the catalogue and its
    settlement for a lot whose room is gone."""
    session = await new_session()
    sid = session["id"]
    lots = [await new_lot(sid, title=f"标的{i}", reserve_fen=None) for i in range(5)]
    bidders = [await enrol(client, sid, name=f"竞买企业{i}", uscc_code=new_uscc(),
                           deposit_fen=20_000_000) for i in range(2)]
    # one application left pending, one rejected: not registered
    for i, fate in enumerate(("pending", "rejected")):
        signed = await client.post("/api/v1/bidders", headers=ADMIN,
                                   json={"name": f"未审核企业{i}", "uscc": new_uscc()})
        reg = await client.post(f"/api/v1/sessions/{sid}/registrations", headers=ADMIN,
                                json={"bidder_id": signed.json()["id"]})
        assert reg.status_code == 201, reg.text
        if fate == "rejected":
            rejected = await client.post(f"/api/v1/registrations/{reg.json()['id']}/reject",
                                         headers=ADMIN, json={"reason": "材料不全"})
            assert rejected.status_code == 200, rejected.text
    rooms = services.rooms
    sold, passed, running, _scheduled, settled = (lot["id"] for lot in lots)
    await rooms.open(sold)
    first, second = bidders
    await rooms.bid(sold, bidder=first.bidder_id, paddle=first.paddle, amount=200_000_000)
    await rooms.bid(sold, bidder=second.bidder_id, paddle=second.paddle, amount=210_000_000)
    await rooms.close(sold, "hammer")
    await rooms.open(passed)
    await rooms.close(passed, "pass")
    await rooms.open(running)
    # the last lot was sold and settled, and its room is gone from Redis
    await services.redis.delete(services.keys.lot(settled).state)
    at = datetime(2026, 4, 18, 2, 0, tzinfo=UTC)
    async with services.store.pool.acquire() as conn:
        await conn.execute("UPDATE lots SET status = 'sold' WHERE id = $1", settled)
        await conn.execute(
            "INSERT INTO lot_results (lot_id, outcome, winner_id, paddle, amount_fen,"
            " winning_seq, closed_at, bid_count, bid_log_sha256)"
            " VALUES ($1, 'sold', $2, $3, 230000000, 2, $4, 1, repeat('0', 64))",
            settled, first.bidder_id, first.paddle, at,
        )
    resp = await client.get(_path(sid), headers=ADMIN)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    assert body["registered"] == 2
    assert body["lots"] == {"total": 5, "scheduled": 1, "open": 1, "sold": 2, "passed": 1,
                            "withdrawn": 0}
    assert [(line["status"], line["hammer_fen"]) for line in body["running_order"]] == [
        ("sold", 210_000_000), ("passed", None), ("open", None), ("scheduled", None),
        ("sold", 230_000_000),
    ]
    assert body["hammer_total_fen"] == 440_000_000


async def test_progress_is_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    """The progress route is listed in /openapi.json with its answer's fields."""
    doc = (await client.get("/openapi.json")).json()
    operation = doc["paths"]["/api/v1/sessions/{session_id}/progress"]["get"]
    assert operation["security"] == [{"bearer": []}]
    schema = doc["components"]["schemas"]["Progress"]
    assert schema["required"] == [
        "session_id", "registered", "lots", "hammer_total_fen", "running_order"]
