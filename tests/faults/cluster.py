"""Real processes for the fault suite: a ``redis-server``, a PostgreSQL cluster and
``auction serve`` processes, each on a free port of 127.0.0.1 in a temp dir of its own.

The machine's shared PostgreSQL (5432) and Redis (6379) are never touched: every process here is
started by this module, and killed by process id (or process group) only.

- :class:`RedisServer`: ``/usr/bin/redis-server`` with ``--appendonly yes --appendfsync always
  --save ""`` in its own dir; :meth:`RedisServer.kill9` and :meth:`RedisServer.start` again on the
  same port and dir (the AOF is reloaded); :meth:`RedisServer.incr_aof` is the file a torn-tail
  case truncates (Redis 7: ``appendonlydir/*.incr.aof``).
- :class:`PgCluster`: ``initdb`` + ``pg_ctl`` from ``/usr/lib/postgresql/*/bin`` (run as the
  ``postgres`` user when the tests run as root: PostgreSQL refuses to run as root).
- :class:`AppServer`: ``.venv/bin/auction serve`` with its environment; ready when ``/healthz``
  answers 200; :meth:`AppServer.kill9` kills its process group.
- :func:`world`: one case's deployment (a fresh database on the session's cluster, its own Redis,
  N app processes sharing one secret, admin token and namespace), torn down whatever happens.

With ``CI`` set, a missing binary fails the test loudly instead of skipping it.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest

from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "faults"
REDIS_SERVER = "/usr/bin/redis-server"
ADMIN_TOKEN = "fault-admin-token"
SECRET = "fault-secret-0123456789abcdef0123456789abcdef"
REGISTRATION_SECRET = "fault-registration-secret"


def missing(what: str) -> None:
    """A binary the suite needs is absent: fail under CI (nothing may be skipped there), else
    skip with the reason."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI is set: failing instead of skipping)", pytrace=False)
    pytest.skip(what)


def redis_binary() -> str:
    found = REDIS_SERVER if os.access(REDIS_SERVER, os.X_OK) else shutil.which("redis-server")
    if not found:
        missing(f"{REDIS_SERVER} not found (apt-get install redis-server)")
    return str(found)


def pg_bindir() -> Path:
    """The newest ``/usr/lib/postgresql/<major>/bin`` that has ``initdb`` and ``pg_ctl``."""
    def major(p: Path) -> int:
        return int(p.parent.name) if p.parent.name.isdigit() else 0

    dirs = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin")
         if (p / "initdb").exists() and (p / "pg_ctl").exists()),
        key=major,
    )
    if not dirs:
        missing("no /usr/lib/postgresql/*/bin/initdb (apt-get install postgresql)")
    return dirs[-1]


def app_command() -> list[str]:
    script = Path(sys.executable).with_name("auction")
    if script.exists():
        return [str(script), "serve"]
    return [sys.executable, "-m", "auction", "serve"]


def make_root(prefix: str) -> Path:
    """A temp dir under /tmp that the ``postgres`` user can traverse (pytest's tmp_path parents
    are private to root)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def _kill_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _reap(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    try:
        proc.wait(timeout)
        return True
    except subprocess.TimeoutExpired:
        return False


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"({path} unreadable)"
    return "\n".join(text.splitlines()[-lines:])


#: every child process and cluster started here and not stopped yet: stopped at interpreter exit
#: if a test run dies before its fixtures could (they run in their own sessions, so nothing
#: else would stop them)
_LIVE: set[Process | PgCluster] = set()


@atexit.register
def _stop_leftovers() -> None:
    for thing in list(_LIVE):
        with contextlib.suppress(Exception):
            if isinstance(thing, Process):
                thing.kill9()
            else:
                thing.stop("immediate")


class Process:
    """One child in its own process group, its output in a log file."""

    def __init__(self, name: str, log: Path) -> None:
        self.name = name
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self._out: IO[bytes] | None = None

    def spawn(self, argv: list[str], env: dict[str, str] | None = None,
              cwd: Path | None = None) -> None:
        assert self.proc is None or self.proc.poll() is not None, f"{self.name} is running"
        self._close_log()
        self._out = self.log.open("ab")
        self._out.write(f"\n=== {time.strftime('%H:%M:%S')} start {argv}\n".encode())
        self._out.flush()
        self.proc = subprocess.Popen(
            argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=self._out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        _LIVE.add(self)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """SIGKILL to the whole process group, then reap."""
        if self.proc is None:
            return
        _kill_group(self.proc, signal.SIGKILL)
        _reap(self.proc, 10)
        self._close_log()
        _LIVE.discard(self)

    def stop(self, grace_s: float = 8.0) -> None:
        """SIGTERM, then SIGKILL after ``grace_s``; safe to call twice."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            _kill_group(self.proc, signal.SIGTERM)
            if not _reap(self.proc, grace_s):
                _kill_group(self.proc, signal.SIGKILL)
                _reap(self.proc, 10)
        else:
            # the leader is gone; children of its group may not be
            _kill_group(self.proc, signal.SIGKILL)
        self._close_log()
        _LIVE.discard(self)

    def _close_log(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


# --- Redis ---------------------------------------------------------------------------------


class RedisServer:
    """A ``redis-server`` of the test's own: AOF on, fsync on every write, no RDB snapshots."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.binary = redis_binary()
        self.dir = root / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.process = Process("redis", root / "redis.log")
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *extra: str) -> None:
        self.starts += 1
        self.process.spawn([
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.dir), "--appendonly", "yes", "--appendfsync", "always",
            "--save", "", "--aof-load-truncated", "yes", "--daemonize", "no",
            "--protected-mode", "no", *extra,
        ])

    async def wait_ready(self, timeout_s: float = 20.0) -> None:
        """Until PING answers PONG (not ``-LOADING``)."""
        deadline = time.monotonic() + timeout_s
        while True:
            if not self.process.alive:
                raise AssertionError(f"redis-server exited:\n{tail(self.process.log)}")
            with contextlib.suppress(OSError):
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", self.port), 1.0)
                try:
                    writer.write(b"PING\r\n")
                    line = await asyncio.wait_for(reader.readline(), 1.0)
                finally:
                    writer.close()
                    with contextlib.suppress(OSError):
                        await writer.wait_closed()
                if line.startswith(b"+PONG"):
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"redis-server not ready:\n{tail(self.process.log)}")
            await asyncio.sleep(0.05)

    def kill9(self) -> None:
        self.process.kill9()

    def stop(self) -> None:
        self.process.stop(grace_s=5)

    def incr_aof(self) -> Path:
        """The AOF file Redis appends to now: the last ``incr`` file of the manifest."""
        folder = self.dir / "appendonlydir"
        manifests = list(folder.glob("*.manifest"))
        assert manifests, f"no AOF manifest in {folder}"
        last = None
        for line in manifests[0].read_text().splitlines():
            m = re.search(r"file (\S+) seq \d+ type i", line)
            if m:
                last = m.group(1)
        assert last, f"no incr file in {manifests[0].read_text()!r}"
        return folder / last


# --- PostgreSQL ----------------------------------------------------------------------------


class PgCluster:
    """``initdb`` + ``pg_ctl`` on a free port; the Unix socket lives in the cluster's dir."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.bindir = pg_bindir()
        self.root = root
        self.data = root / "pgdata"
        self.port = port or free_port()
        self.log = root / "postgres.log"
        self._user: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                missing("running as root and there is no 'postgres' user to run PostgreSQL as")
            self._user = "postgres"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, Any] = {}
        if self._user:
            kwargs.update(user=self._user, group=self._user, extra_groups=[])
        return subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, cwd=self.root,
            stdin=subprocess.DEVNULL, check=False, **kwargs,
        )

    def init(self) -> None:
        if self._user:
            info = pwd.getpwnam(self._user)
            os.chown(self.root, info.pw_uid, info.pw_gid)
        done = self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C",
        )
        assert done.returncode == 0, f"initdb failed:\n{done.stdout}\n{done.stderr}"

    def start(self) -> None:
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                "-c max_connections=200 -c shared_buffers=32MB")
        done = self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
            "-o", opts, "-w", "-t", "60", "start",
        )
        _LIVE.add(self)
        assert done.returncode == 0, (
            f"pg_ctl start failed:\n{done.stdout}\n{done.stderr}\n{tail(self.log)}")

    def stop(self, mode: str = "fast") -> None:
        done = self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30",
            "stop",
        )
        if done.returncode != 0 and mode != "immediate":
            self.stop("immediate")
            return
        _LIVE.discard(self)

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    async def create_database(self, name: str) -> str:
        conn = await asyncpg.connect(self.url(), timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.url(name)


# --- the app -------------------------------------------------------------------------------


class AppServer:
    """One ``auction serve`` process."""

    def __init__(self, name: str, env: dict[str, str], root: Path,
                 port: int | None = None) -> None:
        self.name = name
        self.port = port or free_port()
        self.env = {**env, "AUCTION_PORT": str(self.port)}
        self.process = Process(name, root / f"{name}.log")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> None:
        self.process.spawn(app_command(), env=self.env, cwd=REPO)

    async def wait_healthy(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(timeout=2.0) as http:
            while True:
                if not self.process.alive:
                    raise AssertionError(
                        f"{self.name} exited:\n{tail(self.process.log)}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(self.base + "/healthz")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"{self.name} not healthy in {timeout_s} s:\n{tail(self.process.log)}")
                await asyncio.sleep(0.1)

    def kill9(self) -> None:
        self.process.kill9()

    def stop(self) -> None:
        self.process.stop()


# --- a case's world ------------------------------------------------------------------------


@dataclass
class World:
    """What one case runs against."""

    root: Path
    pg: PgCluster
    database_url: str
    redis: RedisServer
    apps: list[AppServer]
    namespace: str
    admin_token: str = ADMIN_TOKEN
    notes: list[str] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [a.ws_url for a in self.apps]

    @property
    def base(self) -> str:
        return self.apps[0].base

    def logs(self) -> list[Path]:
        return [self.redis.process.log, *(a.process.log for a in self.apps)]

    def log_findings(self) -> str:
        """What the app logs say that a reader of the figures should know (not asserted)."""
        counts: dict[str, int] = {}
        for app in self.apps:
            try:
                text = app.process.log.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            for needle in ("Exception in ASGI application", "Traceback", " ERROR ",
                           "gap ", "cannot fill a gap"):
                counts[needle.strip()] = counts.get(needle.strip(), 0) + text.count(needle)
        found = ", ".join(f"{k!r} ×{v}" for k, v in counts.items() if v)
        return "app logs: " + (found or "no error, traceback or gap line")


def app_env(database_url: str, redis_url: str, namespace: str, data_dir: Path,
            registration_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AUCTION_") and k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "AUCTION_HOST": "127.0.0.1",
        # the load's clients send their own X-Forwarded-For (tests/faults/load.py)
        "AUCTION_TRUSTED_PROXIES": "127.0.0.1",
        "AUCTION_SECRET": SECRET,
        "AUCTION_ADMIN_TOKEN": ADMIN_TOKEN,
        "AUCTION_DATA_DIR": str(data_dir),
        "AUCTION_REDIS_NAMESPACE": namespace,
        # a hammered lot is final (and settled) at once, as the tests expect
        "AUCTION_REOPEN_WINDOW_S": "0",
        "AUCTION_LOG_LEVEL": "INFO",
        "AUCTION_PASSWORD_PROFILE": "fast",  # every bidder signs up and logs in (tests only)
        "PYTHONUNBUFFERED": "1",
    })
    if registration_url:
        env["AUCTION_REGISTRATION_URL"] = registration_url
        env["AUCTION_REGISTRATION_SECRET"] = REGISTRATION_SECRET
    return env


@contextlib.asynccontextmanager
async def world(pg: PgCluster, root: Path, *, apps: int = 2,
                registration_url: str | None = None) -> AsyncIterator[World]:
    """A fresh database on ``pg``, a Redis of its own and ``apps`` app processes, all healthy.
    Everything started here is stopped on the way out, whatever happened."""
    database_url = await pg.create_database(f"fault_{secrets.token_hex(5)}")
    redis = RedisServer(root)
    namespace = f"fault-{secrets.token_hex(4)}"
    data_dir = root / "data"
    data_dir.mkdir(exist_ok=True)
    env = app_env(database_url, redis.url, namespace, data_dir, registration_url)
    servers = [AppServer(f"app{i}", env, root) for i in range(apps)]
    made = World(root, pg, database_url, redis, servers, namespace)
    try:
        redis.start()
        await redis.wait_ready()
        # the first process runs the migrations alone; the others start once it is up
        servers[0].start()
        await servers[0].wait_healthy()
        for s in servers[1:]:
            s.start()
        for s in servers[1:]:
            await s.wait_healthy()
        yield made
    finally:
        for s in servers:
            s.stop()
        redis.stop()
