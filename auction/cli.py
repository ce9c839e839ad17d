"""The ``auction`` command: ``serve``, ``migrate``, ``demo`` (and ``registration``, ``verify``,
``export``: auction/registration/cli.py, auction/audit/cli.py). ``serve --workers N`` runs N
server processes on the one port (auction/workers.py).

Settings are read once here and passed down. When ``DATABASE_URL`` / ``REDIS_URL`` are unset the
embedded PostgreSQL and Redis are started in the data dir (auction/embedded.py), the command says
which, and they are stopped on exit.

Start-up checks everything it can before it announces anything, in this order, and a failure is
one line on stderr and exit code 2 (the traceback too only with ``AUCTION_LOG_LEVEL=DEBUG``):

1. the settings (auction/settings.py: numbers, log level and format, the URLs' form —
   ``mysql://`` or garbage is refused before any connection is tried);
2. ``serve`` / ``demo``: the listening socket is bound (port in use, address not local);
3. the embedded servers for the URLs that are missing;
4. PostgreSQL is connected to (refused, unknown host, unknown database, authentication) and
   migrated; ``serve`` / ``demo``: Redis answers ``PING`` (refused, wrong db index, not Redis);
5. the application starts (its lifespan), and only then "拍卖引擎已启动" is printed.

SIGTERM and Ctrl-C (SIGINT) are handled here, not by uvicorn: the server stops accepting,
open websockets get close 1001 (auction/api/shutdown.py), the app shuts down, the embedded
servers stop, and the exit code is 0. A second Ctrl-C forces the exit. Exit codes: 0 done or
stopped by a signal, 1 an unexpected error (with its traceback), 2 a configuration or start-up
error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import secrets
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Coroutine, Generator, Iterator
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import uvicorn

from auction import eventloop, logs
from auction.api.shutdown import GracefulServer
from auction.audit import cli as audit_cli
from auction.registration import cli as registration_cli
from auction.settings import ConfigError, Secret, Settings, redact
from auction.wire.codec import MAX_FRAME

log = logging.getLogger("auction")

#: how long a start-up check waits for PostgreSQL or Redis to answer
CONNECT_TIMEOUT_S = 10.0
#: how long uvicorn waits for open requests after the websockets were closed
GRACEFUL_SHUTDOWN_S = 5

_LOG_FORMAT = "plain"


class StartupError(Exception):
    """The process cannot start as configured; ``str(exc)`` is the one line to print."""


def _progress(line: str) -> None:
    if _LOG_FORMAT == "json":
        record = logging.makeLogRecord(
            {"name": "auction", "levelno": logging.INFO, "levelname": "INFO", "msg": line})
        line = logs.JsonFormatter().format(record)
    print(line, file=sys.stderr, flush=True)


def _setup_logging(level: str, fmt: str = "plain", *, access_log: bool = False) -> None:
    global _LOG_FORMAT
    _LOG_FORMAT = fmt
    logs.setup(level, fmt, access_log=access_log)


# -- start-up checks ----------------------------------------------------------------------------


def _where(url: str) -> str:
    parts = urlsplit(url)
    if parts.hostname:
        return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
    return "本机 Unix socket"


def _refused(exc: BaseException | None) -> bool:
    if isinstance(exc, ConnectionRefusedError):
        return True
    return isinstance(exc, OSError) and (
        exc.errno == errno.ECONNREFUSED or "Connect call failed" in str(exc))


def _postgres_problem(exc: BaseException, url: str) -> str | None:
    """One line for a failure to reach ``url``'s database, or ``None`` if it is not one."""
    shown = redact(url)
    cause = exc.__cause__ or exc
    sqlstate = getattr(exc, "sqlstate", None) or getattr(cause, "sqlstate", None)
    if sqlstate == "3D000":
        database = urlsplit(url).path.lstrip("/") or "(默认)"
        return (f"DATABASE_URL 指向的数据库 \"{database}\" 不存在 ({shown}); "
                "先创建它 (CREATE DATABASE) 或改正 URL")
    if sqlstate in ("28000", "28P01"):
        return f"PostgreSQL 拒绝登录 ({shown}): {cause}; 检查 DATABASE_URL 的用户名和密码"
    if sqlstate is not None:
        return f"PostgreSQL 拒绝连接 ({shown}): {cause}"
    if _refused(cause):
        return (f"无法连接 PostgreSQL {_where(url)}: 连接被拒绝; 服务是否在运行, "
                f"DATABASE_URL 的地址和端口是否正确? ({shown})")
    if isinstance(cause, socket.gaierror):
        return f"无法连接 PostgreSQL: 主机名 {urlsplit(url).hostname} 无法解析 ({shown})"
    if isinstance(cause, TimeoutError) or isinstance(exc, TimeoutError):
        return (f"连接 PostgreSQL {_where(url)} 超时 ({CONNECT_TIMEOUT_S:.0f} s); "
                f"检查网络与 DATABASE_URL ({shown})")
    if isinstance(cause, OSError | ValueError) or type(cause).__name__.endswith("Error"):
        return f"无法连接 PostgreSQL ({shown}): {type(cause).__name__}: {cause}"
    return None


def _redis_problem(exc: BaseException, url: str) -> str | None:
    from redis import exceptions as rx

    shown = redact(url)
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, rx.RedisClusterException):  # not a RedisError: the cluster client's own
        text = " ".join(str(exc).split())
        if "Error 111" in text or "refused" in text.lower():
            return (f"无法连接 Redis Cluster {_where(url)}: 连接被拒绝; 节点是否在运行, "
                    f"REDIS_URL 的地址和端口是否正确? ({shown})")
        return (f"无法使用 Redis Cluster ({shown}): {text}; REDIS_URL=redis+cluster:// "
                "应指向集群的任一节点 (cluster-enabled yes)")
    if isinstance(exc, rx.AuthenticationError | rx.AuthenticationWrongNumberOfArgsError):
        return f"Redis 拒绝认证 ({shown}): {exc}; 检查 REDIS_URL 的用户名和密码"
    if isinstance(exc, rx.ResponseError):
        return f"Redis 拒绝了请求 ({shown}): {exc}; 检查 REDIS_URL (例如数据库编号)"
    if isinstance(exc, TimeoutError | rx.TimeoutError):
        return f"连接 Redis {_where(url)} 超时; 检查网络与 REDIS_URL ({shown})"
    if isinstance(exc, rx.ConnectionError | OSError):
        if _refused(cause) or _refused(exc):
            return (f"无法连接 Redis {_where(url)}: 连接被拒绝; 服务是否在运行, "
                    f"REDIS_URL 的地址和端口是否正确? ({shown})")
        if isinstance(cause, socket.gaierror):
            return f"无法连接 Redis: 主机名 {urlsplit(url).hostname} 无法解析 ({shown})"
        return f"无法连接 Redis {_where(url)} ({shown}): {exc}; 那里运行的是 Redis 吗?"
    if isinstance(exc, rx.RedisError | ValueError):
        return f"无法使用 Redis ({shown}): {type(exc).__name__}: {exc}"
    return None


@contextlib.contextmanager
def _no_outage_lines() -> Iterator[None]:
    """A start-up check reports its own failure in one line: the running process's "… is
    unreachable; retrying" warning (auction/outage.py) would be a second, misleading one."""
    logger = logging.getLogger("auction.outage")
    was, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = was


async def _check_postgres(url: str) -> None:
    from auction.store import Store

    try:
        with _no_outage_lines():
            store = await asyncio.wait_for(
                Store.connect(url, min_size=1, max_size=1, connect_timeout=CONNECT_TIMEOUT_S),
                CONNECT_TIMEOUT_S + 1)
    except Exception as exc:
        problem = _postgres_problem(exc, url)
        if problem is None:
            raise
        raise StartupError(problem) from exc
    await store.close()


async def _check_redis(url: str) -> None:
    from auction.rooms import connection

    try:
        client = connection.connect(url, socket_connect_timeout=CONNECT_TIMEOUT_S,
                                    socket_timeout=CONNECT_TIMEOUT_S)
        try:
            await client.ping()
        finally:
            await client.aclose()
    except Exception as exc:
        problem = _redis_problem(exc, url)
        if problem is None:
            raise
        raise StartupError(problem) from exc


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound now so that a port in use is reported before anything
    starts (uvicorn is handed this socket)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise StartupError(f"监听地址 {host} 无法解析 (AUCTION_HOST / --host): {exc}") from exc
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(f"端口 {host}:{port} 已被占用 (AUCTION_PORT / --port); "
                               "换一个端口, 或先停止占用它的进程") from exc
        raise StartupError(f"无法监听 {host}:{port} (AUCTION_HOST / AUCTION_PORT): "
                           f"{exc.strerror or exc}") from exc
    sock.set_inheritable(True)
    return sock


# -- signals ------------------------------------------------------------------------------------


class _Signals:
    """SIGINT and SIGTERM ask for a clean stop, whatever phase the process is in.

    - while the server runs: uvicorn's own flag (``should_exit``; a second Ctrl-C sets
      ``force_exit``), so it shuts down in order;
    - while the start-up coroutine runs (checks, migrations): that task is cancelled, the way
      ``asyncio.run`` treats Ctrl-C;
    - in synchronous code (embedded servers starting): ``KeyboardInterrupt`` unwinds it and
      the servers started so far are stopped on the way out;
    - once stopping: noted, otherwise ignored, so the embedded servers stop in order.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self.server: uvicorn.Server | None = None
        self.task: asyncio.Task[Any] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopping = False

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        first = self.received is None
        self.received = signum
        if self.stopping:
            return
        if self.server is not None:
            self.server.handle_exit(signum, frame)
        elif self.task is not None and self.loop is not None:
            if first and not self.task.done():
                self.task.cancel()
                self.loop.call_soon_threadsafe(lambda: None)  # wake a sleeping select()
        else:
            raise KeyboardInterrupt

    async def run(self, main: Coroutine[Any, Any, int]) -> int:
        """Run ``main`` as the cancellable start-up task."""
        self.loop = asyncio.get_running_loop()
        self.task = asyncio.current_task()
        if self.received is not None:
            main.close()
            return 0
        return await main


_SIGNALS = _Signals()


class _Server(GracefulServer):
    """uvicorn without its signal handling (the CLI owns SIGINT/SIGTERM, see :class:`_Signals`):
    it would re-raise the signal after its shutdown, which kills the process by the default
    SIGTERM action or surfaces as ``SystemExit: 143`` from a task."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


# -- commands -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _resolved(settings: Settings, *, redis: bool = True) -> Iterator[Settings]:
    """Settings with the URLs filled in, starting embedded servers for the missing ones
    (``redis=False``: PostgreSQL only, for ``auction migrate``)."""
    if settings.database_url and (settings.redis_url or not redis):
        yield settings
        return
    from auction.embedded import EmbeddedError, EmbeddedServers

    with EmbeddedServers() as servers:
        try:
            yield servers.start(settings, say=_progress, redis=redis)
        except EmbeddedError as exc:
            raise StartupError(str(exc)) from exc


async def _migrate(settings: Settings) -> int:
    from auction.store.errors import MigrationError
    from auction.store.migrate import migrate

    assert settings.database_url
    await _check_postgres(settings.database_url)
    try:
        applied = await migrate(settings.database_url)  # one log line per file
    except MigrationError as exc:
        raise StartupError(exc.message) from exc
    _progress(f"数据库迁移完成: 本次应用 {len(applied)} 个")
    return 0


def _server(settings: Settings, *, access_log: bool) -> _Server:
    from auction.api.app import create_app
    from auction.api.ws_server import PROTOCOL

    config = uvicorn.Config(
        create_app(settings, freeze=True), host=settings.host, port=settings.port,
        ws=PROTOCOL,  # uvicorn's default, lending the outbox its socket (api/ws_server.py)
        ws_max_size=MAX_FRAME, log_level=settings.log_level.lower(), lifespan="on",
        ws_ping_interval=20, ws_ping_timeout=20,
        log_config=None,  # our handler and format (auction/logs.py) for uvicorn's loggers too
        access_log=access_log, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        # X-Forwarded-For is the app's business, believed only from AUCTION_TRUSTED_PROXIES
        # (auction/api/headers.py); uvicorn's own would trust 127.0.0.1 whatever was configured
        proxy_headers=False,
    )
    return _Server(config)


async def _serve_quietly(server: uvicorn.Server, sock: socket.socket) -> int:
    """``server.serve`` returning uvicorn's exit code instead of raising ``SystemExit`` (which
    would escape the task and end ``asyncio.run`` with a traceback)."""
    try:
        await server.serve(sockets=[sock])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


async def _start(settings: Settings, sock: socket.socket, *, access_log: bool
                 ) -> tuple[uvicorn.Server, asyncio.Task[int]]:
    """Check Redis, migrate, start the app; return once it serves on ``sock``."""
    assert settings.redis_url
    await _check_redis(settings.redis_url)
    await _migrate(settings)
    log.info("令牌签名密钥: %s", settings.secret_file or "AUCTION_SECRET")
    server = _server(settings, access_log=access_log)
    _SIGNALS.server = server
    serving = asyncio.create_task(_serve_quietly(server, sock), name="uvicorn")
    while not server.started:
        if serving.done():
            if _SIGNALS.received is not None:
                return server, serving
            raise StartupError(f"应用启动失败 (uvicorn 退出码 {serving.result()}), 原因见上方日志")
        await asyncio.sleep(0.05)
    return server, serving


def _address(settings: Settings, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{port}"


async def _serve(settings: Settings, sock: socket.socket, *, access_log: bool) -> int:
    server, serving = await _start(settings, sock, access_log=access_log)
    if server.started and _SIGNALS.received is None:
        _progress(f"拍卖引擎已启动: {_address(settings, sock)}/  (Ctrl-C 退出)")
    code = await serving
    return 0 if _SIGNALS.received is not None else code


async def _serve_workers(settings: Settings, sock: socket.socket, *, access_log: bool) -> int:
    """``serve --workers N`` (N > 1): the checks and migrations once, here, then N worker
    processes on ``sock`` (auction/workers.py) until a signal stops them."""
    from auction import workers

    assert settings.redis_url
    await _check_redis(settings.redis_url)
    await _migrate(settings)
    log.info("令牌签名密钥: %s", settings.secret_file or "AUCTION_SECRET")

    def started() -> None:
        if _SIGNALS.received is None:
            _progress(f"拍卖引擎已启动: {_address(settings, sock)}/  "
                      f"({settings.workers} 个工作进程, Ctrl-C 退出)")

    try:
        return await workers.supervise(settings, sock, settings.workers, access_log=access_log,
                                       started=started)
    except workers.WorkerStartError as exc:
        raise StartupError(str(exc)) from exc


async def _demo(settings: Settings, sock: socket.socket, *, fast: bool, once: bool,
                access_log: bool) -> int:
    from auction.demo.runner import run_demo

    if once:  # a run that ends when everything is settled: no window to reopen a hammer
        settings = settings.with_changes(reopen_window_s=0)
    server, serving = await _start(settings, sock, access_log=access_log)
    if not server.started:
        return 0
    base_url = _address(settings, sock)
    _progress(f"演示拍卖会已启动: {base_url}/  (Ctrl-C 退出)")
    demo = asyncio.create_task(
        run_demo(base_url, settings.admin_token.value, fast=fast, once=once, progress=_progress)
    )
    done, _ = await asyncio.wait({serving, demo}, return_when=asyncio.FIRST_COMPLETED)
    if demo in done and _SIGNALS.received is None:
        server.should_exit = True  # --once: every lot is settled and handed off
        await serving
        demo.result()
        return 0
    # the server is stopping (a signal): the simulated bidders have nobody to talk to, and
    # what they fail with meanwhile (a request cut by the shutdown) is not news
    demo.cancel()
    await asyncio.gather(demo, return_exceptions=True)
    code = await serving
    return 0 if _SIGNALS.received is not None else code


def _fail(command: str, exc: BaseException, debug: bool) -> int:
    if debug:
        traceback.print_exception(exc)
    message = f"auction {command}: {exc}"
    if _LOG_FORMAT == "json":
        record = logging.makeLogRecord({"name": "auction", "levelno": logging.CRITICAL,
                                        "levelname": "CRITICAL", "msg": message})
        message = logs.JsonFormatter().format(record)
    print(message, file=sys.stderr, flush=True)
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="auction", description="科技成果竞价(拍卖)引擎")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="apply migrations and serve HTTP + websocket")
    migrate = sub.add_parser("migrate", help="apply database migrations and exit")
    demo = sub.add_parser("demo", help="serve plus a seeded demo session with simulated bidders")
    demo.add_argument("--fast", action="store_true", help="short timings (about a minute)")
    demo.add_argument("--once", action="store_true",
                      help="exit once every demo lot is settled and its registration handed off")
    for p in (serve, demo):
        p.add_argument("--host", help="default AUCTION_HOST or 127.0.0.1")
        p.add_argument("--port", type=int, help="default AUCTION_PORT or 8000")
        p.add_argument("--access-log", action="store_true",
                       help="log every HTTP request (off by default)")
    serve.add_argument("--workers", type=int,
                       help="server processes on the one port (default AUCTION_WORKERS or 1)")
    del migrate
    registration_cli.add_parser(sub)
    audit_cli.add_parsers(sub)
    args = parser.parse_args(argv)
    command: str = args.command

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        return _fail(command, exc, debug=False)
    _setup_logging(settings.log_level, settings.log_format,
                   access_log=getattr(args, "access_log", False))
    try:
        settings.check_urls()
    except ConfigError as exc:
        return _fail(command, exc, debug=settings.log_level == "DEBUG")
    debug = settings.log_level == "DEBUG"
    changes: dict[str, object] = {}
    if getattr(args, "host", None):
        changes["host"] = args.host
    if getattr(args, "port", None) is not None:
        changes["port"] = args.port
    if getattr(args, "workers", None) is not None:
        if not 1 <= args.workers <= 64:
            return _fail(command, ConfigError(f"--workers 应在 1–64 之间, 实为 {args.workers}"),
                         debug=False)
        changes["workers"] = args.workers
    if command == "demo" and not settings.admin_token:
        # The demo seeds itself through the admin API; a fresh token per run, never printed.
        changes["admin_token"] = Secret(secrets.token_urlsafe(24))
    settings = settings.with_changes(**changes)
    offline = ("verify", "export", "registration")
    if command in ("verify", "export") and not audit_cli.needs_database(args):
        return asyncio.run(audit_cli.run(args, settings))  # a bundle: no database at all

    _SIGNALS.install()
    sock: socket.socket | None = None
    try:
        if command not in ("migrate", *offline):
            sock = _bind(settings.host, settings.port)

        def runner(resolved: Settings) -> Coroutine[Any, Any, int]:
            if command == "registration":
                return registration_cli.run(args, resolved)
            if command in ("verify", "export"):
                return audit_cli.run(args, resolved)
            if sock is None:
                return _migrate(resolved)
            if command == "serve" and resolved.workers > 1:
                return _serve_workers(resolved, sock, access_log=args.access_log)
            if command == "serve":
                return _serve(resolved, sock, access_log=args.access_log)
            return _demo(resolved, sock, fast=args.fast, once=args.once,
                         access_log=args.access_log)

        with _resolved(settings, redis=command not in ("migrate", *offline)) as resolved:
            try:
                return eventloop.run(_SIGNALS.run(runner(resolved)))
            finally:
                _SIGNALS.stopping = True  # let the embedded servers stop in order
    except StartupError as exc:
        return _fail(command, exc, debug)
    except (KeyboardInterrupt, asyncio.CancelledError):
        if _SIGNALS.received is None:
            raise
        return 0
    finally:
        if sock is not None:
            sock.close()


if __name__ == "__main__":
    raise SystemExit(main())
