"""Per-process caches read by the authorisation and deposit checks.

Correctness over speed: the market tree and a session's market never change once written (a
market is never re-parented, a session never moves), so they are kept until a lookup misses;
a bidder's deposit cover is kept for :data:`COVER_TTL_S` and only when it allows the bid, so a
confirmation takes effect at once and a release or forfeit within a couple of seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from auction.accounts.policy import MarketTree

COVER_TTL_S = 2.0
MAX_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class LotTerms:
    """What the bid check needs to know of a lot."""

    session_id: int
    market_id: int
    deposit_fen: int


@dataclass(frozen=True, slots=True)
class Cover:
    """A deposit of a bidder in a session: ``lot_id`` None is the session band."""

    lot_id: int | None
    amount_fen: int
    state: str


@dataclass(slots=True)
class AuthCache:
    tree: MarketTree | None = None
    session_market: dict[int, int] = field(default_factory=dict)
    lots: dict[int, LotTerms] = field(default_factory=dict)
    covers: dict[tuple[int, int], tuple[float, list[Cover]]] = field(default_factory=dict)

    def forget_tree(self) -> None:
        self.tree = None

    def cover(self, session_id: int, bidder_id: int) -> list[Cover] | None:
        hit = self.covers.get((session_id, bidder_id))
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def keep_cover(self, session_id: int, bidder_id: int, covers: list[Cover]) -> None:
        if len(self.covers) > MAX_ENTRIES:
            self.covers.clear()
        self.covers[(session_id, bidder_id)] = (time.monotonic() + COVER_TTL_S, covers)

    def forget_covers(self, session_id: int | None = None) -> None:
        if session_id is None:
            self.covers.clear()
        else:
            for key in [k for k in self.covers if k[0] == session_id]:
                del self.covers[key]
