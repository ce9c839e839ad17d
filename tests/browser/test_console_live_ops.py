"""The console's room commands end to end: W warns (the bidder page and the room screen show
第一次警告, a bid clears it), A announces (shown as text), Space pauses (暂停中, bid buttons
disabled, a bid refused with 拍卖已暂停) and resumes, 撤拍 with a reason and a second click."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import expect

from auction.settings import Settings
from tests.e2e.harness import create_sale, raw_client, running

TIMEOUT_MS = 10_000


async def test_warn_announce_pause_and_withdraw_from_the_console(
    settings: Settings, browser_context: Any
) -> None:
    async with running(settings) as server:
        sale = await create_sale(server, lots=2, bidders=2)
        lot = sale.lots[0]
        pages = []
        for url in (f"/console.html?session={sale.session_id}#token={sale.auctioneer}",
                    f"/lot.html?id={lot}#token={sale.tokens[0]}",
                    f"/screen.html?session={sale.session_id}"):
            page = await browser_context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            await page.goto(server.base + url)
            await page.wait_for_selector("#conn[data-status=open]")
            pages.append(page)
        console, bidder, screen = pages
        await console.keyboard.press("o")
        await expect(bidder.locator("#status")).to_have_text("竞价中")
        await bidder.get_by_role("button", name=re.compile("下一口价")).click()
        await expect(console.locator("#cur-leader")).to_have_text(str(sale.paddles[0]))

        # W: 第一次警告 everywhere; W again: 第二次; a bid clears it
        await console.keyboard.press("w")
        await expect(bidder.locator("#live-banner")).to_have_text("第一次警告")
        await expect(screen.locator("#scr-banner")).to_have_text("第一次警告")
        await expect(console.locator("#banner")).to_have_text("第一次警告")
        await console.keyboard.press("w")
        await expect(bidder.locator("#live-banner")).to_have_text("第二次警告")
        async with raw_client(server, sale.tokens[1]) as other:
            await other.send(t="bid", lot=lot, amount=1_010_000, key="after-warning")
            answer = await other.until(lambda m: m["t"] in ("ack", "nack"))
            assert answer["t"] == "ack", answer
        await expect(bidder.locator("#live-banner")).to_be_hidden()
        await expect(screen.locator("#scr-banner")).to_be_hidden()

        # A: the announcement, as text
        await console.keyboard.press("a")
        await console.keyboard.type("<b>请注意</b> 以公告为准")
        await console.keyboard.press("Enter")
        await expect(bidder.locator("#announcement")).to_have_text("<b>请注意</b> 以公告为准")
        await expect(screen.locator("#scr-announce")).to_have_text("<b>请注意</b> 以公告为准")
        await expect(bidder.locator("#announcement b")).to_have_count(0)

        # Space: paused; the bidder cannot bid, the server says 拍卖已暂停; Space again: resumed
        await console.locator("body").click(position={"x": 5, "y": 5})
        await console.keyboard.press(" ")
        await expect(bidder.locator("#live-banner")).to_have_text("暂停中")
        await expect(console.get_by_role("button", name="恢复 Space")).to_be_visible()
        await expect(bidder.locator("#quick button").first).to_be_disabled()
        async with raw_client(server, sale.tokens[1]) as other:
            await other.send(t="bid", lot=lot, amount=1_030_000, key="while-paused")
            answer = await other.until(lambda m: m["t"] in ("ack", "nack"))
            assert answer["t"] == "nack" and answer["code"] == "lot_paused", answer
        await console.keyboard.press(" ")
        await expect(bidder.locator("#live-banner")).to_be_hidden()
        await expect(bidder.locator("#quick button").first).to_be_enabled()

        # 撤拍 with a reason: first click asks, second withdraws; the bidder sees 撤拍 and why
        await console.get_by_placeholder("撤拍原因").fill("权属存在争议")
        withdraw = console.get_by_role("button", name="撤拍")
        await withdraw.click()
        await expect(console.locator("#cmd-feedback")).to_contain_text("再点一次确认撤拍")
        await withdraw.click()
        await expect(bidder.locator("#standing")).to_have_text("撤拍 · 权属存在争议")
        await expect(console.locator("#result")).to_have_text("撤拍 · 权属存在争议")
        await expect(screen.locator("#state")).to_contain_text("撤拍")
