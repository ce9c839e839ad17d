"""The Python SDK against the real server: bids, and a server restart survived by resume."""

from __future__ import annotations

import uuid
from typing import Any

from auction_client import AuctionClient, BidRejected

from auction.settings import Settings
from tests.e2e.harness import create_sale, free_port, running


async def test_sdk_resumes_across_a_server_restart(settings: Settings, tmp_path: Any) -> None:
    """A subscribed SDK client rides out a restart: it resumes by seq (recovered) and its view
    holds every bid placed while it was away, with no gap and no duplicate."""
    own = settings.with_changes(redis_namespace=f"test-{uuid.uuid4().hex[:10]}",
                                data_dir=tmp_path)
    port = free_port()
    async with running(own, port) as server:
        sale = await create_sale(server, mode="live", bidders=2)
        lot = sale.lots[0]
        staff = AuctionClient(server.ws_url, sale.auctioneer)
        watcher = AuctionClient(server.ws_url, backoff_initial=0.05, backoff_max=0.2)
        await staff.connect()
        await watcher.connect()
        await watcher.subscribe(lot)
        await staff.command(lot, "open")
        async with AuctionClient(server.ws_url, sale.tokens[0]) as b1:
            await b1.bid(lot, 1_000_000)
            try:
                await b1.bid(lot, 1_010_000)
            except BidRejected as rej:
                assert rej.code == "already_leading"
            else:
                raise AssertionError("the leader outbid itself")
        await watcher.wait_until(lot, lambda v: v.bids == 1, timeout=5)
        await staff.close()
    # the server is down; the watcher is reconnecting
    async with running(own, port) as again:
        async with (
            AuctionClient(again.ws_url, sale.tokens[1]) as b2,
            AuctionClient(again.ws_url, sale.tokens[0]) as b1,
        ):
            await b2.bid(lot, 1_010_000)
            await b1.bid(lot, 1_030_000)
        view = await watcher.wait_until(lot, lambda v: v.bids == 3, timeout=10)
        assert view.high == 1_030_000 and view.seq == 4
        assert watcher.last_resume.get(lot) is True
        assert watcher.stats.gaps == 0
        await watcher.close()


async def test_sdk_proxy_and_accept(settings: Settings) -> None:
    """The SDK's proxy and accept frames: the proxy bids for its holder; a Dutch lot goes to
    the first acceptance and the second is refused lot_closed."""
    async with running(settings) as server:
        english = await create_sale(server, mode="live", bidders=2)
        dutch = await create_sale(server, mode="live", bidders=2, lot_terms={
            "format": "dutch", "step_fen": 100_000, "interval_s": 60, "floor_fen": 500_000})
        async with AuctionClient(server.ws_url, english.auctioneer) as staff:
            await staff.command(english.lots[0], "open")
        async with AuctionClient(server.ws_url, dutch.auctioneer) as staff:
            await staff.command(dutch.lots[0], "open")
        async with (
            AuctionClient(server.ws_url, english.tokens[0]) as b1,
            AuctionClient(server.ws_url, english.tokens[1]) as b2,
        ):
            view = await b2.subscribe(english.lots[0])
            await b1.proxy(english.lots[0], 1_050_000)
            await b2.bid(english.lots[0], 1_020_000)
            await b2.wait_until(english.lots[0], lambda v: v.high == 1_030_000, timeout=5)
            assert view.paddle == english.paddles[0]
        async with (
            AuctionClient(server.ws_url, dutch.tokens[0]) as d1,
            AuctionClient(server.ws_url, dutch.tokens[1]) as d2,
        ):
            await d1.accept(dutch.lots[0])
            try:
                await d2.accept(dutch.lots[0])
            except BidRejected as rej:
                assert rej.code == "lot_closed"
            else:
                raise AssertionError("a second acceptance took the lot")
