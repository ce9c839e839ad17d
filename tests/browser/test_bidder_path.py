"""A new enterprise's whole way through the pages (issue 11, item 8), found by role and visible
Chinese label as a person would: from the catalogue with no token, 注册 → 登录 (cookie) → 报名
with a document → the market approves and finance confirms over the HTTP API (as a market
would) → the page shows each step without a reload → 出价 on the lot page (the credential
taken by the cookie login) → outbid by another bidder: one lot lost, and on another bid again →
hammered: won → 我的竞拍 shows the win and the loss. On a phone (375 px) and a desktop
(1366 px); no console error on any page, every input of the bidder's own pages labelled and
every button named."""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from auction.domain.identity import resident_id_check_char, uscc_check_char
from auction.settings import Settings
from tests.browser.conftest import ARTIFACTS, UNNAMED, refusing_phone_page
from tests.codes import reserve
from tests.e2e.harness import ADMIN, Server, enrol, raw_client, running, uscc

TIMEOUT_MS = 10_000
ANNOUNCEMENT = "本场次拍卖公告: 标的按现状拍卖。"
TERMS = "竞买须知: 报名须缴纳保证金, 成交后保证金抵作价款。"
DEPOSIT_FEN = 100_000
#: a one-page PDF's bytes (the server checks the magic bytes, not the whole file)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"



async def _sale(server: Server, tag: int) -> tuple[int, list[int], str, str]:
    """A market, a live session with its 拍卖公告 and 竞买须知, two lots (甲, 乙), an auctioneer
    token and another bidder holding a paddle: (session, lots, auctioneer token, the other's bid
    credential)."""
    async with httpx.AsyncClient(base_url=server.base, headers=ADMIN, timeout=10) as http:
        code = f"37{10 + tag % 90:02d}00"
        reserve(code)
        markets = {m["code"] for m in (await http.get("/api/v1/markets")).json()["markets"]}
        if code not in markets:
            r = await http.post("/api/v1/markets", json={
                "code": code, "slug": f"m-{tag}", "name": f"测试市场{tag}", "level": "city"})
            assert r.status_code == 201, r.text
        r = await http.post("/api/v1/sessions", json={
            "market_code": code, "name": f"春季专场{tag}", "season": "spring", "mode": "live",
            "starts_at": "2026-11-21T09:00:00+08:00", "announcement": ANNOUNCEMENT,
            "terms": TERMS, "contact_phone": "0531-88888888", "payee_name": "测试技术市场",
            "payee_bank": "测试银行济南分行", "payee_account": "3701 0000 1111 2222"})
        assert r.status_code == 201, r.text
        session = int(r.json()["id"])
        lots = []
        for which in "甲乙":
            r = await http.post(f"/api/v1/sessions/{session}/lots", json={
                "title": f"储能材料{tag}{which} 发明专利", "result_type": "专利",
                "ip_type": "发明专利", "technology_field": "新材料", "transaction_mode": "转让",
                "contract_type": "技术转让", "holder_name": "山东测试大学",
                "holder_uscc": uscc(800_000 + tag), "start_price_fen": 1_000_000,
                "increment_fen": 10_000, "deposit_fen": DEPOSIT_FEN})
            assert r.status_code == 201, r.text
            lots.append(int(r.json()["id"]))
        r = await http.post(f"/api/v1/sessions/{session}/staff-tokens",
                            json={"role": "auctioneer", "name": "拍卖师甲"})
        assert r.status_code in (200, 201), r.text
        auctioneer = str(r.json()["token"])
        # the other bidder, through the API as the SDK would (agreeing to the texts)
        other = await enrol(http, session, name=f"竞争科技有限公司{tag}",
                            uscc_code=uscc(tag * 100 + 7), deposit_fen=DEPOSIT_FEN, agreed=True)
        return session, lots, auctioneer, other.token


async def _command(server: Server, auctioneer: str, lot: int, op: str) -> None:
    async with httpx.AsyncClient(base_url=server.base, timeout=10,
                                 headers={"Authorization": f"Bearer {auctioneer}"}) as http:
        r = await http.post(f"/api/v1/lots/{lot}/commands",
                            json={"op": op, "key": f"{op}-{uuid.uuid4().hex[:8]}"})
        assert r.status_code == 200, r.text


async def _named(page: Any, shot: str = "") -> None:
    """No unlabelled input or unnamed button on the page; with ``shot``, a full-page screenshot
    under test-artifacts/browser/ (bidder-<shot>-<width>.png) to look at."""
    assert await page.evaluate(UNNAMED) == [], page.url
    if shot:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        width = page.viewport_size["width"]
        await page.screenshot(path=str(ARTIFACTS / f"bidder-{shot}-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", [375, 1366])
async def test_new_enterprise_signs_up_applies_bids_and_wins(
    settings: Settings, new_context: Any, width: int
) -> None:
    """Sign-up, cookie login, 报名 with a document, approval and deposit followed live, bids
    from the lot page: one lot lost to another bidder, one won after being outbid; 我的竞拍
    lists both."""
    tag = uuid.uuid4().int % 10**6
    async with running(settings) as server:
        session, (lost, lot), auctioneer, other = await _sale(server, tag)
        context = await new_context(viewport={"width": width, "height": 860 if width < 500
                                               else 900}, is_mobile=width < 500,
                                    has_touch=width < 500)
        errors: list[str] = []
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("console", lambda m: errors.append(f"{page.url}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
        header = page.get_by_role("banner")

        # the catalogue, with no token: 注册 in the header
        await page.goto(f"{server.base}/index.html")
        await header.get_by_role("link", name="注册").click()
        await expect(page.get_by_role("heading", name="竞买人注册")).to_be_visible()
        await expect(page.get_by_role("radio", name="企业")).to_be_checked()
        name = f"新星储能科技有限公司{tag}"
        code = uscc(tag * 100 + 3)
        wrong = code[:17] + ("0" if code[17] != "0" else "1")
        username = f"xin{uuid.uuid4().hex[:10]}"
        password = "Xinxing-Chuneng-2026!"
        await page.get_by_label("企业名称").fill(name)
        await page.get_by_label("统一社会信用代码").fill(wrong)
        await page.get_by_label("联系人及电话").fill("王经理 13800138000")
        await page.get_by_label("法定代表人").fill("李四")
        await page.get_by_label("用户名").fill(username)
        await page.get_by_label("密码", exact=True).fill(password)
        await page.get_by_label("确认密码").fill(password + "x")
        await _named(page, "signup")
        await page.get_by_role("button", name="注册").click()
        # the errors are named at their fields
        await expect(page.get_by_label("统一社会信用代码")).to_have_attribute("aria-invalid",
                                                                        "true")
        await expect(page.get_by_text("校验码不符")).to_be_visible()
        await expect(page.get_by_text("两次输入的密码不一致")).to_be_visible()
        await _named(page, "signup-errors")
        assert uscc_check_char(code[:17]) == code[17]
        await page.get_by_label("统一社会信用代码").fill(code)
        await page.get_by_label("确认密码").fill(password)
        await page.get_by_role("button", name="注册").click()
        # (the password is hashed whatever the outcome: slow by design)
        await expect(page.get_by_text("已受理")).to_be_visible(timeout=20_000)

        # 登录 with the cookie: the next page is 我的竞拍, and the header says so
        await page.get_by_role("link", name="去登录").click()
        await expect(page.get_by_label("用户名")).to_have_value(username)
        await page.get_by_label("密码", exact=True).fill(password)
        await _named(page, "login")
        await page.get_by_role("button", name="登录").click()
        await expect(page.get_by_role("heading", name="我的竞拍")).to_be_visible()
        await expect(header.get_by_role("button", name="退出")).to_be_visible()
        await _named(page, "me-empty")

        # from the catalogue (searched for the lot, as a person would among many sessions; 报名
        # on the session's card) to the lot, and its 报名 button
        await header.get_by_role("link", name="场次与标的").click()
        await expect(page.get_by_text(re.compile(r"共 \d+ 个标的"))).to_be_visible()
        await page.get_by_role("searchbox", name="搜索").fill(f"储能材料{tag}")
        await page.get_by_role("button", name="搜索").click()
        sale = page.get_by_role("region", name=f"春季专场{tag}")
        await expect(sale.get_by_role("link", name="报名", exact=True)).to_have_attribute(
            "href", f"apply.html?session={session}")
        await page.get_by_role("link", name=re.compile(f"储能材料{tag}甲")).first.click()
        await page.get_by_role("link", name="报名", exact=True).click()
        await expect(page.get_by_role("heading", name=f"报名: 春季专场{tag}")).to_be_visible()
        await expect(page.get_by_role("region", name="拍卖公告")).to_contain_text(ANNOUNCEMENT)
        await expect(page.get_by_role("region", name="竞买须知")).to_contain_text(TERMS)
        await expect(page.get_by_text("每个文件不超过 5 MB").first).to_be_visible()
        # without agreeing, nothing is sent
        await page.get_by_role("button", name="提交报名").click()
        await expect(page.get_by_role("alert")).to_contain_text("请先阅读并勾选")
        await page.get_by_label("我已阅读并同意拍卖公告和竞买须知").check()
        await page.get_by_label("选择文件").set_input_files(files=[{
            "name": "营业执照.pdf", "mimeType": "application/pdf", "buffer": PDF}])
        await _named(page, "apply")
        await page.get_by_role("button", name="提交报名").click()
        status = page.get_by_role("status").filter(has_text=re.compile("已申请|已通过|保证金"))
        await expect(status).to_have_text("已申请, 等待审核")
        await expect(page.get_by_role("link", name="营业执照.pdf")).to_be_visible()
        await _named(page, "applied")

        # the market approves, finance confirms: the page follows without a reload
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN, timeout=10) as http:
            rows = (await http.get(f"/api/v1/sessions/{session}/registrations")).json()
            reg = next(r for r in rows["registrations"] if r["status"] == "applied")
            assert [d["filename"] for d in reg["documents"]] == ["营业执照.pdf"]
            r = await http.post(f"/api/v1/registrations/{reg['id']}/approve")
            assert r.status_code == 200, r.text
            await expect(status).to_have_text("已通过审核, 请缴纳保证金")
            await expect(page.get_by_text(f"BZJ-{session}-{reg['id']}")).to_be_visible()
            await expect(page.get_by_text("1,000.00 元").first).to_be_visible()
            await expect(page.get_by_text("3701 0000 1111 2222")).to_be_visible()
            await _named(page, "approved")
            r = await http.post(f"/api/v1/registrations/{reg['id']}/deposit",
                                json={"deposit_fen": DEPOSIT_FEN})
            assert r.status_code == 200, r.text
            paddle = int(r.json()["paddle"])
        await expect(status).to_have_text("保证金已确认")
        await expect(page.get_by_text(f"您的号牌: {paddle}")).to_be_visible()
        await _named(page, "paid")

        # 去出价 (甲): the lot page takes the credential with the cookie login; outbid, lost
        await page.get_by_role("link", name=re.compile(f"去出价.*{tag}甲")).click()
        await page.wait_for_selector("#reg[data-role=bidder]")
        await expect(page.locator("#reg")).to_contain_text(str(paddle))
        await _command(server, auctioneer, lost, "open")
        await expect(page.locator("#status")).to_have_text("竞价中")
        await page.get_by_role("button", name=re.compile("下一口价")).click()
        await expect(page.get_by_text("您当前领先")).to_be_visible()
        async with raw_client(server, other, address="10.8.0.9") as rival:
            await rival.send(t="bid", lot=lost, amount=1_020_000, key="rival-1")
            answer = await rival.until(lambda m: m["t"] in ("ack", "nack"))
            assert answer["t"] == "ack", answer
        await expect(page.get_by_text("您已被超越")).to_be_visible()
        await _command(server, auctioneer, lost, "hammer")
        await expect(page.locator("#standing")).to_contain_text("成交 — 号牌")

        # 去出价 (乙): outbid, bid again, hammered: won
        await page.go_back()
        await page.get_by_role("link", name=re.compile(f"去出价.*{tag}乙")).click()
        await page.wait_for_selector("#reg[data-role=bidder]")
        await _command(server, auctioneer, lot, "open")
        await expect(page.locator("#status")).to_have_text("竞价中")
        await page.get_by_role("button", name=re.compile("下一口价")).click()
        await expect(page.get_by_text("您当前领先")).to_be_visible()
        async with raw_client(server, other, address="10.8.0.9") as rival:
            await rival.send(t="bid", lot=lot, amount=1_020_000, key="rival-2")
            answer = await rival.until(lambda m: m["t"] in ("ack", "nack"))
            assert answer["t"] == "ack", answer
        await expect(page.get_by_text("您已被超越")).to_be_visible()
        await page.get_by_role("button", name=re.compile("下一口价")).click()
        await expect(page.get_by_text("您当前领先")).to_be_visible()
        await _command(server, auctioneer, lot, "hammer")
        await expect(page.get_by_text("恭喜您竞得本标的")).to_be_visible()

        # 我的竞拍: the win, its price and what comes next; the registration and its deposit
        await header.get_by_role("link", name="我的竞拍").click()
        wins = page.get_by_role("region", name="我竞得的标的")
        await expect(wins).to_contain_text(f"储能材料{tag}乙", timeout=15_000)
        await expect(wins).not_to_contain_text(f"储能材料{tag}甲")
        await expect(wins).to_contain_text("竞得")
        await expect(wins).to_contain_text("10,300.00 元")
        await expect(wins).to_contain_text("成交确认书")
        bidding = page.get_by_role("region", name="我参与竞价的标的")
        await expect(bidding).to_contain_text(f"储能材料{tag}甲")
        await expect(bidding).to_contain_text("未竞得")
        regs = page.get_by_role("region", name="我的报名")
        await expect(regs).to_contain_text("保证金已确认")
        await expect(regs).to_contain_text(f"号牌 {paddle}")
        await _named(page, "me")

        # 退出 in the header ends the login
        await header.get_by_role("button", name="退出").click()
        await expect(header.get_by_role("link", name="登录")).to_be_visible()
        assert (await context.request.get(f"{server.base}/api/v1/auth/me")).status == 401
        assert errors == []


async def test_person_signs_up_and_the_login_holds_across_tabs_until_logged_out(
    settings: Settings, new_context: Any
) -> None:
    """A natural person signs up (a wrong resident id check digit named at its field first),
    logs in once and a second tab is logged in too; 修改密码 refuses a wrong old password and
    takes the right one; 退出 in the header ends the login in every tab; the new password logs
    in. The English switch leaves no untranslated text on these pages."""
    async with running(settings) as server:
        # the refusals this test provokes (401, 400, 404) are asked for: not page errors
        context, page, errors = await refusing_phone_page(new_context, TIMEOUT_MS)
        first17 = f"11010519800101{secrets.randbelow(1000):03d}"
        resident_id = first17 + resident_id_check_char(first17)
        wrong = first17 + ("1" if resident_id[-1] != "1" else "2")
        username = f"p{uuid.uuid4().hex[:10]}"
        password, new_password = "Zhang-San-Keji-2026", "Zhang-San-Xinmima-2027"

        await page.goto(f"{server.base}/signup.html")
        await page.get_by_role("radio", name="自然人").check()
        await expect(page.get_by_label("企业名称")).to_be_hidden()
        await page.get_by_label("姓名").fill("张三")
        await page.get_by_label("公民身份号码").fill(wrong)
        await page.get_by_label("手机号码").fill("1380013800")
        await page.get_by_label("用户名").fill(username)
        await page.get_by_label("密码", exact=True).fill(password)
        await page.get_by_label("确认密码").fill(password)
        await page.get_by_role("button", name="注册").click()
        await expect(page.get_by_label("公民身份号码")).to_have_attribute("aria-invalid", "true")
        await expect(page.get_by_text("校验码")).to_be_visible()
        await expect(page.get_by_text("请输入 11 位手机号码")).to_be_visible()
        await _named(page, "signup-person")
        await page.get_by_label("公民身份号码").fill(resident_id)
        await page.get_by_label("手机号码").fill("13800138000")
        await page.get_by_role("button", name="注册").click()
        await expect(page.get_by_text("已受理")).to_be_visible(timeout=20_000)
        await page.get_by_role("link", name="去登录").click()
        await page.get_by_label("密码", exact=True).fill(password)
        await page.get_by_role("button", name="登录").click()
        await expect(page.get_by_role("heading", name="我的竞拍")).to_be_visible()
        await expect(page.get_by_text(f"已登录: {username}")).to_be_visible()

        # a second tab is logged in as well (the cookie, not the tab, holds the login)
        other = await context.new_page()
        other.set_default_timeout(TIMEOUT_MS)
        await other.goto(f"{server.base}/login.html")
        await expect(other.get_by_role("heading", name=f"已登录: {username}")).to_be_visible()
        banner = other.get_by_role("banner")
        await expect(banner.get_by_role("link", name="我的竞拍")).to_be_visible()

        # 修改密码: a wrong old password is named at its field; the right one changes it
        await other.get_by_label("原密码").fill("not-my-password-1")
        await other.get_by_label("新密码", exact=True).fill(new_password)
        await other.get_by_label("确认新密码").fill(new_password)
        await other.get_by_role("button", name="修改密码").click()
        await expect(other.get_by_label("原密码")).to_have_attribute("aria-invalid", "true")
        await other.get_by_label("原密码").fill(password)
        await other.get_by_role("button", name="修改密码").click()
        await expect(other.get_by_text("密码已修改")).to_be_visible(timeout=15_000)
        await _named(other, "password")
        await page.reload()
        await expect(page.get_by_text(f"已登录: {username}")).to_be_visible()

        # 退出 in the header: both tabs are logged out
        await other.get_by_role("banner").get_by_role("button", name="退出").click()
        await expect(other.get_by_role("banner").get_by_role("link", name="登录")).to_be_visible()
        await page.reload()
        await expect(page.get_by_text("请先登录竞买人账号")).to_be_visible()
        # the server agrees: the context's cookie (set after the password change) is revoked
        assert (await context.request.get(f"{server.base}/api/v1/auth/me")).status == 401

        # the old password no longer works, the new one does
        await other.goto(f"{server.base}/login.html")
        await other.get_by_label("用户名").fill(username)
        await other.get_by_label("密码", exact=True).fill(password)
        await other.get_by_role("button", name="登录").click()
        await expect(other.get_by_role("alert")).to_contain_text("用户名或密码")
        await other.get_by_label("密码", exact=True).fill(new_password)
        await other.get_by_role("button", name="登录").click()
        await expect(other.get_by_role("heading", name="我的竞拍")).to_be_visible()

        # in English: every text of these pages is translated
        for path in ("signup.html", "login.html", "me.html", "apply.html?session=999999"):
            await other.goto(f"{server.base}/{path}")
            if await other.get_by_role("button", name="English").count():
                await other.get_by_role("button", name="English").click()
            await expect(other.get_by_role("button", name="中文")).to_be_visible()
            raw = await other.evaluate("""() => [...document.querySelectorAll("[data-tr]")]
                .filter((e) => e.textContent === e.dataset.tr).map((e) => e.dataset.tr)""")
            assert raw == [], (path, raw)
            await _named(other, "en-" + path.split(".")[0])
        assert errors == []
