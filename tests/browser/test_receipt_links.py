"""A bidder downloads the signed receipt of each of its accepted bids from its own pages (issue 16
item 5): 我的竞拍 lists them under 出价回执 with a 下载回执 link each, the lot page's bid list
puts one beside each of the bidder's own bids (and none beside a rival's); the downloaded file
checks with the published public key alone. Found by role and label, at 375 px."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
from playwright.async_api import expect

from auction.audit.receipts import PublicKey, parse
from auction.settings import Settings
from tests.browser.conftest import ARTIFACTS, UNNAMED
from tests.browser.test_lot_page_complete import bid, command
from tests.e2e.harness import BIDDER_PASSWORD, create_sale, running

TIMEOUT_MS = 10_000


async def test_the_bidder_downloads_its_receipts_from_its_pages(
    settings: Settings, new_context: Any
) -> None:
    """Two own bids and one rival bid, hammered: 我的竞拍 offers two receipts (one per own bid),
    the lot page one per own row, the English switch names them Receipt; a downloaded receipt is
    the bid's and its signature checks with GET /api/v1/receipts/key."""
    async with running(settings) as server:
        sale = await create_sale(server, lots=1, bidders=2)
        (lot,) = sale.lots
        await command(server, lot, "open")
        await bid(server, sale.tokens[0], lot, 1_000_000)
        await bid(server, sale.tokens[1], lot, 1_010_000)
        await bid(server, sale.tokens[0], lot, 1_020_000)
        await command(server, lot, "hammer")
        async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
            for _ in range(60):  # the bids reach the journal (and the public history)
                found = (await http.get(f"/api/v1/lots/{lot}/bids")).json()["bids"]
                if len(found) == 3:
                    break
                await asyncio.sleep(0.3)
            key = PublicKey.parse((await http.get("/api/v1/receipts/key")).json()["public_key"])

        phone = await new_context(viewport={"width": 375, "height": 800}, is_mobile=True,
                                  has_touch=True, accept_downloads=True)
        page = await phone.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(f"{server.base}/login.html?next=me.html")
        await page.get_by_label("用户名").fill(sale.usernames[0])
        await page.get_by_label("密码", exact=True).fill(BIDDER_PASSWORD)
        await page.get_by_role("button", name="登录").click()
        await page.wait_for_url(re.compile(r"/me\.html"))

        await page.get_by_text("出价回执 (2)").click()
        links = page.get_by_role("link", name=re.compile(r"^下载回执 第 \d+ 号出价$"))
        await expect(links).to_have_count(2)
        # seq 1 is the opening, 2 and 4 are ours, 3 the rival's
        await expect(page.get_by_role("link", name="下载回执 第 3 号出价")).to_have_count(0)
        async with page.expect_download() as info:
            await page.get_by_role("link", name="下载回执 第 4 号出价").click()
        download = await info.value
        body = json.loads(_read(await download.path()))
        receipt, signature = parse(body)
        assert (receipt.lot_id, receipt.seq, receipt.amount_fen, receipt.paddle) == (
            lot, 4, 1_020_000, sale.paddles[0])
        assert key.verifies(receipt, signature)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 375
        assert await page.evaluate(UNNAMED) == []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "me-receipts-375.png"), full_page=True)
        await page.get_by_role("button", name="English").click()
        await expect(page.get_by_role("link", name=re.compile(r"^Receipt of bid #\d+$"))
                     ).to_have_count(2)
        await page.get_by_role("button", name="中文").click()

        await page.goto(f"{server.base}/lot.html?id={lot}")
        own = page.get_by_role("link", name=re.compile(r"^下载回执 第 \d+ 号出价$"))
        await expect(own).to_have_count(2)
        await expect(page.get_by_role("link", name="下载回执 第 2 号出价")).to_be_visible()
        await expect(page.get_by_role("link", name="下载回执 第 3 号出价")).to_have_count(0)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 375
        await page.screenshot(path=str(ARTIFACTS / "lot-receipts-375.png"), full_page=True)
        assert errors == [], errors


def _read(path: Any) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()
