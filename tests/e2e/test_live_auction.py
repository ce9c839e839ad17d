"""A live sale end to end: auctioneer console, concurrent bidders, viewers, hammer, PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx

from tests.e2e.harness import Raw, Server, create_sale, raw_client


async def wait_for(pred: Any, timeout: float = 10.0, every: float = 0.1) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await pred()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(every)


async def command(client: Raw, lot: int, op: str, key: str) -> dict[str, Any]:
    await client.send(t="cmd", lot=lot, op=op, key=key)
    return await client.until(lambda m: m.get("key") == key and m["t"] in ("ack", "nack"))


async def bidder_loop(client: Raw, lot: int, paddle: int, rounds: int, name: str) -> list[int]:
    """Keep bidding the next minimum; return the amounts this bidder got accepted."""
    won: list[int] = []
    state = {"high": 0, "bids": 0, "paddle": 0}
    for i in range(rounds * 4):
        if len(won) >= rounds:
            break
        for m in client.inbox:
            if m.get("t") == "ev" and m["kind"] == "bid":
                state.update(high=max(state["high"], m["amount"]), bids=1, paddle=m["paddle"])
        if state["paddle"] == paddle:
            await asyncio.sleep(0.01)
            with contextlib.suppress(TimeoutError):
                await client.recv(0.05)
            continue
        amount = 1_000_000 if not state["bids"] else state["high"] + 10_000
        key = f"{name}-{i}"
        await client.send(t="bid", lot=lot, amount=amount, key=key)
        reply = await client.until(lambda m, k=key: m.get("key") == k)
        if reply["t"] == "ack":
            won.append(amount)
        else:
            assert reply["code"] in ("too_low", "already_leading"), reply
    return won


async def test_three_bidders_bid_concurrently_and_everyone_sees_one_order(server: Server) -> None:
    """Three bidders race on one live lot; every client sees the same gapless event order, the
    hammer sells to the top bid, and PostgreSQL holds every bid, the result and the outbox row."""
    sale = await create_sale(server, mode="live", bidders=3)
    lot = sale.lots[0]
    async with (
        raw_client(server, sale.auctioneer) as console,
        raw_client(server) as viewer,
        raw_client(server, sale.tokens[0]) as b1,
        raw_client(server, sale.tokens[1]) as b2,
        raw_client(server, sale.tokens[2]) as b3,
    ):
        for c in (console, viewer, b1, b2, b3):
            await c.send(t="sub", lot=lot)
            snap = await c.until(lambda m: m["t"] == "snapshot")
            assert snap["state"]["status"] == "scheduled"
            assert "reserve" not in snap["state"]
        assert (await command(console, lot, "open", "open-1"))["t"] == "ack"
        results = await asyncio.gather(*(
            bidder_loop(c, lot, sale.paddles[i], 6, f"b{i}") for i, c in enumerate((b1, b2, b3))
        ))
        accepted = sorted(a for r in results for a in r)
        assert len(accepted) >= 6 and len(set(accepted)) == len(accepted)
        hammer = await command(console, lot, "hammer", "hammer-1")
        assert hammer["t"] == "ack", hammer
        sold = await viewer.until(lambda m: m.get("t") == "ev" and m["kind"] == "sold")
        assert sold["amount"] == accepted[-1]
        for c in (console, b1, b2, b3):
            await c.until(lambda m: m.get("t") == "ev" and m["kind"] == "sold")
        seqs = [e["seq"] for e in viewer.events(lot)]
        assert seqs == list(range(seqs[0], seqs[-1] + 1)), "gap or duplicate"
        reference = [(e["seq"], e["kind"], e.get("amount")) for e in viewer.events(lot)]
        for c in (console, b1, b2, b3):
            assert [(e["seq"], e["kind"], e.get("amount")) for e in c.events(lot)] == reference
        assert all("bidder" not in e for e in viewer.events(lot)), "bidder identity leaked"

    async with httpx.AsyncClient(base_url=server.base) as http:
        async def persisted() -> Any:
            r = await http.get(f"/api/v1/lots/{lot}/bids")
            bids = r.json()["bids"]
            return bids if len(bids) == len(accepted) else None

        bids = await wait_for(persisted, timeout=5)
        assert [b["amount_fen"] for b in bids] == accepted
        assert all(set(b) == {"seq", "paddle", "amount_fen", "at", "source", "retracted",
                              "mark"} for b in bids)
        assert {(b["source"], b["retracted"]) for b in bids} == {("online", False)}

        async def result() -> Any:
            r = await http.get("/api/v1/results", params={"session": sale.session_id})
            return r.json()["results"]

        results_list = await wait_for(result, timeout=5)
        assert [(r["lot_id"], r["amount_fen"]) for r in results_list] == [(lot, accepted[-1])]
        r = await http.get(f"/api/v1/lots/{lot}")
        assert r.json()["status"] == "sold"
        r = await http.get(f"/api/v1/sessions/{sale.session_id}")
        assert r.json()["status"] == "finished", "the session's only lot is settled"


async def test_console_permissions(server: Server) -> None:
    """Viewers cannot bid, bidders cannot run the console, and a refused request changes nothing."""
    sale = await create_sale(server, mode="live", bidders=1)
    lot = sale.lots[0]
    async with raw_client(server) as viewer, raw_client(server, sale.tokens[0]) as bidder:
        await viewer.send(t="bid", lot=lot, amount=1_000_000, key="v1")
        assert (await viewer.until(lambda m: m.get("key") == "v1"))["code"] == "unauthorized"
        reply = await command(bidder, lot, "open", "b-open")
        assert reply["t"] == "nack" and reply["code"] == "forbidden"
        await bidder.send(t="sub", lot=lot)
        snap = await bidder.until(lambda m: m["t"] == "snapshot")
        assert snap["seq"] == 0 and snap["state"]["status"] == "scheduled"


async def test_hammer_without_bid_and_pass(server: Server) -> None:
    """Hammer needs a bid (no_bids); pass ends the lot as 流拍 with reason auctioneer."""
    sale = await create_sale(server, mode="live", bidders=1)
    lot = sale.lots[0]
    async with raw_client(server, sale.auctioneer) as console:
        await console.send(t="sub", lot=lot)
        await console.until(lambda m: m["t"] == "snapshot")
        assert (await command(console, lot, "open", "o"))["t"] == "ack"
        reply = await command(console, lot, "hammer", "h")
        assert reply["t"] == "nack" and reply["code"] == "no_bids"
        assert (await command(console, lot, "pass", "p"))["t"] == "ack"
        passed = await console.until(lambda m: m.get("t") == "ev" and m["kind"] == "passed")
        assert passed["reason"] == "auctioneer"
