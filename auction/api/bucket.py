"""A connection's own request rate: a token bucket in memory, no I/O.

Each websocket connection spends one token per ``bid`` or ``cmd`` (auction/api/ws.py); the
per-bidder, per-staff and per-address limits in Redis (:mod:`auction.accounts.limits`) come after.
"""

from __future__ import annotations

import time


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()

    def take(self) -> float:
        """0 when allowed, else the seconds to wait."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate
