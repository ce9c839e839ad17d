"""Background loops (closer, drainer, deliverer) share one rule: a cancellation always wins.

A driver may turn a cancellation that lands inside a network call into its own error type; a loop
that logs errors and carries on would then swallow the shutdown and keep the process alive. Each
loop asks :func:`stop_requested` after catching an error and re-raises the cancellation.
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
