"""How a server process runs its event loop: on uvloop where it is installed, with the garbage
collector's start-up objects frozen.

**uvloop.** ``uvicorn[standard]`` installs it and uvicorn's own ``loop="auto"`` would pick it;
``auction serve`` runs its own loop (it owns the signals and the socket, auction/cli.py), so it
picks it here. On the bench's hot lot the same accepted rate cost 0.65 instead of 0.74 of a core
(docs/performance.md "Issue 17, third pass"). Where uvloop is missing (it has no Windows build)
asyncio's default loop runs the same code.

**The garbage collector.** A full (generation 2) collection walks every tracked object in the
process, and it stops the event loop while it does: with the app built (modules, routes,
settings, the services' pools) that was 40–55 ms, several times a minute under load — the whole
of the bid acknowledgement's p99 at 1,000 bids/s. :func:`freeze_startup` moves what exists once
the services started into the collector's permanent generation (``gc.freeze``), which full
collections skip; they then take 3–10 ms. Objects made later are collected as before.

**The collector's thresholds.** Under a bid storm the default ones (700, 10, 10) promote
whatever is alive at each young collection: queued bids, batches in flight and the frames
waiting for a socket live 50–500 ms, long enough to reach the oldest generation, which then
grows by a quarter (a full collection) every 1–2 s. With 800 bidders' sockets open that walk
took 40–100 ms each time on the bench's 2-core machine, a tenth of the event loop's time and
the worst of its stalls. :data:`GC_THRESHOLDS` collects the youngest generation every 5,000
allocations instead of 700 (a young collection stays ≈ 1–4 ms) and the middle one after 100 of
those instead of 10, so only what is still alive after ≈ 500,000 allocations is promoted: at
8,000 bids/s offered on one lot, 1 full collection in 20 s instead of 12
(docs/performance.md, "Issue 17, fifth pass").

**Watching it.** What found both: how late the loop runs a timer, and how long each collection
stops it. A server process keeps measuring both (:func:`watch`, :func:`time_collections`) as
``auction_event_loop_lag_seconds`` and ``auction_gc_pause_seconds{generation}`` on
``/metrics``, and logs a warning when the loop was blocked for :data:`BLOCKED_WARN_S` or more.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from auction import metrics

T = TypeVar("T")

log = logging.getLogger("auction.eventloop")

#: ``gc.set_threshold`` of a server process (see the module's docstring)
GC_THRESHOLDS = (5_000, 100, 10)
#: :func:`watch` logs a warning when the loop ran its timer this late (s) or later
BLOCKED_WARN_S = 1.0


#: tasks started by :func:`detach` and not yet done (the loop keeps only weak references)
_DETACHED: set[asyncio.Task[Any]] = set()


def detach(coro: Coroutine[Any, Any, None], name: str | None = None) -> None:
    """Run ``coro`` in a task of its own that nothing awaits or cancels: short side work that
    must outlive whatever started it (an audit row after its ack, a notice after a socket
    closed). The task is held until it is done."""
    task = asyncio.get_running_loop().create_task(coro, name=name)
    _DETACHED.add(task)
    task.add_done_callback(_DETACHED.discard)


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, on a uvloop loop when uvloop is importable."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard] on Linux/macOS
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def freeze_startup() -> None:
    """Collect once, then freeze what survives (call when the process's services are up), and
    set the collector's thresholds for a server's load."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    time_collections()
    log.debug("garbage collector: %d start-up objects frozen", gc.get_freeze_count())


_gc_started: list[float] = []


def _on_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _gc_started[:] = [time.perf_counter()]
    elif _gc_started:
        metrics.GC_PAUSE.labels(str(info["generation"])).observe(
            time.perf_counter() - _gc_started[0])


def time_collections() -> None:
    """Time every garbage collection of this process into ``auction_gc_pause_seconds`` (once
    per process, however often it is called)."""
    if _on_collection not in gc.callbacks:
        gc.callbacks.append(_on_collection)


async def watch(interval_s: float = 0.1, warn_s: float = BLOCKED_WARN_S) -> None:
    """Run a timer every ``interval_s`` and record how late the loop ran it (anything that
    holds the loop — a collection, a long computation, a blocking call — delays every socket
    and every bid by as much)."""
    while True:
        started = time.perf_counter()
        await asyncio.sleep(interval_s)
        late = max(0.0, time.perf_counter() - started - interval_s)
        metrics.EVENT_LOOP_LAG.observe(late)
        if late >= warn_s:
            log.warning("event loop blocked for %.2f s", late)
