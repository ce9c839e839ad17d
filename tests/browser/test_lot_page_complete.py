"""The lot page complete (issue 11, item 4), found by role and visible label as a bidder
would: every fact a bidder must know (保证金, 保留价 有/无, 评估价, the 延时 rule,
报名人数, 围观人数, the contact phone, the band table, pictures and attachments,
拍卖公告 and 竞买须知); an amount typed as people write it (1.01万) shown parsed
before it is sent and the box cleared after it is accepted; a refusal that goes once the next
bid moves; the closed state (成交价 and the buyer's paddle, or 流拍 with its reason, and no
bid control); 标的不存在 for a missing or unknown id. At 375 and 1366 px; no console
error; every input labelled, every button named."""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from auction.settings import Settings
from tests.browser.conftest import UNNAMED
from tests.codes import reserve
from tests.e2e.harness import ADMIN, Server, enrol, raw_client, running, uscc

TIMEOUT_MS = 10_000
ANNOUNCEMENT = "拍卖公告: 本场标的按现状拍卖, 以成交确认书为准。"
TERMS = "竞买须知: 报名须缴纳保证金 2,000 元, 成交后抵作价款。"
PHONE = "0531-86661234"
DEPOSIT_FEN = 200_000
APPRAISAL_FEN = 1_500_000
#: the smallest PNG (1 × 1) and a PDF's magic bytes: the server checks types by their bytes
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
#: Chinese characters (CJK unified ideographs)
CJK = re.compile(r"[\u4e00-\u9fff]")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"



@dataclass
class FullSale:
    """A session with its texts and phone, a lot with every fact and two files, a second lot,
    and three bidders holding paddles (bid credentials)."""

    session: int
    lot: int
    other_lot: int
    tokens: list[str]
    paddles: list[int]
    market_name: str
    tag: int


async def full_sale(server: Server, *, result_type: str = "技术秘密") -> FullSale:
    tag = uuid.uuid4().int % 10**6
    async with httpx.AsyncClient(base_url=server.base, headers=ADMIN, timeout=10) as http:
        code = f"37{10 + tag % 90:02d}00"
        reserve(code)
        markets = {m["code"]: m for m in (await http.get("/api/v1/markets")).json()["markets"]}
        if code not in markets:
            r = await http.post("/api/v1/markets", json={
                "code": code, "slug": f"m-{tag}", "name": f"测试技术市场{tag}", "level": "city"})
            assert r.status_code == 201, r.text
            market_name = f"测试技术市场{tag}"
        else:
            market_name = markets[code]["name"]
        r = await http.post("/api/v1/sessions", json={
            "market_code": code, "name": f"完整信息场次{tag}", "season": "autumn",
            "mode": "live", "starts_at": "2026-11-21T09:00:00+08:00",
            "announcement": ANNOUNCEMENT, "terms": TERMS, "contact_phone": PHONE})
        assert r.status_code == 201, r.text
        session = int(r.json()["id"])
        lots = []
        for i in range(2):
            r = await http.post(f"/api/v1/sessions/{session}/lots", json={
                "title": f"一种完整技术{tag}-{i}", "result_type": result_type,
                "ip_type": result_type, "technology_field": "新材料",
                "transaction_mode": "转让", "contract_type": "技术转让",
                "holder_name": "山东测试大学", "holder_uscc": uscc(700_000 + tag),
                "start_price_fen": 1_000_000, "increment_fen": 10_000,
                "reserve_fen": 1_005_000 if i == 0 else 0, "deposit_fen": DEPOSIT_FEN,
                "appraisal_fen": APPRAISAL_FEN, "description": "一种材料的制备方法。\n第二行。"})
            assert r.status_code == 201, r.text
            lots.append(int(r.json()["id"]))
        for body, kind, name, label in ((PNG, "image/png", "photo.png", "样品照片"),
                                        (PDF, "application/pdf", "report.pdf", "检测报告")):
            r = await http.post(f"/api/v1/lots/{lots[0]}/attachments", content=body,
                                params={"filename": name, "label": label},
                                headers={"Content-Type": kind})
            assert r.status_code == 201, r.text
        tokens, paddles = [], []
        for b in range(3):
            buyer = await enrol(http, session, name=f"完整科技有限公司{tag}-{b}",
                                uscc_code=uscc(tag * 100 + 50 + b), deposit_fen=DEPOSIT_FEN,
                                agreed=True)
            tokens.append(buyer.token)
            paddles.append(buyer.paddle)
    return FullSale(session, lots[0], lots[1], tokens, paddles, market_name, tag)


async def command(server: Server, lot: int, op: str) -> None:
    async with httpx.AsyncClient(base_url=server.base, headers=ADMIN, timeout=10) as http:
        r = await http.post(f"/api/v1/lots/{lot}/commands",
                            json={"op": op, "key": f"{op}-{uuid.uuid4().hex[:8]}"})
        assert r.status_code == 200, r.text


async def bid(server: Server, token: str, lot: int, amount: int) -> None:
    async with raw_client(server, token) as c:
        await c.send(t="bid", lot=lot, amount=amount, key=uuid.uuid4().hex[:12])
        answer = await c.until(lambda m: m["t"] in ("ack", "nack"))
        assert answer["t"] == "ack", answer


class Watched:
    """A page with its console errors collected."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda msg: self.errors.append(msg.text)
                if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))


async def watched(context: Any, url: str) -> Watched:
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    w = Watched(page)
    await page.goto(url)
    return w


async def fits(page: Any, width: int) -> None:
    """Nothing reaches past the viewport, and the bid record's time column is not clipped."""
    wide = await page.evaluate("""w => [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > w + 0.5 && e.offsetParent !== null)
      .map((e) => `${e.tagName}#${e.id}.${e.className}`)""", width)
    assert await page.evaluate("document.documentElement.scrollWidth") <= width, wide
    clipped = await page.evaluate("""() => {
      const box = document.querySelector('.ladder');
      const cells = [...document.querySelectorAll('#ladder td:last-child')];
      const edge = box.getBoundingClientRect().right + 0.5;
      return cells.filter((c) => c.getBoundingClientRect().right > edge
        || c.scrollWidth > c.clientWidth + 1).map((c) => c.textContent);
    }""")
    assert clipped == [], f"time column clipped at {width}px: {clipped}"


#: the header's height and how far apart its visible parts sit vertically, and whether its
#: links need scrolling sideways
HEADER_LINE = """() => {
  const bar = document.querySelector("header.bar");
  const parts = [...bar.children].filter((e) => e.getClientRects().length);
  const mids = parts.map((e) => {
    const r = e.getBoundingClientRect();
    return (r.top + r.bottom) / 2;
  });
  const nav = bar.querySelector("nav");
  return { height: bar.getBoundingClientRect().height,
           spread: Math.max(...mids) - Math.min(...mids),
           scrolls: nav.scrollWidth > nav.clientWidth + 1 };
}"""


async def one_line_header(page: Any, lang: str) -> None:
    """The public header on one line (375 px): its parts side by side, no link scrolled out of
    sight, the language switch still named 中文 / English."""
    line = await page.evaluate(HEADER_LINE)
    assert line["height"] < 50 and line["spread"] < 4 and not line["scrolls"], (page.url, line)
    other = "中文" if lang == "en" else "English"
    await expect(page.get_by_role("banner").get_by_role("button", name=other)).to_be_visible()


def fact(page: Any, name: str) -> Any:
    """The value beside a label of the 竞价信息 list."""
    return page.locator(".fact").filter(has=page.get_by_text(name, exact=True)).locator("dd")


@pytest.mark.parametrize("width", [375, 1366])
async def test_lot_page_tells_everything_and_its_closed_state(
    settings: Settings, new_context: Any, width: int
) -> None:
    """Facts, pictures, attachments and texts; 1.01万 parsed and accepted, the box cleared; a
    refusal gone once another bid moves the next bid; the hammer shows 成交价 and the buyer's
    paddle with no bid control; a passed lot shows 流拍 · 拍卖师宣布流拍, also when opened later."""
    async with running(settings) as server:
        sale = await full_sale(server)
        context = await new_context(viewport={"width": width, "height": 900})
        w = await watched(context, f"{server.base}/lot.html?id={sale.lot}#token={sale.tokens[0]}")
        page = w.page
        await expect(page.get_by_role("heading", name=re.compile("一种完整技术"))).to_be_visible()
        await page.wait_for_selector("#conn[data-status=open]")

        # the facts
        await expect(fact(page, "保证金")).to_have_text("2,000.00 元")
        await expect(fact(page, "保留价")).to_have_text("有")
        await expect(fact(page, "评估价")).to_have_text("15,000.00 元")
        await expect(fact(page, "报名人数")).to_have_text("3")
        await expect(fact(page, "围观人数")).to_have_text(re.compile(r"^\d+$"))
        await expect(fact(page, "联系电话")).to_have_text(PHONE)
        await expect(fact(page, "延时规则")).to_have_text("现场拍卖, 不适用")
        await expect(fact(page, "结束时间")).to_have_text("现场拍卖, 由拍卖师落槌")
        await expect(page.get_by_text("起拍价").first).to_be_visible()
        await expect(page.locator("#start")).to_have_text("10,000.00 元")
        await fact(page, "加价幅度表").get_by_text("加价幅度表").click()
        await expect(fact(page, "加价幅度表").get_by_role(
            "cell", name="100,000.00 元 起", exact=True)).to_be_visible()
        # 成果类型 once, not "技术秘密 · 技术秘密"
        details = page.get_by_role("region", name="标的详情")
        await expect(details.get_by_role("row", name=re.compile("成果类型"))).to_have_text(
            re.compile(r"^成果类型\s*技术秘密$"))
        await expect(details).to_contain_text("第二行")
        # pictures and attachments; the texts behind their links
        media = page.get_by_role("region", name="图片与附件")
        await expect(media.get_by_role("img", name="样品照片")).to_be_visible()
        assert await media.get_by_role("img", name="样品照片").evaluate("i => i.naturalWidth") == 1
        await expect(media.get_by_role("link", name="检测报告")).to_have_attribute(
            "href", re.compile(rf"/api/v1/lots/{sale.lot}/attachments/\d+"))
        await page.get_by_role("link", name="拍卖公告").click()
        await expect(page.get_by_text(ANNOUNCEMENT)).to_be_visible()
        await page.get_by_role("link", name="竞买须知").click()
        await expect(page.get_by_text(TERMS)).to_be_visible()

        # not open yet: no next-bid buttons with made-up amounts
        await expect(page.locator("#status")).to_have_text("未开拍")
        await command(server, sale.lot, "open")
        await expect(page.locator("#status")).to_have_text("竞价中")
        await expect(page.locator("#price-label")).to_have_text("起拍价")

        # an amount as people write it, parsed before it is sent; the box cleared after
        box = page.get_by_label("出价金额 (元, 也可写 21万)")
        await box.fill("1.01万")
        await expect(page.locator("#amount-preview")).to_have_text("= 10,100.00 元")
        await page.get_by_role("button", name="出价", exact=True).click()
        await expect(page.get_by_text("出价成功: 10,100.00 元")).to_be_visible()
        await expect(box).to_have_value("")
        await expect(page.locator("#price-label")).to_have_text("当前价")

        # outbid; a refused bid says why, and the refusal goes once the next bid moves
        await bid(server, sale.tokens[1], sale.lot, 1_020_000)
        await expect(page.get_by_text("您已被超越")).to_be_visible()
        await box.fill("10,200")
        await page.get_by_role("button", name="出价", exact=True).click()
        refusal = page.locator("#feedback[data-kind=bad]")
        await expect(refusal).to_contain_text("出价未被接受")
        await bid(server, sale.tokens[2], sale.lot, 1_030_000)
        await expect(page.locator("#next")).to_have_text("10,400.00 元")
        await expect(refusal).to_have_count(0)
        await fits(page, width)

        # the hammer: 成交价 and the buyer's paddle, no bid control, no stale message
        await command(server, sale.lot, "hammer")
        await expect(page.locator("#standing")).to_have_text(f"成交 — 号牌 {sale.paddles[2]}")
        await expect(page.locator("#price-label")).to_have_text("成交价")
        await expect(page.locator("#price")).to_have_text("10,300.00 元")
        await expect(page.locator("#leader-label")).to_have_text("买受人号牌")
        await expect(page.locator("#leader")).to_have_text(str(sale.paddles[2]))
        await expect(page.get_by_role("button", name=re.compile("出价|下一口价"))).to_have_count(0)
        await expect(page.get_by_text("下一口价")).to_be_hidden()
        await expect(page.locator("#feedback")).to_have_text("")

        # a lot passed with no bid, seen live and opened later: 流拍 with its reason
        watcher = await watched(context, f"{server.base}/lot.html?id={sale.other_lot}")
        await watcher.page.wait_for_selector("#conn[data-status=open]")
        await command(server, sale.other_lot, "open")
        await command(server, sale.other_lot, "pass")
        await expect(watcher.page.locator("#standing")).to_have_text("流拍 · 拍卖师宣布流拍")
        await expect(watcher.page.locator("#price")).to_have_text("流拍")
        later = await watched(context, f"{server.base}/lot.html?id={sale.other_lot}")
        await expect(later.page.locator("#standing")).to_have_text("流拍 · 拍卖师宣布流拍",
                                                                   timeout=20_000)
        await expect(later.page.get_by_text("当前价")).to_be_hidden()
        await expect(later.page.get_by_role("button", name=re.compile("出价"))).to_have_count(0)

        for p in (w, watcher, later):
            assert await p.page.evaluate(UNNAMED) == [], p.page.url
            assert p.errors == [], p.errors


@pytest.mark.parametrize("width", [375, 1366])
async def test_missing_lot_is_a_clear_page(
    settings: Settings, new_context: Any, width: int
) -> None:
    """No id, a malformed id or an unknown one: 标的不存在 with a way back; no "?id=", no 0.00
    buttons, no 已连接."""
    async with running(settings) as server:
        context = await new_context(viewport={"width": width, "height": 800})
        for query in ("", "?id=", "?id=abc", "?id=-3", "?id=987654321"):
            w = await watched(context, f"{server.base}/lot.html{query}")
            page = w.page
            await expect(page.get_by_role("heading", name="标的不存在")).to_be_visible()
            await expect(page.get_by_role("link", name="返回场次与标的")).to_be_visible()
            await asyncio.sleep(0.5)  # a socket would have connected by now
            text = await page.inner_text("body")
            assert "?id=" not in text and "0.00" not in text and "已连接" not in text, text
            await expect(page.get_by_role("button", name=re.compile("出价"))).to_have_count(0)
            assert await page.title() == "标的不存在 · 科技成果竞价"
            assert await page.evaluate(UNNAMED) == []
            # the unknown id's 404 is the browser's note of the answer, not the page's error
            assert [e for e in w.errors if "404" not in e] == [], w.errors
            await page.close()


async def test_timed_lot_shows_its_end_time_and_extensions(
    settings: Settings, new_context: Any
) -> None:
    """A timed lot: the current end time always on screen, the 延时 rule in words, and after a
    bid in the last window 已延时 1 次 with the new end time."""
    from tests.e2e.harness import create_sale

    async with running(settings) as server:
        sale = await create_sale(server, mode="timed", lots=1, bidders=1, duration_s=600,
                                 window_s=900, extension_s=1200)
        lot = sale.lots[0]
        await command(server, lot, "open")
        context = await new_context(viewport={"width": 375, "height": 800})
        w = await watched(context, f"{server.base}/lot.html?id={lot}")
        page = w.page
        await page.wait_for_selector("#conn[data-status=open]")
        await expect(fact(page, "延时规则")).to_have_text(
            "结束前 15 分钟内有人出价, 结束时间延至该出价后 20 分钟")
        await expect(fact(page, "已延时")).to_have_text("0 次")
        first_end = await fact(page, "结束时间").inner_text()
        await expect(page.locator("#ends-at")).to_contain_text("结束时间")
        await bid(server, sale.tokens[0], lot, 1_000_000)
        await expect(fact(page, "已延时")).to_have_text("1 次")
        await expect(page.locator("#ends-at")).to_contain_text("已延时 1 次")
        assert await fact(page, "结束时间").inner_text() != first_end
        assert await page.evaluate(UNNAMED) == []
        assert w.errors == [], w.errors


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_no_untranslated_key_on_the_public_pages(
    settings: Settings, new_context: Any, lang: str
) -> None:
    """The lot page (open, then sold), 标的不存在, the catalogue and 成交公示 in Chinese and in
    English: no dictionary key shows raw (a word_with_underscores), no console error."""
    async with running(settings) as server:
        sale = await full_sale(server)
        await command(server, sale.lot, "open")
        await bid(server, sale.tokens[1], sale.lot, 1_010_000)
        context = await new_context(viewport={"width": 375, "height": 800})
        await context.add_init_script(f"localStorage.setItem('auction.lang', '{lang}')")
        raw = re.compile(r"\b[a-z]+_[a-z_]+\b")
        pages = [f"/lot.html?id={sale.lot}#token={sale.tokens[0]}", "/lot.html?id=abc",
                 "/", f"/results.html?session={sale.session}"]
        for path in pages:
            w = await watched(context, server.base + path)
            await w.page.wait_for_load_state("networkidle")
            if "lot.html?id=" in path and "abc" not in path:
                await w.page.wait_for_selector("#conn[data-status=open]")
                await w.page.fill("#amount", "1.03万")
                text = await w.page.inner_text("body")
                assert not raw.findall(text), (path, raw.findall(text))
                await command(server, sale.lot, "hammer")
                await expect(w.page.locator("#standing")).to_have_attribute("data-state", "sold")
            text = await w.page.inner_text("body")
            assert not raw.findall(text), (path, raw.findall(text))
            assert await w.page.evaluate(UNNAMED) == [], path
            assert w.errors == [], (path, w.errors)
            await one_line_header(w.page, lang)
            await w.page.close()
        for path in ("/login.html", "/signup.html", f"/apply.html?session={sale.session}",
                     "/me.html", "/verify.html"):
            w = await watched(context, server.base + path)
            await w.page.wait_for_load_state("networkidle")
            await one_line_header(w.page, lang)
            await w.page.close()


def _error_codes() -> list[str]:
    """The codes of docs/protocol.md's table "Error codes (`nack.code`, `error.code`)"."""
    text = (Path(__file__).parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")
    table = text.split("## Error codes", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.MULTILINE)


async def test_refusals_are_in_english_after_the_switch(
    settings: Settings, new_context: Any
) -> None:
    """With the English switch on, a bid below the next one is refused in English ("Below the
    lowest valid bid", with the next bid), not in the server's Chinese; and every code of the
    protocol's error table has English words, whatever the server's message says."""
    codes = _error_codes()
    assert {"too_low", "deposit_required", "overloaded", "rate_limited"} <= set(codes), codes
    async with running(settings) as server:
        sale = await full_sale(server)
        context = await new_context(viewport={"width": 375, "height": 800})
        await context.add_init_script("localStorage.setItem('auction.lang', 'en')")
        w = await watched(context, f"{server.base}/lot.html?id={sale.lot}#token={sale.tokens[0]}")
        page = w.page
        await page.wait_for_selector("#conn[data-status=open]")
        await command(server, sale.lot, "open")
        await bid(server, sale.tokens[1], sale.lot, 1_020_000)
        await expect(page.locator("#next")).to_have_text(re.compile("10,300.00"))
        await page.get_by_label("Bid amount (yuan; 21万 works too)").fill("10,200")
        await page.get_by_role("button", name="Bid", exact=True).click()
        refusal = page.locator("#feedback[data-kind=bad]")
        await expect(refusal).to_contain_text(
            "Bid not accepted: Below the lowest valid bid (Next bid 10,300.00")
        assert not CJK.search(await refusal.inner_text())
        texts = await page.evaluate(
            """async (codes) => {
                 const common = await import("/js/common.js");
                 return codes.map((code) => common.nackText({code, message: "服务器的中文说明"}));
               }""", codes)
        untranslated = {code: text for code, text in zip(codes, texts, strict=True)
                        if CJK.search(text) or text == code}
        assert untranslated == {}, untranslated
        assert w.errors == []
