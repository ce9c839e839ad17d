"""The session report (场次报告, docs/http-api.md "Session report"): every lot with how it ended,
the session's bidders and its deposits, read from PostgreSQL in one snapshot.

A lot's result is its ``lot_results`` row (settled by the drainer); a lot not settled yet has
none, and its bid count is the journal's (bids the auctioneer undid not counted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auction.store.errors import translated
from auction.store.progress import REGISTERED

if TYPE_CHECKING:
    from auction.store import Store

_LOTS = """
SELECT l.id AS lot_id, l.ordinal, l.title, l.status, l.start_price_fen, l.deposit_fen,
       r.outcome, r.reason, r.paddle, r.amount_fen, r.closed_at,
       coalesce(r.bid_count, (
           SELECT count(*) FROM lot_events b
           WHERE b.lot_id = l.id AND b.kind = 'bid'
             AND NOT EXISTS (SELECT 1 FROM lot_events x
                             WHERE x.lot_id = b.lot_id AND x.kind = 'bid_retracted'
                               AND x.data->'bid_seq' = to_jsonb(b.seq))))::int AS bid_count,
       w.id AS buyer_id, w.name AS buyer_name, w.kind AS buyer_kind
FROM lots l
LEFT JOIN lot_results r ON r.lot_id = l.id
LEFT JOIN bidders w ON w.id = r.winner_id
WHERE l.session_id = $1
ORDER BY l.ordinal, l.id
"""

# a desk registration the bidder has not accepted (invited) shows no name (docs/roles.md
# "Identity"), so it is left out
_BIDDERS = """
SELECT g.id AS registration_id, g.bidder_id, b.name, b.kind, g.status, g.paddle,
       g.status = any($2::text[]) AS registered
FROM registrations g JOIN bidders b ON b.id = g.bidder_id
WHERE g.session_id = $1 AND g.status <> 'invited'
ORDER BY g.paddle NULLS LAST, g.id
"""

_DEPOSITS = """
SELECT d.id, d.registration_id, d.lot_id, d.amount_fen, d.state, g.paddle, b.name AS bidder_name
FROM deposits d JOIN registrations g ON g.id = d.registration_id
JOIN bidders b ON b.id = g.bidder_id
WHERE d.session_id = $1
ORDER BY g.paddle NULLS LAST, d.id
"""


@dataclass(frozen=True, slots=True)
class ReportLot:
    lot_id: int
    ordinal: int
    title: str
    status: str
    start_price_fen: int
    deposit_fen: int
    outcome: str | None
    reason: str | None
    paddle: int | None
    amount_fen: int | None
    closed_at: datetime | None
    bid_count: int
    buyer_id: int | None
    buyer_name: str | None
    buyer_kind: str | None


@dataclass(frozen=True, slots=True)
class ReportBidder:
    registration_id: int
    bidder_id: int
    name: str
    kind: str
    status: str
    paddle: int | None
    #: counted in 报名人数 (approved, whatever followed: auction.store.progress.REGISTERED)
    registered: bool


@dataclass(frozen=True, slots=True)
class ReportDeposit:
    id: int
    registration_id: int
    lot_id: int | None
    amount_fen: int
    state: str
    paddle: int | None
    bidder_name: str


@dataclass(frozen=True, slots=True)
class SessionReport:
    lots: list[ReportLot]
    bidders: list[ReportBidder]
    deposits: list[ReportDeposit]


def _rows(rows: list[Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in rows]


async def session_report(store: Store, session_id: int) -> SessionReport:
    """The lots, bidders and deposits of the session, read in one repeatable-read snapshot
    (so the totals agree with the lines)."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction(
            isolation="repeatable_read", readonly=True
        ):
            lots = _rows(await conn.fetch(_LOTS, session_id))
            bidders = _rows(await conn.fetch(_BIDDERS, session_id, list(REGISTERED)))
            deposits = _rows(await conn.fetch(_DEPOSITS, session_id))
    return SessionReport(
        lots=[ReportLot(**r) for r in lots],
        bidders=[ReportBidder(**r) for r in bidders],
        deposits=[ReportDeposit(**r) for r in deposits],
    )
