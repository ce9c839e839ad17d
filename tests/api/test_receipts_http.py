"""Bid receipts over HTTP (issue 16 item 5) and the session head on 成交公示 (item 4): the
bidder downloads a receipt for its own accepted bid, signed with the server's Ed25519 key (the
public half published at ``GET /api/v1/receipts/key``) and carrying the bid's chain hash;
nobody else gets it; a finished session publishes its head."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from auction.api import admin, auth, catalogue, deposits, http_errors, listing, receipts
from auction.api import registrations as registration_routes
from auction.audit.receipts import PublicKey, Signer, parse
from auction.services import Services
from auction.settlement.drainer import Drainer
from auction.store import chain as store_chain
from tests.api.conftest import ADMIN, error_of
from tests.e2e.harness import enrol

NewSession = Callable[..., Awaitable[dict[str, Any]]]
NewLot = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process app with the routes a registration takes, listing and receipts."""
    app = Starlette(
        routes=[*admin.routes, *registration_routes.routes, *auth.routes, *deposits.routes,
                *catalogue.routes, *listing.routes, *receipts.routes],
        exception_handlers=http_errors.exception_handlers(),
    )
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_bidder_gets_a_signed_receipt_and_the_session_head_is_published(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot,
    new_uscc: Callable[[], str],
) -> None:
    """200 with a receipt whose signature and chain hash check, for the bid's own bidder
    (login or bid credential); 403 for the rival and staff; 404 unknown_bid for a seq that is
    not a bid; the publicity answer carries the finished session's head."""
    session = await new_session()
    sid = session["id"]
    lot = await new_lot(sid, reserve_fen=None)
    me = await enrol(client, sid, name="回执企业", uscc_code=new_uscc(), deposit_fen=20_000_000)
    rival = await enrol(client, sid, name="对手企业", uscc_code=new_uscc(),
                        deposit_fen=20_000_000)
    rooms = services.rooms
    await rooms.open(lot["id"])
    await rooms.bid(lot["id"], bidder=me.bidder_id, paddle=me.paddle, amount=200_000_000)
    await rooms.bid(lot["id"], bidder=rival.bidder_id, paddle=rival.paddle, amount=210_000_000)
    await rooms.close(lot["id"], "hammer")
    url = f"/api/v1/lots/{lot['id']}/bids/2/receipt"
    early = await client.get(url, headers=bearer(me.account_token))
    assert early.status_code == 404 and error_of(early)["code"] == "unknown_bid"
    drainer = Drainer(services.store, services.redis, services.keys)
    while await drainer.drain_once():
        pass

    for token in (me.account_token, me.token):
        resp = await client.get(url, headers=bearer(token))
        assert resp.status_code == 200, resp.text
        assert "attachment" in resp.headers["content-disposition"]
    body = resp.json()
    receipt, signature = parse(body)
    published = (await client.get("/api/v1/receipts/key")).json()  # public: no login
    key = PublicKey.parse(published["public_key"])
    assert PublicKey.parse(published["public_key_pem"]) == key
    assert published["alg"] == body["alg"] == "Ed25519"
    assert published["key_id"] == body["key_id"] == key.key_id
    assert key.verifies(receipt, signature)
    other = Signer("A" * 43 + "=").public
    assert not other.verifies(receipt, signature)
    assert not key.verifies(replace(receipt, amount_fen=receipt.amount_fen + 1), signature)
    entry = await store_chain.bid_entry(services.store, lot["id"], 2)
    assert entry is not None
    assert (body["lot_id"], body["session_id"], body["seq"], body["paddle"],
            body["amount_fen"], body["sha256"]) == (
        lot["id"], sid, 2, me.paddle, 200_000_000, entry.sha256)
    assert body["at"].endswith("+08:00")

    for headers in (bearer(rival.account_token), ADMIN):
        resp = await client.get(url, headers=headers)
        assert resp.status_code == 403, resp.text
    assert (await client.get(url)).status_code == 401
    resp = await client.get(f"/api/v1/lots/{lot['id']}/bids/1/receipt",
                            headers=bearer(me.account_token))
    assert resp.status_code == 404 and error_of(resp)["code"] == "unknown_bid"
    resp = await client.get(f"/api/v1/lots/{lot['id']}/bids/99999999999999999999/receipt",
                            headers=bearer(me.account_token))
    assert resp.status_code == 404

    publicity = (await client.get(f"/api/v1/publicity?session={sid}")).json()
    heads = await store_chain.session_heads(services.store, [sid])
    assert publicity["sessions"] == [
        {"session_id": sid, "session_name": session["name"], "head_sha256": heads[sid]}]
