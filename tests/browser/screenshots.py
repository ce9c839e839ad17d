"""Take the screenshots of docs/clients.md (run by hand, not by pytest):

    .venv/bin/python -m tests.browser.screenshots [--out docs/img] [--keep] [--review DIR]

Starts embedded PostgreSQL and Valkey in a temp dir (or uses DATABASE_URL / REDIS_URL), serves the
app, seeds the demo catalogue (auction.demo.seed), plays a few bids (one of them a floor bid, one
retracted), a hammer and a late bid, then shoots every page in /usr/bin/chromium. ``--keep``
leaves the server running and prints the page links. ``--review DIR`` also shoots the console,
the bidder page and the room screen at 375 and 1366 px, in Chinese and in English, into DIR
(full pages, for looking at, not for the docs).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from auction_client import AuctionHTTP
from playwright.async_api import async_playwright

from auction.demo.seed import TimedRules, seed
from auction.embedded import EmbeddedServers
from auction.settings import Settings
from auction.store.migrate import migrate
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.harness import raw_client, running

ADMIN_TOKEN = "docs-admin-token"
#: the innermost elements that reach past the viewport's width (a phone would scroll sideways)
OVERFLOW = """(width) => [...document.querySelectorAll("body *")]
  .filter((e) => e.getBoundingClientRect().right > width + 1 && e.getClientRects().length)
  .filter((e, _, all) => !all.some((o) => o !== e && e.contains(o)))
  .slice(0, 6)
  .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className} `
    + `${e.getBoundingClientRect().right | 0}`)
"""


async def command(base: str, lot: int, op: str, args: dict[str, Any] | None = None) -> None:
    async with AuctionHTTP(base, ADMIN_TOKEN) as http:
        key = f"docs-{op}-{lot}-{uuid.uuid4().hex[:6]}"
        if args is None:
            await http.lot_command(lot, op, key=key)
        else:
            await http.request("POST", f"/api/v1/lots/{lot}/commands",
                               json={"op": op, "args": args, "key": key})


async def asking(base: str, lot: int) -> int:
    """The lot's next valid bid as its room has it (the increment may follow the session's
    table): start with no bid, else high + inc."""
    async with AuctionHTTP(base) as http:
        live = (await http.request("GET", f"/api/v1/lots/{lot}"))["live"]
    return int(live["high"] + live["inc"] if live["bids"] else live["start"])


async def late_bid(server: Any, token: str, lot: int, amount: int) -> None:
    """A bid on a closed lot: refused (lot_closed), reported to the console as a missed bid."""
    async with raw_client(server, token) as c:
        await c.send(t="bid", lot=lot, amount=amount, key=uuid.uuid4().hex[:16])
        await c.until(lambda m: m["t"] in ("ack", "nack"))


async def bid(server: Any, token: str, lot: int, amount: int) -> None:
    async with raw_client(server, token) as c:
        await c.send(t="bid", lot=lot, amount=amount, key=uuid.uuid4().hex[:16])
        answer = await c.until(lambda m: m["t"] in ("ack", "nack"))
        assert answer["t"] == "ack", answer


async def shoot_review(
    browser: Any, out: Path, late: Any, pages: dict[str, tuple[str, str]]
) -> None:
    """Each page at 375 and 1366 px, zh and en, full length, into ``out`` (a late bid sent
    once each console is open, so its list shows one)."""
    out.mkdir(parents=True, exist_ok=True)
    for width in (375, 1366):
        for lang in ("zh", "en"):
            ctx = await browser.new_context(
                viewport={"width": width, "height": 760 if width == 375 else 900},
                is_mobile=width == 375, has_touch=width == 375, locale="zh-CN",
                timezone_id="Asia/Shanghai")
            await ctx.add_init_script(f"localStorage.setItem('auction.lang', '{lang}')")
            for name, (url, ready) in pages.items():
                page = await ctx.new_page()
                await page.goto(url)
                await page.wait_for_selector(ready, timeout=15000)
                if name == "console":
                    await late()
                await asyncio.sleep(1.2)
                path = out / f"{name}-{width}-{lang}.png"
                await page.screenshot(path=str(path), full_page=True)
                wide = await page.evaluate(OVERFLOW, width)
                print("wrote", path, f"wider than {width} px: {wide}" if wide else "")
                if name == "console":  # the floor bid form (F) and the increment menu (I)
                    for key, what in (("f", "floor"), ("i", "increment")):
                        await page.keyboard.press(key)
                        await page.wait_for_selector("dialog[open]")
                        path = out / f"{name}-{what}-{width}-{lang}.png"
                        await page.screenshot(path=str(path))
                        print("wrote", path)
                        await page.keyboard.press("Escape")
                        await page.wait_for_selector("dialog[open]", state="detached")
                await page.close()
            await ctx.close()


async def shoot(settings: Settings, out: Path, keep: bool, review: Path | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    async with running(settings) as server:
        base = server.base
        async with AuctionHTTP(base, ADMIN_TOKEN) as http:
            demo = await seed(http, timed=TimedRules(1800, 300, 300), progress=print,
                              run_label="docs")
        live, timed = demo.live, demo.timed
        # live session: lot 1 sold, lot 2 open with a few bids
        l1, l2 = live.lots[0], live.lots[1]
        b = live.bidders
        await command(base, l1.id, "open")
        await bid(server, b[0].token, l1.id, l1.start_fen)
        steps = -(-l1.start_fen // l1.increment_fen)  # about twice the start: above any reserve
        await bid(server, b[1].token, l1.id, l1.start_fen + steps * l1.increment_fen)  # a jump
        await command(base, l1.id, "hammer")
        await command(base, l2.id, "open")
        for i in range(5):
            await bid(server, b[i % 3].token, l2.id, await asking(base, l2.id))
        # a floor bid, then a phone bid the auctioneer retracts (撤销上一口)
        await command(base, l2.id, "floor", {"paddle": b[3 % len(b)].paddle,
                                            "amount": await asking(base, l2.id),
                                            "source": "floor"})
        await command(base, l2.id, "floor", {"paddle": b[1].paddle,
                                            "amount": await asking(base, l2.id),
                                            "source": "phone"})
        await command(base, l2.id, "undo")
        # timed session: every lot open, some bids
        for lot in timed.lots:
            await command(base, lot.id, "open")
        t1 = timed.lots[0]
        await bid(server, timed.bidders[0].token, t1.id, t1.start_fen)
        await bid(server, timed.bidders[1].token, t1.id, await asking(base, t1.id))
        async with AuctionHTTP(base) as http:  # the drainer settles lot 1: 成交公示 has a row
            for _ in range(100):
                if await http.results(live.id):
                    break
                await asyncio.sleep(0.2)

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            desk = await browser.new_context(viewport={"width": 1280, "height": 860},
                                             locale="zh-CN", timezone_id="Asia/Shanghai")
            phone = await browser.new_context(viewport={"width": 375, "height": 760},
                                              device_scale_factor=1, is_mobile=True,
                                              has_touch=True, locale="zh-CN",
                                              timezone_id="Asia/Shanghai")

            async def late() -> None:  # a bid after lot 1's hammer: the console lists it
                await late_bid(server, b[2].token, l1.id, l1.start_fen * 3)

            async def snap(ctx: Any, url: str, name: str, ready: str, full: bool = False,
                           then: Any = None) -> Any:
                page = await ctx.new_page()
                await page.goto(url)
                await page.wait_for_selector(ready, timeout=15000)
                if then is not None:
                    await then()
                await asyncio.sleep(0.6)
                await page.screenshot(path=str(out / name), full_page=full)
                print("wrote", out / name)
                return page

            await snap(desk, f"{base}/", "index.png", "a[href^='lot.html']")
            bidder = b[3].token if len(b) > 3 else b[0].token
            lot_url = f"{base}/lot.html?id={l2.id}#token={bidder}"
            await snap(desk, lot_url, "lot-desktop.png", "#conn[data-status=open]")
            await snap(phone, f"{base}/lot.html?id={t1.id}#token={timed.bidders[0].token}",
                       "lot-phone.png", "#standing[data-state=outbid]", full=True)
            await snap(desk, f"{base}/console.html?session={live.id}#token={live.staff_token}",
                       "console.png", "#conn[data-status=open]", then=late)
            screen = await browser.new_context(viewport={"width": 1280, "height": 720})
            await snap(screen, f"{base}/screen.html?session={live.id}", "screen.png",
                       "#conn[data-status=open]")
            short = await browser.new_context(viewport={"width": 1280, "height": 300},
                                              locale="zh-CN", timezone_id="Asia/Shanghai")
            await snap(short, f"{base}/results.html", "results.png", "#results tbody tr")
            if review:
                await shoot_review(browser, review, late, {
                    "console": (f"{base}/console.html?session={live.id}"
                                f"#token={live.staff_token}", "#conn[data-status=open]"),
                    "lot": (lot_url, "#conn[data-status=open]"),
                    "screen": (f"{base}/screen.html?session={live.id}",
                               "#conn[data-status=open]"),
                })
            await browser.close()
        if keep:
            print(f"\n首页 {base}/\n控制台 {base}/console.html?session={live.id}"
                  f"#token={live.staff_token}\n竞买 {lot_url}")
            await asyncio.Event().wait()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="docs/img")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--review", type=Path, default=None)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="auction-shots-"))
    settings = Settings.from_env({
        "DATABASE_URL": os.environ.get("DATABASE_URL", ""),
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "AUCTION_ADMIN_TOKEN": ADMIN_TOKEN,
        "AUCTION_DATA_DIR": str(tmp),
        "AUCTION_REDIS_NAMESPACE": f"docs-{uuid.uuid4().hex[:8]}",
    })
    with EmbeddedServers() as servers:
        if not (settings.database_url and settings.redis_url):
            settings = servers.start(settings)
        assert settings.database_url
        asyncio.run(migrate(settings.database_url))
        asyncio.run(shoot(settings, Path(args.out), args.keep, args.review))
    return 0


if __name__ == "__main__":
    sys.exit(main())
