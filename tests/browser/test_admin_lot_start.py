"""A timed lot's own opening time (开始时间) in the admin pages, found by role and visible Chinese
label: a county admin sets it on 新增标的 (a time after the session's end refused under the
field with the session's times, then a good one stored in China time), reads it on the lot's
admin page and moves it with 编辑标的; a live session's form has no such field. Screenshots at
375 px and 1366 px in Chinese and English; every input labelled, every button named; no console
error but the refused creation's 400."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from playwright.async_api import expect

from auction.settings import Settings
from tests.browser.conftest import ARTIFACTS, UNNAMED
from tests.browser.test_admin_pages import _county_markets, _login
from tests.e2e.harness import ADMIN, Server, running, uscc

STARTS, ENDS = "2027-03-15T09:00:00+08:00", "2027-03-19T16:00:00+08:00"


async def _shots(page: Any, name: str) -> None:
    """Every visible input labelled and button named, at 375 px and 1366 px, each saved as
    test-artifacts/browser/lot-start-<name>-<width>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in (375, 1366):
        await page.set_viewport_size({"width": width, "height": 800 if width < 1000 else 900})
        assert await page.evaluate(UNNAMED) == [], page.url
        await page.screenshot(path=str(ARTIFACTS / f"lot-start-{name}-{width}.png"),
                              full_page=True)
    await page.set_viewport_size({"width": 1366, "height": 900})


async def _sessions(server: Server, county: str, tag: int) -> tuple[int, int]:
    """A timed session (with an end) and a live one of ``county``: their ids."""
    ids = []
    async with httpx.AsyncClient(base_url=server.base, headers=ADMIN, timeout=10) as http:
        for mode, extra in (("timed", {"ends_at": ENDS}), ("live", {})):
            r = await http.post("/api/v1/sessions", json={
                "market_code": county, "name": f"县域{mode}专场{tag}", "season": "spring",
                "mode": mode, "starts_at": STARTS, **extra})
            assert r.status_code == 201, r.text
            ids.append(int(r.json()["id"]))
    return ids[0], ids[1]


async def _lots(server: Server, session: int) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        lots: list[dict[str, Any]] = (await http.get(f"/api/v1/sessions/{session}/lots")
                                      ).json()["lots"]
    return lots


async def test_county_admin_sets_and_moves_a_timed_lots_own_start(
    settings: Settings, new_context: Any
) -> None:
    """新增标的 of a timed session: 开始时间 after the session's end is refused under the field
    (naming the session's end), 2027-03-16 10:30 is stored as +08:00; the lot's page shows it
    and 编辑标的 moves it to 2027-03-17 09:00; in English the field reads "Opens at". A live
    session's form shows no 开始时间."""
    tag = uuid.uuid4().int % 10**6
    errors: list[str] = []
    async with running(settings) as server:
        county, _sibling, names = await _county_markets(server, tag)
        timed, live = await _sessions(server, county, tag)
        page = await _login(new_context, server, names["admin"], errors)

        await page.goto(f"{server.base}/admin/lot-new.html?session={live}")
        await expect(page.get_by_label("标的名称")).to_be_visible()
        await expect(page.get_by_label("开始时间", exact=True)).to_be_hidden()

        await page.goto(f"{server.base}/admin/lot-new.html?session={timed}")
        title = f"节水灌溉控制系统{tag}"
        await page.get_by_label("标的名称").fill(title)
        await page.get_by_label("成果类型").select_option("专利")
        await page.get_by_label("知识产权类别").select_option("发明专利")
        await page.get_by_label("技术领域").select_option("农业")
        await page.get_by_label("交易方式").select_option("转让")
        await page.get_by_label("合同类型").select_option("技术转让")
        await page.get_by_label("持有人 (转让方)").fill("德州测试农业大学")
        await page.get_by_label("持有人统一社会信用代码").fill(uscc(930_000 + tag))
        await page.get_by_label("起拍价 (元)").fill("100000")
        await page.get_by_label("加价幅度 (元)").fill("1000")
        await page.get_by_label("竞价时长 (分钟)").fill("60")
        start = page.get_by_label("开始时间", exact=True)
        await expect(start).to_be_visible()
        await start.fill("2027-03-20T09:00")
        await page.get_by_role("button", name="创建标的").click()
        await expect(start).to_have_attribute("aria-invalid", "true")
        await expect(page.get_by_text("2027-03-19 16:00").first).to_be_visible()
        await _shots(page, "new-error")
        assert await _lots(server, timed) == []
        await start.fill("2027-03-16T10:30")
        await page.get_by_role("button", name="创建标的").click()
        await expect(page.get_by_text(f"标的已创建: {title}")).to_be_visible()
        await _shots(page, "new-created")
        [lot] = await _lots(server, timed)
        assert lot["starts_at"] == "2027-03-16T10:30:00.000+08:00"
        await page.get_by_role("button", name="English").click()
        await expect(page.get_by_label("Opens at", exact=True)).to_have_value("2027-03-16T10:30")
        await _shots(page, "new-en")
        await page.get_by_role("button", name="中文").click()

        # the lot's admin page: its own start under the heading, and 编辑标的 moves it
        await page.goto(f"{server.base}/admin/lot.html?id={lot['id']}")
        await expect(page.get_by_text("本标的开始时间: 2027/3/16 10:30:00 (北京时间)")
                     ).to_be_visible()
        edit = page.get_by_role("region", name="编辑标的")
        moved = edit.get_by_label("开始时间", exact=True)
        await expect(moved).to_have_value("2027-03-16T10:30")
        await moved.fill("2027-03-17T09:00")
        await edit.get_by_role("button", name="保存修改").click()
        await expect(edit.get_by_role("status").filter(has_text="已保存")).to_be_visible()
        await expect(page.get_by_text("本标的开始时间: 2027/3/17 09:00:00 (北京时间)")
                     ).to_be_visible()
        await _shots(page, "edit-saved")
        [lot] = await _lots(server, timed)
        assert lot["starts_at"] == "2027-03-17T09:00:00.000+08:00"
        await page.get_by_role("button", name="English").click()
        await expect(page.get_by_text("This lot opens at 2027/3/17 09:00:00")).to_be_visible()
        await expect(page.get_by_label("Opens at", exact=True)).to_have_value("2027-03-17T09:00")
        await _shots(page, "edit-en")
        await page.get_by_role("button", name="中文").click()
    assert [e for e in errors if "400" not in e] == [], errors
