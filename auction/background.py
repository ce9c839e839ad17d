"""Background loops (closer, drainer, deliverer) share one rule: a cancellation always wins.

A driver may turn a cancellation that lands inside a network call into its own error type; a loop
that logs errors and carries on would then swallow the shutdown and keep the process alive. Each
loop asks :func:`stop_requested` after catching an error and re-raises the cancellation.

A cancellation can also vanish without any error: on Python 3.11 ``asyncio.wait_for`` (asyncpg's
acquire with a timeout, for one) returns the inner result when that result and the cancellation
land in the same tick. The tick then ends normally, and a plain ``asyncio.sleep`` would hold the
loop for its whole interval (the eligibility resync's is 10 s, twice the shutdown's wait). So
each loop sleeps between ticks with :func:`pause`, which first asks again.
"""

from __future__ import annotations

import asyncio


def stop_requested() -> bool:
    """True when the current task has been asked to cancel (even if the request was swallowed)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def raise_if_stopping() -> None:
    if stop_requested():
        raise asyncio.CancelledError


async def pause(seconds: float) -> None:
    """Sleep between two ticks of a background loop, unless the task was asked to cancel
    during the tick (see the module's docstring): then raise the cancellation now."""
    raise_if_stopping()
    await asyncio.sleep(seconds)
