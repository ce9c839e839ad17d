"""成交公示 publishes the head hash of a finished session's chained record (issue 16), as the
API gives it, in a region of its own, at 375 px without sideways scrolling."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from playwright.async_api import expect

from auction.settings import Settings
from tests.browser.test_lot_page_complete import UNNAMED, bid, command
from tests.e2e.harness import create_sale, running

SHOTS = "test-artifacts/browser"


async def test_results_page_shows_the_session_head(settings: Settings, new_context: Any) -> None:
    """Once the session's only lot is sold and settled, its head hash is on the page under
    成交记录哈希, equal to ``sessions[].head_sha256`` of GET /api/v1/publicity."""
    async with running(settings) as server:
        sale = await create_sale(server, lots=1, bidders=1)
        (lot,) = sale.lots
        await command(server, lot, "open")
        await bid(server, sale.tokens[0], lot, 1_000_000)
        await command(server, lot, "hammer")
        head = None
        async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
            for _ in range(60):
                answer = (await http.get("/api/v1/publicity",
                                         params={"session": sale.session_id})).json()
                heads = [s["head_sha256"] for s in answer.get("sessions", [])]
                if heads and heads[0]:
                    head = heads[0]
                    break
                await asyncio.sleep(0.5)
        assert head is not None and len(head) == 64
        phone = await new_context(viewport={"width": 375, "height": 800}, is_mobile=True,
                                  has_touch=True)
        page = await phone.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        await page.goto(f"{server.base}/results.html?session={sale.session_id}")
        region = page.get_by_role("region", name="成交记录哈希")
        await expect(region).to_contain_text(head)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 375
        assert await page.evaluate(UNNAMED) == []
        await page.get_by_role("button", name="English").click()
        await expect(page.get_by_role("region", name="Record hash")).to_contain_text(head)
        await page.screenshot(path=f"{SHOTS}/results-head-375.png", full_page=True)
        assert errors == [], errors
