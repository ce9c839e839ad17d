"""Start the server for the bench: ``python -m auction serve`` (``--workers N``: N processes on
the port, auction/workers.py) unless ``AUCTION_BENCH_WS`` names a uvicorn websocket
implementation (``websockets``, ``websockets-sansio``, ``wsproto``) to compare; then the same
uvicorn configuration as ``auction/cli.py`` with only ``ws=`` changed (one process only). A stock
implementation has no ``auction.direct_write`` extension (auction/api/ws_server.py), so
``--ws websockets-sansio`` measures the outbox's plain-ASGI path against the default."""

from __future__ import annotations

import argparse
import asyncio
import os

from auction import cli


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    impl = os.environ.get("AUCTION_BENCH_WS", "")
    if not impl:
        return cli.main(["serve", "--port", str(args.port), "--workers", str(args.workers)])
    if args.workers != 1:
        parser.error("AUCTION_BENCH_WS (--ws) runs one process: use --workers 1")

    import uvicorn

    from auction.api.app import create_app
    from auction.settings import Settings
    from auction.wire.codec import MAX_FRAME

    settings = Settings.from_env().with_changes(port=args.port)
    cli._setup_logging(settings.log_level)
    config = uvicorn.Config(
        create_app(settings), host=settings.host, port=settings.port, ws=impl,
        ws_max_size=MAX_FRAME, log_level=settings.log_level.lower(), lifespan="on",
        ws_ping_interval=20, ws_ping_timeout=20,
        proxy_headers=False,  # as auction/cli.py: the app applies AUCTION_TRUSTED_PROXIES
    )
    asyncio.run(uvicorn.Server(config).serve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
