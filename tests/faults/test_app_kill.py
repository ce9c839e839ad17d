"""An app process killed with SIGKILL under load while another one serves the same lots.

Two ``auction serve`` processes share PostgreSQL, Redis and the lots; bidders and watchers are
spread over both. A is killed (-9): its clients reconnect to B, bidders retrying the bid that
was in flight with the same key, watchers resuming from their last seq. A is restarted on its
port and half of the watchers are sent to it at once (a fresh process whose hub has no state
yet, subscribed to concurrently while bids arrive); then the same with B. Checked: no
acknowledged bid lost, no (lot, seq) with two events, no silent gap, no stale watcher 1 s after
the last bid, and bidding resumes after each kill.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.faults.check import settle_and_check, wait_until
from tests.faults.cluster import PgCluster, world
from tests.faults.load import Load, now_ms
from tests.faults.seed import create_sale

RUN_S = 3.0


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_app_kill9_with_two_processes_sharing_lots(
    pg_cluster: PgCluster, case_root: Path
) -> None:
    async with world(pg_cluster, case_root, apps=2) as w:
        sale = await create_sale(w.base, w.admin_token, lots=3, bidders=8)
        load = Load.make(w.urls, sale, bidders=8, watchers=12, churn_s=(2.0, 6.0), seed=2)
        notes: list[str] = []
        try:
            await load.start_watchers()
            load.start_bidders()
            await asyncio.sleep(RUN_S)
            for victim in (0, 1):
                app = w.apps[victim]
                killed = now_ms()
                app.kill9()
                took = await wait_until(
                    lambda k=killed: any(a.wall_ms > k + 200 for a in load.acks), 15,
                    f"an ack after {app.name} was killed", load.states)
                notes.append(f"{app.name} killed: first ack on the survivor "
                             f"{took * 1000:.0f} ms later")
                await asyncio.sleep(RUN_S)
                app.start()
                await app.wait_healthy()
                notes.append(f"{app.name} back after {(now_ms() - killed) / 1000:.1f} s; "
                             f"{len(load.watchers) // 2} watchers sent to it at once")
                for watcher in load.watchers[: len(load.watchers) // 2]:
                    watcher.move_to(victim)
                await asyncio.sleep(RUN_S)
            load.stop_churn()
            await load.stop_bidders()
            fig = await settle_and_check(
                "app kill -9 (2 processes)", acks=load.acks, watchers=load.watchers,
                database_url=w.database_url, redis_url=w.redis.url, namespace=w.namespace,
                lots=sale.lots)
        finally:
            await load.close()
    fig.notes += [*notes, load.summary(), w.log_findings()]
    fig.publish()
    fig.assert_clean()
