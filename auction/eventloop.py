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
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

log = logging.getLogger("auction.eventloop")


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, on a uvloop loop when uvloop is importable."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard] on Linux/macOS
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def freeze_startup() -> None:
    """Collect once, then freeze what survives (call when the process's services are up)."""
    gc.collect()
    gc.freeze()
    log.debug("garbage collector: %d start-up objects frozen", gc.get_freeze_count())
