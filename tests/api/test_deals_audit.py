"""The writes of issue 13 in the audit trail, on the real server: a payment recorded with its
actor, route and market; an anonymous objection with its lot's market; the market's notice
settings and an objection's resolution."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx

from auction.domain import deadlines
from tests.accounts import conftest as accounts_fixtures
from tests.accounts.world import START, bearer, build_world, ok
from tests.api.test_audit_http import one, trail
from tests.e2e.harness import Server, raw_client

server = accounts_fixtures.server
http = accounts_fixtures.http


async def test_payment_notice_and_objection_writes_are_recorded(
    server: Server, http: httpx.AsyncClient
) -> None:
    """B's lot is sold through the console and a bid; finance records a payment, the market
    admin sets the notice period, anyone objects, the market admin resolves: each is an entry
    of B's market with its route template, ids and actor (the objection: anonymous)."""
    world = await build_world(http, bidders=1, lots=1)
    b = world.b
    lot = b.lots[0]
    auctioneer = bearer(b.tokens["auctioneer"])
    await ok(await http.post(f"/api/v1/lots/{lot}/commands", headers=auctioneer,
                             json={"op": "open", "key": "o"}))
    async with raw_client(server, b.bidders[0]["token"]) as client:
        await client.send(t="bid", lot=lot, amount=START, key="b1")
        assert (await client.until(lambda m: m["t"] in ("ack", "nack")))["t"] == "ack"
    await ok(await http.post(f"/api/v1/lots/{lot}/commands", headers=auctioneer,
                             json={"op": "hammer", "key": "h"}))
    finance = bearer(b.tokens["finance"])
    for _ in range(60):  # the drainer settles the lot within seconds
        if (await http.get(f"/api/v1/lots/{lot}/payment", headers=finance)).status_code == 200:
            break
        await asyncio.sleep(0.3)
    today = deadlines.day_in_china(datetime.now(UTC)).isoformat()
    paid = await ok(await http.post(f"/api/v1/lots/{lot}/payments", headers=finance, json={
        "amount_fen": 1_000, "paid_on": today, "bank_reference": "AUDIT-1"}), 201)
    admin = bearer(b.tokens["market_admin"])
    await ok(await http.patch(f"/api/v1/markets/{b.code}", headers=admin,
                              json={"objection_contact": "0531-1234"}))
    filed = await ok(await http.post(f"/api/v1/lots/{lot}/objections", json={
        "name": "王五", "contact": "139", "text": "异议"}), 201)
    await ok(await http.post(f"/api/v1/objections/{filed['id']}/resolution", headers=admin,
                             json={"resolution": "维持"}))

    entries = await trail(http, b.code, b.tokens["market_admin"])
    payment = one(entries, "POST /api/v1/lots/{lot_id}/payments", lot_id=lot)
    assert payment["actor"]["role"] == "finance" and payment["market_code"] == b.code
    assert payment["created"].get("id") == paid["id"]
    assert payment["body"]["bank_reference"] == "AUDIT-1"
    objection = one(entries, "POST /api/v1/lots/{lot_id}/objections", lot_id=lot)
    assert objection["actor"]["role"] == "viewer" and objection["market_code"] == b.code
    settings = one(entries, "PATCH /api/v1/markets/{code}", code=b.code)
    assert settings["actor"]["role"] == "market_admin" and settings["market_code"] == b.code
    resolved = one(entries, "POST /api/v1/objections/{objection_id}/resolution",
                   objection_id=filed["id"])
    assert resolved["actor"]["role"] == "market_admin" and resolved["market_code"] == b.code
