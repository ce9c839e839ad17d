"""``python -m loadtests.run_locust [locust args…]``: the documented locust baseline against a
server of its own (same throwaway database / Redis namespace / cleanup as the bench).

Defaults to the baseline of docs/performance.md: ``--headless -u 100 -r 20 -t 60s``.
Uses ``DATABASE_URL`` / ``REDIS_URL``; ``--server-root DIR`` runs the server from a snapshot.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from loadtests.stack import ROOT, Stack, progress

BASELINE = ["--headless", "-u", "100", "-r", "20", "-t", "60s"]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    root = None
    if "--server-root" in args:
        i = args.index("--server-root")
        root = Path(args[i + 1]).resolve()
        del args[i : i + 2]
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if not database_url or not redis_url:
        raise SystemExit("DATABASE_URL and REDIS_URL must be set")
    stack = Stack(database_url, redis_url)
    if root is not None:
        stack.server_root = root

    async def up() -> str:
        await stack.create_database()
        return (await stack.start_server()).base

    base = asyncio.run(up())
    try:
        env = dict(os.environ, AUCTION_ADMIN_TOKEN=stack.admin_token, PYTHONPATH=str(ROOT))
        locust = str(Path(sys.executable).with_name("locust"))
        cmd = [locust, "-f", str(ROOT / "loadtests" / "locustfile.py"), "-H", base,
               *(args or BASELINE)]
        progress(" ".join(cmd))
        return subprocess.run(cmd, env=env, cwd=ROOT).returncode
    finally:
        stack.stop_servers()

        async def down() -> None:
            await stack.clean_redis()
            await stack.drop_database()

        asyncio.run(down())


if __name__ == "__main__":
    raise SystemExit(main())
