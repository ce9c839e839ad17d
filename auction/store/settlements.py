"""The settlement transaction, for many lots at once (tables ``lot_results``, ``lots``,
``sessions``, ``registration_outbox``; issue 17 item 4).

:func:`record_results` writes a batch of settled lots in **one transaction**: every result
(``INSERT … ON CONFLICT (lot_id) DO NOTHING``, one statement), the lots' catalogue status, the
sessions that are now finished and, for each sold lot this transaction settled, its
registration outbox row (invariant 5: the outbox row in the settlement transaction). A lot that
was already settled — by an earlier pass that died before it could say so, or by a second
drainer — inserts no result, so it gets no status change and no outbox row from this call
(invariant 4, house style rule 13); the call reports which lots it settled. Inserting a result
fires migration 0014's trigger, which opens the sold lot's 成交公示 notice in the same
transaction.

:func:`lot_sheets` and :func:`buyers` read what the registration packets of a batch need, one
query each. Failures surface as :mod:`auction.store.errors` (``translated``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auction.domain.listing_sale import deal_of
from auction.store.errors import translated
from auction.store.outbox import BuyerRecord, LotResult, LotSheet, OutboxEntry

if TYPE_CHECKING:
    from auction.store import Store

_SHEETS = """
SELECT l.id, l.title, l.result_type, l.ip_type, l.technology_field, l.transaction_mode,
       l.contract_type, l.holder_name, l.holder_uscc, l.non_tech_fen,
       s.id AS session_id, s.name AS session_name, m.code AS market_code,
       m.id AS market_id, m.name AS market_name,
       (SELECT e.outcome FROM listing_ends e WHERE e.lot_id = l.id) AS listing_outcome
FROM lots l JOIN sessions s ON s.id = l.session_id JOIN markets m ON m.id = s.market_id
WHERE l.id = ANY($1::bigint[])
"""

_BUYERS = "SELECT id, name, uscc, kind, resident_id FROM bidders WHERE id = ANY($1::bigint[])"

# Rows in lot order: two drainers settling overlapping batches meet on the same first lot and
# the second waits there (then skips every lot the first settled) instead of deadlocking.
_INSERT_RESULTS = """
INSERT INTO lot_results (lot_id, outcome, reason, winner_id, paddle, amount_fen, winning_seq,
                         closed_at, bid_count, bid_log_sha256)
SELECT r.lot_id, r.outcome, r.reason, r.winner_id, r.paddle, r.amount_fen, r.winning_seq,
       timestamptz 'epoch' + r.closed_at_ms * interval '1 millisecond', r.bid_count, r.sha
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::int[], $6::bigint[],
            $7::bigint[], $8::bigint[], $9::int[], $10::text[])
     AS r (lot_id, outcome, reason, winner_id, paddle, amount_fen, winning_seq, closed_at_ms,
           bid_count, sha)
ORDER BY r.lot_id
ON CONFLICT (lot_id) DO NOTHING
RETURNING lot_id
"""

_UPDATE_LOTS = """
UPDATE lots l SET status = r.outcome
FROM unnest($1::bigint[], $2::text[]) AS r (lot_id, outcome)
WHERE l.id = r.lot_id
"""

# A session is finished when its last lot is settled. Settlements run one batch at a time (the
# drainer holds a lease), and a batch sees its own status changes, so two last lots — in one
# batch or in two — cannot miss each other.
_FINISH_SESSIONS = """
UPDATE sessions s SET status = 'finished'
WHERE s.id IN (SELECT session_id FROM lots WHERE id = ANY($1::bigint[]))
  AND s.status <> 'finished'
  AND NOT EXISTS (SELECT 1 FROM lots l WHERE l.session_id = s.id
                  AND l.status IN ('scheduled', 'open'))
"""

# ::text::jsonb: the body goes in as text whatever JSON codec the pool may have registered.
_INSERT_OUTBOX = """
INSERT INTO registration_outbox (lot_id, idempotency_key, packet, market_id)
SELECT o.lot_id, o.key, o.packet::text::jsonb, o.market_id
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[])
     AS o (lot_id, key, packet, market_id)
ORDER BY o.lot_id
ON CONFLICT (lot_id) DO NOTHING
"""


@dataclass(frozen=True, slots=True)
class Settlement:
    """One lot's settlement: its result and, when sold, its registration hand-off."""

    result: LotResult
    entry: OutboxEntry | None


async def lot_sheets(store: Store, lot_ids: Sequence[int]) -> dict[int, LotSheet]:
    """:func:`auction.store.outbox.lot_sheet` of many lots; unknown lots are absent."""
    if not lot_ids:
        return {}
    with translated():
        rows = await store.pool.fetch(_SHEETS, list(lot_ids))
    return {
        int(r["id"]): LotSheet(
            lot_id=int(r["id"]), title=r["title"], result_type=r["result_type"],
            ip_type=r["ip_type"], technology_field=r["technology_field"],
            transaction_mode=r["transaction_mode"], contract_type=r["contract_type"],
            holder_name=r["holder_name"], holder_uscc=r["holder_uscc"],
            non_tech_fen=int(r["non_tech_fen"]), session_id=int(r["session_id"]),
            session_name=r["session_name"], market_code=str(r["market_code"]),
            market_id=int(r["market_id"]), market_name=r["market_name"],
            deal=deal_of(r["listing_outcome"]),
        )
        for r in rows
    }


async def buyers(store: Store, bidder_ids: Sequence[int]) -> dict[int, BuyerRecord]:
    """The bidders rows of the winners of many lots, by bidder id (unknown bidders are absent).
    ``paddle`` is 0 here: the paddle a bidder won a lot with is the lot's sold event's."""
    if not bidder_ids:
        return {}
    with translated():
        rows = await store.pool.fetch(_BUYERS, sorted(set(bidder_ids)))
    return {
        int(r["id"]): BuyerRecord(
            bidder_id=int(r["id"]), name=r["name"], uscc=r["uscc"], paddle=0,
            kind=r["kind"], resident_id=r["resident_id"],
        )
        for r in rows
    }


async def record_results(store: Store, settlements: Sequence[Settlement]) -> set[int]:
    """The settlement transaction of a batch; returns the lots this call settled (a lot that
    already had a result is left exactly as it was, outbox row included)."""
    if not settlements:
        return set()
    ordered = sorted(settlements, key=lambda s: s.result.lot_id)
    results = [s.result for s in ordered]
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                _INSERT_RESULTS, [r.lot_id for r in results], [r.outcome for r in results],
                [r.reason for r in results], [r.winner_id for r in results],
                [r.paddle for r in results], [r.amount_fen for r in results],
                [r.winning_seq for r in results], [r.closed_at_ms for r in results],
                [r.bid_count for r in results], [r.bid_log_sha256 for r in results],
            )
            settled = {int(r["lot_id"]) for r in rows}
            if not settled:
                return settled
            now = [s for s in ordered if s.result.lot_id in settled]
            ids = [s.result.lot_id for s in now]
            await conn.execute(_UPDATE_LOTS, ids, [s.result.outcome for s in now])
            await conn.execute(_FINISH_SESSIONS, ids)
            sold = [s for s in now if s.entry is not None]
            if sold:
                await conn.execute(
                    _INSERT_OUTBOX, [s.result.lot_id for s in sold],
                    [s.entry.idempotency_key for s in sold if s.entry is not None],
                    [s.entry.body.decode("utf-8") for s in sold if s.entry is not None],
                    [s.entry.market_id for s in sold if s.entry is not None],
                )
    return settled
