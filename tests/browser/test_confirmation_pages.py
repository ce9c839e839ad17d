"""成交确认书 in the pages (issue 13 item 1): 我的竞拍 offers the won lot's 下载成交确认书, which
downloads the PDF with the cookie login; the verification page the QR code opens shows the same
sale from the server, and says so plainly when the digest does not match. At 375 px and
1366 px, with screenshots to look at."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from playwright.async_api import expect

from auction.settings import Settings
from tests.browser.conftest import ARTIFACTS
from tests.e2e.harness import ADMIN, BIDDER_PASSWORD, Server, create_sale, raw_client, running

START_FEN = 1_234_500


async def _sold(server: Server) -> tuple[int, str, str]:
    """A lot bought at its start price by the first bidder of a new sale, settled:
    ``(lot id, buyer's username, bid-log digest)``."""
    sale = await create_sale(server, bidders=2, start_fen=START_FEN, inc_fen=10_000)
    lot = sale.lots[0]
    runner = {"Authorization": f"Bearer {sale.auctioneer}"}
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        r = await http.post(f"/api/v1/lots/{lot}/commands", headers=runner,
                            json={"op": "open", "key": f"open-{uuid.uuid4().hex[:8]}"})
        assert r.status_code == 200, r.text
        async with raw_client(server, sale.tokens[0], address="10.9.1.7") as c:
            await c.send(t="bid", lot=lot, amount=START_FEN, key=f"b-{uuid.uuid4().hex[:8]}")
            answer = await c.until(lambda m: m["t"] in ("ack", "nack"))
            assert answer["t"] == "ack", answer
        r = await http.post(f"/api/v1/lots/{lot}/commands", headers=runner,
                            json={"op": "hammer", "key": f"hammer-{uuid.uuid4().hex[:8]}"})
        assert r.status_code == 200, r.text
    conn = await asyncpg.connect(server.settings.database_url)
    try:
        for _ in range(200):
            digest = await conn.fetchval(
                "SELECT bid_log_sha256 FROM lot_results WHERE lot_id = $1", lot)
            if digest:
                break
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    assert digest, "the sale was not settled"
    return lot, sale.usernames[0], str(digest)


async def _look(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    await page.screenshot(path=str(ARTIFACTS / f"confirmation-{name}-{width}.png"),
                          full_page=True)


async def test_buyer_downloads_and_anyone_verifies(settings: Settings, new_context: Any) -> None:
    """The buyer logs in; 我的竞拍 shows 下载成交确认书 for the won lot and it downloads a PDF;
    the verification page, opened from the document's URL, shows the buyer, price in figures
    and capitals and the digest; a wrong digest is refused in words."""
    errors: list[str] = []
    async with running(settings.with_changes(reopen_window_s=0)) as server:
        lot, username, digest = await _sold(server)
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN) as http:
            facts = (await http.get(f"/api/v1/lots/{lot}/confirmation",
                                    params={"digest": digest})).json()
        buyer = facts["buyer"]["name"]
        for width, height in ((375, 812), (1366, 900)):
            context = await new_context(viewport={"width": width, "height": height})
            page = await context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(f"{server.base}/login.html")
            await page.get_by_label("用户名").fill(username)
            await page.get_by_label("密码", exact=True).fill(BIDDER_PASSWORD)
            await page.get_by_role("button", name="登录").click()
            await expect(page.get_by_role("heading", name="我的竞拍")).to_be_visible()
            wins = page.get_by_role("region", name="我竞得的标的")
            link = wins.get_by_role("link", name="下载成交确认书")
            await expect(link).to_have_attribute("href",
                                                 f"/api/v1/lots/{lot}/confirmation.pdf")
            await _look(page, "me")
            async with page.expect_download() as download_info:
                await link.click()
            download = await download_info.value
            assert download.suggested_filename.startswith("成交确认书-")
            path = await download.path()
            with open(path, "rb") as handle:
                assert handle.read(5) == b"%PDF-"

            verify = f"{server.base}/verify.html?lot={lot}&digest={digest}"
            await page.goto(verify)
            answer = page.get_by_role("region", name="核验结果")
            await expect(answer.get_by_text("核验通过")).to_be_visible()
            await expect(answer).to_contain_text(buyer)
            await expect(answer).to_contain_text("12,345.00 元")
            await expect(answer).to_contain_text("人民币壹万贰仟叁佰肆拾伍元整")
            await expect(answer).to_contain_text(digest)
            await _look(page, "verify")
            assert errors == [], errors
            wrong = ("0" if digest[0] != "0" else "1") + digest[1:]
            await page.get_by_label("出价记录摘要 (SHA-256)").fill(wrong)
            await page.get_by_role("button", name="核验").click()
            refused = answer.get_by_text("没有与该标的编号和摘要相符的成交确认书")
            await expect(refused).to_be_visible()
            await _look(page, "verify-wrong")
            await context.close()
            # the browser logs the refused answer (404 no_confirmation) itself; nothing else
            assert all("404" in e for e in errors), errors
            errors.clear()
