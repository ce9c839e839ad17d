"""技术合同成交统计 in the back office (issue 16 item 2), in Chromium: a province's market admin
opens the page, reads the 12 contracts of its province, city and counties, the roll-up table
(下级市场 + 本级场次 = 合计), the charts (inline SVG, no CDN), a breakdown by 技术领域 and the
subsidy section marked 预估; a bad period is refused under its field; the city's admin cannot
choose the province. Screenshots at 375 and 1366 px. Found by role and visible label."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from playwright.async_api import expect

from auction.settings import Settings
from auction.store import Store
from tests.api import stats_world
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_admin_pages import STAFF_PASSWORD, _login
from tests.browser.test_bidder_path import UNNAMED
from tests.e2e.harness import ADMIN, BIDDER_PASSWORD, running, uscc


async def _account(base: str, role: str, code: str) -> str:
    name = f"st{uuid.uuid4().hex[:10]}"
    async with httpx.AsyncClient(base_url=base, headers=ADMIN, timeout=10) as http:
        r = await http.post("/api/v1/accounts", json={
            "username": name, "password": STAFF_PASSWORD, "role": role, "market_code": code})
        assert r.status_code == 201, r.text
    return name


async def _shots(page: Any, shot: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in (375, 1366):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.wait_for_timeout(400)  # the charts redraw at the new width (100 ms debounce)
        assert await page.evaluate(UNNAMED) == [], page.url
        wide = await page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width + 1, (width, wide)
        await page.screenshot(path=str(ARTIFACTS / f"statistics-{shot}-{width}.png"),
                              full_page=True)
    await page.set_viewport_size({"width": 1366, "height": 900})


async def test_province_admin_reads_rolled_up_statistics(
    settings: Settings, store: Store, new_context: Any
) -> None:
    """Figures, roll-up, charts, 预估 and a refused period; no console error but the 400."""
    world = await stats_world.build(store)
    errors: list[str] = []
    async with running(settings) as server:
        admin = await _account(server.base, "market_admin", world.province.code)
        page = await _login(new_context, server, admin, errors)
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        await page.goto(f"{server.base}/admin/")
        await page.get_by_role("link", name="统计", exact=True).click()
        await expect(page.get_by_role("heading", name=re.compile("^技术合同成交统计: "))
                     ).to_contain_text(world.province.name)
        settled = page.get_by_role("region", name="成交", exact=True)
        await expect(settled).to_contain_text("12")
        parts = page.get_by_role("region", name="下级市场与本级场次")
        await expect(parts.get_by_role("img")).to_have_count(1)
        await expect(parts.get_by_role("rowheader", name=f"下级市场 · {world.city.name}")
                     ).to_be_visible()
        await expect(parts.get_by_role("rowheader", name=re.compile("^本级场次 · "))
                     ).to_be_visible()
        field = page.get_by_role("region", name="技术领域")
        await expect(field.get_by_role("rowheader", name="电子信息")).to_be_visible()
        await expect(field.get_by_role("img")).to_be_visible()
        await expect(page.get_by_role("region", name="补贴预估").get_by_text("预估").first
                     ).to_be_visible()
        csv_link = page.get_by_role("link", name="导出 CSV")
        await expect(csv_link).to_have_attribute(
            "href", f"/api/v1/markets/{world.province.code}/statistics.csv")
        await _shots(page, "province")
        assert all(u.startswith(server.base) for u in requests), requests

        # March only: 8 settled contracts
        await page.get_by_label("起 (年、季、月或日期)").fill("2026-03")
        await page.get_by_label("止 (年、季、月或日期)").fill("2026-03")
        await page.get_by_role("button", name="统计").click()
        await expect(settled).to_contain_text("8")
        await expect(page.get_by_text("期间: 2026-03-01 至 2026-03-31")).to_be_visible()

        # a bad period: refused, the field marked
        provoked = len(errors)
        await page.get_by_label("起 (年、季、月或日期)").fill("2026-13")
        await page.get_by_role("button", name="统计").click()
        await expect(page.get_by_role("alert").filter(has_text="YYYY-Qn")).to_be_visible()
        await expect(page.get_by_label("起 (年、季、月或日期)")).to_have_attribute(
            "aria-invalid", "true")
        assert all("400" in e for e in errors[provoked:]), errors
        del errors[provoked:]

        # the city's admin: its own markets only
        city_admin = await _account(server.base, "market_admin", world.city.code)
        other = await _login(new_context, server, city_admin, errors)
        await other.goto(f"{server.base}/admin/statistics.html")
        await expect(other.get_by_role("heading", name=re.compile("^技术合同成交统计: "))
                     ).to_contain_text(world.city.name)
        options = await other.get_by_label("技术市场").locator("option").all_inner_texts()
        assert any(world.city.code in o for o in options)
        assert not any(world.province.code in o for o in options)
        await other.goto(f"{server.base}/admin/statistics.html?market={world.province.code}")
        await expect(other.get_by_role("alert")).to_be_visible()
    assert errors == [], errors


async def test_buyer_sees_its_subsidy_estimate_on_my_auction(
    settings: Settings, store: Store, new_context: Any
) -> None:
    """我的竞拍 shows a registered won lot's subsidy as 预估 (5 % of the 400万 paid: 200,000.00 元)
    under the city's rules, at 375 and 1366 px."""
    world = await stats_world.build(store)
    await store.pool.execute(
        "INSERT INTO subsidy_rules (market_code, effective_from, name, source, rules)"
        " VALUES ($1, '2026-01-01', '测试规则', 'test', $2)", world.city.code,
        [{"name": "企业吸纳技术", "side": "buyer", "natures": ["企业"],
          "contract_types": ["技术转让"], "rate_bp": 500, "base": "paid",
          "cap_fen": 30_000_000}])
    errors: list[str] = []
    async with running(settings) as server:
        username = f"buy{uuid.uuid4().hex[:10]}"
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN, timeout=10) as http:
            r = await http.post("/api/v1/bidders", json={
                "name": "威海某科技有限公司", "uscc": uscc(uuid.uuid4().int % 10**6),
                "username": username, "password": BIDDER_PASSWORD})
            assert r.status_code == 201, r.text
            bidder_id = int(r.json()["id"])
        county = world.counties[0]
        lot = await stats_world.sold(
            store, world, county, world.sessions[county.code][0], price=400_000_000,
            non_tech=0, at=stats_world.MAY, field_="先进制造", contract_type="技术转让",
            mode="转让", buyer_region=county.code, register=True, buyer_id=bidder_id)
        await store.pool.execute(
            "INSERT INTO lot_payments (lot_id, amount_fen, paid_on, bank_reference)"
            " VALUES ($1, 400000000, '2026-05-21', 'ref-me')", lot)
        page = await (await new_context(viewport={"width": 1366, "height": 900})).new_page()
        page.on("console", lambda m: errors.append(f"{page.url}: {m.text}")
                if m.type == "error" else None)
        await page.goto(f"{server.base}/login.html?next=me.html")
        await page.get_by_label("用户名").fill(username)
        await page.get_by_label("密码", exact=True).fill(BIDDER_PASSWORD)
        await page.get_by_role("button", name="登录").click()
        await page.wait_for_url(re.compile(r"/me\.html"))
        line = page.locator("[data-subsidy]")
        await expect(line).to_contain_text("补贴 预估 200,000.00 元")
        await expect(line).to_contain_text("企业吸纳技术")
        await _shots(page, "me")
    assert errors == [], errors
