"""Two `auction serve` processes sharing PostgreSQL and Redis serve the same lot."""

from __future__ import annotations

from tests.e2e.harness import Server, create_sale, raw_client
from tests.e2e.test_live_auction import command


async def test_bid_through_one_process_reaches_subscribers_of_the_other(
    two_servers: list[Server],
) -> None:
    """Bids placed on process A arrive in order at a viewer connected to process B."""
    a, b = two_servers
    sale = await create_sale(a, mode="live", bidders=2)
    lot = sale.lots[0]
    async with raw_client(b) as viewer, raw_client(a, sale.auctioneer) as console:
        await viewer.send(t="sub", lot=lot)
        await viewer.until(lambda m: m["t"] == "snapshot")
        await command(console, lot, "open", "o")
        async with raw_client(a, sale.tokens[0]) as b1, raw_client(b, sale.tokens[1]) as b2:
            amount = 1_000_000
            for i in range(10):
                bidder = (b1, b2)[i % 2]
                await bidder.send(t="bid", lot=lot, amount=amount, key=f"k{i}")
                assert (await bidder.until(lambda m, k=f"k{i}": m.get("key") == k))["t"] == "ack"
                amount += 10_000
        await command(console, lot, "hammer", "h")
        await viewer.until(lambda m: m.get("t") == "ev" and m["kind"] == "sold")
    events = viewer.events(lot)
    assert [e["seq"] for e in events] == list(range(1, 13))
    assert [e["amount"] for e in events if e["kind"] == "bid"] == [
        1_000_000 + 10_000 * i for i in range(10)]
