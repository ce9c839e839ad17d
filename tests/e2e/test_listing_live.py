"""The catalogue and 成交公示 through a real server, read with the SDK's AuctionHTTP: a live lot
shows 当前价 from its room while bidding runs, 成交价 (the hammer price, not the start price)
once sold, and the sale reaches 成交公示 with the buyer's name once settled."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from auction_client import AuctionClient, AuctionHTTP

from auction.settings import Settings
from tests.e2e.harness import create_sale, running


async def test_a_live_sale_through_the_listing_and_the_publicity(
    settings: Settings, tmp_path: Any
) -> None:
    """Open, two bids, hammer: the listing follows the room; the settled sale is published
    with its buyer, paddle, price and a 公示期; the other lot passes into its own list."""
    own = settings.with_changes(redis_namespace=f"test-{uuid.uuid4().hex[:10]}",
                                data_dir=tmp_path)
    async with running(own) as server:
        sale = await create_sale(server, mode="live", lots=2, bidders=2)
        sold_lot, passed_lot = sale.lots
        async with (
            AuctionHTTP(server.base) as http,
            AuctionClient(server.ws_url, sale.auctioneer) as staff,
            AuctionClient(server.ws_url, sale.tokens[0]) as first,
            AuctionClient(server.ws_url, sale.tokens[1]) as second,
        ):
            before = (await http.listing(session=sale.session_id))["lots"]
            assert [(lot["price_label"], lot["price_fen"]) for lot in before] == [
                ("起拍价", 1_000_000), ("起拍价", 1_000_000)]
            await staff.command(sold_lot, "open")
            await first.bid(sold_lot, 1_000_000)
            await second.bid(sold_lot, 1_010_000)
            lots = {lot["id"]: lot for lot in
                    (await http.listing(session=sale.session_id))["lots"]}
            assert (lots[sold_lot]["status"], lots[sold_lot]["price_label"],
                    lots[sold_lot]["current_fen"]) == ("open", "当前价", 1_010_000)
            open_lot: list[dict[str, Any]] = []
            async with asyncio.timeout(5):  # the status filter is the catalogue's: it follows
                while not open_lot:         # the room within a drain (about a second)
                    open_lot = (await http.listing(session=sale.session_id,
                                                   status="open"))["lots"]
            assert [(lot["id"], lot["price_label"], lot["current_fen"], lot["bids"])
                    for lot in open_lot] == [(sold_lot, "当前价", 1_010_000, 2)]
            await staff.command(sold_lot, "hammer")
            await staff.command(passed_lot, "open")
            await staff.command(passed_lot, "pass")
            lots = {lot["id"]: lot for lot in
                    (await http.listing(session=sale.session_id))["lots"]}
            assert (lots[sold_lot]["price_label"], lots[sold_lot]["final_fen"],
                    lots[sold_lot]["final_paddle"]) == ("成交价", 1_010_000, sale.paddles[1])
            assert lots[passed_lot]["price_label"] == "流拍"
            board: dict[str, Any] = {}
            async with asyncio.timeout(15):  # the drainer settles both lots
                while len(board.get("sold", [])) + len(board.get("passed", [])) < 2:
                    await asyncio.sleep(0.2)
                    board = await http.publicity(session_id=sale.session_id)
            entry = board["sold"][0]
            assert (entry["lot_id"], entry["paddle"], entry["amount_fen"]) == (
                sold_lot, sale.paddles[1], 1_010_000)
            assert entry["buyer"]["kind"] == "enterprise" and entry["buyer"]["name"]
            assert entry["publicity"]["starts_on"] <= entry["publicity"]["ends_on"]
            assert [(e["lot_id"], e["reason"]) for e in board["passed"]] == [
                (passed_lot, "auctioneer")]
