"""The bidder page shows each lot format's rules and state (issue 14), found by role and visible
Chinese label: the proxy form and the bidder's own maximum on an english lot (and 委托 on the
automatic bid), the quote count and the bidder's own quote on a sealed lot, the falling price
and 按现价接受 on a Dutch lot. At 375 px and 1366 px, screenshots kept in the artifacts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from auction.settings import Settings
from tests.browser.conftest import ARTIFACTS
from tests.e2e.harness import ADMIN, create_sale, raw_client, running

TIMEOUT_MS = 10_000


async def _open(server: Any, sale: Any) -> None:
    async with raw_client(server, sale.auctioneer) as console:
        await console.send(t="cmd", lot=sale.lots[0], op="open", key="open")
        answer = await console.until(lambda m: m.get("key") == "open")
        assert answer["t"] == "ack", answer


@pytest.mark.parametrize("width", [375, 1366])
async def test_format_cards(settings: Settings, new_context: Any, width: int) -> None:
    async with running(settings) as server:
        english = await create_sale(server, bidders=2)
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN) as http:
            r = await http.put(f"/api/v1/lots/{english.lots[0]}/preemptors", json={
                "holders": [{"bidder_id": english.bidder_ids[0], "order": 1}]})
            assert r.status_code == 200, r.text
        sealed = await create_sale(server, bidders=1,
                                   lot_terms={"format": "sealed", "revisions": 1})
        dutch = await create_sale(server, bidders=1, lot_terms={
            "format": "dutch", "step_fen": 100_000, "interval_s": 60, "floor_fen": 500_000})
        rounds = await create_sale(server, bidders=1, lot_terms={
            "format": "rounds", "free_s": 600, "round_s": 60})
        for sale in (english, sealed, dutch, rounds):
            await _open(server, sale)
        context = await new_context(viewport={"width": width, "height": 900})
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

        await page.goto(f"{server.base}/lot.html?id={english.lots[0]}#token={english.tokens[0]}")
        await expect(page.get_by_role("heading", name="竞价规则: 增价拍卖")).to_be_visible(
            timeout=TIMEOUT_MS)
        await page.get_by_label("委托出价上限 (元, 仅您可见)").fill("10500")
        await page.get_by_role("button", name="设置委托出价").click()
        await expect(page.get_by_text("委托出价已设置")).to_be_visible(timeout=TIMEOUT_MS)
        await expect(page.get_by_text("您的委托出价上限")).to_be_visible()
        await expect(page.locator("#ladder tbody tr").first).to_contain_text("委托")
        await expect(page.get_by_text("您享有优先购买权 (第 1 顺位)")).to_be_visible()
        # the other bidder outbids the proxy's maximum; the holder matches it (同价优先)
        async with raw_client(server, english.tokens[1]) as other:
            await other.send(t="bid", lot=english.lots[0], amount=1_060_000, key="over")
            assert (await other.until(lambda m: m.get("key") == "over"))["t"] == "ack"
        await page.get_by_role("button", name="同价优先 10,600.00 元").click()
        await expect(page.locator("#ladder tbody tr").first).to_contain_text("优先权",
                                                                          timeout=TIMEOUT_MS)
        await page.screenshot(path=str(ARTIFACTS / f"formats-english-{width}.png"),
                              full_page=True)

        await page.goto(f"{server.base}/lot.html?id={sealed.lots[0]}#token={sealed.tokens[0]}")
        heading = page.get_by_role("heading", name="竞价规则: 密封报价 (一次报价)")
        await expect(heading).to_be_visible(timeout=TIMEOUT_MS)
        await expect(page.get_by_role("heading", name="提交报价")).to_be_visible()
        await page.get_by_label("出价金额 (元, 也可写 21万)").fill("12000")
        await page.locator("#custom").get_by_role("button", name="出价").click()
        await expect(page.get_by_text("报价已提交")).to_be_visible(timeout=TIMEOUT_MS)
        await expect(page.locator("#quotes")).to_have_text("1 份", timeout=TIMEOUT_MS)
        await expect(page.get_by_text("还可修改 1 次")).to_be_visible()
        await page.screenshot(path=str(ARTIFACTS / f"formats-sealed-{width}.png"), full_page=True)
        # the console and the room screen: the format, its terms and the count, no amount
        await page.goto(f"{server.base}/console.html?session={sealed.session_id}"
                        f"#token={sealed.auctioneer}")
        await expect(page.locator("#cur-format")).to_have_text(
            "密封报价 (一次报价) · 可修改 1 次 · 已收报价 1 份", timeout=TIMEOUT_MS)
        await page.screenshot(path=str(ARTIFACTS / f"formats-console-{width}.png"),
                              full_page=True)
        await page.goto(f"{server.base}/screen.html?session={sealed.session_id}")
        await expect(page.locator("#scr-format")).to_contain_text("已收报价 1 份",
                                                                  timeout=TIMEOUT_MS)
        await expect(page.get_by_text("12,000")).to_have_count(0)

        await page.goto(f"{server.base}/lot.html?id={dutch.lots[0]}#token={dutch.tokens[0]}")
        await expect(page.get_by_role("heading", name="竞价规则: 减价拍卖")).to_be_visible(
            timeout=TIMEOUT_MS)
        await expect(page.locator("#bid-card")).to_be_hidden()
        await expect(page.locator("#dutch-price")).to_have_attribute("data-fen", "1000000",
                                                                      timeout=TIMEOUT_MS)
        await page.screenshot(path=str(ARTIFACTS / f"formats-dutch-{width}.png"), full_page=True)
        screen = await context.new_page()
        await screen.goto(f"{server.base}/screen.html?session={dutch.session_id}")
        await expect(screen.locator("#scr-format")).to_contain_text("当前减价价格",
                                                                    timeout=TIMEOUT_MS)
        await screen.screenshot(path=str(ARTIFACTS / f"formats-screen-{width}.png"))
        await screen.close()
        await page.get_by_role("button", name="按现价接受").click()
        await expect(page.get_by_text("已接受")).to_be_visible(timeout=TIMEOUT_MS)
        await expect(page.locator("#status")).to_have_attribute("data-status", "sold",
                                                                timeout=TIMEOUT_MS)
        await page.goto(f"{server.base}/lot.html?id={rounds.lots[0]}#token={rounds.tokens[0]}")
        heading = page.get_by_role("heading", name="竞价规则: 自由报价 + 限时轮次")
        await expect(heading).to_be_visible(timeout=TIMEOUT_MS)
        await expect(page.get_by_text("自由报价阶段")).to_be_visible()
        await expect(page.locator("#quick button").first).to_be_enabled()
        await page.screenshot(path=str(ARTIFACTS / f"formats-rounds-{width}.png"), full_page=True)
        assert errors == []
        await context.close()
