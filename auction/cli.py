"""The ``auction`` command: ``serve``, ``migrate``, ``demo``.

Settings are read once here and passed down. When ``DATABASE_URL`` / ``REDIS_URL`` are unset the
embedded PostgreSQL and Redis are started in the data dir (auction/embedded.py) and stopped on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import secrets
import sys
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import uvicorn

from auction.settings import Secret, Settings
from auction.wire.codec import MAX_FRAME

log = logging.getLogger("auction")


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    # one line per HTTP request of the demo's own client is noise, not progress
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLevelName(level)))


@contextlib.contextmanager
def _resolved(settings: Settings) -> Iterator[Settings]:
    """Settings with both URLs filled in, starting embedded servers for the missing ones."""
    if settings.database_url and settings.redis_url:
        yield settings
        return
    from auction.embedded import EmbeddedServers

    with EmbeddedServers() as servers:
        yield servers.start(settings)


async def _migrate(settings: Settings) -> None:
    from auction.store.migrate import migrate

    assert settings.database_url
    applied = await migrate(settings.database_url, progress=_progress)
    _progress(f"数据库迁移完成: 本次应用 {len(applied)} 个")


def _server(settings: Settings) -> uvicorn.Server:
    from auction.api.app import create_app

    config = uvicorn.Config(
        create_app(settings), host=settings.host, port=settings.port,
        ws_max_size=MAX_FRAME, log_level=settings.log_level.lower(), lifespan="on",
        ws_ping_interval=20, ws_ping_timeout=20,
    )
    return uvicorn.Server(config)


async def _serve(settings: Settings) -> None:
    await _migrate(settings)
    server = _server(settings)
    _progress(f"拍卖引擎已启动: http://{settings.host}:{settings.port}/  (Ctrl-C 退出)")
    await server.serve()


async def _demo(settings: Settings, *, fast: bool, once: bool) -> int:
    from auction.demo.runner import run_demo

    await _migrate(settings)
    server = _server(settings)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            return 1
        await asyncio.sleep(0.05)
    base_url = f"http://{settings.host}:{settings.port}"
    _progress(f"演示拍卖会已启动: {base_url}/")
    demo = asyncio.create_task(
        run_demo(base_url, settings.admin_token.value, fast=fast, once=once, progress=_progress)
    )
    done, _ = await asyncio.wait({serving, demo}, return_when=asyncio.FIRST_COMPLETED)
    if demo in done:
        server.should_exit = True  # --once: every lot is settled and handed off
        await serving
        demo.result()
        return 0
    # the server stopped (Ctrl-C): the simulated bidders have nobody to talk to
    demo.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await demo
    return 0


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
    del migrate
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    _setup_logging(settings.log_level)
    changes: dict[str, object] = {}
    if getattr(args, "host", None):
        changes["host"] = args.host
    if getattr(args, "port", None):
        changes["port"] = args.port
    if args.command == "demo" and not settings.admin_token:
        # The demo seeds itself through the admin API; a fresh token per run, never printed.
        changes["admin_token"] = Secret(secrets.token_urlsafe(24))
    settings = settings.with_changes(**changes)

    runners: dict[str, Callable[[Settings], Coroutine[Any, Any, object]]] = {
        "serve": _serve,
        "migrate": _migrate,
        "demo": lambda s: _demo(s, fast=args.fast, once=args.once),
    }
    with _resolved(settings) as resolved:
        try:
            result = asyncio.run(runners[args.command](resolved))
        except KeyboardInterrupt:
            return 130
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    raise SystemExit(main())
