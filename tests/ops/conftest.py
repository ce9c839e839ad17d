"""Operations tests: the ``auction`` command as an operator runs it, as a subprocess.

- ``auction_env`` (function): the environment of a subprocess ``auction``: the session's fresh
  database and Redis, a data dir and a Redis namespace of the test's own (its keys deleted
  after), a free port, and no ``AUCTION_SECRET`` (the key is kept in the data dir).
- ``demo_run`` (session): one ``auction demo --fast --once`` with a registration office of its
  own, for the tests that check what it leaves (tests/ops/demo_once.py).
- ``run_auction(args, env)``: run ``.venv/bin/auction`` to completion; a
  ``subprocess.CompletedProcess`` with text output.
- ``serving(env, *args)``: an ``auction serve`` (or ``demo``) subprocess, returned once it
  printed "已启动"; killed at the end if the test did not stop it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from tests.conftest import opened_store
from tests.e2e.harness import free_port
from tests.ops.demo_once import DemoRun, run_demo

AUCTION = Path(sys.executable).with_name("auction")
STARTED = ("拍卖引擎已启动", "演示拍卖会已启动")


def _environment(database_url: str, redis_url: str, data_dir: Path) -> dict[str, str]:
    """A subprocess environment with ``data_dir``, and a namespace and port of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUCTION_")}
    env.update({
        "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "AUCTION_DATA_DIR": str(data_dir),
        "AUCTION_REDIS_NAMESPACE": f"test-ops-{uuid.uuid4().hex[:10]}",
        # a hammered lot is final (and settled) at once, as the tests expect
        "AUCTION_REOPEN_WINDOW_S": "0",
        "AUCTION_PORT": str(free_port()), "AUCTION_HOST": "127.0.0.1",
        "AUCTION_ADMIN_TOKEN": "test-admin-token", "AUCTION_PASSWORD_PROFILE": "fast",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def _forget(redis_url: str, namespace: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(f"{namespace}:*"):
            client.delete(key)
    finally:
        client.close()


@pytest.fixture
def auction_env(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A subprocess environment with its own data dir, namespace and port."""
    env = _environment(database_url, redis_url, tmp_path / "data")
    yield env
    _forget(redis_url, env["AUCTION_REDIS_NAMESPACE"])


@pytest.fixture(scope="session")
async def demo_run(database_url: str, redis_url: str,
                   tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DemoRun]:
    """``auction demo --fast --once``, run once for the tests that check what it leaves
    (tests/ops/demo_once.py), with a registration office of its own."""
    env = _environment(database_url, redis_url, tmp_path_factory.mktemp("demo") / "data")
    try:
        async with opened_store(database_url) as store:
            yield await run_demo(AUCTION, env, store)
    finally:
        _forget(redis_url, env["AUCTION_REDIS_NAMESPACE"])


def run_auction(args: list[str], env: dict[str, str], timeout: float = 60
                ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(AUCTION), *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


@dataclass
class Process:
    """A running ``auction`` subprocess whose stderr goes to a file."""

    proc: subprocess.Popen[bytes]
    stderr_path: Path
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Send ``sig`` and wait for the exit code."""
        self.proc.send_signal(sig)
        return await asyncio.to_thread(self.proc.wait, timeout)


@contextlib.asynccontextmanager
async def serving(env: dict[str, str], *args: str, command: str = "serve",
                  timeout: float = 60) -> AsyncIterator[Process]:
    """``auction <command> <args>`` running until it said it started."""
    stderr_path = Path(env["AUCTION_DATA_DIR"]).parent / f"{command}-{uuid.uuid4().hex[:6]}.err"
    stderr_path.parent.mkdir(parents=True, exist_ok=True)
    with stderr_path.open("wb") as err:
        proc = subprocess.Popen([str(AUCTION), command, *args], env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
    process = Process(proc, stderr_path, int(env["AUCTION_PORT"]))
    try:
        deadline = time.monotonic() + timeout
        while not any(s in process.stderr() for s in STARTED):
            if proc.poll() is not None:
                raise AssertionError(f"auction {command} exited {proc.returncode}:\n"
                                     + process.stderr())
            if time.monotonic() > deadline:
                raise AssertionError(f"auction {command} did not start:\n" + process.stderr())
            await asyncio.sleep(0.1)
        yield process
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
