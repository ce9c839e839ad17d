"""Registration with its answer in the pages (issue 13 item 3), found by role and visible
Chinese label: the office refuses a sold lot's packet (未予登记 with a reason) — the session
report's 合同登记移交 shows it; the city's market admin corrects the seller's nature there and
sends version 2; the office registers it — the report, the public lot page and the buyer's
我的竞拍 show 已登记 with the number. Screenshots at 1366 and 375 px."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from auction.settings import Secret, Settings
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_admin_back_office import START_FEN, _city, _session_with_a_lot
from tests.browser.test_admin_pages import _login
from tests.e2e.harness import (
    ADMIN,
    BIDDER_PASSWORD,
    Server,
    enrol,
    raw_client,
    running,
    serving_app,
    uscc,
)

NUMBER = "2026371000000042"
REASON = "卖方主体性质应为高等院校"
TIMEOUT_MS = 10_000


class Office:
    """Refuses version 1 of the packets of ``lots`` with a reason, registers any later
    version; any other packet (another test's, in the shared database) just delivered."""

    def __init__(self) -> None:
        self.lots: set[int] = set()
        self.keys: list[str] = []

    async def register(self, request: Request) -> JSONResponse:
        key = request.headers.get("idempotency-key", "")
        packet = json.loads(await request.body())
        if packet["lot"]["id"] not in self.lots:
            return JSONResponse({}, 201)
        self.keys.append(key)
        if ":v" in key:
            return JSONResponse({"registration_no": NUMBER, "status": "registered"}, 201)
        return JSONResponse({"status": "rejected", "reason": REASON}, 200)


@pytest.fixture
async def office() -> AsyncIterator[tuple[Office, str]]:
    office = Office()
    async with serving_app(Starlette(routes=[Route("/r", office.register, methods=["POST"])])
                           ) as port:
        yield office, f"http://127.0.0.1:{port}/r"


async def _sell(server: Server, session: int, lot: int, tag: int) -> str:
    """A bidder with its own login buys ``lot`` at the start price; its username."""
    username = f"buy{uuid.uuid4().hex[:10]}"
    async with httpx.AsyncClient(base_url=server.base, headers=ADMIN, timeout=10) as http:
        buyer = await enrol(http, session, name=f"登记测试科技有限公司{tag}",
                            uscc_code=uscc(tag * 100 + 31), deposit_fen=START_FEN // 10,
                            username=username)
        r = await http.post(f"/api/v1/sessions/{session}/staff-tokens",
                            json={"role": "auctioneer", "name": "拍卖师王"})
        runner = {"Authorization": f"Bearer {r.json()['token']}"}
        r = await http.post(f"/api/v1/lots/{lot}/commands", headers=runner,
                            json={"op": "open", "key": f"o-{tag}"})
        assert r.status_code == 200, r.text
        async with raw_client(server, buyer.token, address="10.9.1.7") as c:
            await c.send(t="bid", lot=lot, amount=START_FEN, key=f"b-{tag}")
            assert (await c.until(lambda m: m["t"] in ("ack", "nack")))["t"] == "ack"
        r = await http.post(f"/api/v1/lots/{lot}/commands", headers=runner,
                            json={"op": "hammer", "key": f"h-{tag}"})
        assert r.status_code == 200, r.text
    return username


async def _registration(server: Server, lot: int, status: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        for _ in range(200):
            r = await http.get(f"/api/v1/lots/{lot}/registration")
            if r.status_code == 200 and r.json()["status"] == status:
                found: dict[str, Any] = r.json()
                return found
            await asyncio.sleep(0.1)
    raise AssertionError(f"lot {lot}: registration never {status}")


async def _shots(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in (1366, 375):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.screenshot(path=str(ARTIFACTS / f"reg-{name}-{width}.png"), full_page=True)
    await page.set_viewport_size({"width": 1366, "height": 900})


async def test_rejected_registration_is_corrected_in_the_report_and_then_registered(
    settings: Settings, new_context: Any, office: tuple[Office, str]
) -> None:
    """未予登记 + reason in the report; 更正重发 with 卖方主体性质 高等院校 sends version 2;
    已登记 + number in the report, on the lot page and on 我的竞拍; no console error."""
    receiver, url = office
    tag = uuid.uuid4().int % 10_000
    own = settings.with_changes(registration_url=url,
                                registration_secret=Secret("browser-office-secret"))
    errors: list[str] = []
    async with running(own) as server:
        city, admin = await _city(server, tag)
        session, lot = await _session_with_a_lot(server, city, tag)
        receiver.lots.add(lot)
        buyer = await _sell(server, session, lot, tag)
        await _registration(server, lot, "rejected")

        page = await _login(new_context, server, admin, errors)
        await page.goto(f"{server.base}/admin/report.html?session={session}")
        handoff = page.get_by_role("region", name="合同登记移交")
        row = handoff.get_by_role("row").filter(has_text=f"耐旱小麦品种{tag}")
        await expect(row).to_contain_text("未予登记")
        await expect(row).to_contain_text(REASON)
        await row.get_by_role("button", name=re.compile("更正重发")).click()
        form = page.get_by_role("form", name=re.compile("更正登记资料并重新移交"))
        await expect(form).to_be_visible()
        await form.get_by_role("button", name="发送新版本").click()
        await expect(page.get_by_role("status")).to_contain_text("请至少更正一项")
        await form.get_by_label("卖方主体性质").select_option("高等院校")
        await form.get_by_label("买方行政区划代码").fill("371000")
        await _shots(page, "correct")
        await form.get_by_role("button", name="发送新版本").click()
        await expect(page.get_by_role("status")).to_contain_text("已发送第 2 版")

        await _registration(server, lot, "registered")
        await page.reload()
        row = page.get_by_role("region", name="合同登记移交").get_by_role("row").filter(
            has_text=f"耐旱小麦品种{tag}")
        await expect(row).to_contain_text("已登记")
        await expect(row).to_contain_text(NUMBER)
        await _shots(page, "report")

        public = await (await new_context(viewport={"width": 1366, "height": 900})).new_page()
        public.on("console", lambda m: errors.append(f"{public.url}: {m.text}")
                  if m.type == "error" else None)
        await public.goto(f"{server.base}/lot.html?id={lot}")
        fact = public.locator("[data-fact=registration]")
        await expect(fact).to_contain_text("已登记")
        await expect(fact).to_contain_text(NUMBER)
        await _shots(public, "lot")
        await public.close()  # before the server stops: its socket would log the refusal

        context = await new_context(viewport={"width": 1366, "height": 900})
        me = await context.new_page()
        me.on("console", lambda m: errors.append(f"{me.url}: {m.text}")
              if m.type == "error" else None)
        await me.goto(f"{server.base}/login.html?next=me.html")
        await me.get_by_label("用户名").fill(buyer)
        await me.get_by_label("密码", exact=True).fill(BIDDER_PASSWORD)
        await me.get_by_role("button", name="登录").click()
        await me.wait_for_url(re.compile(r"/me\.html"))
        line = me.locator("[data-registration]")
        await expect(line).to_contain_text("合同登记: 已登记")
        await expect(line).to_contain_text(NUMBER)
        await _shots(me, "me")
        await me.close()

    assert receiver.keys[0].startswith(f"lot-{lot}-")
    assert receiver.keys == [receiver.keys[0], f"{receiver.keys[0]}:v2"]
    assert errors == []
