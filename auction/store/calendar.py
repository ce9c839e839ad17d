"""The sale calendar in PostgreSQL (issue 15): the lots of timed sessions due to open, and
relisting (docs/formats.md "Scheduling",
"Relisting"). Plain SQL (house style rule 12); the rules are :mod:`auction.domain.schedule`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from auction.store import Store
from auction.store.errors import translated
from auction.store.records import rfc3339

# Every lot of a published timed session with an end, still scheduled in PostgreSQL, whose
# opening time has come; its rank in the running order counts every lot of its session (a
# withdrawn lot keeps its place: the published closing times never shift). A listing (挂牌)
# opens only at the end of its period (auction/rooms/listing_end.py).
_DUE = """
SELECT l.id, l.session_id, l.rank, s.ends_at, s.close_gap_s, s.max_extensions, s.hard_end_at
FROM (SELECT id, session_id, status, starts_at, format,
             (rank() OVER (PARTITION BY session_id ORDER BY ordinal) - 1)::int AS rank
      FROM lots WHERE session_id IN (
          SELECT id FROM sessions WHERE mode = 'timed' AND ends_at IS NOT NULL
             AND published_at IS NOT NULL AND status <> 'finished')) l
JOIN sessions s ON s.id = l.session_id
WHERE l.status = 'scheduled' AND l.format <> 'listing'
  AND coalesce(l.starts_at, s.starts_at) <= now()
ORDER BY s.id, l.rank
LIMIT $1
"""

@dataclass(frozen=True, slots=True)
class DueLot:
    """A lot the scheduler opens now, with its session's schedule."""

    lot_id: int
    session_id: int
    rank: int  # 0 for the first lot of the running order
    ends_at: datetime
    close_gap_s: int
    max_extensions: int | None
    hard_end_at: datetime | None


async def due_lots(store: Store, *, limit: int = 200) -> list[DueLot]:
    """Lots of self-running timed sessions whose opening time has come (running order)."""
    with translated():
        rows = await store.pool.fetch(_DUE, limit)
    return [DueLot(lot_id=r["id"], session_id=r["session_id"], rank=r["rank"],
                   ends_at=r["ends_at"], close_gap_s=r["close_gap_s"],
                   max_extensions=r["max_extensions"], hard_end_at=r["hard_end_at"])
            for r in rows]


# A lot may be relisted when it passed (流拍), or sold and its buyer defaulted (悔拍).
_RELISTABLE = """
SELECT l.status, d.lot_id IS NOT NULL AS defaulted,
       EXISTS (SELECT 1 FROM lots n WHERE n.relisted_from = l.id) AS relisted
FROM lots l LEFT JOIN lot_defaults d ON d.lot_id = l.id WHERE l.id = $1
"""

# The relisting chain through a lot: every lot before it (relisted_from, back) and after it
# (the lot relisting it, forward), oldest first.
_CHAIN = """
WITH RECURSIVE back(id, depth) AS (
    SELECT id, 0 FROM lots WHERE id = $1
    UNION ALL
    SELECT l.relisted_from, b.depth - 1 FROM back b JOIN lots l ON l.id = b.id
    WHERE l.relisted_from IS NOT NULL AND b.depth > -50
), fwd(id, depth) AS (
    SELECT id, 0 FROM lots WHERE id = $1
    UNION ALL
    SELECT n.id, f.depth + 1 FROM fwd f JOIN lots n ON n.relisted_from = f.id
    WHERE f.depth < 50
)
SELECT l.id, l.session_id, s.name AS session_name, s.starts_at, l.start_price_fen, l.status,
       l.relisted_from, d.lot_id IS NOT NULL AS defaulted, c.depth
FROM (SELECT id, depth FROM back UNION SELECT id, depth FROM fwd) c
JOIN lots l ON l.id = c.id JOIN sessions s ON s.id = l.session_id
LEFT JOIN lot_defaults d ON d.lot_id = l.id
ORDER BY c.depth
"""

# Did the bidder default on a lot that a lot of this session relists (through any chain)?
_DEFAULTED_HERE = """
WITH RECURSIVE back(id, depth) AS (
    SELECT relisted_from, 1 FROM lots WHERE session_id = $1 AND relisted_from IS NOT NULL
    UNION ALL
    SELECT l.relisted_from, b.depth + 1 FROM back b JOIN lots l ON l.id = b.id
    WHERE l.relisted_from IS NOT NULL AND b.depth < 50
)
SELECT EXISTS (SELECT 1 FROM back b JOIN lot_defaults d ON d.lot_id = b.id
               WHERE d.bidder_id = $2)
"""


@dataclass(frozen=True, slots=True)
class Relistable:
    """What relisting needs to know of a lot."""

    status: str
    defaulted: bool  # sold, and its buyer defaulted (悔拍)
    relisted: bool  # already relisted once

    @property
    def may_relist(self) -> bool:
        """Passed, or sold to a buyer who defaulted, and not relisted yet."""
        return not self.relisted and (
            self.status == "passed" or (self.status == "sold" and self.defaulted))


@dataclass(frozen=True, slots=True)
class ChainLot:
    """One lot of a relisting chain, as its public page shows it (no buyer)."""

    lot_id: int
    session_id: int
    session_name: str
    starts_at: datetime
    start_price_fen: int
    status: str
    relisted_from: int | None
    defaulted: bool

    def to_json(self) -> dict[str, object]:
        return {"lot_id": self.lot_id, "session_id": self.session_id,
                "session_name": self.session_name, "starts_at": rfc3339(self.starts_at),
                "start_price_fen": self.start_price_fen, "status": self.status,
                "relisted_from": self.relisted_from, "defaulted": self.defaulted}


async def relistable(store: Store, lot_id: int) -> Relistable | None:
    """The lot's status, default and relisting (``None``: no such lot)."""
    with translated():
        row = await store.pool.fetchrow(_RELISTABLE, lot_id)
    if row is None:
        return None
    return Relistable(status=row["status"], defaulted=row["defaulted"],
                      relisted=row["relisted"])


async def chain(store: Store, lot_id: int) -> list[ChainLot]:
    """The relisting chain through the lot, oldest first (only the lot itself when none)."""
    with translated():
        rows = await store.pool.fetch(_CHAIN, lot_id)
    return [ChainLot(lot_id=r["id"], session_id=r["session_id"],
                     session_name=r["session_name"], starts_at=r["starts_at"],
                     start_price_fen=r["start_price_fen"], status=r["status"],
                     relisted_from=r["relisted_from"], defaulted=r["defaulted"]) for r in rows]


async def defaulted_in(store: Store, session_id: int, bidder_id: int) -> bool:
    """Did the bidder default (悔拍) on a lot that a lot of the session relists?"""
    with translated():
        return bool(await store.pool.fetchval(_DEFAULTED_HERE, session_id, bidder_id))
