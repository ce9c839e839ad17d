"""One warning when a dependency goes, one line when it is back, a counter in between.

A Redis or PostgreSQL outage must not write a log line per request or per loop tick (an
unreachable Redis once wrote 16,000 lines a minute). Every place that catches a connection error
of a dependency reports it to that dependency's :class:`Outage` instead of logging it:

- :meth:`Outage.failed` logs one WARNING on the first failure of an outage and counts every
  failure (the ``auction_redis_errors_total`` / ``auction_postgres_errors_total`` counters);
- :meth:`Outage.ok` logs one WARNING-level "back" line, with the outage's length and how many
  calls failed meanwhile, on the first success after failures; otherwise it costs a comparison.

There is one :class:`Outage` per dependency per process (:data:`REDIS`, :data:`POSTGRES`): an
outage is a fact about the process's view of the server, not about one loop.
"""

from __future__ import annotations

import logging
import time

from prometheus_client import Counter

from auction import metrics

log = logging.getLogger("auction.outage")


class Outage:
    def __init__(self, name: str, counter: Counter) -> None:
        self.name = name
        self.counter = counter
        self.down_since: float | None = None
        self.failures = 0

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, exc: BaseException | str, *, where: str = "") -> None:
        """A call to the dependency failed with a connection-level error."""
        self.counter.inc()
        self.failures += 1
        if self.down_since is None:
            self.down_since = time.monotonic()
            self.failures = 1
            detail = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
            log.warning("%s unreachable%s (%s); retrying quietly until it is back",
                        self.name, f" from {where}" if where else "", detail)

    def ok(self) -> None:
        """A call to the dependency succeeded."""
        if self.down_since is None:
            return
        lasted = time.monotonic() - self.down_since
        log.warning("%s is back after %.1f s (%d failed calls meanwhile)",
                    self.name, lasted, self.failures)
        self.down_since = None
        self.failures = 0


REDIS = Outage("Redis", metrics.REDIS_ERRORS)
POSTGRES = Outage("PostgreSQL", metrics.POSTGRES_ERRORS)
