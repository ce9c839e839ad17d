"""``python -m loadtests.bench --json``: the engine's benchmark (docs/performance.md).

Uses ``DATABASE_URL`` / ``REDIS_URL``; creates its own database ``auction_bench_<hex>`` and
Redis namespace, starts ``python -m auction serve`` on free ports, seeds a session with bidders
through the HTTP API, runs every scenario ``--runs`` times (load generators in separate
processes), prints progress on stderr and, last on stdout, one JSON object with the medians and
the parameters used. Everything it created is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing as mp
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from auction.rooms import connection
from loadtests.seed import START_FEN, Sale, new_sale
from loadtests.stack import ROOT, ServerProc, Stack, progress, server_pids
from loadtests.workers import child_main
from loadtests.wsclient import Session, client_address

SCENARIOS = ("reference", "settle", "connections", "hot_lot", "ack", "fanout", "many_lots",
             "steps")
#: what a run does unless ``--scenarios`` says otherwise (``steps`` takes minutes: asked for)
DEFAULT_SCENARIOS = ("reference", "settle", "connections", "hot_lot", "ack", "fanout",
                     "many_lots")


@dataclass
class Params:
    runs: int = 3
    duration_s: float = 5.0
    warmup_s: float = 1.0
    bidders: int = 300
    hot_lot_bidders: int = 300
    hot_lot_procs: int = 1
    per_conn_rate: float = 18.0
    offered_bids_per_s: float = 1000.0
    ack_lots: int = 10
    ack_bidders: int = 100
    #: ``steps``: issue 17's side-by-side table, one open-loop step per offered rate (bids/s),
    #: each ``steps_s`` long on ``steps_lots`` fresh lots from ``steps_bidders`` sockets
    steps: str = "1000,2000,3000,4000"
    steps_s: float = 20.0
    steps_lots: int = 1
    steps_bidders: int = 400
    fanout_viewers: int = 2000
    fanout_viewer_procs: int = 2
    fanout_bids_per_s: float = 50.0  # × 2,000 viewers = 100,000 deliveries/s offered
    many_lots: int = 100
    many_lots_procs: int = 2
    connections: int = 10_000
    connection_procs: int = 2
    settle_lots: int = 1000
    ws: str = ""
    server_root: str = ""
    #: a directory: py-spy records the server (collapsed stacks) during each scenario's first run
    profile: str = ""
    #: server processes (``auction serve --workers``), comma-separated: every scenario is run
    #: with each count in turn (e.g. ``1,2``) and the result has the figures of each
    workers: str = "1"
    #: 1: pin a one-process server to CPU 0 and the generators to the other CPUs while a
    #: scenario runs (issue 17's side-by-side set-up: "each server pinned to one core, the
    #: generator on the other"); Redis and PostgreSQL are left where they are
    pin: int = 0

    @classmethod
    def quick(cls) -> Params:
        """Tiny sizes for the smoke test (tests/loadtests): correctness, not speed."""
        return cls(runs=1, duration_s=1.0, warmup_s=0.3, bidders=8, hot_lot_bidders=6,
                   offered_bids_per_s=40, ack_lots=2, ack_bidders=4, steps="20,40",
                   steps_s=1.0, steps_bidders=4, fanout_viewers=10,
                   fanout_bids_per_s=10, many_lots=4, connections=20, settle_lots=10)


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))]


def median(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(statistics.median(vals), 2) if vals else None


# --- generator processes ------------------------------------------------------------------------

class Gen:
    def __init__(self, kind: str, **kwargs: Any) -> None:
        ctx = mp.get_context("spawn")
        self.pipe, child = ctx.Pipe()
        self.proc = ctx.Process(target=child_main, args=(kind, kwargs, child), daemon=True)
        self.proc.start()
        self.kind = kind

    def recv(self, timeout: float) -> tuple[str, Any]:
        if not self.pipe.poll(timeout):
            raise TimeoutError(f"{self.kind} generator gave no answer in {timeout} s")
        msg = self.pipe.recv()
        if msg[0] == "error":
            raise RuntimeError(f"{self.kind} generator failed: {msg[1]}")
        return msg  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self.proc.is_alive():
            self.proc.terminate()
        self.proc.join(5)


class CpuMeter:
    """CPU seconds of the server(s), the generators and Redis over a measured interval."""

    def __init__(self, servers: list[ServerProc], gens: list[Gen], redis: Redis) -> None:
        self.procs = {"server": [psutil.Process(pid) for s in servers
                                 for pid in dict.fromkeys([s.pid, *server_pids(s)])],
                      "generators": [psutil.Process(g.proc.pid) for g in gens if g.proc.pid]}
        self.redis = redis
        self.t0 = 0.0
        self.c0: dict[str, float] = {}

    def _cpu(self) -> dict[str, float]:
        out = {}
        for name, procs in self.procs.items():
            total = 0.0
            for p in procs:
                try:
                    t = p.cpu_times()
                    total += t.user + t.system
                except psutil.Error:
                    pass
            out[name] = total
        return out

    async def _redis_cpu(self) -> float:
        if isinstance(self.redis, RedisCluster):  # every node's, summed
            infos = await self.redis.info("cpu", target_nodes=RedisCluster.ALL_NODES)
            return sum(float(i["used_cpu_user"]) + float(i["used_cpu_sys"])
                       for i in infos.values())
        info = await self.redis.info("cpu")
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])

    def _busy(self) -> float:
        t = psutil.cpu_times()
        return float(t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, "steal", 0.0))

    async def start(self) -> None:
        self.t0 = time.monotonic()
        self.c0 = self._cpu()
        self.c0["machine"] = self._busy()
        self.c0["redis"] = await self._redis_cpu()

    async def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self.t0
        c1 = self._cpu()
        c1["redis"] = await self._redis_cpu()
        c1["machine"] = self._busy()
        out = {f"{k}_cores": round((c1[k] - self.c0[k]) / wall, 2) for k in c1}
        # CPU used by everything else on the machine (other processes share the 2 cores)
        out["others_cores"] = round(out["machine_cores"] - out["server_cores"]
                                    - out["generators_cores"] - out["redis_cores"], 2)
        out["loadavg_1m"] = round(os.getloadavg()[0], 2)
        out["server_cpu_s"] = round(c1["server"] - self.c0["server"], 3)
        return out


def _pin(servers: list[ServerProc], gens: list[Gen]) -> None:
    """``--pin 1``: a one-process server on CPU 0, the generators on the other CPUs."""
    cpus = sorted(psutil.Process().cpu_affinity() or [])
    if len(cpus) < 2:
        return
    for server in servers:
        if server.workers <= 1:
            psutil.Process(server.pid).cpu_affinity(cpus[:1])
    for g in gens:
        if g.proc.pid:
            psutil.Process(g.proc.pid).cpu_affinity(cpus[1:])


async def run_gens(gens: list[Gen], stack: Stack, redis: Redis, *, ready_timeout: float = 180,
                   run_timeout: float = 120, lead: float = 0.5,
                   between: Any = None, profile: str = "",
                   profile_s: float = 0.0, pin: int = 0) -> tuple[list[Any], dict[str, float], Any]:
    """Wait until every generator is ready, optionally run ``between()`` (e.g. measure RSS),
    start them together, and collect their results with the CPU shares of the interval."""
    loop = asyncio.get_running_loop()
    extra = None
    try:
        for g in gens:
            await loop.run_in_executor(None, g.recv, ready_timeout)
        if between is not None:
            extra = await between()
        if pin:
            _pin(stack.servers, gens)
        meter = CpuMeter(stack.servers, gens, redis)
        start_at = time.time() + lead
        for g in gens:
            g.pipe.send(("go", start_at))
        await asyncio.sleep(lead)
        spy = None
        if profile and stack.servers:
            several = ["--subprocesses"] if stack.servers[0].workers > 1 else []
            spy = subprocess.Popen(
                [str(Path(sys.executable).with_name("py-spy")), "record", "--pid",
                 str(stack.servers[0].pid), *several, "--duration", str(max(1, int(profile_s))),
                 "--format", "raw", "--rate", "200", "--nonblocking", "-o", profile],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await meter.start()
        results = []
        for g in gens:
            results.append((await loop.run_in_executor(None, g.recv, run_timeout))[1])
        cpu = await meter.stop()
        if spy is not None:
            spy.wait(60)
    finally:
        for g in gens:
            g.stop()
    return results, cpu, extra


def fanout_drivers(p: Params) -> int:
    """Bidders the fan-out driver rotates: at least 4, at most 10 bids/s each."""
    return max(4, math.ceil(p.fanout_bids_per_s / 10))


def cpu_per_bid(cpu: dict[str, float], codes: Counter[str]) -> dict[str, float | None]:
    """Server CPU (µs) per accepted bid and per answered bid over the whole run (warm-up and
    window: ``codes`` counts every answer of the run, ``server_cpu_s`` the same interval)."""
    acks = codes.get("ack", 0)
    answered = sum(n for code, n in codes.items() if code not in ("timeout", "unanswered"))
    spent = cpu["server_cpu_s"] * 1e6
    return {"server_cpu_us_per_ack": round(spent / acks, 1) if acks else None,
            "server_cpu_us_per_answer": round(spent / answered, 1) if answered else None}


def split(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[i::parts] for i in range(parts) if items[i::parts]]


# --- scenarios ------------------------------------------------------------------------------------

class Bench:
    def __init__(self, stack: Stack, server: ServerProc, sale: Sale, p: Params, redis: Redis,
                 pg: asyncpg.Connection) -> None:
        self.stack, self.server, self.sale, self.p = stack, server, sale, p
        self.redis, self.pg = redis, pg
        self.profile_to = ""

    def _prof(self) -> dict[str, Any]:
        return {"profile": self.profile_to,
                "profile_s": self.p.warmup_s + self.p.duration_s, "pin": self.p.pin}

    async def reference(self) -> dict[str, Any]:
        """The same-run references (loadtests/reference.py): a bid-shaped Lua script called by
        64 redis-py coroutines, and a naive PostgreSQL row-lock engine, each in its own process
        against this run's Redis and database, one after the other (the server idles)."""
        p = self.p
        out: dict[str, Any] = {}
        for kind, url in (("redis", self.stack.redis_url), ("postgres", self.stack.bench_db_url)):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "loadtests.reference", kind, "--url", url,
                "--namespace", self.stack.namespace, "--warmup", str(p.warmup_s),
                "--duration", str(p.duration_s), cwd=ROOT,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            try:
                stdout, stderr = await asyncio.wait_for(
                    proc.communicate(), p.warmup_s + p.duration_s + 60)
            except TimeoutError:
                proc.kill()
                await proc.wait()
                raise
            if proc.returncode != 0:
                raise RuntimeError(f"{kind} reference failed: {stderr.decode()[-2000:]}")
            r = json.loads(stdout.decode().strip().splitlines()[-1])
            for key in ("calls_per_s", "accepted_per_s", "p50_ms", "p99_ms", "client_cores",
                        "concurrency", "codes"):
                out[f"{kind}_{key}"] = r[key]
        return out

    async def hot_lot(self) -> dict[str, Any]:
        p = self.p
        (lot,) = await self.sale.add_lots(1)
        tokens = self.sale.tokens[: p.hot_lot_bidders]
        gens = [Gen("ladder", url=self.server.ws_url, tokens=part, lots=[lot],
                    duration=p.duration_s, warmup=p.warmup_s, per_conn_rate=p.per_conn_rate)
                for part in split(tokens, p.hot_lot_procs)]
        results, cpu, _ = await run_gens(gens, self.stack, self.redis, **self._prof())
        acks = sum(r["acks_in_window"] for r in results)
        codes: Counter[str] = Counter()
        lat: list[float] = []
        for r in results:
            codes.update(r["codes"])
            lat += r["ack_latency_ms"]
        return {"bids_per_s": acks / p.duration_s, "codes": dict(codes), "cpu": cpu,
                "closed_loop_ack_p50_ms": pct(lat, 50), "closed_loop_ack_p99_ms": pct(lat, 99),
                **cpu_per_bid(cpu, codes)}

    async def many_lots(self) -> dict[str, Any]:
        p = self.p
        lots = await self.sale.add_lots(p.many_lots)
        tokens = self.sale.tokens[: p.hot_lot_bidders]
        procs = max(1, min(p.many_lots_procs, len(lots)))
        gens = [Gen("ladder", url=self.server.ws_url, tokens=tk, lots=ls,
                    duration=p.duration_s, warmup=p.warmup_s, per_conn_rate=p.per_conn_rate)
                for tk, ls in zip(split(tokens, procs), split(lots, procs), strict=True)]
        results, cpu, _ = await run_gens(gens, self.stack, self.redis, **self._prof())
        acks = sum(r["acks_in_window"] for r in results)
        codes: Counter[str] = Counter()
        for r in results:
            codes.update(r["codes"])
        return {"bids_per_s": acks / p.duration_s, "codes": dict(codes), "cpu": cpu}

    async def _open_loop(self, lots: list[int], bidders: int, rate: float, duration: float,
                         **run: Any) -> dict[str, Any]:
        """One open-loop run (``workers.open_loop_bidders``) on ``lots`` from ``bidders``
        sockets: its latencies from each bid's due time, answer codes and CPU shares."""
        gens = [Gen("open_loop", url=self.server.ws_url, tokens=self.sale.tokens[:bidders],
                    lots=lots, rate=rate, duration=duration, warmup=self.p.warmup_s)]
        results, cpu, _ = await run_gens(gens, self.stack, self.redis, **run)
        r = results[0]
        lat = r["latency_ms"]
        return {"p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99), "max_ms": pct(lat, 100),
                "samples": len(lat), "codes": r["codes"], "cpu": cpu,
                "accepted_per_s": r["measured_acks"] / duration,
                "answered_within_1s": sum(1 for v in lat if v <= 1000) / len(lat) if lat else None,
                **cpu_per_bid(cpu, Counter(r["codes"]))}

    async def ack(self) -> dict[str, Any]:
        p = self.p
        lots = await self.sale.add_lots(p.ack_lots)
        return await self._open_loop(lots, p.ack_bidders, p.offered_bids_per_s, p.duration_s,
                                     **self._prof())

    async def steps(self) -> dict[str, Any]:
        """Issue 17's table: the offered rates one after another, each on fresh lots (so every
        step starts from the same price), each step its own open-loop run."""
        p = self.p
        out: dict[str, Any] = {}
        for rate in step_rates(p.steps):
            lots = await self.sale.add_lots(p.steps_lots)
            # --profile: one py-spy profile per step, named by its offered rate
            spy = self.profile_to.removesuffix(".txt") + f"-{rate}.txt" if self.profile_to else ""
            row = await self._open_loop(lots, p.steps_bidders, rate, p.steps_s, pin=p.pin,
                                        run_timeout=p.steps_s + 120, profile=spy,
                                        profile_s=p.warmup_s + p.steps_s)
            cpu = row.pop("cpu")
            out[str(rate)] = {"offered_per_s": rate, **row,
                              "accepted_per_s": round(row["accepted_per_s"], 1),
                              **{k: cpu.get(k) for k in ("server_cores", "generators_cores",
                                                         "redis_cores", "others_cores",
                                                         "machine_cores")}}
            await asyncio.sleep(1.0)
        return out

    async def fanout(self) -> dict[str, Any]:
        p = self.p
        (lot,) = await self.sale.add_lots(1)
        per = split(list(range(p.fanout_viewers)), p.fanout_viewer_procs)
        gens = [Gen("viewers", url=self.server.ws_url, n=len(part), lot=lot,
                    duration=p.duration_s, warmup=p.warmup_s) for part in per]
        # ≤ 10 bids/s per driver bidder: a driver that falls behind catches up in bursts, and
        # those must stay under the 20/s per-bidder limit (else `rate_limited`, fewer events)
        drivers = fanout_drivers(p)
        gens.append(Gen("driver", url=self.server.ws_url, tokens=self.sale.tokens[:drivers],
                        lot=lot, rate=p.fanout_bids_per_s, duration=p.duration_s,
                        warmup=p.warmup_s))
        results, cpu, _ = await run_gens(gens, self.stack, self.redis, **self._prof())
        driver = results[-1]
        merged: dict[int, list[float]] = {}
        for r in results[:-1]:
            for seq, (at, last, count) in r["per_seq"].items():
                rec = merged.setdefault(int(seq), [at, last, 0])
                rec[1] = max(rec[1], last)
                rec[2] += count
        window = driver["window_seqs"]
        lat = [merged[s][1] - merged[s][0] for s in window if s in merged]
        delivered = sum(merged[s][2] for s in window if s in merged)
        complete = sum(1 for s in window if s in merged and merged[s][2] >= p.fanout_viewers)
        return {"deliveries_per_s": delivered / p.duration_s, "p99_ms": pct(lat, 99),
                "p50_ms": pct(lat, 50), "events": len(window), "complete_events": complete,
                "viewers": p.fanout_viewers, "driver_codes": driver["codes"],
                "viewer_closes": sum(r["closed"] for r in results[:-1]), "cpu": cpu}

    async def connections(self) -> dict[str, Any]:
        """A fresh server process holds ``connections`` idle websockets (hello + sub)."""
        p = self.p
        server = await self.stack.start_server(self.server.workers)
        try:
            (lot,) = await self.sale.add_lots(1)
            served = [psutil.Process(pid) for pid in server_pids(server)]
            rss_before = sum(proc.memory_info().rss for proc in served) / 2**20
            procs = max(math.ceil(p.connections / 5000),
                        p.connection_procs if p.connections >= 1000 else 1)
            gens = [Gen("idle", url=server.ws_url, n=len(part), lot=lot)
                    for part in split(list(range(p.connections)), procs)]

            async def measure() -> dict[str, float]:
                await asyncio.sleep(1.0)
                return {"rss_mb": sum(proc.memory_info().rss for proc in served) / 2**20,
                        "fds": sum(proc.num_fds() for proc in served)}

            results, _cpu, m = await run_gens(gens, self.stack, self.redis, ready_timeout=300,
                                          between=measure)
            alive = sum(r["alive"] for r in results)
        finally:
            self.stack.stop_server(server)
        return {"connections": alive, "rss_mb": m["rss_mb"], "rss_idle_server_mb": rss_before,
                "server_fds": m["fds"]}

    async def settle(self) -> dict[str, Any]:
        """``settle_lots`` open lots with one bid each, persisted; then all hammered in one
        Redis pipeline (the same ``close.lua`` call the console's hammer makes); the clock
        stops when every ``lot_results`` and ``registration_outbox`` row is in PostgreSQL."""
        from auction.rooms.keys import Keys
        from auction.rooms.service import Rooms

        p = self.p
        n = p.settle_lots
        lots = await self.sale.add_lots(n, concurrency=32)
        await self._one_bid_each(lots)
        # wait until the drainer has persisted opened + bid of every lot
        deadline = time.monotonic() + 120
        while True:
            have = await self.pg.fetchval(
                "SELECT count(*) FROM lot_events WHERE lot_id = ANY($1::bigint[])", lots)
            if have >= 2 * n:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"drainer persisted {have} of {2 * n} events")
            await asyncio.sleep(0.05)
        rooms = Rooms(self.redis, Keys(self.stack.namespace))
        close = rooms.scripts.close
        if not (await self.redis.script_exists(close.sha))[0]:
            await self.redis.script_load(close.source)
        t0 = time.monotonic()
        async with self.redis.pipeline(transaction=False) as pipe:
            for lot in lots:
                # by SHA, loaded above: one round trip for the 1,000 hammers (the script's own
                # call with client=pipe asks Redis whether it has the script, once per call)
                lot_keys = rooms.keys.lot(lot).script_keys()
                # (EVALSHA by name: a cluster pipeline refuses its ``evalsha`` method)
                pipe.execute_command("EVALSHA", close.sha, len(lot_keys), *lot_keys, "hammer",
                                     f"bench-hammer-{lot}")
            replies = await pipe.execute()
        t_closed = time.monotonic() - t0
        sold = sum(1 for r in replies if (r[0] == b"ok" or r[0] == "ok"))
        while True:
            results, outbox = await self.pg.fetchrow(
                "SELECT (SELECT count(*) FROM lot_results WHERE lot_id = ANY($1::bigint[])),"
                " (SELECT count(*) FROM registration_outbox WHERE lot_id = ANY($1::bigint[]))",
                lots)
            if results >= n and outbox >= n:
                break
            if time.monotonic() - t0 > 120:
                raise TimeoutError(f"settled {results}/{n}, outbox {outbox}/{n}")
            await asyncio.sleep(0.01)
        return {"settle_s": time.monotonic() - t0, "close_pipeline_s": t_closed, "sold": sold,
                "lots": n}

    async def _one_bid_each(self, lots: list[int]) -> None:
        tokens = self.sale.tokens
        per_bidder: dict[int, list[int]] = {}
        for i, lot in enumerate(lots):
            per_bidder.setdefault(i % len(tokens), []).append(lot)

        async def bidder(idx: int, mine: list[int]) -> None:
            sess = Session()
            answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
            sess.handler = lambda m: answers.put_nowait(m) if m.get("t") in ("ack", "nack") \
                else None
            await sess.open(self.server.ws_url, tokens[idx], forwarded_for=client_address())
            for j, lot in enumerate(mine):
                if j and j % 15 == 0:
                    await asyncio.sleep(1.0)  # stay under the per-connection rate limit
                sess.send({"t": "bid", "lot": lot, "amount": START_FEN, "key": f"s{lot}"})
                msg = await asyncio.wait_for(answers.get(), 30)
                if msg["t"] != "ack":
                    raise RuntimeError(f"settle seed bid refused: {msg}")
            sess.close()

        sem = asyncio.Semaphore(200)

        async def bounded(idx: int, mine: list[int]) -> None:
            async with sem:
                await bidder(idx, mine)

        await asyncio.gather(*(bounded(i, m) for i, m in per_bidder.items()))


# --- main ---------------------------------------------------------------------------------------

def _redis_opener(redis: Redis, namespace: str) -> Any:
    """Open seeded lots with the rooms service directly (what the console's ``open`` calls):
    the console is limited to 20 commands/s per staff member, too slow to seed 1,000 lots."""
    from auction.rooms.keys import Keys
    from auction.rooms.service import Rooms

    rooms = Rooms(redis, Keys(namespace))

    async def opener(lot: int) -> None:
        await rooms.open(lot, idem=f"bench-open-{lot}")

    return opener


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "mem_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "cpu_model": _cpu_model()}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


async def run(p: Params, scenarios: list[str]) -> dict[str, Any]:
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if not database_url or not redis_url:
        raise SystemExit("DATABASE_URL and REDIS_URL must be set")
    counts = worker_counts(p.workers)
    stack = Stack(database_url, redis_url, ws_impl=p.ws)
    if p.server_root:
        stack.server_root = Path(p.server_root).resolve()
    t_start = time.monotonic()
    by_workers: dict[int, dict[str, list[dict[str, Any]]]] = {}
    redis = connection.connect(redis_url)  # one Redis, or a Redis Cluster (redis+cluster://)
    try:
        await connection.ready(redis)
        progress(f"database {stack.db_name}, redis namespace {stack.namespace}")
        await stack.create_database()
        server = await stack.start_server(counts[0])
        progress(f"server pid {server.pid} on port {server.port} (ws={p.ws or 'default'}, "
                 f"workers {server.workers}, tree {stack.server_root})")
        sale = await new_sale(server.base, stack.admin_token)
        sale.opener = _redis_opener(redis, stack.namespace)
        await sale.add_bidders(max(p.bidders, p.hot_lot_bidders, p.ack_bidders, fanout_drivers(p),
                                   p.steps_bidders if "steps" in scenarios else 0))
        progress(f"seeded session {sale.session_id} with {len(sale.tokens)} bidders")
        pg = await asyncpg.connect(stack.bench_db_url)
        try:
            for n in counts:
                if server.workers != n:  # same database, sale and Redis: another server
                    stack.stop_servers()
                    server = await stack.start_server(n)
                    sale.base = server.base
                    progress(f"server pid {server.pid} on port {server.port}, workers {n}")
                bench = Bench(stack, server, sale, p, redis, pg)
                by_workers[n] = await run_scenarios(bench, p, scenarios, label=f"{n}w")
        finally:
            await pg.close()
    finally:
        stack.stop_servers()
        deleted = await stack.clean_redis()
        await redis.aclose()
        await stack.drop_database()
        progress(f"cleaned up: {deleted} redis keys, database {stack.db_name} dropped")

    summaries = {n: summarize(runs, p) for n, runs in by_workers.items()}
    return {
        **summaries[counts[0]],
        "workers": counts[0],
        "by_workers": {str(n): {**summaries[n], "workers": n} for n in counts},
        "params": asdict(p),
        "scenarios": scenarios,
        "machine": machine(),
        "elapsed_s": round(time.monotonic() - t_start, 1),
        "runs": by_workers[counts[0]],
        "runs_by_workers": {str(n): runs for n, runs in by_workers.items()},
    }


def step_rates(text: str) -> list[int]:
    """``"1000,2000"`` → ``[1000, 2000]``: the offered rates of the ``steps`` scenario."""
    try:
        rates = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        rates = []
    if not rates or any(r < 1 for r in rates):
        raise SystemExit(f"--steps: comma-separated bids/s, each ≥ 1, not {text!r}")
    return rates


def worker_counts(text: str) -> list[int]:
    """``"1,2"`` → ``[1, 2]``: the server process counts to measure, in that order."""
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or any(not 1 <= n <= 64 for n in counts):
        raise SystemExit(f"--workers: comma-separated counts of 1..64, not {text!r}")
    return list(dict.fromkeys(counts))


async def run_scenarios(bench: Bench, p: Params, scenarios: list[str], *, label: str
                        ) -> dict[str, list[dict[str, Any]]]:
    """Every scenario ``p.runs`` times against ``bench``'s server; the runs of each."""
    runs: dict[str, list[dict[str, Any]]] = {s: [] for s in scenarios}
    for name in scenarios:
        for i in range(p.runs):
            t0 = time.monotonic()
            bench.profile_to = ""
            if p.profile and i == 0:
                Path(p.profile).mkdir(parents=True, exist_ok=True)
                bench.profile_to = str(Path(p.profile).resolve() / f"{name}-{label}.txt")
            try:
                result = await getattr(bench, name)()
            except Exception as exc:  # one failed run must not lose the others
                progress(f"{name} run {i + 1} failed: {type(exc).__name__}: {exc}")
                runs[name].append({"error": f"{type(exc).__name__}: {exc}"})
                await asyncio.sleep(3)
                continue
            runs[name].append(result)
            await asyncio.sleep(1.0)  # let the server finish what the run left queued
            brief = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in result.items()}
            progress(f"{name} ({label}) run {i + 1}/{p.runs} ({time.monotonic() - t0:.1f} s): "
                     f"{json.dumps(brief, ensure_ascii=False)}")
    return runs


def summarize(runs: dict[str, list[dict[str, Any]]], p: Params) -> dict[str, Any]:
    """The medians of one server configuration's runs."""

    def med(name: str, key: str) -> float | None:
        return median([r.get(key) for r in runs.get(name, [])])

    hot = med("hot_lot", "bids_per_s")
    reference = med("reference", "redis_calls_per_s")
    return {
        "reference_redis_calls_per_s": reference,
        "reference_postgres_calls_per_s": med("reference", "postgres_calls_per_s"),
        "reference_postgres_accepted_per_s": med("reference", "postgres_accepted_per_s"),
        "hot_lot_vs_redis_reference": round(hot / reference, 2) if hot and reference else None,
        "hot_lot_bids_per_s": hot,
        "hot_lot_cpu_us_per_ack": med("hot_lot", "server_cpu_us_per_ack"),
        "bid_ack_p50_ms": med("ack", "p50_ms"),
        "bid_ack_p99_ms": med("ack", "p99_ms"),
        "ack_accepted_per_s": med("ack", "accepted_per_s"),
        "ack_answered_within_1s": med("ack", "answered_within_1s"),
        "offered_bids_per_s": p.offered_bids_per_s,
        "fanout_deliveries_per_s": med("fanout", "deliveries_per_s"),
        "fanout_p99_ms": med("fanout", "p99_ms"),
        "fanout_viewers": p.fanout_viewers,
        "many_lots_bids_per_s": med("many_lots", "bids_per_s"),
        "many_lots": p.many_lots,
        "connections": med("connections", "connections"),
        "rss_mb": med("connections", "rss_mb"),
        "settle_1000_lots_s": med("settle", "settle_s"),
        "settle_lots": p.settle_lots,
        "steps": step_medians(runs.get("steps", [])),
    }


def step_medians(runs: list[dict[str, Any]]) -> dict[str, dict[str, float | None]] | None:
    """Per offered rate of the ``steps`` scenario, the medians of its runs."""
    good = [r for r in runs if "error" not in r]
    if not good:
        return None
    return {rate: {key: median([r[rate].get(key) for r in good if rate in r])
                   for key in ("accepted_per_s", "p50_ms", "p99_ms", "max_ms",
                               "answered_within_1s", "server_cores")}
            for rate in good[0]}


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.bench")
    parser.add_argument("--json", action="store_true",
                        help="print the result as one JSON object on the last stdout line")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--scenarios", default=",".join(DEFAULT_SCENARIOS),
                        help=f"comma-separated subset of {','.join(SCENARIOS)}")
    defaults = Params()
    for name, value in asdict(defaults).items():
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, type=type(value), default=None)
    args = parser.parse_args(argv)
    p = Params.quick() if args.quick else Params()
    for name in asdict(defaults):
        value = getattr(args, name)
        if value is not None:
            setattr(p, name, value)
    scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {sorted(unknown)}")
    if "steps" in scenarios:
        fastest = max(step_rates(p.steps))  # a bad --steps stops here, before any set-up
        if fastest > 20 * p.steps_bidders:
            progress(f"warning: {fastest} bids/s from {p.steps_bidders} sockets is over the "
                     "server's 20 bids/s per socket: expect rate_limited answers")
    # SIGTERM unwinds like Ctrl-C, so the servers, the database and the Redis keys are removed
    signal.signal(signal.SIGTERM, _terminate)
    result = asyncio.run(run(p, scenarios))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        summary = {k: v for k, v in result.items()
                   if k not in ("runs", "runs_by_workers", "params", "machine")}
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
