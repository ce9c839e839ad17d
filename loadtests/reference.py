"""The bench's same-run references (``--scenarios reference``): what plain client code gets from
the same Redis and the same PostgreSQL on the same machine in the same run, so that the engine's
figures can be read as a multiple of them (issue 17: "beside the same-run Redis reference and a
naive PostgreSQL row-lock engine").

- ``redis``: ``CONCURRENCY`` redis-py coroutines, each calling a bid-shaped Lua script
  (loadtests/reference_bid.lua: idempotency key, ladder check, ``XADD``, new high) once per
  bid, one round trip each, on one lot. No websocket, no vetting, no persistence.
- ``postgres``: a naive row-lock engine on ``PG_CONNECTIONS`` asyncpg connections: per bid one
  transaction, ``SELECT … FOR UPDATE`` of the lot's row, the ladder check, ``UPDATE`` the high
  and ``INSERT`` the bid (durable at commit, as PostgreSQL's default).

Bids follow the bench's ladder (loadtests/workers.py): strictly increasing amounts handed out
in send order. With many calls in flight some arrive overtaken and are ``too_low``; both figures
are reported: ``calls_per_s`` (every answered call: the reference's throughput) and
``accepted_per_s``. Runs in its own process (``python -m loadtests.reference``, one JSON line on
stdout), on uvloop like the server, so neither the bench's own loop nor the server shares it.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import psutil

from auction import eventloop
from auction.rooms import connection
from loadtests.bench import pct

#: the Redis reference's coroutines (issue 17's: "64 redis-py coroutines, one round trip each")
CONCURRENCY = 64
#: the PostgreSQL reference's connections (under a default ``max_connections`` of 100, with
#: the bench's server holding its own pool)
PG_CONNECTIONS = 32
INC_FEN = 100
SCRIPT = (Path(__file__).with_name("reference_bid.lua")).read_text(encoding="utf-8")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bench_ref_lots (id int PRIMARY KEY, high bigint NOT NULL,
    inc bigint NOT NULL, leader int, bids int NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS bench_ref_bids (id bigserial PRIMARY KEY, lot int NOT NULL,
    bidder int NOT NULL, amount bigint NOT NULL, at timestamptz NOT NULL DEFAULT now());
"""


class Meter:
    """Answers counted in the window ``[start + warmup, start + warmup + duration)``."""

    def __init__(self, warmup: float, duration: float) -> None:
        self.start = time.monotonic()
        self.opens, self.closes = self.start + warmup, self.start + warmup + duration
        self.codes: Counter[str] = Counter()
        self.latency_ms: list[float] = []
        self.cpu0: float | None = None

    def running(self) -> bool:
        return time.monotonic() < self.closes

    def record(self, sent: float, code: str) -> None:
        done = time.monotonic()
        if self.opens <= sent and done < self.closes:
            self.codes[code] += 1
            self.latency_ms.append((done - sent) * 1000)
        if self.cpu0 is None and done >= self.opens:
            self.cpu0 = _cpu()

    def result(self, duration: float) -> dict[str, Any]:
        calls = sum(self.codes.values())
        cpu = (_cpu() - self.cpu0) / duration if self.cpu0 is not None else None
        return {"calls_per_s": calls / duration, "accepted_per_s": self.codes["ok"] / duration,
                "p50_ms": pct(self.latency_ms, 50), "p99_ms": pct(self.latency_ms, 99),
                "codes": dict(self.codes), "client_cores": cpu}


def _cpu() -> float:
    t = psutil.Process().cpu_times()
    return float(t.user + t.system)


async def redis_reference(url: str, namespace: str, warmup: float, duration: float,
                          concurrency: int = CONCURRENCY) -> dict[str, Any]:
    redis = connection.connect(url)
    await connection.ready(redis)
    tag = f"{{{namespace}:ref}}"  # one hash slot: a cluster runs the script on one shard
    keys = [f"{namespace}:ref:{tag}:lot", f"{namespace}:ref:{tag}:stream",
            f"{namespace}:ref:{tag}:keys"]
    try:
        await redis.delete(*keys)
        await redis.hset(keys[0], mapping={"high": 0, "inc": INC_FEN})
        script = redis.register_script(SCRIPT)
        ladder = itertools.count(1)
        meter = Meter(warmup, duration)

        async def bidder(i: int) -> None:
            for n in itertools.count():
                if not meter.running():
                    return
                sent = time.monotonic()
                reply = await script(keys=keys, args=[next(ladder) * INC_FEN, i, f"k{i}-{n}"])
                code = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
                meter.record(sent, code)

        await asyncio.gather(*(bidder(i) for i in range(concurrency)))
        return {"kind": "redis", "concurrency": concurrency, **meter.result(duration)}
    finally:
        await redis.delete(*keys)
        await redis.aclose()


async def postgres_reference(url: str, warmup: float, duration: float,
                             connections: int = PG_CONNECTIONS) -> dict[str, Any]:
    conns = [await asyncpg.connect(url) for _ in range(connections)]
    try:
        await conns[0].execute(_SCHEMA)
        await conns[0].execute("TRUNCATE bench_ref_lots, bench_ref_bids")
        await conns[0].execute("INSERT INTO bench_ref_lots (id, high, inc) VALUES (1, 0, $1)",
                               INC_FEN)
        ladder = itertools.count(1)
        meter = Meter(warmup, duration)

        async def bidder(i: int, conn: asyncpg.Connection) -> None:
            while meter.running():
                sent = time.monotonic()
                amount = next(ladder) * INC_FEN
                async with conn.transaction():
                    high, inc = await conn.fetchrow(
                        "SELECT high, inc FROM bench_ref_lots WHERE id = 1 FOR UPDATE")
                    if amount < high + inc:
                        code = "too_low"
                    else:
                        await conn.execute("UPDATE bench_ref_lots SET high = $1, leader = $2,"
                                           " bids = bids + 1 WHERE id = 1", amount, i)
                        await conn.execute("INSERT INTO bench_ref_bids (lot, bidder, amount)"
                                           " VALUES (1, $1, $2)", i, amount)
                        code = "ok"
                meter.record(sent, code)

        await asyncio.gather(*(bidder(i, c) for i, c in enumerate(conns)))
        return {"kind": "postgres", "concurrency": connections, **meter.result(duration)}
    finally:
        for conn in conns:
            await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.reference")
    parser.add_argument("kind", choices=("redis", "postgres"))
    parser.add_argument("--url", required=True, help="REDIS_URL or the bench's database URL")
    parser.add_argument("--namespace", default="bench-ref", help="Redis key prefix")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args(argv)
    if args.kind == "redis":
        run = redis_reference(args.url, args.namespace, args.warmup, args.duration)
    else:
        run = postgres_reference(args.url, args.warmup, args.duration)
    print(json.dumps(eventloop.run(run)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
