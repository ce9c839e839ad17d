"""The bidder page shows each lot format's rules and state (issue 14), found by role and visible
Chinese label: the proxy form and the bidder's own maximum on an english lot (and 委托 on the
automatic bid), the quote count and the bidder's own quote on a sealed lot, the falling price
and 按现价接受 on a Dutch lot. At 375 px and 1366 px, screenshots kept in the artifacts."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from auction.settings import Settings
from tests.browser.conftest import ARTIFACTS
from tests.e2e.harness import ADMIN, create_sale, raw_client, running, uscc

TIMEOUT_MS = 10_000
STAFF_PASSWORD = "Format-Market-Staff-2026"


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


async def test_new_lot_form_takes_a_format(settings: Settings, new_context: Any) -> None:
    """新增标的: 竞价规则 减价拍卖 with its terms makes a Dutch lot; a missing term is named."""
    async with running(settings) as server:
        sale = await create_sale(server, bidders=0)
        username = f"adm{uuid.uuid4().hex[:10]}"
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN) as http:
            market = (await http.get(f"/api/v1/sessions/{sale.session_id}")).json()
            r = await http.post("/api/v1/accounts", json={
                "username": username, "password": STAFF_PASSWORD, "role": "market_admin",
                "market_code": market["market_code"]})
            assert r.status_code == 201, r.text
        context = await new_context(viewport={"width": 1366, "height": 900})
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        await page.goto(f"{server.base}/login.html?next=index.html")
        await page.get_by_label("用户名").fill(username)
        await page.get_by_label("密码", exact=True).fill(STAFF_PASSWORD)
        await page.get_by_role("button", name="登录").click()
        await page.wait_for_url(re.compile(r"/index\.html"))
        await page.goto(f"{server.base}/admin/lot-new.html?session={sale.session_id}")
        await page.get_by_label("标的名称").fill("减价测试成果 发明专利")
        await page.get_by_label("成果类型").select_option("专利")
        await page.get_by_label("知识产权类别").select_option("发明专利")
        await page.get_by_label("技术领域").select_option("农业")
        await page.get_by_label("交易方式").select_option("转让")
        await page.get_by_label("合同类型").select_option("技术转让")
        await page.get_by_label("持有人 (转让方)").fill("测试农业大学")
        await page.get_by_label("持有人统一社会信用代码").fill(uscc(777_001))
        await page.get_by_label("起拍价 (元)").fill("100000")
        await page.get_by_label("加价幅度 (元)").fill("1000")
        await page.get_by_label("竞价规则").select_option("dutch")
        await page.get_by_label("每次降价 (元)").fill("5000")
        await page.get_by_label("降价间隔 (秒)").fill("60")
        await page.get_by_role("button", name="创建标的").click()
        await expect(page.get_by_label("最低价 (元)")).to_have_attribute("aria-invalid", "true")
        await page.get_by_label("最低价 (元)").fill("60000")
        await page.get_by_role("button", name="创建标的").click()
        await expect(page.get_by_text("标的已创建: 减价测试成果 发明专利")).to_be_visible()
        await page.screenshot(path=str(ARTIFACTS / "formats-lot-new.png"), full_page=True)
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN) as http:
            lots = (await http.get(f"/api/v1/sessions/{sale.session_id}/lots")).json()["lots"]
        made = next(lot for lot in lots if lot["title"] == "减价测试成果 发明专利")
        assert (made["format"], made["step_fen"], made["interval_s"], made["floor_fen"]) == (
            "dutch", 500_000, 60, 6_000_000)
        await context.close()
