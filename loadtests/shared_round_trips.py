"""What a shared round trip saves (auction/rooms/coalesce.py): ``--callers`` coroutines each
call a trivial script again and again for ``--seconds``, either each on its own pooled
connection (``plain``, what a lane did alone) or through :class:`Coalescer` (``shared``: the
calls of one event-loop turn in one pipeline). Prints calls/s and µs of this process's CPU a
call for each mode, one JSON line each.

    python -m loadtests.shared_round_trips --callers 1,2,10,50

Needs ``REDIS_URL``; touches no key.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from typing import Any

from auction.rooms import connection
from auction.rooms.coalesce import Coalescer

SCRIPT = "return ARGV[1]"


async def _measure(mode: str, callers: int, seconds: float) -> dict[str, Any]:
    redis = connection.connect(os.environ["REDIS_URL"])
    try:
        sha = await redis.script_load(SCRIPT)
        shared = Coalescer(redis)
        args = ("EVALSHA", sha, 0, "x")

        async def plain() -> Any:
            return await redis.execute_command(*args)  # type: ignore[no-untyped-call]

        async def coalesced() -> Any:
            return await shared.execute(*args)

        call = plain if mode == "plain" else coalesced
        calls = 0
        stop = time.monotonic() + seconds

        async def caller() -> None:
            nonlocal calls
            while time.monotonic() < stop:
                await call()
                calls += 1

        cpu = time.process_time()
        await asyncio.gather(*(caller() for _ in range(callers)))
        cpu = time.process_time() - cpu
        return {"mode": mode, "callers": callers, "calls_per_s": round(calls / seconds),
                "cpu_us_per_call": round(cpu / calls * 1e6, 1)}
    finally:
        await redis.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--callers", default="1,2,10,50", help="comma-separated counts")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    for callers in (int(c) for c in args.callers.split(",")):
        for mode in ("plain", "shared"):
            print(json.dumps(asyncio.run(_measure(mode, callers, args.seconds))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
