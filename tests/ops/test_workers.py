"""``auction serve --workers 2`` (issue 17 item 5): two server processes on one port share a
sale. Viewers connected to either process see every event of a live and a timed lot, in order;
the timed lot closes by the clock and each lot is settled exactly once; SIGTERM stops both."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import psutil
import pytest
import redis.asyncio as aioredis

from auction.rooms.keys import Keys
from auction.settings import Settings
from tests.e2e.harness import Raw, Server, create_sale, raw_client
from tests.ops.conftest import Process, run_auction, serving

pytestmark = pytest.mark.slow

TERMINAL = ("sold", "passed", "withdrawn")
BAD_WORDS = ("Traceback", "Task exception", "Exception in", " CRITICAL ")


def worker_pids(process: Process) -> list[int]:
    """The supervisor's worker processes (not multiprocessing's resource tracker)."""
    children = psutil.Process(process.proc.pid).children()
    return sorted(c.pid for c in children if "spawn_main" in " ".join(c.cmdline()))


def worker_of(pids: list[int], port: int, client_port: int) -> int | None:
    """The worker holding the server side of the client's TCP connection from ``client_port``."""
    for pid in pids:
        for conn in psutil.Process(pid).net_connections(kind="tcp"):
            if conn.laddr and conn.laddr.port == port and conn.raddr and \
                    conn.raddr.port == client_port:
                return pid
    return None


@contextlib.asynccontextmanager
async def viewers_on_both(server: Server, process: Process, pids: list[int], *,
                          each: int = 2) -> AsyncIterator[dict[int, list[Raw]]]:
    """Anonymous viewers, opened until each worker holds ``each`` of them: worker pid →
    its viewers."""
    by_worker: dict[int, list[Raw]] = {pid: [] for pid in pids}
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(40):
            if all(len(v) >= each for v in by_worker.values()):
                break
            address = ".".join(str(secrets.randbelow(250) + 1) for _ in range(3))
            address = f"10.{address}"
            raw = await stack.enter_async_context(raw_client(server, address=address))
            client_port = raw.ws.local_address[1]
            pid = None
            for _ in range(20):  # the accept may not be visible in /proc at once
                pid = worker_of(pids, process.port, client_port)
                if pid is not None:
                    break
                await asyncio.sleep(0.05)
            assert pid is not None, f"no worker holds the connection from port {client_port}"
            by_worker[pid].append(raw)
        assert all(len(v) >= each for v in by_worker.values()), {
            pid: len(v) for pid, v in by_worker.items()}
        yield by_worker


async def watch_until_closed(viewer: Raw, lots: list[int], timeout: float = 30) -> None:
    """Read the viewer's frames until every lot of ``lots`` has shown a terminal event."""
    async with asyncio.timeout(timeout):
        while not all(any(e["kind"] in TERMINAL for e in viewer.events(lot)) for lot in lots):
            await viewer.recv(timeout)


async def ack(client: Raw, key: str) -> dict[str, Any]:
    return await client.until(lambda m: m.get("t") in ("ack", "nack") and m.get("key") == key)


async def test_two_workers_serve_one_sale_settled_once(
    auction_env: dict[str, str], database_url: str, redis_url: str
) -> None:
    """`auction serve --workers 2`: viewers on either worker see all events of a live and a
    timed lot in order; the timed lot closes by the clock; each lot has exactly one result and
    one outbox row; one process holds the drainer lease; SIGTERM stops all with exit code 0."""
    auction_env["AUCTION_TRUSTED_PROXIES"] = "127.0.0.1"  # each viewer from its own address
    async with serving(auction_env, "--workers", "2", timeout=90) as process:
        assert "2 个工作进程" in process.stderr()
        pids = worker_pids(process)
        assert len(pids) == 2, process.stderr()
        server = Server(process.base, Settings.from_env(auction_env))
        live = await create_sale(server, mode="live", bidders=2)
        timed = await create_sale(server, mode="timed", bidders=1, duration_s=3, window_s=0,
                                  extension_s=0)
        lots = [live.lots[0], timed.lots[0]]
        async with viewers_on_both(server, process, pids) as by_worker:
            viewers = [v for vs in by_worker.values() for v in vs]
            for viewer in viewers:
                for lot in lots:
                    await viewer.send(t="sub", lot=lot)
                    await viewer.until(lambda m, lot=lot: m["t"] == "snapshot"
                                       and m["lot"] == lot)
            async with (
                raw_client(server, live.auctioneer) as console,
                raw_client(server, timed.auctioneer) as timed_console,
                raw_client(server, live.tokens[0]) as bidder,
                raw_client(server, timed.tokens[0]) as timed_bidder,
            ):
                await timed_console.send(t="cmd", lot=timed.lots[0], op="open", key="o")
                assert (await ack(timed_console, "o"))["t"] == "ack"
                await timed_bidder.send(t="bid", lot=timed.lots[0], amount=1_000_000, key="t1")
                assert (await ack(timed_bidder, "t1"))["t"] == "ack"
                await console.send(t="cmd", lot=live.lots[0], op="open", key="o")
                assert (await ack(console, "o"))["t"] == "ack"
                await bidder.send(t="bid", lot=live.lots[0], amount=1_000_000, key="b1")
                assert (await ack(bidder, "b1"))["t"] == "ack"
                await console.send(t="cmd", lot=live.lots[0], op="hammer", key="h")
                assert (await ack(console, "h"))["t"] == "ack"
                await asyncio.gather(*(watch_until_closed(v, lots) for v in viewers))

            seen = {(lot, i): [(e["seq"], e["kind"]) for e in v.events(lot)]
                    for i, v in enumerate(viewers) for lot in lots}
            for lot in lots:
                first = seen[(lot, 0)]
                assert [seq for seq, _ in first] == list(range(1, len(first) + 1)), first
                assert [kind for _, kind in first] == ["opened", "bid", "sold"], first
                assert all(seen[(lot, i)] == first for i in range(len(viewers))), seen

        pg = await asyncpg.connect(database_url)
        try:
            async with asyncio.timeout(20):
                while True:
                    rows = await pg.fetch(
                        "SELECT l.id, (SELECT count(*) FROM lot_results r WHERE r.lot_id = l.id)"
                        " AS results, (SELECT count(*) FROM registration_outbox o"
                        " WHERE o.lot_id = l.id) AS outbox FROM lots l"
                        " WHERE l.id = ANY($1::bigint[]) ORDER BY l.id", lots)
                    if all(r["results"] and r["outbox"] for r in rows):
                        break
                    await asyncio.sleep(0.1)
        finally:
            await pg.close()
        assert [(r["results"], r["outbox"]) for r in rows] == [(1, 1), (1, 1)]
        for lot in lots:  # settled by one process, once (the other found nothing to do)
            assert process.stderr().count(f"lot {lot} settled: sold") == 1, process.stderr()
        client = aioredis.Redis.from_url(redis_url)
        try:
            holder = await client.get(
                Keys(auction_env["AUCTION_REDIS_NAMESPACE"]).lease("drainer"))
            assert holder is not None
        finally:
            await client.aclose()
        assert await process.stop() == 0, process.stderr()
        assert all(not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"
                   for pid in pids)
    text = process.stderr()
    for word in BAD_WORDS:
        assert word not in text, f"{word!r} in stderr:\n{text}"


@pytest.mark.parametrize(
    "given", [("--workers", "0"), ("--workers", "65"), ("AUCTION_WORKERS", "x")],
    ids=["flag 0", "flag 65", "env not a number"])
async def test_a_bad_worker_count_is_one_line_and_exit_2(
    auction_env: dict[str, str], given: tuple[str, str]
) -> None:
    """A worker count outside 1–64 (flag or AUCTION_WORKERS) is refused before anything starts."""
    name, value = given
    args = ["serve"]
    if name.startswith("--"):
        args += [name, value]
    else:
        auction_env[name] = value
    out = await asyncio.to_thread(run_auction, args, auction_env)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "workers" in lines[0].lower(), out.stderr
    assert "已启动" not in out.stderr
