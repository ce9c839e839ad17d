"""A listing's (挂牌) banner and clock on the public lot page, and its relisting from the admin
page, in headless Chromium: during the period the banner says 挂牌中 with the period's end and
the clock counts down to it (days shown) by server time, in Chinese and in English; after the
end, an expired listing says 挂牌期满 无意向受让方 and one with one buyer 协议成交 with the
price; the city admin relists the expired listing with a new 挂牌期 (working days, 20 by
default) from 重新挂拍. Screenshots at 375 and 1366 px (test-artifacts/browser/
listing-banner-*.png); every button named, no console error."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.async_api import expect

from auction.domain import deadlines
from auction.settings import Settings
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_admin_back_office import _city
from tests.browser.test_admin_pages import _login
from tests.browser.test_bidder_path import UNNAMED
from tests.e2e.harness import ADMIN, Server, enrol, running, uscc

PRICE = 2_000_000  # 20,000 元
LATER = "2026-12-21T09:00:00+08:00"


async def _shoot(page: Any, shot: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in (375, 1366):
        await page.set_viewport_size({"width": width, "height": 900})
        assert await page.evaluate(UNNAMED) == [], page.url
        await page.screenshot(path=str(ARTIFACTS / f"listing-banner-{shot}-{width}.png"),
                              full_page=True)
    await page.set_viewport_size({"width": 1366, "height": 900})


async def _setup(server: Server, city: str, tag: int, ends: datetime) -> tuple[list[int], int]:
    """A running timed session of ``city`` with three listings: two ending at ``ends`` (none
    and one buyer), one for 20 working days; and a later timed session to relist into."""
    async with httpx.AsyncClient(base_url=server.base, headers=ADMIN, timeout=10) as http:
        r = await http.post("/api/v1/sessions", json={
            "market_code": city, "name": f"挂牌专场{tag}", "season": "special", "mode": "timed",
            "starts_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()})
        assert r.status_code == 201, r.text
        session = r.json()["id"]
        lots = []
        for i, period in enumerate(({"listing_ends_at": ends.isoformat()},
                                    {"listing_ends_at": ends.isoformat()},
                                    {"listing_days": 20})):
            r = await http.post(f"/api/v1/sessions/{session}/lots", json={
                "title": f"挂牌成果{tag}-{i}", "result_type": "专利", "ip_type": "发明专利",
                "technology_field": "农业", "transaction_mode": "转让",
                "contract_type": "技术转让", "holder_name": "德州测试农科院",
                "holder_uscc": uscc(720_000 + tag), "start_price_fen": PRICE,
                "increment_fen": 20_000, "duration_s": 600, "format": "listing", **period})
            assert r.status_code == 201, r.text
            lots.append(r.json()["id"])
        await enrol(http, session, name=f"意向企业{tag}", uscc_code=uscc(tag * 10 + 7),
                    deposit_fen=PRICE // 10, lot_id=lots[1])
        r = await http.post("/api/v1/sessions", json={
            "market_code": city, "name": f"挂牌重新挂拍专场{tag}", "season": "special",
            "mode": "timed", "starts_at": LATER})
        assert r.status_code == 201, r.text
        return lots, r.json()["id"]


async def test_listing_banner_clock_and_relist(settings: Settings, new_context: Any) -> None:
    tag = uuid.uuid4().int % 10**6
    errors: list[str] = []
    async with running(settings) as server:
        city, admin = await _city(server, tag)
        ends = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=25)
        lots, later = await _setup(server, city, tag, ends)
        page = await (await new_context(viewport={"width": 1366, "height": 900})).new_page()
        page.on("console", lambda m: errors.append(f"{page.url}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))

        await page.goto(f"{server.base}/lot.html?id={lots[2]}")
        banner = page.get_by_role("status").filter(has_text="挂牌中")
        await expect(banner).to_contain_text("挂牌中 · 挂牌期至")
        await expect(page.locator("body")).not_to_contain_text("尚未开拍")
        await expect(page.locator("#clock-label")).to_have_text("距挂牌期满")
        await expect(page.locator("#countdown")).to_have_text(re.compile(r"^\d+ 天 \d+:\d\d:\d\d$"))
        await expect(page.locator("#countdown")).not_to_have_text("尚未开拍")
        await expect(page.locator("#ends-at")).to_contain_text("挂牌截止")
        await _shoot(page, "period-zh")
        await page.get_by_role("button", name="English").click()
        await expect(page.get_by_role("status").filter(has_text="Listed · until")).to_be_visible()
        await expect(page.locator("#clock-label")).to_have_text("Listing ends in")
        await expect(page.locator("#countdown")).to_contain_text(" d ")
        await _shoot(page, "period-en")
        await page.get_by_role("button", name="中文").click()

        # the two short listings: counting down to their end, then ended by the scheduler
        await page.goto(f"{server.base}/lot.html?id={lots[1]}")
        await expect(page.locator("#clock-label")).to_have_text("距挂牌期满")
        await asyncio.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds()) + 2.5)
        await expect(page.get_by_role("status").filter(has_text="协议成交")).to_contain_text(
            "协议成交 20,000")
        await expect(page.locator("#status")).to_have_text("协议成交")  # the badge, not 成交
        await expect(page.locator("#price-label")).to_have_text("成交价")
        # a listing sold by agreement was never auctioned: no 限时竞价, 延时 rule or 加价幅度
        await expect(page.locator("#mode")).to_have_text("挂牌")
        facts = page.get_by_role("region", name="竞价信息")
        await expect(facts.locator("[data-fact=mode]")).to_contain_text("挂牌")
        await expect(facts.locator("[data-fact=end_time]")).to_contain_text(":")
        for rule in ("extension", "extended_times", "increment_table"):
            await expect(facts.locator(f"[data-fact={rule}]")).to_have_count(0)
        await expect(page.locator("#inc")).to_be_hidden()
        await expect(page.locator("body")).not_to_contain_text("尚未开拍")
        await _shoot(page, "agreement")
        await page.get_by_role("button", name="English").click()
        await expect(page.locator("#status")).to_have_text("Sold by agreement")
        # no hammer fell: the price is the agreed one, not a "Hammer price"
        await expect(page.locator("#price-label")).to_have_text("Agreed price")
        await expect(page.locator("#mode")).to_have_text("Listing")
        await expect(page.locator("#facts [data-fact=mode]")).to_contain_text("Listing")
        await _shoot(page, "agreement-en")
        await page.get_by_role("button", name="中文").click()
        await page.goto(f"{server.base}/lot.html?id={lots[0]}")
        await expect(page.get_by_role("status").filter(has_text="挂牌期满")).to_have_text(
            "挂牌期满 无意向受让方")
        await expect(page.locator("body")).not_to_contain_text("尚未开拍")
        await _shoot(page, "expired")

        # 重新挂拍 of the expired listing with a new period of 15 working days
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN) as http:
            for _ in range(100):
                if (await http.get(f"/api/v1/lots/{lots[0]}")).json()["relistable"]:
                    break
                await asyncio.sleep(0.1)
        staff = await _login(new_context, server, admin, errors)
        await staff.goto(f"{server.base}/admin/lot.html?id={lots[0]}")
        relist = staff.get_by_role("region", name="重新挂拍")
        await relist.get_by_label("挂入场次").select_option(str(later))
        days = relist.get_by_label("挂牌期 (工作日)")
        await expect(days).to_have_value("20")
        await days.fill("15")
        await _shoot(staff, "relist-form")
        await relist.get_by_role("button", name="重新挂拍").click()
        await expect(relist.get_by_role("status")).to_contain_text("已重新挂拍为新标的")
        await _shoot(staff, "relisted")
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN) as http:
            made = (await http.get(f"/api/v1/sessions/{later}/lots")).json()["lots"]
        assert [(m["relisted_from"], m["format"], m["listing_days"]) for m in made] == [
            (lots[0], "listing", 15)]
        assert datetime.fromisoformat(made[0]["listing_ends_at"]) == deadlines.listing_ends(
            datetime.fromisoformat(LATER), 15)
    assert errors == []
