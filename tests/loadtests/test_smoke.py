"""The bench and the locust users at tiny sizes, so they cannot rot: correctness only, no timing
assertions (the figures live in docs/performance.md)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from loadtests.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
KEYS = (
    "hot_lot_bids_per_s", "bid_ack_p50_ms", "bid_ack_p99_ms", "offered_bids_per_s",
    "fanout_deliveries_per_s", "fanout_p99_ms", "fanout_viewers", "many_lots_bids_per_s",
    "connections", "rss_mb", "settle_1000_lots_s", "reference_redis_calls_per_s",
    "reference_postgres_calls_per_s", "hot_lot_vs_redis_reference",
)


def _env(settings_env: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(settings_env)
    return env


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_bench_quick_prints_every_key(database_url: str, redis_url: str) -> None:
    env = _env({"DATABASE_URL": database_url, "REDIS_URL": redis_url})
    out = subprocess.run(
        [sys.executable, "-m", "loadtests.bench", "--json", "--quick"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=280,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    for key in KEYS:
        assert result[key] is not None, (key, result)
    assert result["connections"] == result["params"]["connections"]
    assert result["hot_lot_bids_per_s"] > 0 and result["many_lots_bids_per_s"] > 0
    runs = result["runs"]
    assert runs["fanout"][0]["complete_events"] == runs["fanout"][0]["events"] > 0
    assert runs["ack"][0]["codes"]["unanswered"] == 0
    assert runs["settle"][0]["sold"] == result["settle_lots"]
    reference = runs["reference"][0]  # the same-run references ran and took bids
    assert reference["redis_codes"].get("ok", 0) > 0, reference
    assert reference["postgres_codes"].get("ok", 0) > 0, reference
    assert set(reference["redis_codes"]) <= {"ok", "too_low"}, reference
    assert "[bench" in out.stderr  # progress goes to stderr


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_bench_steps_reports_every_offered_rate(database_url: str, redis_url: str) -> None:
    """``--scenarios steps`` (issue 17's side-by-side table): a row per offered rate, each
    with its accepted rate and latencies, every bid answered."""
    env = _env({"DATABASE_URL": database_url, "REDIS_URL": redis_url})
    out = subprocess.run(
        [sys.executable, "-m", "loadtests.bench", "--json", "--quick", "--scenarios", "steps",
         "--steps", "20,40"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=280,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert sorted(result["steps"]) == ["20", "40"], result["steps"]
    (run,) = result["runs"]["steps"]
    for rate in ("20", "40"):
        row = run[rate]
        assert row["offered_per_s"] == int(rate)
        assert row["codes"].get("ack", 0) > 0 and row["codes"]["unanswered"] == 0, row
        assert result["steps"][rate]["accepted_per_s"] == row["accepted_per_s"] > 0
        assert row["p99_ms"] is not None and row["p50_ms"] <= row["p99_ms"]


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_locust_headless_has_no_failures(database_url: str, redis_url: str, tmp_path: Path) -> None:
    locust = Path(sys.executable).with_name("locust")
    if not locust.exists():
        pytest.skip("locust is not installed (pip install -e '.[load]')")
    stack = Stack(database_url, redis_url)

    async def up() -> str:
        await stack.create_database()
        return (await stack.start_server()).base

    base = asyncio.run(up())
    try:
        env = _env({"AUCTION_ADMIN_TOKEN": stack.admin_token, "LOCUST_LOTS": "2",
                    "LOCUST_BIDDERS": "6", "PYTHONPATH": str(ROOT)})
        csv = tmp_path / "run"
        out = subprocess.run(
            [str(locust), "-f", "loadtests/locustfile.py", "--headless", "-H", base,
             "-u", "12", "-r", "12", "-t", "15s", "--csv", str(csv), "--only-summary"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=150,
        )
        assert out.returncode == 0, out.stderr[-3000:]
        stats = (tmp_path / "run_stats.csv").read_text(encoding="utf-8").splitlines()
        header = stats[0].split(",")
        total = dict(zip(header, stats[-1].split(","), strict=False))
        assert int(total["Request Count"]) > 0, (out.stdout[-2000:], out.stderr[-3000:])
        assert int(total["Failure Count"]) == 0, out.stderr[-3000:]
    finally:
        stack.stop_servers()

        async def down() -> None:
            await stack.clean_redis()
            await stack.drop_database()

        asyncio.run(down())


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_bench_measures_one_and_two_worker_processes(database_url: str, redis_url: str) -> None:
    """``--workers 1,2``: every scenario against one server process, then against two
    (``auction serve --workers 2``); the result has each configuration's figures."""
    env = _env({"DATABASE_URL": database_url, "REDIS_URL": redis_url})
    out = subprocess.run(
        [sys.executable, "-m", "loadtests.bench", "--json", "--quick", "--workers", "1,2",
         "--scenarios", "settle,fanout"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=280,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert sorted(result["by_workers"]) == ["1", "2"]
    for count, figures in result["by_workers"].items():
        assert figures["workers"] == int(count)
        assert figures["settle_1000_lots_s"] is not None, result
        runs = result["runs_by_workers"][count]
        assert runs["settle"][0]["sold"] == result["settle_lots"]
        # viewers and driver land on either process: every event reached every viewer
        assert runs["fanout"][0]["complete_events"] == runs["fanout"][0]["events"] > 0


@pytest.mark.timeout(120)
def test_recheck_and_shared_round_trips_run_at_tiny_sizes(database_url: str, redis_url: str
                                                          ) -> None:
    """``loadtests.recheck`` checks every lot it made (the lost ones rebuilt, the other open
    ones given a new epoch, the whole closed one left as it is); ``loadtests.shared_round_trips``
    prints both modes."""
    env = _env({"DATABASE_URL": database_url, "REDIS_URL": redis_url})
    out = subprocess.run(
        [sys.executable, "-m", "loadtests.recheck", "--lots", "6", "--closed", "3", "--gone",
         "2", "--runs", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=100)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    assert result["outcomes"] == [
        {"rooms_checked": 6, "rooms_rebuilt": 2, "rooms_reepoched": 3}], result
    out = subprocess.run(
        [sys.executable, "-m", "loadtests.shared_round_trips", "--callers", "3",
         "--seconds", "0.3"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(r["mode"], r["callers"]) for r in rows] == [("plain", 3), ("shared", 3)]
    assert all(r["calls_per_s"] > 0 for r in rows)
