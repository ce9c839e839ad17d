"""Timed lots (anti-sniping extension, closed by the server clock) and reconnect with resume."""

from __future__ import annotations

import asyncio

import httpx

from tests.e2e.harness import Server, create_sale, raw_client
from tests.e2e.test_live_auction import command, wait_for


async def test_extension_fires_and_the_clock_closes_the_lot(server: Server) -> None:
    """A bid in the last window moves the close; the closer then sells at the server's time."""
    sale = await create_sale(server, mode="timed", bidders=2, duration_s=2, window_s=1,
                             extension_s=2)
    lot = sale.lots[0]
    async with (
        raw_client(server, sale.auctioneer) as console,
        raw_client(server, sale.tokens[0]) as b1,
    ):
        await b1.send(t="sub", lot=lot)
        await b1.until(lambda m: m["t"] == "snapshot")
        assert (await command(console, lot, "open", "o"))["t"] == "ack"
        opened = await b1.until(lambda m: m.get("t") == "ev" and m["kind"] == "opened")
        first_end = opened["ends_at"]
        await asyncio.sleep(1.3)  # inside the last second
        await b1.send(t="bid", lot=lot, amount=1_000_000, key="late")
        ack = await b1.until(lambda m: m.get("key") == "late")
        assert ack["t"] == "ack", ack
        # the bid's events may come before its ack or after it (docs/protocol.md)
        ext = next((m for m in b1.inbox if m.get("t") == "ev" and m["kind"] == "extended"),
                   None) or await b1.until(lambda m: m.get("t") == "ev" and m["kind"] == "extended")
        assert ext["ends_at"] == ack["at"] + 2000 > first_end

        async def catalogue_follows() -> bool:
            async with httpx.AsyncClient(base_url=server.base) as http:
                lots = (await http.get(f"/api/v1/sessions/{sale.session_id}/lots")).json()
                session = (await http.get(f"/api/v1/sessions/{sale.session_id}")).json()
            return lots["lots"][0]["status"] == "open" and session["status"] == "running"

        await wait_for(catalogue_follows, timeout=5)
        sold = await b1.until(lambda m: m.get("t") == "ev" and m["kind"] == "sold", timeout=8)
        assert sold["at"] >= ext["ends_at"]
        assert sold["paddle"] == sale.paddles[0] and sold["amount"] == 1_000_000
        await b1.send(t="bid", lot=lot, amount=1_010_000, key="after")
        assert (await b1.until(lambda m: m.get("key") == "after"))["code"] == "lot_closed"


async def test_reconnect_gets_exactly_the_missed_events(server: Server) -> None:
    """A client that drops mid-auction and resumes with its last seq gets no gap, no duplicate."""
    sale = await create_sale(server, mode="live", bidders=2)
    lot = sale.lots[0]
    async with (
        raw_client(server, sale.auctioneer) as console,
        raw_client(server, sale.tokens[0]) as b1,
        raw_client(server, sale.tokens[1]) as b2,
    ):
        await command(console, lot, "open", "o")
        async with raw_client(server) as watcher:
            await watcher.send(t="sub", lot=lot)
            snap = await watcher.until(lambda m: m["t"] == "snapshot")
            epoch, last = snap["epoch"], snap["seq"]
            await b1.send(t="bid", lot=lot, amount=1_000_000, key="a")
            await b1.until(lambda m: m.get("key") == "a")
            ev = await watcher.until(lambda m: m.get("t") == "ev")
            last = ev["seq"]
        # watcher is gone; the auction goes on
        amount = 1_000_000
        for i, bidder in enumerate([b2, b1, b2, b1]):
            amount += 10_000
            await bidder.send(t="bid", lot=lot, amount=amount, key=f"k{i}")
            assert (await bidder.until(lambda m, k=f"k{i}": m.get("key") == k))["t"] == "ack"
        async with raw_client(server, resume={lot: [epoch, last]}) as again:
            resumed = await again.until(lambda m: m["t"] in ("resumed", "snapshot"))
            assert resumed["t"] == "resumed" and resumed["recovered"] is True
            assert resumed["count"] == 4
            missed = [await again.recv() for _ in range(resumed["count"])]
            assert [m["seq"] for m in missed] == list(range(last + 1, last + 5))
            assert [m["amount"] for m in missed] == [1_010_000, 1_020_000, 1_030_000, 1_040_000]
            await b2.send(t="bid", lot=lot, amount=1_050_000, key="live")
            nxt = await again.until(lambda m: m.get("t") == "ev")
            assert nxt["seq"] == last + 5 and nxt["amount"] == 1_050_000
        async with raw_client(server, resume={lot: ["other-epoch", 1]}) as stale:
            snap = await stale.until(lambda m: m["t"] in ("resumed", "snapshot"))
            assert snap["t"] == "snapshot" and snap["recovered"] is False
            assert snap["seq"] == last + 5 and snap["state"]["high"] == 1_050_000
