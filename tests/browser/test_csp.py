"""Every page under the Content-Security-Policy (auction/api/headers.py): no inline script or
style is left to be blocked, at phone (375 px) and desktop (1366 px) widths, and each page still
does its job (connects, shows its lot, its buttons)."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.async_api import expect

from auction.settings import Settings
from tests.browser.conftest import ARTIFACTS
from tests.e2e.harness import ADMIN, create_sale, running

TIMEOUT_MS = 10_000

#: collects CSP violations the page reports (init scripts run whatever the page's policy is)
LISTEN = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""


async def test_no_page_violates_the_content_security_policy(
    settings: Settings, new_context: Any
) -> None:
    """index, lot (public and bidder), console, results and screen: zero CSP violations and zero
    console errors at 375 and 1366 px, each page working."""
    async with running(settings) as server:
        sale = await create_sale(server, lots=1, bidders=1)
        lot, session = sale.lots[0], sale.session_id
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN) as http:
            name = (await http.get(f"/api/v1/sessions/{session}")).json()["name"]
        title = re.compile("一种测试技术0")

        async def index(page: Any) -> None:
            await expect(page.get_by_role("region", name=name)).to_be_visible()

        async def public_lot(page: Any) -> None:
            await expect(page.get_by_role("heading", name=title)).to_be_visible()
            await page.wait_for_selector("#conn[data-status=open]")

        async def bidder(page: Any) -> None:
            await public_lot(page)
            await page.wait_for_selector("#reg[data-role=bidder]")

        async def console(page: Any) -> None:
            await expect(page.get_by_role("heading", name=title)).to_be_visible()
            await expect(page.get_by_role("button", name="开拍 O")).to_be_enabled()
            await page.wait_for_selector("#conn[data-status=open]")

        async def results(page: Any) -> None:
            await expect(page.get_by_role("button", name="刷新")).to_be_visible()

        async def screen(page: Any) -> None:
            await page.wait_for_selector("#conn[data-status=open]")
            await expect(page.get_by_text(title)).to_be_visible()

        pages = {
            # the session's own view of the catalogue (a test database holds many sessions)
            "index": (f"/?session={session}", index),
            "lot": (f"/lot.html?id={lot}", public_lot),
            "bidder": (f"/lot.html?id={lot}#token={sale.tokens[0]}", bidder),
            "console": (f"/console.html?session={session}#token={sale.auctioneer}", console),
            "results": (f"/results.html?session={session}", results),
            "screen": (f"/screen.html?session={session}", screen),
        }
        found: list[str] = []
        for width, height in ((375, 812), (1366, 900)):
            context = await new_context(viewport={"width": width, "height": height})
            await context.add_init_script(LISTEN)
            for label, (path, ready) in pages.items():
                page = await context.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                errors: list[str] = []
                page.on("console", lambda msg, errors=errors: errors.append(msg.text)
                        if msg.type == "error" else None)
                page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
                await page.goto(server.base + path)
                await ready(page)
                await page.wait_for_timeout(300)  # late resources and handlers
                violations = await page.evaluate("window.cspViolations")
                found += [f"{label} @{width}px: CSP {v}" for v in violations]
                found += [f"{label} @{width}px: console {e}" for e in errors]
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(ARTIFACTS / f"csp-{label}-{width}.png"),
                                      full_page=True)
                await page.close()
        assert not found, "\n".join(found)
