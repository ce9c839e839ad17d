"""Issue 16's acceptance for the record: after ``auction demo --fast --once``, ``auction verify``
passes on every demo session (and on its exported bundle, with no database); changing one bid
row as a superuser, bypassing the triggers, makes it exit 1 naming that lot and entry."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from auction.store import Store
from tests.ops.conftest import run_auction
from tests.ops.demo_once import DemoRun

pytestmark = pytest.mark.slow


async def test_verify_passes_after_the_demo_and_names_a_changed_bid_row(
    demo_run: DemoRun, store: Store, database_url: str, tmp_path: Path,
) -> None:
    """The untouched demo verifies (database and bundle); one changed bid row fails it (and is
    put back: the demo's record is shared with the other demo tests)."""
    assert demo_run.code == 0, demo_run.output
    auction_env = demo_run.env
    sessions = demo_run.sessions
    assert sessions

    for sid in sessions:
        done = await asyncio.to_thread(run_auction, ["verify", "--session", str(sid)],
                                       auction_env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.startswith("OK: ")
    bundle = tmp_path / "bundle.json"
    done = await asyncio.to_thread(
        run_auction, ["export", "--session", str(sessions[0]), "--out", str(bundle)],
        auction_env)
    assert done.returncode == 0, done.stderr
    offline = {k: v for k, v in auction_env.items() if k != "DATABASE_URL"}
    done = await asyncio.to_thread(run_auction, ["verify", "--bundle", str(bundle)], offline)
    assert done.returncode == 0, done.stdout + done.stderr

    row = await store.pool.fetchrow(
        "SELECT e.lot_id, e.seq FROM lot_events e JOIN lots l ON l.id = e.lot_id"
        " WHERE l.session_id = ANY($1::bigint[]) AND e.kind = 'bid' ORDER BY e.lot_id, e.seq"
        " LIMIT 1", sessions)
    assert row is not None

    async def change_paddle(by: int) -> None:  # as a superuser, past the triggers
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute("SET session_replication_role = replica")
            await conn.execute("UPDATE lot_events SET paddle = paddle + $3"
                               " WHERE lot_id = $1 AND seq = $2", row["lot_id"], row["seq"], by)
        finally:
            await conn.close()

    await change_paddle(1)
    try:
        session_of = await store.pool.fetchval("SELECT session_id FROM lots WHERE id = $1",
                                               row["lot_id"])
        done = await asyncio.to_thread(run_auction, ["verify", "--session", str(session_of)],
                                       auction_env)
        assert done.returncode == 1, done.stdout + done.stderr
        assert done.stdout.splitlines()[0].startswith(
            f"MISMATCH lot {row['lot_id']} seq {row['seq']}:"), done.stdout
        # the exported bundle still holds the untouched record, and says so
        done = await asyncio.to_thread(run_auction, ["verify", "--bundle", str(bundle)],
                                       offline)
        assert done.returncode == 0, done.stdout
    finally:
        await change_paddle(-1)
    done = await asyncio.to_thread(run_auction, ["verify", "--session", str(session_of)],
                                   auction_env)
    assert done.returncode == 0, done.stdout + done.stderr
