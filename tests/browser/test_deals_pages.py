"""After the hammer in the browser (issue 13): the public 成交公示 lists notices still running,
notices whose period ended and passed lots apart and takes an objection through its form (at
375 px); the back office's 成交与付款 page records a payment (finance).

A notice "whose period ended" is a real sale whose settlement is moved back to April 2026 in the
test server's own database (time travel by SQL, nothing else touched)."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from playwright.async_api import expect

from auction.settings import Settings
from tests.browser.conftest import UNNAMED
from tests.browser.test_admin_pages import STAFF_PASSWORD, _login
from tests.browser.test_lot_page_complete import bid, command
from tests.e2e.harness import ADMIN, BIDDER_PASSWORD, Sale, Server, create_sale, running

APRIL = datetime(2026, 4, 15, 2, 0, tzinfo=UTC)
SHOTS = "test-artifacts/browser"


async def _settled(server: Server, sale: Sale, lots: list[int]) -> dict[str, Any]:
    """The session's 成交公示 once every lot in ``lots`` is settled (the drainer: seconds)."""
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        for _ in range(60):
            answer: dict[str, Any] = (await http.get(
                "/api/v1/publicity", params={"session": sale.session_id})).json()
            listed = {e["lot_id"] for part in ("sold", "passed") for e in answer[part]}
            if set(lots) <= listed:
                return answer
            await asyncio.sleep(0.5)
    raise AssertionError("the lots were not settled")


async def _sell_three(server: Server) -> tuple[Sale, int, int, int]:
    """Three lots: one sold now, one sold and moved back to April 2026, one passed."""
    sale = await create_sale(server, lots=3, bidders=1)
    now, past, passed = sale.lots
    for lot, amount in ((now, 1_000_000), (past, 1_010_000)):
        await command(server, lot, "open")
        await bid(server, sale.tokens[0], lot, amount)
        await command(server, lot, "hammer")
    await command(server, passed, "open")
    await command(server, passed, "pass")
    await _settled(server, sale, sale.lots)
    conn = await asyncpg.connect(server.settings.database_url)
    try:  # time travel, this server's database only
        await conn.execute("UPDATE lot_results SET closed_at = $2, settled_at = $2"
                           " WHERE lot_id = $1", past, APRIL)
        await conn.execute("UPDATE publicity_notices SET opened_at = $2 WHERE lot_id = $1",
                           past, APRIL)
    finally:
        await conn.close()
    return sale, now, past, passed


async def test_results_page_lists_notices_apart_and_takes_an_objection(
    settings: Settings, new_context: Any
) -> None:
    """At 375 px: the running notice under 公示中 with its dates, the April one under
    公示期已结束, the passed lot under 流拍标的; an objection filed through the labelled form is
    received (and is in the database); nothing is wider than the screen. The market admin then
    resolves it on 成交与付款 and sets the market's notice period and objection contact."""
    async with running(settings) as server:
        sale, now, past, passed = await _sell_three(server)
        phone = await new_context(viewport={"width": 375, "height": 800}, is_mobile=True,
                                  has_touch=True)
        page = await phone.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        await page.goto(f"{server.base}/results.html?session={sale.session_id}")
        current = page.get_by_role("region", name="公示中")
        ended = page.get_by_role("region", name="公示期已结束")
        passed_list = page.get_by_role("region", name="流拍标的")
        await expect(current.locator(f"tr[data-lot='{now}']")).to_be_visible()
        await expect(current.locator(f"tr[data-lot='{past}']")).to_have_count(0)
        await expect(ended.locator(f"tr[data-lot='{past}']")).to_contain_text(
            "2026-04-15 至 2026-04-22 (5 个工作日)")
        await expect(ended.locator(f"tr[data-lot='{now}']")).to_have_count(0)
        await expect(passed_list.locator(f"tr[data-lot='{passed}']")).to_be_visible()
        await expect(current.locator(f"tr[data-lot='{now}']")).to_contain_text(
            re.compile(r"\d{4}-\d\d-\d\d 至 \d{4}-\d\d-\d\d \(5 个工作日\)"))

        await current.locator(f"tr[data-lot='{now}']").get_by_role(
            "button", name=re.compile("对此提出异议")).click()
        form = page.get_by_role("region", name="提出异议")
        await expect(form.get_by_label("异议标的")).to_have_value(str(now))
        await form.get_by_role("button", name="提交异议").click()
        await expect(form.get_by_role("status")).to_contain_text("请填写姓名或单位名称")
        await form.get_by_label("姓名或单位名称").fill("王五")
        await form.get_by_label("联系方式").fill("13900000000")
        await form.get_by_label("异议内容").fill("买受人与出让方存在关联关系")
        await form.get_by_role("button", name="提交异议").click()
        await expect(form.get_by_role("status")).to_contain_text("异议已提交")
        assert await page.evaluate("document.documentElement.scrollWidth") <= 375
        assert await page.evaluate(UNNAMED) == []
        await page.screenshot(path=f"{SHOTS}/results-375.png", full_page=True)
        await page.set_viewport_size({"width": 1366, "height": 900})
        await page.screenshot(path=f"{SHOTS}/results-1366.png", full_page=True)
        assert errors == [], errors
        conn = await asyncpg.connect(server.settings.database_url)
        try:
            rows = await conn.fetch(
                "SELECT lot_id, name, contact FROM publicity_objections WHERE lot_id = $1", now)
        finally:
            await conn.close()
        assert [(r["lot_id"], r["name"], r["contact"]) for r in rows] == [
            (now, "王五", "13900000000")]

        # the market admin resolves it on 成交与付款 and sets the market's notice period
        tag = uuid.uuid4().hex[:8]
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN, timeout=10) as http:
            code = (await http.get(f"/api/v1/sessions/{sale.session_id}")).json()["market_code"]
            made = await http.post("/api/v1/accounts", json={
                "username": f"adm-{tag}", "password": STAFF_PASSWORD, "role": "market_admin",
                "market_code": code})
            assert made.status_code == 201, made.text
        staff_errors: list[str] = []
        admin = await _login(new_context, server, f"adm-{tag}", staff_errors)
        await admin.goto(f"{server.base}/admin/deals.html?session={sale.session_id}")
        board = admin.get_by_role("region", name="成交公示异议")
        await expect(board.get_by_role("row").filter(has_text="王五")).to_contain_text("待处理")
        await board.get_by_role("button", name=re.compile("处理异议")).click()
        await board.get_by_label("处理结果").fill("经核实无关联关系，维持成交")
        await board.get_by_role("button", name="记录处理结果").click()
        await expect(board.get_by_role("row").filter(has_text="王五")).to_contain_text(
            "经核实无关联关系，维持成交")
        settings = admin.get_by_role("form", name="本市场成交公示设置")
        await expect(settings.get_by_label("公示期（工作日）")).to_have_value("5")
        await settings.get_by_label("公示期（工作日）").fill("7")
        await settings.get_by_label("异议联系方式").fill("0531-66668888")
        await settings.get_by_role("button", name="保存公示设置").click()
        await expect(settings.get_by_role("status")).to_contain_text("公示期 7 个工作日")
        assert await admin.evaluate(UNNAMED) == []
        await admin.screenshot(path=f"{SHOTS}/deals-admin-1366.png", full_page=True)
        assert staff_errors == [], staff_errors
        async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
            entry = next(e for e in (await http.get("/api/v1/publicity", params={
                "session": sale.session_id})).json()["sold"] if e["lot_id"] == now)
        assert entry["objection"]["contact"] == "0531-66668888"
        assert entry["publicity"]["working_days"] == 5  # a running notice keeps its period


async def test_finance_records_a_payment_on_the_deals_page(
    settings: Settings, new_context: Any
) -> None:
    """Finance opens 成交与付款 from the session page, sees the sold lot 待付款 with its balance
    (the whole price: the band deposit went to the April lot, hammered first), records a part
    payment through the form, and the row shows the open amount; the April lot is 逾期, is
    declared in default through its form, and the default shows on the buyer's registration
    on the session page; the buyer's 我的竞拍 shows both lots' balance, due date and status."""
    tag = uuid.uuid4().hex[:8]
    async with running(settings) as server:
        sale, now, past, _ = await _sell_three(server)
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN, timeout=10) as http:
            code = (await http.get(f"/api/v1/sessions/{sale.session_id}")).json()["market_code"]
            made = await http.post("/api/v1/accounts", json={
                "username": f"fin-{tag}", "password": STAFF_PASSWORD, "role": "finance",
                "market_code": code})
            assert made.status_code == 201, made.text
        errors: list[str] = []
        page = await _login(new_context, server, f"fin-{tag}", errors)
        await page.goto(f"{server.base}/admin/session.html?id={sale.session_id}")
        await page.get_by_role("link", name="成交与付款").click()
        await page.wait_for_url(re.compile(r"/admin/deals\.html\?session="))
        sales = page.get_by_role("region", name="成交标的与尾款")
        row = sales.get_by_role("row").filter(has_text="一种测试技术0")
        # price 10,000.00; the band deposit (1,000.00) counts towards the buyer's first lot in
        # hammer order, the one hammered in April: this one's balance is the whole price
        await expect(row).to_contain_text("待付款")
        await expect(row).to_contain_text("10,000.00 元0.00 元10,000.00 元")
        old = sales.get_by_role("row").filter(has_text="一种测试技术1")
        await expect(old).to_contain_text("逾期")
        await expect(old.get_by_role("button", name=re.compile("宣布悔拍"))).to_be_visible()

        await row.get_by_role("button", name=re.compile("登记付款")).click()
        form = page.get_by_role("region", name="登记付款")
        await expect(form.get_by_label("标的")).to_have_value(str(now))
        await form.get_by_label("付款金额（元）").fill("4000")
        await form.get_by_label("银行流水号").fill(f"ICBC-{tag}")
        await form.get_by_role("button", name="登记付款").click()
        await expect(form.get_by_role("status")).to_contain_text("已登记 4,000.00 元")
        await expect(row).to_contain_text("6,000.00")
        assert await page.evaluate(UNNAMED) == []
        await page.screenshot(path=f"{SHOTS}/deals-1366.png", full_page=True)
        await page.set_viewport_size({"width": 375, "height": 800})
        await page.screenshot(path=f"{SHOTS}/deals-375.png", full_page=True)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 375 + 1
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN, timeout=10) as http:
            account = (await http.get(f"/api/v1/lots/{now}/payment")).json()
            first = (await http.get(f"/api/v1/lots/{past}/payment")).json()
        assert (account["deposit_applied_fen"], account["paid_fen"], account["open_fen"]) == (
            0, 400_000, 600_000)
        assert first["deposit_applied_fen"] == 100_000
        assert [p["bank_reference"] for p in account["payments"]] == [f"ICBC-{tag}"]

        # the overdue lot: 宣布悔拍 through its form; the default shows on the registration
        await page.set_viewport_size({"width": 1366, "height": 900})
        await old.get_by_role("button", name=re.compile("宣布悔拍")).click()
        declare = page.get_by_role("region", name="宣布悔拍")
        await declare.get_by_label("悔拍原因").fill("逾期未付尾款")
        await declare.get_by_role("button", name="宣布悔拍").click()
        await expect(old).to_contain_text("悔拍")
        await expect(old.get_by_role("button")).to_have_count(0)
        await page.goto(f"{server.base}/admin/session.html?id={sale.session_id}")
        await expect(page.get_by_text(re.compile("悔拍记录: .*一种测试技术1"))).to_be_visible()
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN, timeout=10) as http:
            defaulted = (await http.get(f"/api/v1/lots/{past}/payment")).json()
        assert defaulted["default"]["reason"] == "逾期未付尾款" and defaulted["status"] == "悔拍"
        assert errors == [], errors

        # 我的竞拍: the buyer sees each won lot's balance, due date and status
        buyer = await new_context(viewport={"width": 375, "height": 800})
        mine = await buyer.new_page()
        await mine.goto(f"{server.base}/login.html?next=me.html")
        await mine.get_by_label("用户名").fill(sale.usernames[0])
        await mine.get_by_label("密码", exact=True).fill(BIDDER_PASSWORD)
        await mine.get_by_role("button", name="登录").click()
        await mine.wait_for_url(re.compile(r"/me\.html"))
        wins = mine.get_by_role("region", name="我竞得的标的")
        await expect(wins.locator("[data-payment=pending]")).to_contain_text(
            "尾款 10,000.00 元 · 未付 6,000.00 元 · 付款期限")
        await expect(wins.locator("[data-payment=pending]")).to_contain_text("待付款")
        await expect(wins.locator("[data-payment=defaulted]")).to_contain_text("悔拍")
        # 后续事项 from the lot's real state: pay by the due date, then 合同登记; 悔拍 says so
        await expect(wins.locator("[data-next-step=pay]")).to_contain_text(
            re.compile(r"后续事项: 请于 \d{4}-\d\d-\d\d 前付清尾款 6,000\.00 元; "
                       r"之后由市场办理技术合同登记"))
        await expect(wins.locator("[data-next-step=defaulted]")).to_contain_text("市场已宣布悔拍")
        assert await mine.evaluate("document.documentElement.scrollWidth") <= 375
        await mine.screenshot(path=f"{SHOTS}/me-375.png", full_page=True)
        await mine.set_viewport_size({"width": 1366, "height": 900})
        await mine.screenshot(path=f"{SHOTS}/me-1366.png", full_page=True)
