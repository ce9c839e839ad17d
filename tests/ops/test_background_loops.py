"""A background loop stops at once when cancelled, even when its tick swallowed the cancellation.

CI once logged ``background task eligibility did not stop within 5 s`` at shutdown: the
eligibility resync's tick ended normally although the task had been cancelled during it (on
Python 3.11 a ``wait_for`` whose inner call finishes in the same tick returns instead of raising),
and the loop then slept its whole 10 s interval.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from auction.background import pause
from auction.rooms.eligibility import EligibilitySync


class _SwallowingSync(EligibilitySync):
    """A resync whose tick swallows the cancellation, as a ``wait_for`` race does."""

    def __init__(self) -> None:
        super().__init__(store=None, redis=None, keys=None, interval_s=60.0)  # type: ignore[arg-type]
        self.in_tick = asyncio.Event()

    async def resync_once(self, *, full: bool = False) -> int:
        self.in_tick.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            return 0  # the cancellation is gone; the tick ends as if nothing happened
        return 0


async def test_eligibility_resync_stops_when_its_tick_swallowed_the_cancellation() -> None:
    sync = _SwallowingSync()
    task = asyncio.create_task(sync.run())
    await asyncio.wait_for(sync.in_tick.wait(), 5)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)
    assert task in done, "the loop slept its interval after a swallowed cancellation"
    assert task.cancelled()


async def test_pause_raises_at_once_for_a_cancelled_task_and_sleeps_otherwise() -> None:
    async def swallowed_then_pause(started: asyncio.Event) -> Any:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            pass
        await pause(30)

    started = asyncio.Event()
    task = asyncio.create_task(swallowed_then_pause(started))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)

    loop = asyncio.get_running_loop()
    begun = loop.time()
    await pause(0.05)
    assert loop.time() - begun >= 0.05
