"""Public reads and bidder sign-up over HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from auction.services import Services
from auction.store import Store
from tests.api.conftest import ADMIN

NewSession = Callable[..., Awaitable[dict[str, Any]]]
NewLot = Callable[..., Awaitable[dict[str, Any]]]


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


async def test_markets_and_sessions_are_listed(
    client: httpx.AsyncClient, new_session: NewSession
) -> None:
    """A new session appears under its market's code with its market listed too."""
    session = await new_session()
    markets = (await client.get("/api/v1/markets")).json()["markets"]
    assert session["market_code"] in [m["code"] for m in markets]
    listed = await client.get("/api/v1/sessions", params={"market": session["market_code"]})
    assert listed.json()["sessions"] == [session]
    one = await client.get(f"/api/v1/sessions/{session['id']}")
    assert one.json() == session


async def test_public_lot_hides_reserve_and_shows_the_room(
    client: httpx.AsyncClient, new_lot: NewLot
) -> None:
    """GET /lots/{id} omits reserve and credit code and includes the live room snapshot."""
    created = await new_lot()
    lot = (await client.get(f"/api/v1/lots/{created['id']}")).json()
    assert "reserve_fen" not in lot and "holder_uscc" not in lot
    assert lot["start_price_fen"] == 200_000_000
    live = lot["live"]
    assert live["status"] == "scheduled" and live["seq"] == 0 and live["epoch"]
    assert "reserve" not in live and "leader" not in live
    listed = (await client.get(f"/api/v1/sessions/{created['session_id']}/lots")).json()["lots"]
    assert [item["id"] for item in listed] == [created["id"]]
    assert "reserve_fen" not in listed[0]


async def test_lot_without_room_has_null_live(
    client: httpx.AsyncClient, new_lot: NewLot, services: Services
) -> None:
    """A lot whose Redis room is gone shows ``live: null`` rather than an error."""
    created = await new_lot()
    await services.redis.delete(services.keys.lot(created["id"]).state)
    assert (await client.get(f"/api/v1/lots/{created['id']}")).json()["live"] is None


async def test_unknown_ids_are_not_found(client: httpx.AsyncClient) -> None:
    """Unknown sessions, lots and routes answer 404 with the error body."""
    for path in ("/api/v1/sessions/999999999", "/api/v1/sessions/999999999/lots",
                 "/api/v1/lots/999999999", "/api/v1/lots/999999999/bids",
                 "/api/v1/lots/999999999/registration", "/api/v1/nothing-here"):
        resp = await client.get(path)
        assert resp.status_code == 404, path
        assert error_of(resp)["code"] == "not_found"


async def test_bids_and_results_are_public_by_paddle(
    client: httpx.AsyncClient, new_lot: NewLot, store: Store
) -> None:
    """Bid history and results show paddles and amounts, never bidder names or ids."""
    lot = await new_lot()
    bidder = await store.create_bidder(name="保密的竞买企业", uscc=f"T{lot['id']:017d}")
    at = datetime(2026, 4, 18, 2, 0, tzinfo=UTC)
    async with store.pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO lot_events (lot_id, seq, epoch, kind, at, bidder_id, paddle, amount_fen)"
            " VALUES ($1, $2, 'e', $3, $4, $5, $6, $7)",
            [(lot["id"], 1, "opened", at, None, None, None),
             (lot["id"], 2, "bid", at, bidder.id, 101, 200_000_000),
             (lot["id"], 3, "sold", at, bidder.id, 101, 200_000_000)],
        )
        await conn.execute(
            "INSERT INTO lot_results (lot_id, outcome, winner_id, paddle, amount_fen,"
            " winning_seq, closed_at, bid_count, bid_log_sha256)"
            " VALUES ($1, 'sold', $2, 101, 200000000, 2, $3, 1, repeat('0', 64))",
            lot["id"], bidder.id, at,
        )
    bids = (await client.get(f"/api/v1/lots/{lot['id']}/bids")).json()
    assert bids == {"lot_id": lot["id"], "bids": [
        {"seq": 2, "paddle": 101, "amount_fen": 200_000_000, "at": "2026-04-18T10:00:00.000+08:00",
         "source": "online", "retracted": False, "mark": None},
    ]}
    results = (await client.get("/api/v1/results", params={"session": lot["session_id"]})).json()
    assert results["results"] == [{
        "lot_id": lot["id"], "session_id": lot["session_id"], "title": lot["title"],
        "paddle": 101, "amount_fen": 200_000_000, "hammer_at": "2026-04-18T10:00:00.000+08:00",
        "bid_count": 1, "registration": None,
    }]
    assert "保密" not in str(bids) + str(results)


async def test_results_query_must_be_an_integer(client: httpx.AsyncClient) -> None:
    """``?session=abc`` is a 400 naming the parameter."""
    resp = await client.get("/api/v1/results", params={"session": "abc"})
    assert (resp.status_code, error_of(resp)["field"]) == (400, "session")


async def test_registration_status_reads_the_outbox(
    client: httpx.AsyncClient, new_lot: NewLot, store: Store
) -> None:
    """A lot with an outbox row shows its hand-off status; without one it is 404."""
    lot = await new_lot()
    assert (await client.get(f"/api/v1/lots/{lot['id']}/registration")).status_code == 404
    async with store.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO registration_outbox (lot_id, idempotency_key, packet) VALUES ($1, $2, $3)",
            lot["id"], f"lot-{lot['id']}", {"lot_id": lot["id"]},
        )
    status = (await client.get(f"/api/v1/lots/{lot['id']}/registration")).json()
    market = (await client.get(f"/api/v1/sessions/{lot['session_id']}")).json()["market_code"]
    assert status == {"lot_id": lot["id"], "status": "pending", "attempts": 0, "last_error": "",
                      "idempotency_key": f"lot-{lot['id']}", "delivered_at": None,
                      "version": 1, "shown": "pending", "status_text": "待登记",
                      "registration_no": None, "reason": "", "answered_at": None,
                      "market_code": market}


async def test_bidder_sign_up_checks_the_credit_code(
    client: httpx.AsyncClient, new_uscc: Callable[[], str]
) -> None:
    """A bad check character is 400 invalid_uscc on ``uscc``; a good code signs up once: the
    platform admin's desk sees the bidder (201) and a second sign-up as 409 on ``uscc``."""
    bad = await client.post(
        "/api/v1/bidders", json={"name": "某公司", "uscc": "91350100M000100Y44"}
    )
    assert bad.status_code == 400
    assert (error_of(bad)["code"], error_of(bad)["field"]) == ("invalid_uscc", "uscc")
    uscc = new_uscc()
    ok = await client.post("/api/v1/bidders", headers=ADMIN, json={
        "name": "某公司", "uscc": uscc.lower(), "contact": "0531-12345678"})
    assert ok.status_code == 201, ok.text
    assert (ok.json()["uscc"], ok.json()["contact"]) == (uscc, "0531-12345678")
    again = await client.post("/api/v1/bidders", headers=ADMIN,
                              json={"name": "另一公司", "uscc": uscc})
    assert (again.status_code, error_of(again)["field"]) == (409, "uscc")


async def test_registration_needs_known_session_and_bidder(
    client: httpx.AsyncClient, new_session: NewSession, new_uscc: Callable[[], str]
) -> None:
    """Unknown session or bidder is 404; applying twice is 409; bidder_id must be an int."""
    session = await new_session()
    bidder = (await client.post("/api/v1/bidders", headers=ADMIN,
                                json={"name": "甲", "uscc": new_uscc()})).json()
    url = f"/api/v1/sessions/{session['id']}/registrations"
    desk = {"headers": ADMIN}  # the registration desk applies for the bidder
    assert (await client.post(url, **desk, json={"bidder_id": 999_999_999})).status_code == 404
    unknown_session = await client.post("/api/v1/sessions/999999999/registrations",
                                        headers=ADMIN, json={"bidder_id": bidder["id"]})
    assert unknown_session.status_code == 404
    text_id = await client.post(url, **desk, json={"bidder_id": str(bidder["id"])})
    assert (text_id.status_code, error_of(text_id)["field"]) == (400, "bidder_id")
    assert (await client.post(url, **desk, json={"bidder_id": bidder["id"]})).status_code == 201
    assert (await client.post(url, **desk, json={"bidder_id": bidder["id"]})).status_code == 409


async def test_unavailable_database_is_503(
    client: httpx.AsyncClient, services: Services
) -> None:
    """When PostgreSQL cannot be reached the answer is 503 unavailable."""
    services.store = Store(_ClosedPool())
    resp = await client.get("/api/v1/markets")
    assert (resp.status_code, error_of(resp)["code"]) == (503, "unavailable")


class _ClosedPool:
    """A pool whose server went away: every query fails like a refused connection."""

    async def fetch(self, *args: object) -> None:
        raise ConnectionRefusedError("connection refused")
