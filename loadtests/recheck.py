"""How long the check after a Redis restart holds the first bid back (invariant 11,
:mod:`auction.rooms.recovery`).

After a restart every room is checked against the PostgreSQL journal before any bid runs, so
this check is how long bidding stands still. The bench makes ``--lots`` open live lots in a
throwaway database and Redis namespace (loadtests/stack.py), ``--bids`` bids on each, lets the
drainer journal them, loses ``--gone`` rooms, then makes the namespace look restarted (another
recorded run id) and times :meth:`Recovery.ensure`.

    python -m loadtests.recheck --lots 1000 --bids 2 --gone 10 --runs 3
    python -m loadtests.recheck --lots 2000 --closed 2000 --gone 2000 --runs 3   # all lost

``--closed`` hammers that many lots first (rooms of past sessions); rebuilt rooms get their
eligibility pushed as in the app.

Prints one JSON object (seconds per run, per-lot cost, what was rebuilt and re-epoched) on
stdout; progress on stderr. Needs ``DATABASE_URL`` and ``REDIS_URL``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

from auction.domain.lot import LotMode
from auction.rooms import connection, eligibility
from auction.rooms.keys import Keys
from auction.rooms.recovery import Recovery
from auction.rooms.service import Rooms
from auction.settlement.drainer import Drainer
from auction.store import Store
from auction.store import rooms as store_rooms
from loadtests.seed import INC_FEN, START_FEN, bounded, uscc
from loadtests.stack import Stack, progress


async def _lots(store: Store, rooms: Rooms, n: int, bids: int, closed: int) -> list[int]:
    tag = secrets.token_hex(3)
    market = await store.create_market(code=f"{secrets.randbelow(900_000) + 100_000}",
                                       slug=f"recheck-{tag}", name=f"复核基准市场{tag}",
                                       level="city")
    session = await store.create_session(market_code=market.code, name="复核基准场次",
                                         season="autumn", mode="live",
                                         starts_at=datetime.now(UTC))
    bidders = [await store.create_bidder(name=f"复核竞买人{i}-{tag}", uscc=uscc(i))
               for i in range(2)]

    async def make(i: int) -> int:
        row = await store.create_lot(
            session.id, title=f"复核基准成果{i}", result_type="专利", ip_type="发明专利",
            technology_field="电子信息", transaction_mode="转让", contract_type="技术转让",
            holder_name="山东某大学", holder_uscc="12370000MB1234567X",
            start_price_fen=START_FEN, increment_fen=INC_FEN)
        await rooms.init_lot(row.id, mode=LotMode.LIVE, start=START_FEN, inc=INC_FEN,
                             reserve=0, session_id=session.id)
        await rooms.redis.hset(rooms.keys.lot(row.id).eligible,
                               mapping={"written": "1", **{str(b.id): "1" for b in bidders}})
        await rooms.open(row.id)
        for k in range(bids):
            b = bidders[k % 2]
            await rooms.bid(row.id, bidder=b.id, paddle=100 + k % 2,
                            amount=START_FEN + (k + 1) * INC_FEN)
        if i < closed:  # a lot of a past session: hammered (passed when it has no bid)
            await rooms.close(row.id, "hammer" if bids else "pass")
        return row.id

    return list(await bounded(range(n), make, 16))


async def _drain(store: Store, rooms: Rooms, lots: list[int], bids: int, closed: int) -> None:
    drainer = Drainer(store, rooms.redis, rooms.keys)
    # the opening and each bid of every lot, and the close of each closed one
    want = len(lots) * (1 + bids) + min(closed, len(lots))
    while True:
        await drainer.drain_once()
        done = await store.pool.fetchval(
            "SELECT count(*) FROM lot_events WHERE lot_id = ANY($1::bigint[])", lots)
        if done >= want:
            return


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    stack = Stack(os.environ["DATABASE_URL"], os.environ["REDIS_URL"])
    progress(f"database {stack.db_name}, namespace {stack.namespace}")
    await stack.create_database()
    store = await Store.connect(stack.bench_db_url, max_size=8)
    redis = connection.connect(stack.redis_url)
    keys = Keys(stack.namespace)
    rooms = Rooms(redis, keys)
    try:
        t0 = time.monotonic()
        lots = await _lots(store, rooms, args.lots, args.bids, args.closed)
        await _drain(store, rooms, lots, args.bids, args.closed)
        progress(f"{len(lots)} lots ({min(args.closed, len(lots))} closed), {args.bids} bids "
                 f"each, journalled ({time.monotonic() - t0:.1f} s)")
        seconds: list[float] = []
        outcomes: list[dict[str, int]] = []
        for run in range(args.runs):
            for lot in lots[: args.gone]:
                lot_keys = keys.lot(lot)
                await redis.delete(lot_keys.state, lot_keys.events, lot_keys.book)
            await store_rooms.record_verification(
                store, keys.namespace, f"before-restart-{run}", checked=0, rebuilt=0,
                reepoched=0)
            # as the app does (auction/api/app.py): a rebuilt room's eligibility is pushed
            recovery = Recovery(
                redis, keys, store,
                after_rebuild=lambda rebuilt: eligibility.sync_rebuilt(redis, keys, store, rebuilt))
            t = time.monotonic()
            await recovery.ensure(fresh=True)
            seconds.append(time.monotonic() - t)
            row = await store.pool.fetchrow(
                "SELECT rooms_checked, rooms_rebuilt, rooms_reepoched FROM redis_verifications"
                " WHERE namespace = $1", keys.namespace)
            outcomes.append(dict(row))
            progress(f"run {run + 1}/{args.runs}: {seconds[-1]:.3f} s {dict(row)}")
        med = statistics.median(seconds)
        return {"lots": len(lots), "bids_per_lot": args.bids, "gone_per_run": args.gone,
                "closed": min(args.closed, len(lots)),
                "seconds": [round(s, 4) for s in seconds], "median_s": round(med, 4),
                "ms_per_lot": round(1000 * med / len(lots), 3), "outcomes": outcomes}
    finally:
        await store.close()
        await redis.aclose()
        await stack.clean_redis()
        await stack.drop_database()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lots", type=int, default=1000)
    parser.add_argument("--bids", type=int, default=2, help="bids on each lot")
    parser.add_argument("--gone", type=int, default=10, help="rooms lost before each run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--closed", type=int, default=0,
                        help="lots hammered before the runs (a past session's; lost first)")
    args = parser.parse_args(argv)
    result = asyncio.run(_run(args))
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
