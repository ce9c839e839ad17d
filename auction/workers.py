"""``auction serve --workers N``: N server processes sharing one listening socket (issue 17 item 5).

The process the operator started is the **supervisor**. It does everything that must happen
once, as for one process (auction/cli.py): reads the settings, binds the socket, starts the
embedded PostgreSQL / Redis for the URLs that are missing, checks Redis and migrates the
database. Then it spawns N **workers** (``multiprocessing`` with the ``spawn`` start method: a
fresh interpreter each, no state inherited by ``fork``) and hands each the listening socket and
the settings it read — a worker never reads the environment again, so every worker signs and
checks tokens with the same key and talks to the same (possibly embedded) servers.

Each worker is a whole server: the app (:func:`auction.api.app.create_app`) with its own
asyncpg pool, Redis client, fan-out hub and background loops. The kernel hands each new
connection to one of them; a websocket stays on the worker that accepted it, and events cross
workers through Redis (the hub of every process follows the lots its clients watch), so no
sticky sessions are needed. The singletons stay single: the drainer and the scheduler work only
while they hold their Redis lease (:mod:`auction.settlement.lease`), so one process at a time
does; the closer may run everywhere (``close.lua`` decides once); the registration deliverer
claims outbox rows with ``FOR UPDATE SKIP LOCKED``; the Redis check after a restart takes a
PostgreSQL advisory lock.

Life cycle:

- start-up: "拍卖引擎已启动" is printed once every worker serves; a worker that exits before
  that is a start-up error (one line, exit code 2), and the others are stopped;
- a worker that dies later (killed, crashed) is logged and replaced, at most once a second;
  a worker whose supervisor was killed (SIGKILL: it could not stop them) stops by itself;
- SIGTERM or Ctrl-C: each worker is sent SIGTERM and stops as one server does (websockets
  closed with 1001, app shut down); a worker still running after ``STOP_TIMEOUT_S`` is killed;
  then the embedded servers stop and the exit code is 0.

Each worker answers ``/metrics`` with its own counters; ``/healthz`` is the answering worker's.

Why not uvicorn's own ``workers=N``: it needs the app as an import string whose factory each
worker calls, so every worker would read the environment again (and could not be handed the
URLs of embedded servers the supervisor started, nor a token key it generated), and its workers
run a plain ``uvicorn.Server``, without the CLI's signal handling and the 1001 close of
:class:`auction.api.shutdown.GracefulServer`. Here a worker runs exactly what a single
``auction serve`` runs after its start-up checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

import uvicorn

from auction import eventloop
from auction.settings import Settings

log = logging.getLogger("auction.workers")

#: how long a worker has to start serving
START_TIMEOUT_S = 60.0
#: how long a worker has to stop after SIGTERM (its sockets' 1001, the app's shutdown)
STOP_TIMEOUT_S = 20.0
#: the shortest time between two starts of the same worker
RESTART_INTERVAL_S = 1.0
#: the exit code of a worker that could not start serving
STARTUP_FAILED = 3

_spawn = multiprocessing.get_context("spawn")


class WorkerStartError(Exception):
    """A worker exited (or did not report) before it served; ``str(exc)`` is one line."""


class Worker:
    """One worker process slot: started, watched and replaced by the supervisor."""

    def __init__(self, index: int, settings: Settings, sock: socket.socket, *,
                 access_log: bool) -> None:
        self.index = index
        self.settings = settings
        self.sock = sock
        self.access_log = access_log
        self.process: BaseProcess | None = None
        self.ready: Connection | None = None
        self.started_at = 0.0

    def start(self) -> None:
        ours, theirs = _spawn.Pipe(duplex=False)
        self.ready = ours
        self.process = _spawn.Process(
            target=worker_main, name=f"auction-worker-{self.index}", daemon=False,
            args=(self.index, self.settings, self.sock, self.access_log, theirs),
        )
        self.process.start()
        theirs.close()
        self.started_at = time.monotonic()

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.is_alive()

    def exitcode(self) -> int | None:
        return None if self.process is None else self.process.exitcode

    def reported_ready(self) -> bool:
        if self.ready is None:
            return False
        try:
            if self.ready.poll():
                self.ready.recv()
                return True
        except (EOFError, OSError):
            pass
        return False

    def terminate(self) -> None:
        if self.process is not None and self.process.is_alive() and self.process.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGTERM)

    def kill(self) -> None:
        if self.process is not None and self.process.is_alive():
            self.process.kill()

    def close(self) -> None:
        if self.ready is not None:
            self.ready.close()
            self.ready = None


async def supervise(settings: Settings, sock: socket.socket, count: int, *, access_log: bool,
                    started: Callable[[], None]) -> int:
    """Run ``count`` workers on ``sock`` until cancelled (a signal); ``started()`` is called
    once all of them serve. Raises :class:`WorkerStartError` if one cannot start."""
    workers = [Worker(i, settings, sock, access_log=access_log) for i in range(count)]
    try:
        for worker in workers:
            worker.start()
        await _until_ready(workers)
        started()
        while True:
            await asyncio.sleep(0.2)
            for worker in workers:
                if worker.reported_ready():  # a replacement that now serves
                    log.info("worker %d (pid %s) serving", worker.index, worker.pid)
                if worker.alive() or time.monotonic() - worker.started_at < RESTART_INTERVAL_S:
                    continue
                log.error("worker %d (pid %s) exited with code %s; starting a new one",
                          worker.index, worker.pid, worker.exitcode())
                worker.close()
                worker.start()
    finally:
        await _stop(workers)


async def _until_ready(workers: list[Worker]) -> None:
    waiting = set(range(len(workers)))
    deadline = time.monotonic() + START_TIMEOUT_S
    while waiting:
        for i in sorted(waiting):
            worker = workers[i]
            if worker.reported_ready():
                waiting.discard(i)
                log.info("worker %d (pid %s) serving", i, worker.pid)
            elif not worker.alive():
                raise WorkerStartError(
                    f"工作进程 {i} 启动失败 (退出码 {worker.exitcode()}), 原因见上方日志")
        if waiting and time.monotonic() > deadline:
            raise WorkerStartError(
                f"工作进程 {sorted(waiting)} 在 {START_TIMEOUT_S:.0f} s 内未能启动")
        await asyncio.sleep(0.05)


async def _stop(workers: list[Worker]) -> None:
    """SIGTERM every worker, wait for them, kill what is left."""
    for worker in workers:
        worker.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while any(w.alive() for w in workers) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for worker in workers:
        if worker.alive():
            log.error("worker %d (pid %s) did not stop within %.0f s; killed",
                      worker.index, worker.pid, STOP_TIMEOUT_S)
            worker.kill()
        if worker.process is not None:
            worker.process.join(5)
        worker.close()


# -- in the worker process ----------------------------------------------------------------------


def worker_main(index: int, settings: Settings, sock: socket.socket, access_log: bool,
                ready: Connection) -> None:
    """A worker: serve ``sock`` with the app until SIGTERM / SIGINT; report ``ready`` once it
    serves. Exit code 0 when stopped by a signal, :data:`STARTUP_FAILED` if it never served."""
    from auction import cli

    cli._setup_logging(settings.log_level, settings.log_format, access_log=access_log)
    cli._SIGNALS.install()
    try:
        code = eventloop.run(cli._SIGNALS.run(_serve(settings, sock, access_log, ready)))
    except (KeyboardInterrupt, asyncio.CancelledError):
        code = 0
    sys.exit(code)


async def _serve(settings: Settings, sock: socket.socket, access_log: bool,
                 ready: Connection) -> int:
    from auction import cli

    server = cli._server(settings, access_log=access_log)
    cli._SIGNALS.server = server
    serving = asyncio.create_task(cli._serve_quietly(server, sock), name="uvicorn")
    while not server.started:
        if serving.done():
            return 0 if cli._SIGNALS.received is not None else STARTUP_FAILED
        await asyncio.sleep(0.05)
    ready.send(os.getpid())
    ready.close()
    orphaned = asyncio.create_task(_stop_when_orphaned(server), name="supervisor-watch")
    try:
        code = await serving
    finally:
        orphaned.cancel()
    return 0 if cli._SIGNALS.received is not None else code


async def _stop_when_orphaned(server: uvicorn.Server) -> None:
    """A worker whose supervisor died (SIGKILL: it could not stop its workers) stops by
    itself, like on SIGTERM, instead of serving on unsupervised."""
    supervisor = os.getppid()
    while os.getppid() == supervisor:
        await asyncio.sleep(1.0)
    log.error("the supervisor (pid %d) is gone; stopping", supervisor)
    server.should_exit = True
