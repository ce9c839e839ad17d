"""The console driven with the keyboard alone, and what a bidder page shows at each step: O opens,
F enters a floor bid (the history shows 场内 beside the paddle), U twice retracts it (已撤销, the
price and leader restored, the retracted bidder told), W warns, H twice hammers, R reopens, I
changes the increment (the next bid follows it), a bid after the hammer is listed as a late bid.
Elements are found by role and visible label, as a person would."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import expect

from auction.settings import Settings
from tests.e2e.harness import create_sale, raw_client, running

TIMEOUT_MS = 10_000


async def open_page(context: Any, url: str) -> Any:
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(url)
    await page.wait_for_selector("#conn[data-status=open]")
    return page


async def test_floor_bid_undo_warn_hammer_reopen_and_increment_from_the_keyboard(
    settings: Settings, new_context: Any
) -> None:
    """Each console shortcut, and each bidder page (the leader's and the retracted bidder's)
    showing the step as it happens."""
    # a hammered lot may be reopened for 10 minutes (the tests' default is no window at all)
    async with running(settings.with_changes(reopen_window_s=600)) as server:
        sale = await create_sale(server, lots=2, bidders=3)
        lot = sale.lots[0]
        p0, p1, p2 = sale.paddles
        base = server.base
        console = await open_page(await new_context(),
                                  f"{base}/console.html?session={sale.session_id}"
                                  f"#token={sale.auctioneer}")
        leader = await open_page(await new_context(), f"{base}/lot.html?id={lot}"
                                 f"#token={sale.tokens[0]}")
        floor = await open_page(await new_context(), f"{base}/lot.html?id={lot}"
                                f"#token={sale.tokens[1]}")
        screen = await open_page(await new_context(),
                                 f"{base}/screen.html?session={sale.session_id}")
        feedback = console.locator("#cmd-feedback")

        # every control is enabled or waits for its moment; the shortcuts are on the buttons
        for name in ("开拍 O", "开拍下一标的 N", "加价幅度 I"):
            await expect(console.get_by_role("button", name=name)).to_be_enabled()
        for name in ("警告 W", "落槌 H", "流拍 P", "撤销上一口 U", "重新开拍 R",
                     "场内 / 电话出价 F", "暂停 Space"):
            await expect(console.get_by_role("button", name=name)).to_be_visible()
        await expect(console.get_by_text("引擎暂不支持")).to_have_count(0)

        # O: open; the leader bids online
        await console.keyboard.press("o")
        await expect(leader.locator("#status")).to_have_text("竞价中")
        await leader.get_by_role("button", name=re.compile("下一口价")).click()
        await expect(leader.get_by_text("您当前领先")).to_be_visible()
        await expect(console.locator("#cur-leader")).to_have_text(str(p0))

        await expect(leader.get_by_text(re.compile(r"^围观 \d+$"))).to_be_visible()

        # F: a paddle not registered in the session is refused in the form, which stays open
        await console.keyboard.press("f")
        form = console.get_by_role("dialog", name="场内 / 电话出价")
        await expect(form).to_be_visible()
        await console.keyboard.type("999999")
        await console.keyboard.press("Enter")
        await expect(form.get_by_role("alert")).to_contain_text("号牌")
        await expect(form).to_be_visible()
        await console.keyboard.press("Escape")
        await expect(form).to_be_hidden()

        # F: a floor bid for paddle p1 at the asking price (filled in, in 元)
        await console.keyboard.press("f")
        await expect(form).to_be_visible()
        await expect(form.get_by_label("金额 (元)")).to_have_value("10,100.00")
        await expect(form.get_by_role("radio", name="场内")).to_be_checked()
        await console.keyboard.type(str(p1))
        await console.keyboard.press("Enter")
        await expect(form).to_be_hidden()
        await expect(leader.get_by_text("您已被超越")).to_be_visible()
        row = leader.get_by_role("row").filter(has_text="10,100.00")
        await expect(row).to_contain_text(re.compile(rf"{p1}\s*场内"))
        await expect(floor.get_by_text("您当前领先")).to_be_visible()
        await expect(console.locator("#cur-leader")).to_have_text(str(p1))

        # U once asks; U again retracts it: 已撤销 in the history, p0 leads again at 10,000
        await console.keyboard.press("u")
        await expect(feedback).to_contain_text("再按 U 确认撤销上一口")
        await expect(feedback).to_contain_text(f"号牌 {p1}")
        await console.wait_for_timeout(400)
        await expect(leader.get_by_text("您已被超越")).to_be_visible()
        await console.keyboard.press("u")
        await expect(row).to_contain_text("已撤销")
        await expect(leader.get_by_text("您当前领先")).to_be_visible()
        await expect(leader.locator("#price")).to_have_text("10,000.00 元")
        await expect(leader.locator("#leader")).to_have_text(str(p0))
        await expect(floor.get_by_text("您的出价 10,100.00 元已被拍卖师撤销")).to_be_visible()
        await expect(console.locator("#cur-leader")).to_have_text(str(p0))
        assert "seq" not in await console.inner_text("#log")
        # a page opened afterwards reads the same history from the lot's stream
        watcher = await open_page(await new_context(), f"{base}/lot.html?id={lot}")
        late_row = watcher.get_by_role("row").filter(has_text="10,100.00")
        await expect(late_row).to_contain_text("场内")
        await expect(late_row).to_contain_text("已撤销")
        await expect(watcher.locator("#price")).to_have_text("10,000.00 元")

        # W: 第一次警告 on the bidder page
        await console.keyboard.press("w")
        await expect(leader.get_by_text("第一次警告")).to_be_visible()

        # H twice: sold to p0, on the console and the leader's page
        await console.keyboard.press("h")
        await expect(feedback).to_contain_text("再按 H 确认落槌")
        await console.keyboard.press("h")
        await expect(leader.get_by_text("成交 — 恭喜您竞得本标的")).to_be_visible()
        await expect(console.locator("#result")).to_contain_text(f"号牌 {p0}")

        # R: reopened, with its bids, price and leader; the bidder page says so
        await console.keyboard.press("r")
        await expect(leader.get_by_text("本标的重新开拍")).to_be_visible()
        await expect(leader.get_by_text("您当前领先")).to_be_visible()
        await expect(leader.locator("#status")).to_have_text("竞价中")
        await expect(leader.locator("#price")).to_have_text("10,000.00 元")
        await expect(console.locator("#cur-status")).to_have_text("竞价中")
        await expect(console.locator("#result")).to_be_hidden()
        await expect(screen.locator("#scr-banner")).to_have_text("重新开拍")

        # F again: a phone bid for p2, the source chosen with the arrow keys
        await console.keyboard.press("f")
        await expect(form).to_be_visible()
        await console.keyboard.type(str(p2))
        await console.keyboard.press("Tab")
        await console.keyboard.press("Tab")
        await console.keyboard.press("ArrowRight")
        await expect(form.get_by_role("radio", name="电话")).to_be_checked()
        await console.keyboard.press("Enter")
        await expect(form).to_be_hidden()
        phone = leader.get_by_role("row").filter(has_text="10,100.00").filter(has_text="电话")
        await expect(phone).to_contain_text(str(p2))
        await expect(leader.get_by_text("您已被超越")).to_be_visible()
        await expect(screen.locator("#scr-banner")).to_be_hidden()
        await expect(screen.locator("#paddle")).to_have_text(str(p2))

        # I: the increment menu; 2 doubles it, and the bidder's next bid follows
        await console.keyboard.press("i")
        menu = console.get_by_role("dialog", name="加价幅度")
        await expect(menu).to_be_visible()
        await expect(menu).to_contain_text("100.00 元")
        await console.keyboard.press("2")
        await expect(menu).to_be_hidden()
        await expect(leader.locator("#inc")).to_have_text("200.00 元")
        await expect(floor.get_by_role("button", name=re.compile("下一口价"))
                     ).to_contain_text("10,300.00")
        await expect(console.locator("#cur-inc")).to_have_text("200.00 元")
        await expect(console.locator("#cur-inc-by")).to_have_text("(拍卖师设定)")
        # I, S, an amount in 元, Enter: set
        await console.keyboard.press("i")
        await expect(menu).to_be_visible()
        await console.keyboard.press("s")
        await console.keyboard.type("500")
        await console.keyboard.press("Enter")
        await expect(menu).to_be_hidden()
        await expect(leader.locator("#inc")).to_have_text("500.00 元")
        await floor.get_by_role("button", name=re.compile("下一口价")).click()
        await expect(floor.get_by_text("您当前领先")).to_be_visible()
        await expect(leader.locator("#price")).to_have_text("10,600.00 元")
        # I, 3: back to the table (the lot's own 100 元 in its start's band)
        await console.keyboard.press("i")
        await console.keyboard.press("3")
        await expect(menu).to_be_hidden()
        await expect(leader.locator("#inc")).to_have_text("100.00 元")
        await expect(leader.locator("#next")).to_have_text("10,700.00 元")
        await expect(console.locator("#cur-inc-by")).to_be_empty()

        # H twice: sold to p1; a bid after the hammer is listed on the console as late
        await console.keyboard.press("h")
        await console.keyboard.press("h")
        await expect(floor.get_by_text("成交 — 恭喜您竞得本标的")).to_be_visible()
        async with raw_client(server, sale.tokens[2]) as late:
            await late.send(t="bid", lot=lot, amount=1_080_000, key="late")
            answer = await late.until(lambda m: m["t"] in ("ack", "nack"))
            assert answer["t"] == "nack" and answer["code"] == "lot_closed", answer
        missed = console.get_by_role("list").filter(has_text=f"号牌 {p2}")
        await expect(missed).to_contain_text("10,800.00 元")
        await expect(missed).to_contain_text(re.compile(r"晚 \d+\.\d 秒"))

        # the session's progress, presence and the reserve indicator
        await expect(console.locator("#prog-sold")).to_have_text("1")
        await expect(console.locator("#prog-to-go")).to_have_text("1")
        await expect(console.locator("#prog-total")).to_have_text("10,600.00 元")
        await expect(console.locator("#registered")).to_have_text("3")
        await expect(console.locator("#online")).to_have_text("2")  # the two bidder pages
        await expect(console.locator("#reserve")).to_have_text("无保留价")
