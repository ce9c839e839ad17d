"""The lot lifecycle: an enum with guarded transitions (house style rule 2).

::

    scheduled ──open──► open ──hammer / close with a bid ≥ reserve──► sold
        │                 ├──pass / close without a valid winner──► passed
        └──────withdraw───┴──withdraw──────────────────────────────► withdrawn

``sold``, ``passed`` and ``withdrawn`` are terminal (落槌 / 流拍 / 撤拍).
"""

from __future__ import annotations

import enum

from auction.domain.errors import Rejection


class LotStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    SOLD = "sold"
    PASSED = "passed"
    WITHDRAWN = "withdrawn"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL

    def require(self, *allowed: LotStatus) -> None:
        """Raise the rejection a bidder or auctioneer should see when not in ``allowed``."""
        if self in allowed:
            return
        if self is LotStatus.SCHEDULED:
            raise Rejection("lot_not_open", status=self.value)
        if self.terminal:
            raise Rejection("lot_closed", status=self.value)
        raise Rejection("wrong_state", status=self.value)

    def to(self, target: LotStatus) -> LotStatus:
        """Return ``target`` if the move is legal, else raise naming the state."""
        if target not in _MOVES[self]:
            raise Rejection(
                "wrong_state",
                f"标的状态 {self.value} 不能变为 {target.value}",
                status=self.value,
                target=target.value,
            )
        return target


class LotMode(enum.StrEnum):
    LIVE = "live"  # the auctioneer opens, hammers or passes
    TIMED = "timed"  # closes by the clock, with the anti-sniping extension


_TERMINAL = frozenset({LotStatus.SOLD, LotStatus.PASSED, LotStatus.WITHDRAWN})
_MOVES: dict[LotStatus, frozenset[LotStatus]] = {
    LotStatus.SCHEDULED: frozenset({LotStatus.OPEN, LotStatus.WITHDRAWN}),
    LotStatus.OPEN: frozenset({LotStatus.SOLD, LotStatus.PASSED, LotStatus.WITHDRAWN}),
    LotStatus.SOLD: frozenset(),
    LotStatus.PASSED: frozenset(),
    LotStatus.WITHDRAWN: frozenset(),
}


class LotFormat(enum.StrEnum):
    """How a lot is sold (docs/formats.md; rules in :mod:`auction.domain.formats`)."""

    ENGLISH = "english"  # ascending bids (R0–R8), with proxy bids (P1–P6)
    SEALED = "sealed"  # one-shot quotes revealed at the close (S1–S5)
    DUTCH = "dutch"  # a price falling by the clock, first acceptance wins (D1–D5)
    ROUNDS = "rounds"  # free bidding, then timed rounds until one passes without a bid (T1–T5)
    LISTING = "listing"  # 挂牌: a period, then 协议成交 or an auction among its buyers (L1–L3)
