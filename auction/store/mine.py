"""A bidder's own view of its auctions (我的竞拍, ``GET /api/v1/me/auction``): its registrations,
its deposits, the lots it bid on with its highest bid, and the lots it won — read from
PostgreSQL; the live part (who leads an open lot) is the room's, added by
:mod:`auction.api.me`.

Every query is bounded to one bidder (and, for an agent's account, one session). A bid the
auctioneer undid (a ``bid_retracted`` event naming its seq) does not count as the bidder's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auction.store.errors import translated
from auction.store.records import rfc3339

if TYPE_CHECKING:
    from auction.store import Store

_REGISTRATIONS = """
SELECT r.id, r.session_id, s.name AS session_name, s.mode, s.starts_at, r.status, r.paddle,
       r.deposit_fen, r.reason, r.created_at
FROM registrations r JOIN sessions s ON s.id = r.session_id
WHERE r.bidder_id = $1 AND ($2::bigint IS NULL OR r.session_id = $2)
ORDER BY r.id DESC
"""

_DEPOSITS = """
SELECT d.id, d.session_id, d.registration_id, d.lot_id, d.amount_fen, d.state, d.updated_at
FROM deposits d JOIN registrations r ON r.id = d.registration_id
WHERE r.bidder_id = $1 AND ($2::bigint IS NULL OR d.session_id = $2)
ORDER BY d.id DESC
"""

# the bidder's standing bids per lot (retracted ones left out), with the lot and its result
_BIDS = """
SELECT l.id AS lot_id, l.session_id, l.ordinal, l.title, l.status,
       max(e.amount_fen) AS my_high_fen, count(*)::int AS my_bids, max(e.at) AS last_bid_at,
       res.outcome, res.winner_id, res.amount_fen AS final_fen
FROM lot_events e
JOIN lots l ON l.id = e.lot_id
LEFT JOIN lot_results res ON res.lot_id = l.id
WHERE e.kind = 'bid' AND e.bidder_id = $1 AND ($2::bigint IS NULL OR l.session_id = $2)
  AND NOT EXISTS (SELECT 1 FROM lot_events x
                  WHERE x.lot_id = e.lot_id AND x.kind = 'bid_retracted'
                    AND x.data->'bid_seq' = to_jsonb(e.seq))
GROUP BY l.id, res.lot_id
ORDER BY max(e.at) DESC, l.id
"""

# lots not yet closed of the sessions where the bidder holds a paddle: it may lead one whose
# bids (or even opening) the journal has not drained yet
_OPEN_LOTS = """
SELECT l.id AS lot_id, l.session_id, l.ordinal, l.title, l.status
FROM lots l JOIN registrations r ON r.session_id = l.session_id
WHERE r.bidder_id = $1 AND r.paddle IS NOT NULL AND l.status IN ('scheduled', 'open')
  AND ($2::bigint IS NULL OR l.session_id = $2)
ORDER BY l.id
"""

_WON = """
SELECT res.lot_id, l.session_id, l.title, res.paddle, res.amount_fen, res.closed_at
FROM lot_results res JOIN lots l ON l.id = res.lot_id
WHERE res.winner_id = $1 AND res.outcome = 'sold' AND ($2::bigint IS NULL OR l.session_id = $2)
ORDER BY res.closed_at DESC, res.lot_id
"""


@dataclass(frozen=True, slots=True)
class BidLine:
    """A lot the bidder bid on, as PostgreSQL has it."""

    lot_id: int
    session_id: int
    ordinal: int
    title: str
    status: str
    my_high_fen: int | None
    my_bids: int
    last_bid_at: datetime | None
    outcome: str | None
    winner_id: int | None
    final_fen: int | None


@dataclass(frozen=True, slots=True)
class Mine:
    registrations: list[dict[str, Any]]
    deposits: list[dict[str, Any]]
    bids: list[BidLine]
    won: list[dict[str, Any]]


def _json(row: Any) -> dict[str, Any]:
    return {k: rfc3339(v) if isinstance(v, datetime) else v for k, v in dict(row).items()}


async def of_bidder(store: Store, bidder_id: int, session_id: int | None = None) -> Mine:
    """Everything of :class:`Mine` for the bidder (within ``session_id`` when given: an
    agent's account sees its one registration's session), in one read-only snapshot."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction(
            isolation="repeatable_read", readonly=True
        ):
            registrations = await conn.fetch(_REGISTRATIONS, bidder_id, session_id)
            deposits = await conn.fetch(_DEPOSITS, bidder_id, session_id)
            bids = await conn.fetch(_BIDS, bidder_id, session_id)
            open_lots = await conn.fetch(_OPEN_LOTS, bidder_id, session_id)
            won = await conn.fetch(_WON, bidder_id, session_id)
    lines = [BidLine(**dict(r)) for r in bids]
    seen = {line.lot_id for line in lines}
    lines += [
        BidLine(**dict(r), my_high_fen=None, my_bids=0, last_bid_at=None, outcome=None,
                winner_id=None, final_fen=None)
        for r in open_lots if r["lot_id"] not in seen
    ]
    return Mine(
        registrations=[_json(r) for r in registrations],
        deposits=[_json(r) for r in deposits],
        bids=lines,
        won=[_json(r) for r in won],
    )
