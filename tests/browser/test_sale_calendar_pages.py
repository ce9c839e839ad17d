"""The sale calendar's pages (issue 15) in headless Chromium, found by role and visible Chinese
label: the city admin relists a passed lot from its admin page (79 % refused under the field,
80 % accepted), the public pages of both lots show the chain; 新建场次 takes a timed session's
schedule (shown for 限时竞价 only) and 编辑场次 shows and changes it. Screenshots at 375 and
1366 px (test-artifacts/browser/calendar-*.png); every input labelled, every button named, no
console error."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from playwright.async_api import expect

from auction.settings import Settings
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_admin_back_office import _city
from tests.browser.test_admin_pages import _login
from tests.browser.test_bidder_path import UNNAMED
from tests.e2e.harness import ADMIN, Server, running, uscc

START_FEN = 2_000_000  # 20,000 元


async def _shoot(page: Any, shot: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in (375, 1366):
        await page.set_viewport_size({"width": width, "height": 900})
        assert await page.evaluate(UNNAMED) == [], page.url
        await page.screenshot(path=str(ARTIFACTS / f"calendar-{shot}-{width}.png"),
                              full_page=True)
    await page.set_viewport_size({"width": 1366, "height": 900})


async def _passed_lot(server: Server, city: str, tag: int) -> tuple[int, int]:
    """A lot of a past live session of ``city``, passed and settled; a later session: ids."""
    async with httpx.AsyncClient(base_url=server.base, headers=ADMIN, timeout=10) as http:
        r = await http.post("/api/v1/sessions", json={
            "market_code": city, "name": f"秋季专场{tag}", "season": "autumn", "mode": "live",
            "starts_at": "2026-11-20T09:00:00+08:00"})
        assert r.status_code == 201, r.text
        session = r.json()["id"]
        r = await http.post(f"/api/v1/sessions/{session}/lots", json={
            "title": f"盐碱地改良技术{tag}", "result_type": "专利", "ip_type": "发明专利",
            "technology_field": "农业", "transaction_mode": "转让", "contract_type": "技术转让",
            "holder_name": "德州测试农科院", "holder_uscc": uscc(700_000 + tag),
            "start_price_fen": START_FEN, "increment_fen": 20_000})
        assert r.status_code == 201, r.text
        lot = r.json()["id"]
        for op in ("open", "pass"):
            r = await http.post(f"/api/v1/lots/{lot}/commands",
                                json={"op": op, "key": f"{op}-{tag}"})
            assert r.status_code == 200, r.text
        for _ in range(100):
            if (await http.get(f"/api/v1/lots/{lot}")).json()["relistable"]:
                break
            await asyncio.sleep(0.1)
        r = await http.post("/api/v1/sessions", json={
            "market_code": city, "name": f"冬季重新挂拍专场{tag}", "season": "special",
            "mode": "live", "starts_at": "2026-12-20T09:00:00+08:00"})
        assert r.status_code == 201, r.text
        return lot, r.json()["id"]


async def test_relist_and_schedule_pages(settings: Settings, new_context: Any) -> None:
    tag = uuid.uuid4().int % 10**6
    errors: list[str] = []
    async with running(settings.with_changes(reopen_window_s=0)) as server:
        city, admin = await _city(server, tag)
        old, later = await _passed_lot(server, city, tag)
        page = await _login(new_context, server, admin, errors)

        await page.goto(f"{server.base}/admin/lot.html?id={old}")
        relist = page.get_by_role("region", name="重新挂拍")
        await expect(relist).to_contain_text("本标的流拍")
        await relist.get_by_label("挂入场次").select_option(str(later))
        await expect(relist.get_by_label("挂牌期 (工作日)")).to_be_hidden()  # no listing
        await expect(relist.get_by_label("新起拍价 (元)")).to_have_value("16000")
        await relist.get_by_label("新起拍价 (元)").fill("15800")
        await relist.get_by_role("button", name="重新挂拍").click()
        await expect(relist.locator(".field-err:not(:empty)")).to_contain_text("80%")
        await _shoot(page, "relist-refused")
        await relist.get_by_label("新起拍价 (元)").fill("16000")
        await relist.get_by_role("button", name="重新挂拍").click()
        await expect(relist.get_by_role("status")).to_contain_text("已重新挂拍为新标的")
        new = await relist.get_by_role("link").first.get_attribute("href")
        assert new is not None and new.startswith("lot.html?id=")
        new_id = int(new.split("=")[1])
        await _shoot(page, "relist-done")
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN) as http:
            trail = (await http.get(f"/api/v1/markets/{city}/audit")).json()["entries"]
        relists = [e for e in trail if e["route"] == "POST /api/v1/lots/{lot_id}/relist"]
        assert [(e["status"], e["ids"], e["market_code"]) for e in relists] == [
            (201, {"lot_id": old}, city)]
        assert relists[0]["actor"]["role"] == "market_admin"

        # the public pages, as anyone sees them
        public = await (await new_context(viewport={"width": 1366, "height": 900})).new_page()
        public.on("console", lambda m: errors.append(f"{public.url}: {m.text}")
                  if m.type == "error" else None)
        await public.goto(f"{server.base}/lot.html?id={new_id}")
        chain = public.locator("[data-fact=relist]")
        await expect(chain).to_contain_text("本标的")
        await expect(chain.get_by_role("link")).to_contain_text("流拍")
        await _shoot(public, "public-new-lot")
        await chain.get_by_role("link").click()
        await expect(public.locator("[data-fact=relist]").get_by_role("link")).to_contain_text(
            "待拍")

        # 新建场次: the schedule appears for 限时竞价 only
        await page.goto(f"{server.base}/admin/session-new.html?market={city}")
        schedule = page.get_by_role("group", name="限时竞价日程")
        await expect(schedule).to_be_hidden()
        await page.get_by_label("场次名称").fill(f"限时自动专场{tag}")
        await page.get_by_label("竞价方式").select_option(label="限时竞价")
        await expect(schedule).to_be_visible()
        await page.get_by_label("开始时间").fill("2026-12-21T09:00")
        await schedule.get_by_label("场次结束时间").fill("2026-12-25T16:00")
        await schedule.get_by_label("标的截止间隔 (秒)").fill("300")
        await schedule.get_by_label("每件标的最多延时次数").fill("3")
        await schedule.get_by_label("最晚结束时间").fill("2026-12-25T20:00")
        await _shoot(page, "session-new")
        await page.get_by_role("button", name="创建场次").click()
        await expect(page.get_by_role("heading", name=f"场次: 限时自动专场{tag}")).to_be_visible()
        session = int(page.url.split("id=")[1].split("&")[0])
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN) as http:
            made = (await http.get(f"/api/v1/sessions/{session}")).json()
        assert made["ends_at"] == "2026-12-25T16:00:00.000+08:00"
        assert (made["close_gap_s"], made["max_extensions"]) == (300, 3)
        assert made["hard_end_at"] == "2026-12-25T20:00:00.000+08:00"

        # 编辑场次: the schedule filled in; a blank cap clears it
        await page.goto(f"{server.base}/admin/session-edit.html?id={session}")
        schedule = page.get_by_role("group", name="限时竞价日程")
        await expect(schedule.get_by_label("标的截止间隔 (秒)")).to_have_value("300")
        await expect(schedule.get_by_label("场次结束时间")).to_have_value("2026-12-25T16:00")
        await schedule.get_by_label("每件标的最多延时次数").fill("")
        await schedule.get_by_label("最晚结束时间").fill("2026-12-25T15:00")
        await page.get_by_role("button", name="保存").click()
        await expect(schedule.locator(".field-err:not(:empty)")).to_have_count(1)
        await schedule.get_by_label("最晚结束时间").fill("2026-12-25T21:00")
        await page.get_by_role("button", name="保存").click()
        await expect(page.get_by_role("alert").filter(has_text="已保存")).to_be_visible()
        await _shoot(page, "session-edit")
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN) as http:
            edited = (await http.get(f"/api/v1/sessions/{session}")).json()
        assert edited["max_extensions"] is None
        assert edited["hard_end_at"] == "2026-12-25T21:00:00.000+08:00"

        # its second lot's public page: the planned start and close (the end + one gap)
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN) as http:
            made_lots = []
            for i in range(2):
                r = await http.post(f"/api/v1/sessions/{session}/lots", json={
                    "title": f"定时标的{i}{tag}", "result_type": "专利", "ip_type": "发明专利",
                    "technology_field": "农业", "transaction_mode": "转让",
                    "contract_type": "技术转让", "holder_name": "德州测试农科院",
                    "holder_uscc": uscc(700_000 + tag), "start_price_fen": START_FEN,
                    "increment_fen": 20_000, "duration_s": 600})
                assert r.status_code == 201, r.text
                made_lots.append(r.json()["id"])
            r = await http.post(f"/api/v1/sessions/{session}/publish")
            assert r.status_code == 200, r.text
        await public.goto(f"{server.base}/lot.html?id={made_lots[1]}")
        end = public.locator("[data-fact=end_time]")
        await expect(end).to_contain_text("16:05")
        await expect(end).to_contain_text("计划")
        await expect(public.locator("[data-fact=extension]")).to_contain_text(
            "最晚 2026/12/25 21:00:00 结束")
        await _shoot(public, "public-scheduled-lot")
    refused = (f"admin/lot.html?id={old}: Failed to load resource: the server responded with"
               " a status of 409", f"session-edit.html?id={session}: Failed to load resource:"
               " the server responded with a status of 400")
    assert [e for e in errors if not any(r in e for r in refused)] == []
