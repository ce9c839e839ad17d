"""A live session interrupted by a server restart mid-lot: after the restart the catalogue shows
the session running with its open lot as the room has it in Redis, and the auctioneer's console,
opened afresh, picks the open lot up and can carry on (take a bid, hammer it)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
from playwright.async_api import expect

from auction.settings import Settings
from tests.e2e.harness import ADMIN, create_sale, free_port, raw_client, running

TIMEOUT_MS = 10_000


async def _bid(server: Any, token: str, lot: int, amount: int, key: str) -> None:
    async with raw_client(server, token) as client:
        await client.send(t="bid", lot=lot, amount=amount, key=key)
        answer = await client.until(lambda m: m["t"] in ("ack", "nack"))
        assert answer["t"] == "ack", answer


async def test_console_carries_on_an_open_lot_after_a_restart(
    settings: Settings, new_context: Any
) -> None:
    """Restart mid-lot: catalogue says running, open lot, price and leader, interrupted; the
    console shows the lot open with a notice, and its hammer sells the lot."""
    port = free_port()
    async with running(settings, port) as first:
        sale = await create_sale(first, lots=2, bidders=2)
        lot = sale.lots[0]
        async with httpx.AsyncClient(base_url=first.base, headers=ADMIN) as http:
            r = await http.post(f"/api/v1/lots/{lot}/commands", json={"op": "open", "key": "o"})
            assert r.status_code == 200, r.text
            name = (await http.get(f"/api/v1/sessions/{sale.session_id}")).json()["name"]
        await _bid(first, sale.tokens[0], lot, 1_000_000, "before")
        for _ in range(50):  # the drainer marks the lot open in the catalogue
            async with httpx.AsyncClient(base_url=first.base) as http:
                if (await http.get(f"/api/v1/lots/{lot}")).json()["status"] == "open":
                    break
            await asyncio.sleep(0.1)
    # the server is gone mid-lot: nobody hammered, the room stays open in Redis

    async with running(settings, port) as second:
        async with httpx.AsyncClient(base_url=second.base) as http:
            answer = (await http.get(f"/api/v1/sessions/{sale.session_id}/lots")).json()
        live = answer["lots"][0]["live"]
        assert live["status"] == "open" and live["paddle"] == sale.paddles[0], live
        assert live["last_event_at"] <= answer["server_time"]

        context = await new_context()
        await context.add_init_script("window.AUCTION_IDLE_MS = 500")
        await asyncio.sleep(0.6)

        index = await context.new_page()
        index.set_default_timeout(TIMEOUT_MS)
        await index.goto(f"{second.base}/")
        card = index.get_by_role("region", name=name)
        await expect(card.get_by_text("进行中", exact=True)).to_be_visible()
        strip = card.get_by_role("status")
        await expect(strip).to_contain_text("正在拍卖")
        await expect(strip).to_contain_text("一种测试技术0")
        await expect(strip).to_contain_text(f"领先号牌 {sale.paddles[0]}")
        await expect(strip).to_contain_text("中断后可继续")

        console = await context.new_page()
        console.set_default_timeout(TIMEOUT_MS)
        await console.goto(f"{second.base}/console.html?session={sale.session_id}"
                           f"#token={sale.auctioneer}")
        await expect(console.get_by_role("heading", name=re.compile("一种测试技术0"))
                     ).to_be_visible()
        await expect(console.get_by_role("status")).to_contain_text("可能因服务重启而中断")
        hammer = console.get_by_role("button", name="落槌 H")
        await expect(hammer).to_be_enabled()

        # the room carries on: a bid after the restart reaches the console, then the hammer
        await _bid(second, sale.tokens[1], lot, 1_010_000, "after")
        await expect(console.locator("#cur-leader")).to_have_text(str(sale.paddles[1]))
        await hammer.click()  # the first click asks; the second one hammers
        await expect(console.locator("#cmd-feedback")).to_contain_text("再点一次确认落槌")
        await hammer.click()
        # the console keeps showing the result; the hammered one is sold in the lot list
        await expect(console.locator(f"#lots tr[data-lot='{lot}']")).to_contain_text("成交")
        await expect(console.locator("#result")).to_contain_text("成交")
        await expect(console.locator("#idle")).to_be_hidden()
        async with httpx.AsyncClient(base_url=second.base) as http:
            sold = (await http.get(f"/api/v1/lots/{lot}")).json()["live"]
        assert sold["status"] == "sold" and sold["paddle"] == sale.paddles[1], sold
