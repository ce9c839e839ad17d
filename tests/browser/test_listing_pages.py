"""Listings (挂牌, issue 15 item 4) on the public pages in headless Chromium: during the period
the lot page shows 挂牌 with the listing price, the period and the number of 意向受让方 (never
who), the status 挂牌中, and the catalogue a line for it; once over, a listing with one buyer
shows 协议成交 at the listing price (and 成交公示 marks it 协议成交公示), and one with two
shows 已转为限时竞价 above an ordinary timed auction; 新增标的 offers 挂牌 with its period.
Screenshots at 375 and 1366 px (test-artifacts/browser/listing-*.png); every
button named, no console error."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.async_api import expect

from auction.settings import Settings
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_admin_back_office import _city
from tests.browser.test_admin_pages import _login
from tests.browser.test_bidder_path import UNNAMED
from tests.e2e.harness import ADMIN, Server, enrol, running, uscc

PRICE = 2_000_000  # 20,000 元


async def _shoot(page: Any, shot: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in (375, 1366):
        await page.set_viewport_size({"width": width, "height": 900})
        assert await page.evaluate(UNNAMED) == [], page.url
        await page.screenshot(path=str(ARTIFACTS / f"listing-{shot}-{width}.png"),
                              full_page=True)
    await page.set_viewport_size({"width": 1366, "height": 900})


async def _listings(server: Server, city: str, tag: int, ends: datetime) -> tuple[int, list[int]]:
    """A timed session of ``city`` with two listings ending at ``ends``: one buyer for the
    first, two for the second."""
    async with httpx.AsyncClient(base_url=server.base, headers=ADMIN, timeout=10) as http:
        r = await http.post("/api/v1/sessions", json={
            "market_code": city, "name": f"科技成果挂牌专场{tag}", "season": "special",
            "mode": "timed", "starts_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()})
        assert r.status_code == 201, r.text
        session = r.json()["id"]
        lots = []
        for i, title in enumerate(("一种耐盐碱小麦育种方法", "高效光伏组件封装工艺")):
            r = await http.post(f"/api/v1/sessions/{session}/lots", json={
                "title": f"{title}{tag}", "result_type": "专利", "ip_type": "发明专利",
                "technology_field": "农业" if i == 0 else "新能源与高效节能",
                "transaction_mode": "转让", "contract_type": "技术转让",
                "holder_name": "德州测试农科院", "holder_uscc": uscc(710_000 + tag),
                "start_price_fen": PRICE, "increment_fen": 20_000, "duration_s": 600,
                "format": "listing", "listing_ends_at": ends.isoformat()})
            assert r.status_code == 201, r.text
            lots.append(r.json()["id"])
        for n in range(3):
            await enrol(http, session, name=f"意向企业{tag}-{n}", uscc_code=uscc(tag * 10 + n),
                        deposit_fen=PRICE // 10, lot_id=lots[0] if n == 0 else lots[1])
    return session, lots


async def test_listing_pages(settings: Settings, new_context: Any) -> None:
    tag = uuid.uuid4().int % 10**6
    errors: list[str] = []
    async with running(settings) as server:
        city, admin = await _city(server, tag)
        ends = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=40)
        session, lots = await _listings(server, city, tag, ends)
        # 新增标的: the market lists a lot for 20 working days
        staff = await _login(new_context, server, admin, errors)
        await staff.goto(f"{server.base}/admin/lot-new.html?session={session}")
        await staff.get_by_label("标的名称").fill(f"挂牌新增成果{tag}")
        await staff.get_by_label("成果类型").select_option("专利")
        await staff.get_by_label("知识产权类别").select_option("发明专利")
        await staff.get_by_label("技术领域").select_option("农业")
        await staff.get_by_label("交易方式").select_option("转让")
        await staff.get_by_label("合同类型").select_option("技术转让")
        await staff.get_by_label("持有人 (转让方)").fill("测试农业大学")
        await staff.get_by_label("持有人统一社会信用代码").fill(uscc(777_002))
        await staff.get_by_label("起拍价 (元)").fill("100000")
        await staff.get_by_label("加价幅度 (元)").fill("1000")
        await staff.get_by_label("竞价时长 (分钟)").fill("10")
        await staff.get_by_label("竞价规则").select_option("listing")
        await expect(staff.get_by_label("挂牌期 (工作日)")).to_have_value("20")
        await staff.get_by_role("button", name="创建标的").click()
        await expect(staff.get_by_text(f"标的已创建: 挂牌新增成果{tag}")).to_be_visible()
        await _shoot(staff, "lot-new")
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN) as http:
            made = (await http.get(f"/api/v1/sessions/{session}/lots")).json()["lots"]
        new = next(lot for lot in made if lot["title"] == f"挂牌新增成果{tag}")
        assert (new["format"], new["listing_days"]) == ("listing", 20)
        page = await (await new_context(viewport={"width": 1366, "height": 900})).new_page()
        page.on("console", lambda m: errors.append(f"{page.url}: {m.text}")
                if m.type == "error" else None)

        await page.goto(f"{server.base}/lot.html?id={lots[1]}")
        card = page.get_by_role("region", name="挂牌", exact=True)
        await expect(card).to_be_visible()
        await expect(card.locator("[data-fact=price]")).to_contain_text("20,000")
        await expect(card.locator("[data-fact=buyers]")).to_contain_text("2 家")
        await expect(card.locator("[data-fact=period]")).to_contain_text("–")
        await expect(card).to_contain_text("挂牌中")
        await expect(page.locator("#status")).to_have_text("挂牌中")
        await expect(page.locator("body")).not_to_contain_text(f"意向企业{tag}")
        await _shoot(page, "period")
        # searched by name: in a long run the catalogue's first page holds other tests' lots
        await page.goto(f"{server.base}/index.html?q=高效光伏组件封装工艺{tag}")
        line = page.locator(f"[data-lot='{lots[1]}'] .listing-line")
        await expect(line).to_contain_text("意向受让方 2 家")
        await _shoot(page, "catalogue")

        await asyncio.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds()) + 2.5)
        await page.goto(f"{server.base}/lot.html?id={lots[0]}")
        card = page.get_by_role("region", name="挂牌", exact=True)
        await expect(card.locator("[data-fact=state]")).to_contain_text("协议成交")
        await expect(page.locator("#price")).to_contain_text("20,000")
        await _shoot(page, "agreement")
        await page.goto(f"{server.base}/lot.html?id={lots[1]}")
        card = page.get_by_role("region", name="挂牌", exact=True)
        await expect(card.locator("[data-fact=state]")).to_contain_text("已转为限时竞价")
        await expect(page.locator("#status")).to_have_attribute("data-status", "open")
        # now an auction: its facts are a timed auction's again
        await expect(page.locator("#mode")).to_have_text("限时竞价")
        facts = page.get_by_role("region", name="竞价信息")
        await expect(facts.locator("[data-fact=extension]")).to_be_visible()
        await expect(page.locator("#inc")).to_be_visible()
        await expect(page.locator("#countdown")).not_to_have_text("—")
        await _shoot(page, "auction")
        await page.goto(f"{server.base}/results.html?session={session}")
        await expect(page.locator("[data-deal=agreement]")).to_have_text("协议成交公示")
        await _shoot(page, "results")
    assert errors == []
