"""The hand-off from the pages (issues 12 item 6 and 13 item 3), found by role and visible
Chinese label: a city's market admin sets the city's 合同登记接收地址 on 市场与人员 (the secret is
never shown back), sees its county inherit it, and goes back to inheriting; on the session
report, 下载移交数据 downloads a sold lot's packet as readable UTF-8 JSON, and 第 1 版 the version
a correction replaced. Screenshots at 1366 and 375 px."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import expect

from auction.settings import Secret, Settings
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_admin_back_office import _city, _session_with_a_lot
from tests.browser.test_admin_pages import STAFF_PASSWORD, _login
from tests.browser.test_registration_answer import Office, _registration, _sell, office
from tests.codes import claim
from tests.e2e.harness import ADMIN, running

__all__ = ["office"]  # the receiver fixture, used here as in test_registration_answer


async def _shots(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in (1366, 375):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.screenshot(path=str(ARTIFACTS / f"handoff-{name}-{width}.png"),
                              full_page=True)
    await page.set_viewport_size({"width": 1366, "height": 900})


async def test_a_city_admin_sets_its_endpoint_and_its_county_inherits_it(
    settings: Settings, new_context: Any
) -> None:
    """合同登记接收地址: the deployment default at first; 保存接收地址 with a URL and a secret
    makes it 本市场自设 with 签名密钥 已设置 (the secret field is empty again, the secret nowhere
    on the page); the county shows 继承自 the city; 恢复继承上级 goes back to the default."""
    tag = uuid.uuid4().int % 10_000
    secret = f"s-{secrets.token_hex(8)}"
    own = settings.with_changes(registration_url="https://default.example/r",
                                registration_secret=Secret("deployment-secret"))
    errors: list[str] = []
    async with running(own) as server:
        city, admin = await _city(server, tag)
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN, timeout=10) as http:
            known = {m["code"] for m in (await http.get("/api/v1/markets")).json()["markets"]}
            county = next(c for n in range(1, 99)
                          if (c := f"{city[:4]}{n:02d}") not in known and claim(c))
            r = await http.post("/api/v1/markets", json={
                "code": county, "slug": f"m-{county}", "name": f"测试{county}县市场",
                "level": "county", "parent_code": city})
            assert r.status_code == 201, r.text
            # a market this test did not make may carry another run's endpoint: start clean
            await http.delete(f"/api/v1/markets/{city}/registration-endpoint")

        page = await _login(new_context, server, admin, errors)
        await page.goto(f"{server.base}/admin/markets.html")
        section = page.get_by_role("region", name="合同登记接收地址")
        await section.get_by_label("市场", exact=True).select_option(city)
        await expect(section).to_contain_text("部署默认地址")
        await expect(section).to_contain_text("https://default.example/r")
        await expect(section.get_by_role("button", name="恢复继承上级")).to_be_hidden()

        await section.get_by_role("button", name="保存接收地址").click()
        await expect(section).to_contain_text("请填写接收地址")
        await section.get_by_label("接收地址 (URL)").fill("https://office.example/city")
        await section.get_by_label("签名密钥").fill(secret)
        await section.get_by_role("button", name="保存接收地址").click()
        await expect(section.get_by_role("status")).to_contain_text("已保存")
        await expect(section).to_contain_text("本市场自设")
        await expect(section).to_contain_text("https://office.example/city")
        await expect(section).to_contain_text("已设置")
        await expect(section.get_by_label("签名密钥")).to_have_value("")
        assert secret not in await page.content()
        await _shots(page, "endpoint")

        await section.get_by_label("市场", exact=True).select_option(county)
        await expect(section).to_contain_text(f"继承自 测试{city}技术市场 ({city})")
        await expect(section).to_contain_text("https://office.example/city")

        await section.get_by_label("市场", exact=True).select_option(city)
        await section.get_by_role("button", name="恢复继承上级").click()
        await expect(section.get_by_role("status")).to_contain_text("已恢复继承")
        await expect(section).to_contain_text("部署默认地址")
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN, timeout=10) as http:
            view = (await http.get(f"/api/v1/markets/{county}/registration-endpoint")).json()
        assert (view["source"], view["url"]) == ("default", "https://default.example/r")
    assert errors == []


async def test_the_report_downloads_each_version_of_the_hand_off_packet(
    settings: Settings, new_context: Any, office: tuple[Office, str], tmp_path: Path
) -> None:
    """A packet refused, corrected and registered: the hand-off row offers 下载移交数据 (the
    current version, readable JSON with the Chinese as is) and 第 1 版 (the refused one);
    finance reads the report without the links."""
    receiver, url = office
    tag = uuid.uuid4().int % 10_000
    own = settings.with_changes(registration_url=url,
                                registration_secret=Secret("browser-office-secret"))
    errors: list[str] = []
    async with running(own) as server:
        city, admin = await _city(server, tag)
        session, lot = await _session_with_a_lot(server, city, tag)
        receiver.lots.add(lot)
        await _sell(server, session, lot, tag)
        await _registration(server, lot, "rejected")
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN, timeout=10) as http:
            r = await http.post(f"/api/v1/lots/{lot}/registration/versions",
                                json={"corrections": {"seller_nature": "高等院校"}})
            assert r.status_code == 201, r.text
            finance = f"fin{uuid.uuid4().hex[:10]}"
            r = await http.post("/api/v1/accounts", json={
                "username": finance, "password": STAFF_PASSWORD, "role": "finance",
                "market_code": city})
            assert r.status_code == 201, r.text
        await _registration(server, lot, "registered")

        page = await _login(new_context, server, admin, errors)
        await page.goto(f"{server.base}/admin/report.html?session={session}")
        row = page.get_by_role("region", name="合同登记移交").get_by_role("row").filter(
            has_text=f"耐旱小麦品种{tag}")
        await expect(row).to_contain_text("已登记")
        await _shots(page, "report")
        packets = {}
        for name, version in [(f"下载移交数据: 耐旱小麦品种{tag}", 2),
                              (f"下载第 1 版移交数据: 耐旱小麦品种{tag}", 1)]:
            async with page.expect_download() as info:
                await row.get_by_role("link", name=name).click()
            download = await info.value
            assert download.suggested_filename == f"登记移交-{lot}-v{version}.json"
            saved = tmp_path / download.suggested_filename
            await download.save_as(saved)
            text = saved.read_text(encoding="utf-8")
            assert "德州测试农科院" in text and "\\u" not in text
            packets[version] = json.loads(text)
        assert packets[2]["version"] == 2 and packets[2]["seller"]["nature"] == "高等院校"
        assert packets[1]["version"] == 1 and packets[1]["corrections"] == {}

        other = await _login(new_context, server, finance, errors)
        await other.goto(f"{server.base}/admin/report.html?session={session}")
        row = other.get_by_role("region", name="合同登记移交").get_by_role("row").filter(
            has_text=f"耐旱小麦品种{tag}")
        await expect(row).to_contain_text("已登记")
        await expect(row.get_by_role("link", name=re.compile("移交数据"))).to_have_count(0)
    assert errors == []
