"""The bench's own stack: a throwaway database, server processes on free ports, Redis cleanup.

Everything is created from ``DATABASE_URL`` / ``REDIS_URL``: a database ``auction_bench_<hex>``
on the same PostgreSQL server (created, migrated with ``python -m auction migrate``, dropped at
the end) and a Redis namespace ``bench-<hex>`` whose keys are deleted at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import psutil

from auction.rooms import connection

ROOT = Path(__file__).resolve().parents[1]


def progress(line: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))


@dataclass
class ServerProc:
    port: int
    proc: subprocess.Popen[bytes]
    #: server processes (``auction serve --workers``): the supervisor's children serve
    workers: int = 1
    #: set once the server said it serves (with several workers: all of them)
    started: threading.Event = field(default_factory=threading.Event)
    relayer: threading.Thread | None = None

    def relay(self) -> None:
        """Copy the server's stderr to ours (a thread), noting when it said it started."""
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace")
            if "拍卖引擎已启动" in line:
                self.started.set()
            sys.stderr.write(line)
            sys.stderr.flush()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def pid(self) -> int:
        return self.proc.pid


def server_pids(server: ServerProc) -> list[int]:
    """The processes that serve: the server itself, or its worker processes (not
    multiprocessing's resource tracker) when it runs several."""
    if server.workers <= 1:
        return [server.pid]
    try:
        children = psutil.Process(server.pid).children()
    except psutil.Error:
        return []
    pids = []
    for child in children:
        with contextlib.suppress(psutil.Error):
            if "spawn_main" in " ".join(child.cmdline()):
                pids.append(child.pid)
    return pids


@dataclass
class Stack:
    database_url: str
    redis_url: str
    db_name: str = field(default_factory=lambda: f"auction_bench_{secrets.token_hex(4)}")
    namespace: str = field(default_factory=lambda: f"bench-{secrets.token_hex(4)}")
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    ws_impl: str = ""
    #: the source tree the server runs from (default: this checkout); the bench can measure a
    #: clean snapshot (``git archive``) while the working tree is being edited
    server_root: Path = ROOT
    servers: list[ServerProc] = field(default_factory=list)
    data_dir: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="auction-bench-"))

    @property
    def bench_db_url(self) -> str:
        return with_database(self.database_url, self.db_name)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.bench_db_url, REDIS_URL=self.redis_url,
            AUCTION_SECRET=self.secret, AUCTION_ADMIN_TOKEN=self.admin_token,
            AUCTION_REDIS_NAMESPACE=self.namespace, AUCTION_LOG_LEVEL="WARNING",
            AUCTION_DATA_DIR=self.data_dir,
            # the bench's clients each send their own X-Forwarded-For (loadtests/wsclient.py)
            AUCTION_TRUSTED_PROXIES="127.0.0.1",
            # a hammered lot is final at once: the bench measures settlement, not the window
            # in which an auctioneer may reopen it (docs/architecture.md "Reopen and settlement")
            AUCTION_REOPEN_WINDOW_S="0",
            # every bench bidder signs up and logs in: cheap hashes keep seeding short (the
            # bench measures bidding, not argon2)
            AUCTION_PASSWORD_PROFILE="fast",
            PYTHONPATH=os.pathsep.join(dict.fromkeys([str(self.server_root), str(ROOT)])),
        )
        if self.ws_impl:
            env["AUCTION_BENCH_WS"] = self.ws_impl
        return env

    async def create_database(self) -> None:
        conn = await asyncpg.connect(self.database_url)
        try:
            await conn.execute(f'CREATE DATABASE "{self.db_name}"')
        finally:
            await conn.close()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "auction", "migrate", env=self.env(), cwd=self.server_root,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )
        _, err = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"migrate failed: {err.decode(errors='replace')}")

    async def drop_database(self) -> None:
        conn = await asyncpg.connect(self.database_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        finally:
            await conn.close()

    async def start_server(self, workers: int = 1) -> ServerProc:
        port = free_port()
        cmd = [sys.executable, "-m", "loadtests.serve", "--port", str(port)]
        if workers != 1:
            cmd += ["--workers", str(workers)]
        proc = subprocess.Popen(cmd, env=self.env(), cwd=self.server_root, preexec_fn=_raise_nofile,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        server = ServerProc(port, proc, workers)
        server.relayer = threading.Thread(target=server.relay, daemon=True)
        server.relayer.start()
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(timeout=2) as http:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited with {proc.returncode}")
                with contextlib.suppress(httpx.HTTPError):
                    r = await http.get(f"{server.base}/healthz")
                    if r.status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not become healthy in 60 s")
                await asyncio.sleep(0.1)
        # the port answers once one worker serves; the server says so once all of them do
        while workers > 1 and not server.started.is_set():
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{workers} server process(es) did not start in 60 s")
            await asyncio.sleep(0.1)
        self.servers.append(server)
        return server

    def stop_servers(self) -> None:
        for server in self.servers:
            if server.proc.poll() is None:
                server.proc.terminate()
        for server in self.servers:
            self._reap(server)
        self.servers.clear()

    def stop_server(self, server: ServerProc) -> None:
        """Stop one server of :attr:`servers` (SIGTERM, then SIGKILL after 30 s)."""
        self.servers.remove(server)
        if server.proc.poll() is None:
            server.proc.terminate()
        self._reap(server)

    @staticmethod
    def _reap(server: ServerProc) -> None:
        try:
            server.proc.wait(30)  # several workers: the supervisor waits for each
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()
        if server.relayer is not None:
            server.relayer.join(5)  # the pipe's end: the server and its workers are gone
        if server.proc.stderr is not None:
            server.proc.stderr.close()

    async def clean_redis(self) -> int:
        redis = connection.connect(self.redis_url)  # a cluster: keys of several slots
        deleted = 0
        try:
            await connection.ready(redis)
            batch: list[bytes] = []

            async def delete() -> int:
                # one DEL per key in a pipeline: a cluster refuses a DEL across slots
                async with redis.pipeline(transaction=False) as pipe:
                    for key in batch:
                        pipe.delete(key)
                    gone = sum(int(n) for n in await pipe.execute())
                batch.clear()
                return gone

            async for key in redis.scan_iter(f"{self.namespace}:*", count=1000):
                batch.append(key)
                if len(batch) >= 500:
                    deleted += await delete()
            if batch:
                deleted += await delete()
        finally:
            await redis.aclose()
        return deleted
