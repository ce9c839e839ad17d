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
