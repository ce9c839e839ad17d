"""The server's event loop and garbage-collector set-up (auction/eventloop.py), each in a fresh
interpreter: freezing the collector's heap is for a server process, not the test run's."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from auction import eventloop


def _python(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=60, check=True)
    return out.stdout.strip()


def test_run_uses_uvloop_and_returns_the_result() -> None:
    out = _python("""
        import asyncio
        from auction import eventloop
        async def main():
            return type(asyncio.get_running_loop()).__module__ + " " + str(6 * 7)
        print(eventloop.run(main()))
    """)
    assert out.startswith("uvloop") and out.endswith(" 42")


def test_freeze_startup_moves_the_heap_out_of_full_collections() -> None:
    out = _python("""
        import gc
        from auction import eventloop
        from auction.api import app  # the app's modules, as a server has them
        before = gc.get_freeze_count()
        eventloop.freeze_startup()
        print(before, gc.get_freeze_count(), *gc.get_threshold())
    """)
    before, after, *thresholds = map(int, out.split())
    assert before == 0 and after > 10_000
    # young collections less often than the default (700, 10, 10): a bid storm's queued bids
    # no longer reach the oldest generation (module docstring)
    assert tuple(thresholds) == eventloop.GC_THRESHOLDS == (5_000, 100, 10)


def test_objects_made_after_the_freeze_are_still_collected() -> None:
    out = _python("""
        import gc, weakref
        from auction import eventloop
        eventloop.freeze_startup()
        class Node: pass
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: only the collector frees it
        alive = weakref.ref(a)
        del a, b
        gc.collect()
        print(alive() is None)
    """)
    assert out == "True"


def test_every_collection_is_timed_once_into_the_gc_pause_metric() -> None:
    out = _python("""
        import gc
        from auction import eventloop, metrics
        eventloop.freeze_startup()
        eventloop.time_collections()  # a second call adds no second callback
        gc.collect()
        gc.collect(0)
        def count(gen):
            return metrics.REGISTRY.get_sample_value(
                "auction_gc_pause_seconds_count", {"generation": gen}) or 0
        print(gc.callbacks.count(eventloop._on_collection), count("2"), count("0"))
    """)
    callbacks, full, young = map(float, out.split())
    assert callbacks == 1
    assert full >= 1 and young >= 1


def test_a_blocked_loop_is_measured_and_logged() -> None:
    """A coroutine that blocks the loop for 0.4 s (a blocking call) shows in
    ``auction_event_loop_lag_seconds`` and in a warning; a loop that only sleeps does not."""
    out = _python("""
        import asyncio, logging, sys, time
        from auction import eventloop, metrics
        logging.basicConfig(level=logging.WARNING, format="%(name)s %(message)s",
                            stream=sys.stdout)
        async def main():
            watcher = asyncio.create_task(eventloop.watch(interval_s=0.05, warn_s=0.2))
            await asyncio.sleep(0.3)
            quiet = metrics.REGISTRY.get_sample_value("auction_event_loop_lag_seconds_sum")
            time.sleep(0.4)  # holds the loop
            await asyncio.sleep(0.2)
            watcher.cancel()
            total = metrics.REGISTRY.get_sample_value("auction_event_loop_lag_seconds_sum")
            ticks = metrics.REGISTRY.get_sample_value("auction_event_loop_lag_seconds_count")
            print(round(quiet, 3), round(total, 3), int(ticks))
        asyncio.run(main())
    """)
    lines = out.splitlines()
    quiet, total, ticks = lines[-1].split()
    assert float(quiet) < 0.1 and float(total) >= 0.3 and int(ticks) >= 5
    assert any("auction.eventloop event loop blocked for 0.3" in line
               or "auction.eventloop event loop blocked for 0.4" in line for line in lines), out
