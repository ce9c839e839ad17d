"""A hammer reaches contract registration: PostgreSQL rows, then a signed packet delivered to a
real HTTP receiver that fails the first attempt."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from auction.settings import Secret, Settings
from tests.e2e.harness import create_sale, free_port, raw_client, running
from tests.e2e.test_live_auction import command, wait_for


class Receiver:
    """The registration office's endpoint: 503 on the first try of each packet (by its
    ``Idempotency-Key``), then it records packets. The test database is shared, so packets of
    other tests' lots may arrive too: the test looks at its own lot's key only."""

    def __init__(self) -> None:
        self.attempts: list[tuple[dict[str, str], bytes]] = []

    def of(self, key: str) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for h, b in self.attempts if h.get("idempotency-key") == key]

    async def endpoint(self, request: Request) -> JSONResponse:
        body = await request.body()
        self.attempts.append((dict(request.headers), body))
        if len(self.of(request.headers.get("idempotency-key", ""))) == 1:
            return JSONResponse({"error": "busy"}, status_code=503)
        return JSONResponse({"registration_no": "2026370100000001"}, status_code=201)


async def test_hammer_to_signed_registration_packet(settings: Settings, tmp_path: Any) -> None:
    """The sold lot is in PostgreSQL and its packet arrives signed, retried under one key."""
    receiver = Receiver()
    port = free_port()
    config = uvicorn.Config(Starlette(routes=[Route("/packets", receiver.endpoint,
                                                    methods=["POST"])]),
                            host="127.0.0.1", port=port, log_level="warning")
    rserver = uvicorn.Server(config)
    rtask = asyncio.create_task(rserver.serve())
    own = settings.with_changes(
        redis_namespace=f"test-{uuid.uuid4().hex[:10]}", data_dir=tmp_path,
        registration_url=f"http://127.0.0.1:{port}/packets",
        registration_secret=Secret("registration-secret"),
    )
    try:
        async with running(own) as server:
            sale = await create_sale(server, mode="live", bidders=2)
            lot = sale.lots[0]
            async with (
                raw_client(server, sale.auctioneer) as console,
                raw_client(server, sale.tokens[0]) as b1,
                raw_client(server, sale.tokens[1]) as b2,
            ):
                await command(console, lot, "open", "o")
                for i, (bidder, amount) in enumerate([(b1, 1_000_000), (b2, 1_050_000)]):
                    await bidder.send(t="bid", lot=lot, amount=amount, key=f"k{i}")
                    reply = await bidder.until(lambda m, k=f"k{i}": m.get("key") == k)
                    assert reply["t"] == "ack"
                assert (await command(console, lot, "hammer", "h"))["t"] == "ack"

            async with httpx.AsyncClient(base_url=server.base) as http:
                async def delivered() -> Any:
                    r = await http.get(f"/api/v1/lots/{lot}/registration")
                    return r.json() if r.status_code == 200 and r.json()["status"] == "delivered" \
                        else None

                status = await wait_for(delivered, timeout=30, every=0.2)
                # the 503 is a deferral (docs/operations.md), not a used-up attempt
                assert status["attempts"] >= 1
                bids = (await http.get(f"/api/v1/lots/{lot}/bids")).json()["bids"]
                results = (await http.get("/api/v1/results",
                                          params={"session": sale.session_id})).json()["results"]
    finally:
        rserver.should_exit = True
        await rtask

    ours = receiver.of(status["idempotency_key"])
    assert len(ours) == 2  # the 503, then the one that was recorded
    headers, body = ours[-1]
    expected = hmac.new(b"registration-secret", body, hashlib.sha256).hexdigest()
    assert headers["x-auction-signature"] == f"sha256={expected}"
    packet = json.loads(body)
    assert packet["winning_bid"]["amount_fen"] == bids[-1]["amount_fen"] == 1_050_000
    assert packet["winning_bid"]["seq"] == bids[-1]["seq"]
    assert packet["contract"]["total_amount_fen"] == 1_050_000
    assert packet["contract"]["currency"] == "CNY" and packet["contract"]["type"] == "技术转让"
    assert packet["buyer"]["paddle"] == sale.paddles[1]
    assert packet["hammer_at"].endswith("+08:00")
    assert len(packet["bid_log_sha256"]) == 64
    assert [r["lot_id"] for r in results] == [lot]
