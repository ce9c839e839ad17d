"""The web pages in a real browser against a real server: a bidder and the auctioneer console in
one test, the hammer reaching the bidder, a server restart the pages live through, the countdown
on server time, and the public pages."""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

import httpx
from playwright.async_api import expect

from auction.settings import Settings
from tests.e2e.harness import (
    ADMIN,
    BIDDER_PASSWORD,
    Server,
    create_sale,
    free_port,
    raw_client,
    running,
)

TIMEOUT_MS = 10_000


async def open_page(context: Any, url: str) -> Any:
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(url)
    return page


async def connected(page: Any) -> None:
    await page.wait_for_selector("#conn[data-status=open]")


async def wait_ladder(page: Any, count: int) -> None:
    # no wait_for_function with a string: the pages' CSP forbids eval while it polls
    await page.locator("#ladder tbody tr").nth(count - 1).wait_for()


async def feed_of(page: Any, lot: int) -> dict[str, Any]:
    """What the page's protocol client holds for a lot (seq tracking checked by the tests)."""
    result: dict[str, Any] = await page.evaluate(
        """lot => { const c = window.auctionDebug.conn, f = c.lot(lot);
                    return {seq: f.seq, applied: f.applied, gaps: f.gaps, resets: f.resets,
                            complete: f.historyComplete, reconnects: c.reconnects,
                            ladder: f.bids().map(b => b.seq).sort((a, b) => a - b)}; }""", lot)
    return result


async def test_bid_on_bidder_page_shows_on_console_and_hammer_shows_sold(
    settings: Settings, browser_context: Any
) -> None:
    async with running(settings) as server:
        sale = await create_sale(server, lots=2, bidders=2)
        lot = sale.lots[0]
        console = await open_page(
            browser_context, f"{server.base}/console.html?session={sale.session_id}"
                             f"#token={sale.auctioneer}")
        bidder = await open_page(browser_context, f"{server.base}/lot.html?id={lot}"
                                                  f"#token={sale.tokens[0]}")
        await connected(console)
        await connected(bidder)
        assert "#token" not in bidder.url, "the token is taken out of the address bar"
        await bidder.wait_for_selector("#reg[data-role=bidder]")
        assert str(sale.paddles[0]) in await bidder.inner_text("#reg")

        # the console opens the first lot with its keyboard shortcut
        await console.wait_for_selector(f"#cur-title[data-lot='{lot}']")
        await console.keyboard.press("o")
        await console.wait_for_selector("#cur-status[data-status=open]")
        await bidder.wait_for_selector("#status[data-status=open]")

        # the bidder bids with the quick button; the console sees the paddle in its ladder
        await bidder.click("#quick button.primary")
        await bidder.wait_for_selector("#standing[data-state=leading]")
        await console.wait_for_selector(f"#ladder tbody tr[data-paddle='{sale.paddles[0]}']")
        assert (await console.inner_text("#cur-leader")).strip() == str(sale.paddles[0])

        # another bidder (over the wire) outbids: the page says so
        async with raw_client(server, sale.tokens[1]) as other:
            await other.send(t="bid", lot=lot, amount=1_020_000, key="other-1")
            ack = await other.until(lambda m: m["t"] in ("ack", "nack"))
            assert ack["t"] == "ack", ack
        await bidder.wait_for_selector("#standing[data-state=outbid]")
        await bidder.click("#quick button.primary")
        await bidder.wait_for_selector("#standing[data-state=leading]")
        await expect(console.locator("#ladder tbody tr")).to_have_count(3)

        # hammer (H, pressed twice: the first press asks) → 成交 on the bidder page
        await console.keyboard.press("h")
        await console.keyboard.press("h")
        await bidder.wait_for_selector("#standing[data-state=won]")
        assert "成交" in await bidder.inner_text("#standing")
        await console.wait_for_selector(f"#lots tr[data-lot='{lot}'] .st-sold")
        # the console keeps the result; O opens the next lot, P twice passes it
        await console.wait_for_selector("#result[data-state=sold]")
        await console.keyboard.press("o")
        await console.wait_for_selector(f"#cur-title[data-lot='{sale.lots[1]}']")
        await console.wait_for_selector("#cur-status[data-status=open]")
        await console.keyboard.press("p")
        await console.keyboard.press("p")
        await console.wait_for_selector(f"#lots tr[data-lot='{sale.lots[1]}'] .st-passed")

        feed = await feed_of(bidder, lot)
        assert feed["gaps"] == 0 and feed["resets"] == 0
        assert feed["ladder"] == [2, 3, 4]


async def test_restart_resumes_with_no_gap(settings: Settings, browser_context: Any) -> None:
    async with contextlib.AsyncExitStack() as stack:
        port = free_port()
        first = await stack.enter_async_context(running(settings, port))
        sale = await create_sale(first, lots=1, bidders=3)
        lot = sale.lots[0]
        async with httpx.AsyncClient(base_url=first.base, headers=ADMIN) as http:
            r = await http.post(f"/api/v1/lots/{lot}/commands", json={"op": "open", "key": "o1"})
            assert r.status_code == 200, r.text
        await bid(first, sale.tokens[1], lot, 1_000_000, "r1")
        bidder = await open_page(browser_context,
                                 f"{first.base}/lot.html?id={lot}#token={sale.tokens[0]}")
        console = await open_page(browser_context, f"{first.base}/console.html?session="
                                                   f"{sale.session_id}#token={sale.auctioneer}")
        await connected(bidder)
        await connected(console)
        await wait_ladder(bidder, 1)
        await bid(first, sale.tokens[2], lot, 1_010_000, "r2")
        await wait_ladder(bidder, 2)
        await wait_ladder(console, 2)
        await stack.aclose()  # the server stops; the pages lose their sockets

        await bidder.wait_for_selector("#conn[data-status=reconnecting]")
        await console.wait_for_selector("#conn[data-status=reconnecting]")
        async with running(settings, port) as second:
            # bids land before the pages are back: they must arrive by resume, in order
            await bid(second, sale.tokens[1], lot, 1_020_000, "r3")
            await bid(second, sale.tokens[2], lot, 1_030_000, "r4")
            await connected(bidder)
            await connected(console)
            await bid(second, sale.tokens[1], lot, 1_040_000, "r5")
            for page in (bidder, console):
                await wait_ladder(page, 5)
                feed = await feed_of(page, lot)
                assert feed["reconnects"] >= 1
                assert feed["ladder"] == [2, 3, 4, 5, 6], feed
                assert feed["gaps"] == 0 and feed["resets"] == 0, feed
                assert feed["seq"] == 6
                applied = feed["applied"]
                assert applied == list(range(applied[0], 7)), feed
            assert await bidder.get_attribute("#notice", "data-key") == "resumed_ok"
            # the page bids again over the new connection
            await bidder.click("#quick button.primary")
            await bidder.wait_for_selector("#standing[data-state=leading]")
            await wait_ladder(console, 6)


async def bid(server: Server, token: str, lot: int, amount: int, key: str) -> None:
    async with raw_client(server, token) as c:
        await c.send(t="bid", lot=lot, amount=amount, key=key)
        ack = await c.until(lambda m: m["t"] in ("ack", "nack"))
        assert ack["t"] == "ack", ack


async def test_countdown_follows_server_time_not_device_clock(
    settings: Settings, browser_context: Any
) -> None:
    async with running(settings) as server:
        sale = await create_sale(server, mode="timed", lots=1, bidders=1, duration_s=600)
        lot = sale.lots[0]
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN) as http:
            r = await http.post(f"/api/v1/lots/{lot}/commands", json={"op": "open", "key": "o"})
            assert r.status_code == 200, r.text
        # the device clock is one hour fast
        await browser_context.add_init_script(
            "(() => { const real = Date.now; Date.now = () => real() + 3600000; })()")
        page = await open_page(browser_context, f"{server.base}/lot.html?id={lot}")
        await connected(page)
        await expect(page.locator("#countdown")).to_have_text(re.compile(r"^\d\d:\d\d$"))
        text = (await page.inner_text("#countdown")).strip()
        minutes, seconds = (int(x) for x in text.split(":"))
        assert 9 * 60 <= minutes * 60 + seconds <= 600, text


async def test_public_pages_and_catalogue(settings: Settings, browser_context: Any) -> None:
    async with running(settings) as server:
        sale = await create_sale(server, lots=1, bidders=1)
        lot = sale.lots[0]
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN) as http:
            for op in ("open",):
                r = await http.post(f"/api/v1/lots/{lot}/commands", json={"op": op, "key": op})
                assert r.status_code == 200, r.text
        screen = await open_page(browser_context,
                                 f"{server.base}/screen.html?session={sale.session_id}")
        await connected(screen)
        await bid(server, sale.tokens[0], lot, 1_000_000, "s1")
        await expect(screen.locator("#paddle")).to_contain_text(str(sale.paddles[0]))
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN) as http:
            r = await http.post(f"/api/v1/lots/{lot}/commands", json={"op": "hammer", "key": "h"})
            assert r.status_code == 200, r.text
        await screen.wait_for_selector("#state[data-status=sold]")
        assert "成交" in await screen.inner_text("#state")

        # the session's view of the catalogue (a long test run leaves many sessions before it)
        index = await open_page(browser_context, f"{server.base}/?session={sale.session_id}")
        await index.wait_for_selector(f"a[href='lot.html?id={lot}']")
        # results are published once settlement has run (the drainer, within seconds)
        results = await open_page(browser_context,
                                  f"{server.base}/results.html?session={sale.session_id}")
        for _ in range(40):
            if await results.query_selector(f"tr[data-lot='{lot}']"):
                break
            await asyncio.sleep(0.5)
            await results.click("#refresh")
        row = await results.inner_text(f"tr[data-lot='{lot}']")
        assert str(sale.paddles[0]) in row and "10,000.00" in row

        # English switch
        await index.click("#lang")
        await expect(index.locator("html")).to_have_attribute("lang", "en")


async def test_phone_layout_large_jump_confirmation_and_english(
    settings: Settings, new_context: Any
) -> None:
    async with running(settings) as server:
        sale = await create_sale(server, lots=1, bidders=1)
        lot = sale.lots[0]
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN) as http:
            r = await http.post(f"/api/v1/lots/{lot}/commands", json={"op": "open", "key": "o"})
            assert r.status_code == 200, r.text
        phone = await new_context(viewport={"width": 375, "height": 740}, is_mobile=True,
                                  has_touch=True)
        page = await open_page(phone, f"{server.base}/lot.html?id={lot}#token={sale.tokens[0]}")
        await connected(page)
        await page.wait_for_selector("#status[data-status=open]")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the bidder page is {width}px wide on a 375px phone"

        # 10,000 元 start, 100 元 increment: 11,000 元 is ten increments above: asks first
        await page.fill("#amount", "11000")
        await page.click("#custom button[type=submit]")
        await page.wait_for_selector("#confirm[open]")
        await page.click("#confirm-cancel")
        await page.wait_for_selector("#confirm", state="hidden")
        assert await page.inner_text("#bid-count") == "0"
        await page.click("#custom button[type=submit]")
        await page.click("#confirm-ok")
        await page.wait_for_selector("#standing[data-state=leading]")
        assert "11,000.00" in await page.inner_text("#price")

        # a bid the engine refuses shows its reason (the leader cannot outbid itself)
        await page.evaluate("document.querySelector('#amount').disabled = false;"
                            "document.querySelector('#custom button').disabled = false")
        await page.fill("#amount", "11100")
        await page.click("#custom button[type=submit]")
        await page.wait_for_selector("#feedback.bad")

        await page.click("#lang")
        await page.wait_for_selector("#standing:has-text('You are leading')")
        await page.click("#lang")
        await page.wait_for_selector("#standing:has-text('您当前领先')")


async def test_bidder_logs_in_with_its_account_and_takes_its_credential(
    settings: Settings, browser_context: Any
) -> None:
    """On the bidder page the bidder's own username and password log in, find the registration
    of the lot's session and take its bid credential: the page greets the paddle; a wrong
    password is told and leaves the page a viewer."""
    async with running(settings) as server:
        sale = await create_sale(server, lots=1, bidders=1)
        page = await open_page(browser_context, f"{server.base}/lot.html?id={sale.lots[0]}")
        await connected(page)
        await page.fill("#username", sale.usernames[0])
        await page.fill("#password", "not-the-password")
        await page.click("#account-login button")
        await page.wait_for_selector("#notice[data-key=err_login]")
        await page.fill("#password", BIDDER_PASSWORD)
        await page.click("#account-login button")
        await page.wait_for_selector("#reg[data-role=bidder]")
        assert str(sale.paddles[0]) in await page.inner_text("#reg")
        stored = await page.evaluate("sessionStorage.getItem('auction.token.bidder')")
        assert stored and stored != sale.tokens[0], "a fresh credential of its own login"


async def test_catalogue_filters_search_and_labelled_prices_on_a_phone(
    settings: Settings, new_context: Any
) -> None:
    """The catalogue at 375 px: a sold lot under 成交价 with its price and buyer's paddle (never
    the start price), a timed lot's end time, market names; the market, status, season and
    field filters and the search box narrow the cards; nothing is clipped."""
    from tests.browser.test_lot_page_complete import UNNAMED, command, full_sale

    async with running(settings) as server:
        sale = await create_sale(server, lots=2, bidders=2)
        timed = await create_sale(server, mode="timed", lots=1, bidders=1, duration_s=900)
        full = await full_sale(server)
        sold = sale.lots[0]
        await command(server, sold, "open")
        await bid(server, sale.tokens[0], sold, 1_000_000, "c1")
        await bid(server, sale.tokens[1], sold, 1_010_000, "c2")
        await command(server, sold, "hammer")
        await command(server, timed.lots[0], "open")
        phone = await new_context(viewport={"width": 375, "height": 800}, is_mobile=True,
                                  has_touch=True)
        page = await open_page(phone, f"{server.base}/")
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        def card(lot: int) -> Any:
            return page.locator(f"article[data-lot='{lot}']")

        # the sold lot: 成交价 and the hammer price, the buyer's paddle
        await page.get_by_label("状态").select_option(label="成交")
        await expect(card(sold)).to_contain_text("成交价")
        await expect(card(sold)).to_contain_text("10,100.00 元")
        await expect(card(sold)).to_contain_text(f"买受人号牌 {sale.paddles[1]}")
        await expect(card(sold)).not_to_contain_text("10,000.00")
        await expect(card(sale.lots[1])).to_have_count(0)
        assert "status=sold" in page.url
        # a timed lot open: its end time; the market by name
        await page.get_by_label("状态").select_option(label="竞价中")
        await page.get_by_label("搜索", exact=True).fill("一种测试技术0")
        await page.get_by_role("button", name="搜索").click()
        await expect(card(timed.lots[0])).to_contain_text("结束时间")
        async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
            found = (await http.get("/api/v1/listing", params={
                "session": str(timed.session_id)})).json()["lots"]
        # its market by the name the API gives (a shared run may reuse another test's city)
        await expect(card(timed.lots[0])).to_contain_text(found[0]["market"]["name"])
        await expect(card(timed.lots[0])).to_contain_text("起拍价")
        # search alone: the full sale's two lots, nothing else
        await page.get_by_role("button", name="清除筛选").click()
        await page.get_by_label("搜索", exact=True).fill(f"一种完整技术{full.tag}")
        await page.get_by_role("button", name="搜索").click()
        await expect(card(full.lot)).to_be_visible()
        await expect(card(sold)).to_have_count(0)
        # season and field, and the market by name
        await page.get_by_label("批次").select_option(label="秋季")
        await expect(card(full.lot)).to_be_visible()
        async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
            offered = (await http.get("/api/v1/listing")).json()["fields"]
        assert "电子信息" in offered, offered[:15]  # the API offers the customary fields
        # and the page shows what it was given (once the filters are drawn again)
        await expect(page.get_by_label("技术领域").locator("option", has_text="电子信息"))\
            .to_have_count(1)
        await page.get_by_label("技术领域").select_option(label="电子信息")
        await expect(card(full.lot)).to_have_count(0)
        await page.get_by_role("button", name="清除筛选").click()
        await page.get_by_label("交易市场").select_option(label=full.market_name)
        await expect(card(full.lot)).to_be_visible()
        await expect(card(full.other_lot)).to_be_visible()
        assert await page.evaluate("document.documentElement.scrollWidth") <= 375
        await expect(page.get_by_role("region", name=f"完整信息场次{full.tag}")).to_be_visible()
        assert await page.evaluate(UNNAMED) == []
        assert errors == [], errors


async def test_publicity_on_a_phone(settings: Settings, new_context: Any) -> None:
    """成交公示 at 375 px: the 受让方 by name, the price, the paddle, the 公示期 dates and the
    objection channel as labelled cards; a passed lot in its own list with its reason."""
    from tests.browser.test_lot_page_complete import UNNAMED, command, full_sale

    async with running(settings) as server:
        full = await full_sale(server)
        await command(server, full.lot, "open")
        await bid(server, full.tokens[1], full.lot, 1_010_000, "p1")
        await command(server, full.lot, "hammer")
        await command(server, full.other_lot, "open")
        await command(server, full.other_lot, "pass")
        phone = await new_context(viewport={"width": 375, "height": 800}, is_mobile=True,
                                  has_touch=True)
        page = await open_page(phone, f"{server.base}/results.html?session={full.session}")
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        row = page.locator(f"#results tr[data-lot='{full.lot}']")
        for _ in range(40):  # published once the settlement is written (seconds)
            if await row.count():
                break
            await asyncio.sleep(0.5)
            await page.get_by_role("button", name="刷新").click()
        def cell(label: str) -> Any:  # each cell named by its column, shown beside it
            return row.get_by_role("cell", name=re.compile(f"^{label} "))

        await expect(cell("受让方")).to_contain_text(f"完整科技有限公司{full.tag}-1")
        await expect(cell("受让方")).to_contain_text(f"号牌 {full.paddles[1]}")
        await expect(cell("成交价")).to_contain_text("10,100.00 元")
        await expect(cell("公示期")).to_have_text(
            re.compile(r"^\d{4}-\d\d-\d\d 至 \d{4}-\d\d-\d\d \(5 个工作日\)$"))
        await expect(cell("异议渠道")).to_contain_text(f"向{full.market_name}提出")
        await expect(row.get_by_role("link", name=re.compile("一种完整技术"))).to_be_visible()
        passed = page.get_by_role("region", name="流拍标的")
        await expect(passed.locator(f"tr[data-lot='{full.other_lot}']")).to_contain_text(
            "拍卖师宣布流拍", timeout=20_000)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 375
        assert await page.evaluate(UNNAMED) == []
        assert errors == [], errors
