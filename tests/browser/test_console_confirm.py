"""The console asks before it hammers or passes, keeps the result until the next lot opens, lists
the session's lots in running order with their status, and a refused command (an op the server
may not have yet) is shown in words, not ids. A bidder page shows each result."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import expect

from auction.settings import Settings
from tests.e2e.harness import create_sale, raw_client, running

TIMEOUT_MS = 10_000


async def test_hammer_and_pass_ask_first_and_the_result_stays(
    settings: Settings, browser_context: Any
) -> None:
    async with running(settings) as server:
        sale = await create_sale(server, lots=3, bidders=2)
        first, second = sale.lots[:2]
        console = await browser_context.new_page()
        console.set_default_timeout(TIMEOUT_MS)
        await console.goto(f"{server.base}/console.html?session={sale.session_id}"
                           f"#token={sale.auctioneer}")
        bidder = await browser_context.new_page()
        bidder.set_default_timeout(TIMEOUT_MS)
        await bidder.goto(f"{server.base}/lot.html?id={first}#token={sale.tokens[0]}")
        await console.wait_for_selector("#conn[data-status=open]")
        await bidder.wait_for_selector("#reg[data-role=bidder]")

        # 后续标的: the other lots in running order, each with its status
        upcoming = console.locator("#next-lots li")
        await expect(upcoming).to_have_count(2)
        await expect(upcoming.nth(0)).to_contain_text("一种测试技术1")
        await expect(upcoming.nth(0)).to_contain_text("未开拍")
        await expect(upcoming.nth(1)).to_contain_text("一种测试技术2")
        await expect(console.get_by_text("暂无")).to_have_count(0)

        await console.keyboard.press("o")
        await expect(console.locator("#cur-status")).to_have_text("竞价中")
        await bidder.get_by_role("button", name=re.compile("下一口价")).click()
        await expect(bidder.locator("#standing")).to_have_text("您当前领先")
        await expect(console.locator("#cur-leader")).to_have_text(str(sale.paddles[0]))

        # H once: nothing is hammered, the console says what a second H will do
        feedback = console.locator("#cmd-feedback")
        await console.keyboard.press("h")
        await expect(feedback).to_contain_text("再按 H 确认落槌")
        await expect(feedback).to_contain_text(f"号牌 {sale.paddles[0]}")
        await console.wait_for_timeout(600)
        await expect(bidder.locator("#status")).to_have_text("竞价中")
        await expect(console.locator("#cur-status")).to_have_text("竞价中")
        # H again: sold, on the console and on the bidder page
        await console.keyboard.press("h")
        await expect(bidder.locator("#standing")).to_contain_text("恭喜您竞得")
        result = console.locator("#result")
        await expect(result).to_contain_text("成交")
        await expect(result).to_contain_text("10,000.00 元")
        await expect(result).to_contain_text(f"号牌 {sale.paddles[0]}")
        for text in (await feedback.inner_text(), await console.inner_text("#log")):
            assert "seq" not in text and "#" not in text, text
        # the result stays: the console does not jump to the next lot
        await console.wait_for_timeout(1500)
        await expect(console.locator("#cur-title")).to_have_text(re.compile("一种测试技术0"))
        await expect(result).to_be_visible()
        await expect(console.locator(f"#lots tr[data-lot='{first}']")).to_contain_text("成交")
        await expect(upcoming.nth(0)).to_contain_text("未开拍")
        # and after a reload too (the room snapshot's closed_at)
        await console.reload()
        await console.wait_for_selector("#conn[data-status=open]")
        await expect(console.locator("#cur-title")).to_have_text(re.compile("一种测试技术0"))
        await expect(result).to_contain_text(f"号牌 {sale.paddles[0]}")

        # O opens the next lot in running order; the result of the first one gives way
        await console.keyboard.press("o")
        await expect(console.locator("#cur-title")).to_have_text(re.compile("一种测试技术1"))
        await expect(console.locator("#cur-status")).to_have_text("竞价中")
        await expect(result).to_be_hidden()
        watcher = await browser_context.new_page()
        watcher.set_default_timeout(TIMEOUT_MS)
        await watcher.goto(f"{server.base}/lot.html?id={second}")
        await expect(watcher.locator("#status")).to_have_text("竞价中")

        # P once, then too late for a confirmation: still open; P twice: passed
        await console.keyboard.press("p")
        await expect(feedback).to_contain_text("再按 P 确认流拍")
        await console.wait_for_timeout(4500)
        await expect(feedback).not_to_contain_text("再按 P")
        await console.keyboard.press("p")
        await expect(feedback).to_contain_text("再按 P 确认流拍")
        await expect(console.locator("#cur-status")).to_have_text("竞价中")
        await console.keyboard.press("p")
        await expect(result).to_contain_text("流拍")
        await expect(result).to_contain_text("拍卖师宣布流拍")
        await expect(watcher.locator("#standing")).to_contain_text("流拍")
        await expect(console.locator(f"#lots tr[data-lot='{second}']")).to_contain_text("流拍")

        # 撤拍 on the last lot needs a reason and a second click; whether or not the server
        # has the op yet, the console answers in words and keeps working
        await console.keyboard.press("ArrowDown")
        await expect(console.locator("#cur-title")).to_have_text(re.compile("一种测试技术2"))
        withdraw = console.get_by_role("button", name="撤拍")
        await withdraw.click()
        await expect(feedback).to_contain_text("请先填写撤拍原因")
        await console.get_by_placeholder("撤拍原因").fill("权属存在争议")
        await withdraw.click()
        await expect(feedback).to_contain_text("再点一次确认撤拍")
        await withdraw.click()
        await expect(console.locator("#result[data-state=withdrawn], #cmd-feedback.bad")
                     ).to_be_visible()
        text = await feedback.inner_text()
        assert "seq" not in text and "#" not in text, text
        await expect(console.get_by_role("button", name="开拍 O")).to_be_visible()

        async with raw_client(server, sale.tokens[1]) as other:  # the room still answers
            await other.send(t="bid", lot=first, amount=2_000_000, key="late")
            answer = await other.until(lambda m: m["t"] in ("ack", "nack"))
            assert answer["t"] == "nack", answer
