"""``run_demo``: seed over HTTP, print where to look, run the bots over the websocket.

Contract: ``run_demo(base_url, admin_token, fast=…, once=…, progress=…)``

- seeds one round (:mod:`auction.demo.seed`), prints the page and API URLs and Chinese progress
  lines through ``progress``;
- runs the live session (auctioneer bot, lot by lot) and the timed session (all lots at once,
  closed by the server clock) concurrently, with every bidder bot;
- ``once=True``: returns after every lot of the round is settled — ``GET /api/v1/lots/{id}``
  says ``sold``/``passed`` and, for sold lots, ``GET /api/v1/lots/{id}/registration`` says
  ``delivered``/``filed``/``registered``/``rejected``/``dead`` — or raises ``TimeoutError``
  naming the lots still open; then prints each session's registrations (已登记 with the
  office's number, 待登记, 未予登记) as the lots' results show them;
- ``once=False``: after a round it idles briefly and starts another round with new sessions,
  until cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import replace

from auction_client import AuctionClient, AuctionHTTP, wan

from auction.demo.bots import run_live_auctioneer, run_timed_session, start_bidders
from auction.demo.catalogue import PROVINCE
from auction.demo.pace import Pace
from auction.demo.seed import SeededDemo, seed

PROVINCE_CODE = PROVINCE.code
#: the hand-off is done for the demo: handed over (待登记), or answered, or dead
SETTLED_REGISTRATION = frozenset({"delivered", "filed", "dead", "registered", "rejected"})


def ws_url_for(base_url: str) -> str:
    """``http://h:p`` → ``ws://h:p/ws`` (``https`` → ``wss``)."""
    base = base_url.rstrip("/")
    if base.startswith("https://"):
        return "wss://" + base[len("https://") :] + "/ws"
    if base.startswith("http://"):
        return "ws://" + base[len("http://") :] + "/ws"
    return base + "/ws"


async def _wait_healthy(http: AuctionHTTP, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            health = await http.healthz()
            if health.get("status") == "ok":
                return
        except Exception:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise TimeoutError("服务未就绪 (healthz)")
        await asyncio.sleep(0.3)


def _announce(base_url: str, demo: SeededDemo, progress: Callable[[str], None]) -> None:
    """Print the pages (clients/web) and API addresses of this round. Only the hands-on
    session's links carry tokens; the bots' tokens are never printed."""
    base = base_url.rstrip("/")
    live, timed = demo.live, demo.timed
    progress(f"首页: {base}/")
    progress(f"大屏 {live.name}: {base}/screen.html?session={live.id}")
    progress(f"大屏 {timed.name}: {base}/screen.html?session={timed.id}")
    progress(f"标的页（第一件）: {base}/lot.html?id={live.lots[0].id}")
    for s in (live, timed):
        progress(f"成交公示 {s.name}: {base}/results.html?session={s.id}")
    progress(f"接口: {base}/api/v1/sessions/{live.id}/lots · {base}/openapi.json")
    progress(f"竞买号牌: {', '.join(str(b.paddle) for b in live.bidders)}（机器人出价）")
    progress(
        f"终端观看: python -m auction_client.cli watch --url {ws_url_for(base)} "
        f"--lot {live.lots[0].id}"
    )
    hands = demo.hands_on
    if hands is not None:
        # The hands-on session is for a person at this machine: its links carry tokens (in the
        # URL fragment, which browsers never send to a server).
        you = hands.bidders[0]
        progress(f"—— 亲自体验: {hands.name} ——")
        progress(f"  拍卖师控制台（按 O 开拍, H 落槌, P 流拍）: "
                 f"{base}/console.html?session={hands.id}#token={hands.staff_token}")
        progress(f"  您的竞买页面（{you.paddle}号）: "
                 f"{base}/lot.html?id={hands.lots[0].id}#token={you.token}")


async def _run_round(
    base_url: str, demo: SeededDemo, pace: Pace, progress: Callable[[str], None], seed_n: int
) -> None:
    ws_url = ws_url_for(base_url)
    clients: list[AuctionClient] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        for n, session in enumerate((demo.live, demo.timed)):
            c, t = await start_bidders(ws_url, session, pace, seed_n * 10 + n)
            clients += c
            tasks += t
        if demo.hands_on is not None:
            # bots compete with the person; the first bidder is the person's
            rivals = replace(demo.hands_on, bidders=demo.hands_on.bidders[1:])
            c, t = await start_bidders(ws_url, rivals, pace, seed_n * 10 + 2)
            clients += c
            tasks += t
        await asyncio.gather(
            run_live_auctioneer(ws_url, demo.live, pace, progress),
            run_timed_session(ws_url, demo.timed, pace, progress),
        )
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for client in clients:
            with contextlib.suppress(Exception):
                await client.close()


async def wait_settled(
    http: AuctionHTTP, demo: SeededDemo, timeout: float, progress: Callable[[str], None]
) -> None:
    """Poll until every lot is sold/passed and every sold lot's registration is handed off."""
    lot_ids = [lot.id for s in (demo.live, demo.timed) for lot in s.lots]
    waiting = set(lot_ids)
    deadline = time.monotonic() + timeout
    while waiting:
        for lot_id in sorted(waiting):
            lot = await http.lot(lot_id)
            status = lot.get("status")
            if status == "passed" or status == "withdrawn":
                waiting.discard(lot_id)
            elif status == "sold":
                reg = await http.registration_status(lot_id)
                if reg is not None and reg.get("status") in SETTLED_REGISTRATION:
                    waiting.discard(lot_id)
        if not waiting:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"以下标的未在 {timeout:.0f} 秒内完成结算/登记: {sorted(waiting)}")
        await asyncio.sleep(0.5)
    for session in (demo.live, demo.timed):
        results = await http.results(session.id)
        total = sum(int(r["amount_fen"]) for r in results)
        progress(
            f"成交公示 {session.name}: 成交 {len(results)}/{len(session.lots)} 件，"
            f"成交总额 {wan(total)}"
        )
        progress(_registrations_line(session.name, results))
    await settle_deposits(http, demo, progress)


def _registrations_line(name: str, results: list[dict[str, object]]) -> str:
    """合同登记 of a session's sold lots, from their results: how many 已登记 (with their
    numbers), 待登记 and 未予登记."""
    shown: dict[str, list[str]] = {}
    for r in results:
        reg = r.get("registration")
        if not isinstance(reg, dict):
            shown.setdefault("待登记", []).append(f"#{r['lot_id']}")
            continue
        word = str(reg.get("status_text") or reg.get("status"))
        detail = reg.get("registration_no") or reg.get("reason") or ""
        shown.setdefault(word, []).append(f"#{r['lot_id']} {detail}".strip())
    parts = [f"{word} {len(lots)} 件 ({'; '.join(lots)})" for word, lots in sorted(shown.items())]
    return f"合同登记 {name}: " + ("，".join(parts) if parts else "无成交")


async def settle_deposits(
    http: AuctionHTTP, demo: SeededDemo, progress: Callable[[str], None]
) -> None:
    """After the session: winners' deposits applied, the others released (退还), then the money
    check per market: Σ confirmed = Σ held + released + applied + forfeited, in integer fen."""
    for session in (demo.live, demo.timed):
        summary = await http.request("POST", f"/api/v1/sessions/{session.id}/deposits/settle")
        progress(
            f"保证金结算 {session.name}: {summary['applied']} 笔转为价款 "
            f"（{wan(int(summary['applied_fen']))}），{summary['released']} 笔退还 "
            f"（{wan(int(summary['released_fen']))}）"
        )
    ledger = await http.request("GET", f"/api/v1/markets/{PROVINCE_CODE}/ledger")
    for market in ledger["markets"]:
        if not market["received_fen"]:
            continue
        b = market["balances"]
        funded = sum(b[k] for k in ("confirmed", "held", "released", "applied", "forfeited"))
        progress(
            f"保证金对账 {market['market_code']}: 收到 {wan(market['received_fen'])} = "
            f"在押 {wan(b['confirmed'] + b['held'])} + 退还 {wan(b['released'])} + "
            f"转价款 {wan(b['applied'])} + 没收 {wan(b['forfeited'])} "
            f"（合计 {wan(funded)}）{'✓ 平衡' if market['conserved'] else '✗ 不平衡'}"
        )
    if not ledger["conserved"]:
        raise RuntimeError("保证金对账不平衡: 见上")


async def run_demo(
    base_url: str,
    admin_token: str,
    *,
    fast: bool,
    once: bool,
    progress: Callable[[str], None],
) -> None:
    """Seed and run the demo (see module docstring)."""
    pace = Pace.fast() if fast else Pace.normal()
    round_no = 0
    async with AuctionHTTP(base_url, admin_token) as http:
        await _wait_healthy(http)
        while True:
            round_no += 1
            demo = await seed(http, timed=pace.timed, progress=progress,
                              with_hands_on=not once and round_no == 1)
            _announce(base_url, demo, progress)
            await _run_round(base_url, demo, pace, progress, round_no)
            if once:
                await wait_settled(http, demo, pace.settle_timeout_s, progress)
                progress("演示结束: 全部标的已结算，成交标的已移交技术合同认定登记")
                return
            progress(f"本轮结束，{pace.idle_between_rounds_s:.0f} 秒后开始新一轮演示场次")
            await asyncio.sleep(pace.idle_between_rounds_s)
