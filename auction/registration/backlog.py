"""The registration backlog: how many packets wait, how many are dead, how old the oldest is.

:func:`report` reads it (:func:`auction.store.outbox.backlog`) and sets the outbox gauges of
:mod:`auction.metrics` (``auction_outbox_pending``, ``auction_outbox_dead``,
``auction_outbox_oldest_pending_seconds``). The deliverer calls it every pass and ``/healthz``
on every request, so the gauges are at most a pass old in any process that runs either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from auction import metrics
from auction.store import outbox

if TYPE_CHECKING:
    from auction.store import Store


async def report(store: Store) -> outbox.Backlog:
    """The backlog now, also written to the gauges."""
    found = await outbox.backlog(store)
    metrics.OUTBOX_PENDING.set(found.pending)
    metrics.OUTBOX_DEAD.set(found.dead)
    metrics.OUTBOX_OLDEST_PENDING_SECONDS.set(found.oldest_pending_age_s)
    return found
