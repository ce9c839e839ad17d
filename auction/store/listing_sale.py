"""Listings (挂牌) in PostgreSQL (issue 15 item 4; docs/formats.md "Listing"): the listings
whose period is over, the decision taken at the end (``listing_ends``: outcome and number of
buyers; ``listing_buyers``: who qualified, never shown), and the buyers a listing that became
an auction keeps its bidding to. Plain SQL (house style rule 12); the rules are
:mod:`auction.domain.listing_sale` and :func:`auction.domain.formats.end_listing`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from auction.domain.listing_sale import outcome_of
from auction.store.errors import translated

if TYPE_CHECKING:
    from auction.store import Store

# Every listing still scheduled whose period is over, of a published session not finished,
# with its place in the running order and its session's schedule (for the auction's close).
_DUE = """
SELECT l.id, l.session_id, l.rank, s.ends_at, s.close_gap_s, s.max_extensions, s.hard_end_at
FROM (SELECT id, session_id, status, format, listing_ends_at,
             (rank() OVER (PARTITION BY session_id ORDER BY ordinal) - 1)::int AS rank
      FROM lots WHERE session_id IN (
          SELECT session_id FROM lots WHERE format = 'listing' AND status = 'scheduled'
             AND listing_ends_at <= now())) l
JOIN sessions s ON s.id = l.session_id
WHERE l.format = 'listing' AND l.status = 'scheduled' AND l.listing_ends_at <= now()
  AND s.published_at IS NOT NULL AND s.status <> 'finished'
ORDER BY l.listing_ends_at, l.id
LIMIT $1
"""

_PADDLES = """
SELECT bidder_id, paddle FROM registrations
WHERE session_id = $1 AND bidder_id = ANY($2::bigint[]) AND paddle IS NOT NULL
ORDER BY bidder_id
"""

_DECIDE = """
INSERT INTO listing_ends (lot_id, outcome, buyers) VALUES ($1, $2, $3)
ON CONFLICT (lot_id) DO NOTHING RETURNING lot_id
"""

_DECISION = """
SELECT e.outcome, e.buyers, e.decided_at,
       coalesce((SELECT array_agg(ARRAY[b.bidder_id, b.paddle::bigint] ORDER BY b.bidder_id)
                 FROM listing_buyers b WHERE b.lot_id = e.lot_id), '{}') AS who
FROM listing_ends e WHERE e.lot_id = $1
"""

_FROZEN = """
SELECT b.lot_id, b.bidder_id FROM listing_buyers b JOIN lots l ON l.id = b.lot_id
WHERE l.session_id = $1 AND ($2::bigint IS NULL OR l.id = $2)
"""

_ENDS = """
SELECT lot_id, outcome, buyers, decided_at FROM listing_ends WHERE lot_id = ANY($1::bigint[])
"""

# The paid registrations' deposits that may count for each of these lots (R0 decides: a
# deposit for another lot never does), with the lot's requirement: one query for a page.
_INTENTS = """
SELECT l.id, l.deposit_fen, r.bidder_id, d.lot_id AS deposit_lot, d.amount_fen, d.state
FROM lots l
JOIN registrations r ON r.session_id = l.session_id AND r.status = 'deposit_paid'
JOIN deposits d ON d.registration_id = r.id AND (d.lot_id IS NULL OR d.lot_id = l.id)
WHERE l.id = ANY($1::bigint[])
"""

#: a lot's deposit requirement and its session's deposits as ``(bidder_id, deposit lot,
#: amount_fen, state)`` (:class:`auction.store.ledger.Eligibility`'s shape)
Intents = tuple[int, list[tuple[int, int | None, int, str]]]


@dataclass(frozen=True, slots=True)
class DueListing:
    """A listing whose period is over, with its session's schedule."""

    lot_id: int
    session_id: int
    rank: int  # 0 for the first lot of the running order
    ends_at: datetime | None
    close_gap_s: int
    max_extensions: int | None
    hard_end_at: datetime | None


@dataclass(frozen=True, slots=True)
class Decision:
    """What a listing's end decided: ``outcome`` (``expired`` / ``agreement`` / ``auction``)
    and the qualified buyers as ``(bidder_id, paddle)``."""

    outcome: str
    buyers: tuple[tuple[int, int], ...]
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class Ended:
    """A listing's end as the public sees it: the outcome and how many buyers, never who."""

    outcome: str
    buyers: int
    decided_at: datetime


async def due(store: Store, *, limit: int = 200) -> list[DueListing]:
    """Listings whose period is over and that the room has not ended yet (per PostgreSQL)."""
    with translated():
        rows = await store.pool.fetch(_DUE, limit)
    return [DueListing(lot_id=r["id"], session_id=r["session_id"], rank=r["rank"],
                       ends_at=r["ends_at"], close_gap_s=r["close_gap_s"],
                       max_extensions=r["max_extensions"], hard_end_at=r["hard_end_at"])
            for r in rows]


async def paddles(store: Store, session_id: int, bidders: Iterable[int]
                  ) -> list[tuple[int, int]]:
    """``(bidder_id, paddle)`` of these bidders in the session (those with a paddle)."""
    with translated():
        rows = await store.pool.fetch(_PADDLES, session_id, sorted(bidders))
    return [(int(r["bidder_id"]), int(r["paddle"])) for r in rows]


async def decide(store: Store, lot_id: int, buyers: Sequence[tuple[int, int]]) -> Decision:
    """Record the listing's end with these buyers, unless an end is already recorded (another
    process, an earlier tick before a restart): the first decision stands. The decision."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            inserted = await conn.fetchval(_DECIDE, lot_id, outcome_of(len(buyers)),
                                           len(buyers))
            if inserted is not None and buyers:
                await conn.executemany(
                    "INSERT INTO listing_buyers (lot_id, bidder_id, paddle) VALUES ($1, $2, $3)",
                    [(lot_id, bidder, paddle) for bidder, paddle in buyers])
    found = await decision(store, lot_id)
    assert found is not None  # just written, or written before
    return found


async def decision(store: Store, lot_id: int) -> Decision | None:
    """The recorded end of the listing, ``None`` before it."""
    with translated():
        r = await store.pool.fetchrow(_DECISION, lot_id)
    if r is None:
        return None
    return Decision(outcome=r["outcome"], decided_at=r["decided_at"],
                    buyers=tuple((int(b[0]), int(b[1])) for b in r["who"]))


async def frozen_buyers(store: Store, session_id: int, lot_id: int | None = None
                        ) -> dict[int, set[int]]:
    """Per listing of the session that has ended: the buyers qualified at its end (L3: only
    they may bid in the auction it became)."""
    with translated():
        rows = await store.pool.fetch(_FROZEN, session_id, lot_id)
    out: dict[int, set[int]] = {}
    for r in rows:
        out.setdefault(int(r["lot_id"]), set()).add(int(r["bidder_id"]))
    return out


async def ends(store: Store, lot_ids: Sequence[int]) -> dict[int, Ended]:
    """The recorded ends of these lots (those that were listings and have ended)."""
    if not lot_ids:
        return {}
    with translated():
        rows = await store.pool.fetch(_ENDS, list(lot_ids))
    return {int(r["lot_id"]): Ended(outcome=r["outcome"], buyers=int(r["buyers"]),
                                    decided_at=r["decided_at"]) for r in rows}


async def intents(store: Store, lot_ids: Sequence[int]) -> dict[int, Intents]:
    """Per lot among ``lot_ids`` with any paid registration's deposit that may cover it: its
    requirement and those deposits (:data:`Intents`), in one query; a lot without is absent."""
    if not lot_ids:
        return {}
    with translated():
        rows = await store.pool.fetch(_INTENTS, list(lot_ids))
    out: dict[int, Intents] = {}
    for r in rows:
        _, deposits = out.setdefault(int(r["id"]), (int(r["deposit_fen"]), []))
        deposits.append((int(r["bidder_id"]), r["deposit_lot"], int(r["amount_fen"]),
                         str(r["state"])))
    return out
