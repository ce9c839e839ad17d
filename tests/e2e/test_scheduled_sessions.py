"""A timed session that runs itself (issue 15 item 1), with two `auction serve` processes sharing
PostgreSQL and Redis and one of them killed (SIGKILL: no clean-up, its scheduler lease left to
expire) before the session starts and started again while it runs: the lots open by themselves
at the session's start, each exactly once; they close in running order at the session end plus
the gap, each with its own extension, at most ``max_extensions`` times and never after
``hard_end_at``; nobody opens a lot before its time (``not_yet``); the session goes
scheduled → running → finished."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from auction.domain.schedule import CHINA
from auction.settings import Settings
from tests.codes import reserve
from tests.e2e.harness import ADMIN, Enrolled, Server, enrol, free_port, raw_client, uscc
from tests.e2e.test_live_auction import wait_for

START, INC = 1_000_000, 10_000
GAP_S, WINDOW_S, EXTENSION_S = 3, 3, 4


class Processes:
    """`auction serve` subprocesses of one namespace: start, kill, start again on a port."""

    def __init__(self, settings: Settings, tmp_path: Any) -> None:
        self.settings = settings
        self.env = {
            **os.environ,
            "DATABASE_URL": settings.database_url or "", "REDIS_URL": settings.redis_url or "",
            "AUCTION_SECRET": settings.secret.value, "AUCTION_ADMIN_TOKEN": "test-admin-token",
            "AUCTION_REDIS_NAMESPACE": f"test-{uuid.uuid4().hex[:10]}",
            "AUCTION_DATA_DIR": str(tmp_path), "AUCTION_REOPEN_WINDOW_S": "0",
            "AUCTION_LOG_LEVEL": "WARNING", "AUCTION_PASSWORD_PROFILE": "fast",
            "AUCTION_TRUSTED_PROXIES": "127.0.0.1", "AUCTION_SCHEDULER_INTERVAL_MS": "200",
        }
        self.procs: dict[int, subprocess.Popen[bytes]] = {}

    async def start(self, port: int | None = None) -> Server:
        port = port or free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "auction", "serve", "--port", str(port)], env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs[port] = proc
        server = Server(f"http://127.0.0.1:{port}", self.settings)
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                assert proc.poll() is None, "server died while starting"
                try:
                    if (await http.get(server.base + "/healthz")).status_code == 200:
                        return server
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError("server did not start")

    def kill(self, server: Server) -> None:
        port = int(server.base.rsplit(":", 1)[1])
        proc = self.procs.pop(port)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            proc.wait(10)


@pytest.fixture
async def processes(settings: Settings, tmp_path: Any) -> AsyncIterator[Processes]:
    procs = Processes(settings, tmp_path)
    try:
        yield procs
    finally:
        procs.stop_all()
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.redis_url or "")
        async for key in redis.scan_iter(f"{procs.env['AUCTION_REDIS_NAMESPACE']}:*"):
            await redis.delete(key)
        await redis.aclose()


def iso(at: datetime) -> str:
    return at.astimezone(CHINA).isoformat(timespec="milliseconds")


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


async def sleep_until(at: datetime) -> None:
    await asyncio.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()))


async def test_a_timed_session_runs_itself_across_a_restart(processes: Processes) -> None:
    a = await processes.start()
    b = await processes.start()
    tag = uuid.uuid4().int % 10**6
    now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    starts, ends = now + timedelta(seconds=4), now + timedelta(seconds=16)
    hard = ends + timedelta(seconds=5)  # the third lot's close (ends + 6 s) is cut to it
    async with httpx.AsyncClient(base_url=a.base, headers=ADMIN, timeout=10) as http:
        code = f"37{10 + tag % 90:02d}00"
        reserve(code)
        if code not in {m["code"] for m in (await http.get("/api/v1/markets")).json()["markets"]}:
            r = await http.post("/api/v1/markets", json={
                "code": code, "slug": f"m-{tag}", "name": f"测试市场{tag}", "level": "city"})
            assert r.status_code == 201, r.text
        r = await http.post("/api/v1/sessions", json={
            "market_code": code, "name": f"自动场次{tag}", "season": "special", "mode": "timed",
            "starts_at": iso(starts), "ends_at": iso(ends), "close_gap_s": GAP_S,
            "max_extensions": 1, "hard_end_at": iso(hard), "extension_window_s": WINDOW_S,
            "extension_s": EXTENSION_S})
        assert r.status_code == 201, r.text
        session = r.json()["id"]
        lots = []
        for i in range(3):
            r = await http.post(f"/api/v1/sessions/{session}/lots", json={
                "title": f"自动开拍测试技术{i}", "result_type": "专利", "ip_type": "发明专利",
                "technology_field": "电子信息", "transaction_mode": "转让",
                "contract_type": "技术转让", "holder_name": "山东测试大学",
                "holder_uscc": uscc(800_000 + tag), "start_price_fen": START,
                "increment_fen": INC, "duration_s": 60})
            assert r.status_code == 201, r.text
            lots.append(r.json()["id"])
        bidders: list[Enrolled] = [
            await enrol(http, session, name=f"自动场次竞买人{tag}-{n}",
                        uscc_code=uscc(tag * 100 + 50 + n), deposit_fen=START // 10)
            for n in range(2)]
        early = await http.post(f"/api/v1/lots/{lots[0]}/commands",
                                json={"op": "open", "key": "too-early"})
        assert early.status_code == 409 and early.json()["error"]["code"] == "not_yet"
        assert (await http.get(f"/api/v1/sessions/{session}")).json()["status"] == "scheduled"
    processes.kill(a)  # whatever it held (the scheduler's lease too) is left to expire

    planned = [ms(ends), ms(ends) + GAP_S * 1000, ms(hard)]
    async with raw_client(b) as watcher:
        for lot in lots:
            await watcher.send(t="sub", lot=lot)
            await watcher.until(lambda m: m["t"] == "snapshot")

        def first(lot: int, kind: str) -> Callable[[dict[str, Any]], bool]:
            return lambda m: m.get("t") == "ev" and m["lot"] == lot and m["kind"] == kind

        for lot, close in zip(lots, planned, strict=True):
            opened = await watcher.until(first(lot, "opened"), timeout=15)
            assert opened["at"] >= ms(starts)
            assert (opened["ends_at"], opened["max_ext"], opened["hard_end"]) == (
                close, 1, ms(hard))
        a = await processes.start(int(a.base.rsplit(":", 1)[1]))  # back, mid-session

        async with httpx.AsyncClient(base_url=a.base) as http:
            async def running() -> bool:
                got = (await http.get(f"/api/v1/sessions/{session}")).json()
                return bool(got["status"] == "running")
            await wait_for(running, timeout=5)

            async def held() -> bool:  # bidding started: the deposits are held
                got = (await http.get(f"/api/v1/sessions/{session}/deposits",
                                      headers=ADMIN)).json()["deposits"]
                return len(got) == 2 and all(d["state"] == "held" for d in got)
            await wait_for(held, timeout=5)

        servers = (a, b)
        async with raw_client(servers[0], bidders[0].token) as one, \
                raw_client(servers[1], bidders[1].token) as two:
            async def bid(who: Any, lot: int, amount: int, key: str) -> dict[str, Any]:
                await who.send(t="bid", lot=lot, amount=amount, key=key)
                ack = await who.until(lambda m: m.get("key") == key)
                assert ack["t"] == "ack", ack
                return ack

            # lot 1: a bid in the last window extends (the one extension allowed), the next
            # bid in the window does not
            await sleep_until(ends - timedelta(seconds=2))
            first_bid = await bid(one, lots[0], START, "l1-a")
            ext = await watcher.until(first(lots[0], "extended"))
            assert ext["ends_at"] == first_bid["at"] + EXTENSION_S * 1000
            await bid(two, lots[0], START + INC, "l1-b")
            # lot 2: a bid 1.5 s before its close is extended to the hard end, not beyond
            await sleep_until(ends + timedelta(seconds=GAP_S - 1.5))
            await bid(one, lots[1], START, "l2-a")
            ext2 = await watcher.until(first(lots[1], "extended"))
            assert ext2["ends_at"] == ms(hard)

            sold1 = await watcher.until(first(lots[0], "sold"), timeout=10)
            assert sold1["at"] >= ext["ends_at"] and sold1["amount"] == START + INC
            sold2 = await watcher.until(first(lots[1], "sold"), timeout=10)
            assert sold2["at"] >= ms(hard)
            passed3 = await watcher.until(first(lots[2], "passed"), timeout=10)
            assert passed3["at"] >= ms(hard) and passed3["reason"] == "no_bids"
        for lot in lots:  # opened exactly once, extended at most once, closed once
            kinds = [e["kind"] for e in watcher.events(lot)]
            assert kinds.count("opened") == 1 and kinds.count("extended") <= 1
            assert kinds[-1] in ("sold", "passed")
        assert [e["kind"] for e in watcher.events(lots[0])].count("extended") == 1

    async with httpx.AsyncClient(base_url=b.base) as http:
        async def finished() -> bool:
            got = (await http.get(f"/api/v1/sessions/{session}")).json()
            return bool(got["status"] == "finished")
        await wait_for(finished, timeout=15)
        results = [(await http.get(f"/api/v1/lots/{lot}")).json()["result"] for lot in lots]
        assert [r["outcome"] for r in results] == ["sold", "sold", "passed"]
