"""Per-process caches read by the authorisation checks.

Correctness over speed: the market tree, a session's market and a lot's session and market
never change once written (a market is never re-parented, a session or lot never moves), so they
are kept until a lookup misses. Who may bid is not cached here: it is pushed into Redis and
checked by the bid script (:mod:`auction.rooms.eligibility`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from auction.accounts.policy import MarketTree


@dataclass(frozen=True, slots=True)
class LotTerms:
    """Where a lot belongs (for the console's permission check)."""

    session_id: int
    market_id: int


@dataclass(slots=True)
class AuthCache:
    tree: MarketTree | None = None
    session_market: dict[int, int] = field(default_factory=dict)
    lots: dict[int, LotTerms] = field(default_factory=dict)
    #: sessions known to be published (publishing is one-way; drafts are never cached)
    published: set[int] = field(default_factory=set)

    def forget_tree(self) -> None:
        self.tree = None
