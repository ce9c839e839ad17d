"""Fixtures of the fault suite (helpers in cluster.py, seed.py, load.py, check.py).

- ``pg_cluster`` (session): a PostgreSQL cluster of the suite's own (``initdb`` + ``pg_ctl`` on
  a free port in a temp dir), stopped and removed at the end. Each case makes a database on it.
- ``case_root``: a temp dir for one case (Redis dir, data dir, process logs). When the case
  fails, or with ``FAULTS_KEEP_LOGS=1``, its logs are copied to ``test-artifacts/faults/<case>/``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.cluster import ARTIFACTS, PgCluster, make_root


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Generator[None, Any, Any]:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    root = make_root("auction-faults-pg-")
    pg = PgCluster(root)
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        with contextlib.suppress(Exception):
            if pg.running:
                pg.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def case_root(request: pytest.FixtureRequest) -> Iterator[Path]:
    root = make_root("auction-fault-")
    try:
        yield root
    finally:
        report = getattr(request.node, "rep_call", None)
        if os.environ.get("FAULTS_KEEP_LOGS") or report is None or report.failed:
            keep = ARTIFACTS / request.node.name
            shutil.rmtree(keep, ignore_errors=True)
            keep.mkdir(parents=True, exist_ok=True)
            for log in root.glob("*.log"):
                shutil.copy(log, keep / log.name)
            print(f"\n[faults] logs of {request.node.name}: {keep}")
        shutil.rmtree(root, ignore_errors=True)
