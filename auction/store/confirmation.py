"""The records a 成交确认书 is built from (:mod:`auction.domain.confirmation`): the lot's sold
result, its terms, session and market, the buyer, and the buyer's deposits and wins in the
session — read in one read-only snapshot, so one document never mixes two moments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auction.domain.confirmation import Buyer, Confirmation, deposit_applied
from auction.domain.listing_sale import deal_of
from auction.store.errors import translated

if TYPE_CHECKING:
    from auction.store import Store

_RESULT = """
SELECT res.lot_id, res.winner_id, res.paddle, res.amount_fen, res.closed_at, res.bid_count,
       res.bid_log_sha256, l.session_id, l.ordinal, l.title, l.result_type, l.ip_type,
       l.transaction_mode, l.holder_name, l.holder_uscc, s.name AS session_name, s.payee_name,
       s.payee_bank, s.payee_account, m.code AS market_code, m.name AS market_name,
       b.kind AS buyer_kind, b.name AS buyer_name, b.uscc AS buyer_uscc, b.resident_id,
       (SELECT e.outcome FROM listing_ends e WHERE e.lot_id = res.lot_id) AS listing_outcome
FROM lot_results res
JOIN lots l ON l.id = res.lot_id
JOIN sessions s ON s.id = l.session_id
JOIN markets m ON m.id = s.market_id
JOIN bidders b ON b.id = res.winner_id
WHERE res.lot_id = $1 AND res.outcome = 'sold'
"""

# the buyer's wins in the session, in hammer order (the order a band deposit is shared in)
_WON = """
SELECT res.lot_id, res.amount_fen FROM lot_results res JOIN lots l ON l.id = res.lot_id
WHERE l.session_id = $1 AND res.winner_id = $2 AND res.outcome = 'sold'
ORDER BY res.closed_at, res.lot_id
"""

_DEPOSITS = """
SELECT d.lot_id, d.amount_fen, d.state FROM deposits d
JOIN registrations r ON r.id = d.registration_id
WHERE d.session_id = $1 AND r.bidder_id = $2
ORDER BY d.id
"""


async def applied_in(conn: Any, lot_id: int, session_id: int, winner_id: int) -> int:
    """Fen of the winner's deposits applied to ``lot_id`` (the one rule,
    :func:`auction.domain.confirmation.deposit_applied`): what the 成交确认书 states and what
    the payment desk (:mod:`auction.store.deals`) counts towards the price."""
    won = await conn.fetch(_WON, session_id, winner_id)
    deposits = await conn.fetch(_DEPOSITS, session_id, winner_id)
    return deposit_applied(
        lot_id,
        [(int(w["lot_id"]), int(w["amount_fen"])) for w in won],
        [(d["lot_id"], int(d["amount_fen"]), str(d["state"])) for d in deposits],
    )


@dataclass(frozen=True, slots=True)
class Settled:
    """A sold lot's confirmation and who won it (for the access check)."""

    winner_id: int
    confirmation: Confirmation


async def settled(store: Store, lot_id: int) -> Settled | None:
    """The confirmation of ``lot_id``, or ``None`` when the lot has no ``sold`` result."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction(
            isolation="repeatable_read", readonly=True
        ):
            row = await conn.fetchrow(_RESULT, lot_id)
            if row is None:
                return None
            applied = await applied_in(conn, lot_id, row["session_id"], row["winner_id"])
    return Settled(
        winner_id=int(row["winner_id"]),
        confirmation=Confirmation(
            lot_id=int(row["lot_id"]), market_code=str(row["market_code"]),
            market_name=row["market_name"], session_id=int(row["session_id"]),
            session_name=row["session_name"], ordinal=int(row["ordinal"]), title=row["title"],
            result_type=row["result_type"], ip_type=row["ip_type"],
            transaction_mode=row["transaction_mode"], holder_name=row["holder_name"],
            holder_uscc=row["holder_uscc"],
            buyer=Buyer(kind=row["buyer_kind"], name=row["buyer_name"], uscc=row["buyer_uscc"],
                        resident_id=row["resident_id"]),
            paddle=row["paddle"], amount_fen=int(row["amount_fen"]), hammer_at=row["closed_at"],
            deposit_applied_fen=applied, bid_count=int(row["bid_count"]),
            bid_log_sha256=str(row["bid_log_sha256"]), payee_name=row["payee_name"],
            payee_bank=row["payee_bank"], payee_account=row["payee_account"],
            deal=deal_of(row["listing_outcome"]),
        ),
    )
