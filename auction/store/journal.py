"""The lot event journal in PostgreSQL (table ``lot_events``).

Every event of a lot's Redis stream is copied here by the drainer
(:mod:`auction.settlement.drainer`). The copy is idempotent on ``(lot_id, seq)``: writing the
same event twice, from a retry or from a second drainer, stores it once (invariant 1).

Columns ``bidder_id``, ``paddle`` and ``amount_fen`` hold the event fields ``bidder``, ``paddle``
and ``amount`` (filled for ``bid`` and ``sold``); every other field of the event goes to ``data``.
:func:`last_event` reverses the split, so a row turns back into the :class:`LotEvent` it came from.
Failures surface as :mod:`auction.store.errors` (``translated``).

The table is append-only and hash-chained per lot (migrations/0018_record_chain.sql): its
triggers fill ``prev_sha256`` / ``sha256`` on insert and refuse UPDATE, DELETE and TRUNCATE;
:mod:`auction.store.chain` reads the chain back for ``auction verify``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auction.domain.room import LotEvent
from auction.store.errors import translated

if TYPE_CHECKING:
    from auction.store import Store

#: event field → journal column; everything else lives in ``data``.
_COLUMNS = {"bidder": "bidder_id", "paddle": "paddle", "amount": "amount_fen"}

# unnest() turns one round trip into a whole batch. The time is rebuilt from integer ms in SQL
# (epoch + n ms) so no float ever touches it. The CTE counts what was really inserted, which is
# what "written" means when a second drainer got there first.
_INSERT = """
WITH ins AS (
    INSERT INTO lot_events (lot_id, seq, epoch, kind, at, bidder_id, paddle, amount_fen, data)
    SELECT $1::bigint, e.seq, $2::text, e.kind,
           timestamptz 'epoch' + e.at_ms * interval '1 millisecond',
           e.bidder_id, e.paddle, e.amount_fen, e.data::jsonb
    FROM unnest($3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::int[],
                $8::bigint[], $9::text[])
         AS e (seq, kind, at_ms, bidder_id, paddle, amount_fen, data)
    ORDER BY e.seq
    ON CONFLICT (lot_id, seq) DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM ins
"""

# The catalogue follows the room: an ``opened`` event marks the lot open and its session running.
_MARK_OPEN = "UPDATE lots SET status = 'open' WHERE id = $1 AND status = 'scheduled'"
_MARK_RUNNING = """
UPDATE sessions SET status = 'running'
WHERE id = (SELECT session_id FROM lots WHERE id = $1) AND status = 'scheduled'
"""

_MAX_SEQ = "SELECT coalesce(max(seq), 0) FROM lot_events WHERE lot_id = $1"

_LAST_EVENT = """
SELECT seq, kind, (extract(epoch FROM at) * 1000)::bigint AS at_ms,
       bidder_id, paddle, amount_fen, data::text AS data
FROM lot_events WHERE lot_id = $1 ORDER BY seq DESC LIMIT 1
"""

_BID_LOG = """
SELECT seq, bidder_id, paddle, amount_fen, (extract(epoch FROM at) * 1000)::bigint AS at_ms
FROM lot_events WHERE lot_id = $1 AND kind = 'bid' ORDER BY seq
"""


@dataclass(frozen=True, slots=True)
class BidRecord:
    """One accepted bid as the journal holds it; ``at_ms`` is server time in ms."""

    seq: int
    bidder_id: int
    paddle: int
    amount_fen: int
    at_ms: int


def _split(event: LotEvent) -> tuple[int | None, int | None, int | None, str]:
    cols: dict[str, int | None] = {c: None for c in _COLUMNS.values()}
    rest: dict[str, Any] = {}
    for name, value in event.data.items():
        column = _COLUMNS.get(name)
        if column is not None and type(value) is int:
            cols[column] = value
        else:
            rest[name] = value
    data = json.dumps(rest, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return cols["bidder_id"], cols["paddle"], cols["amount_fen"], data


async def insert_events(
    store: Store, lot_id: int, epoch: str, events: Sequence[LotEvent]
) -> int:
    """Write ``events`` of one lot; return how many were new (duplicates are skipped)."""
    if not events:
        return 0
    seqs, kinds, ats, bidders, paddles, amounts, datas = [], [], [], [], [], [], []
    for event in events:
        bidder, paddle, amount, data = _split(event)
        seqs.append(event.seq)
        kinds.append(event.kind)
        ats.append(event.at)
        bidders.append(bidder)
        paddles.append(paddle)
        amounts.append(amount)
        datas.append(data)
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            written = await conn.fetchval(
                _INSERT, lot_id, epoch, seqs, kinds, ats, bidders, paddles, amounts, datas
            )
            if "opened" in kinds:
                await conn.execute(_MARK_OPEN, lot_id)
                await conn.execute(_MARK_RUNNING, lot_id)
    return int(written)


async def max_seq(store: Store, lot_id: int) -> int:
    """The highest persisted seq of the lot, 0 when none."""
    with translated():
        return int(await store.pool.fetchval(_MAX_SEQ, lot_id))


async def last_event(store: Store, lot_id: int) -> LotEvent | None:
    """The persisted event with the highest seq, rebuilt as the stream carried it."""
    with translated():
        row = await store.pool.fetchrow(_LAST_EVENT, lot_id)
    if row is None:
        return None
    data: dict[str, Any] = json.loads(row["data"])
    for name, column in _COLUMNS.items():
        if row[column] is not None:
            data[name] = int(row[column])
    return LotEvent(seq=int(row["seq"]), kind=str(row["kind"]), at=int(row["at_ms"]), data=data)


async def bid_log(store: Store, lot_id: int) -> list[BidRecord]:
    """Every accepted bid of the lot, in seq order (the order the room accepted them)."""
    with translated():
        rows = await store.pool.fetch(_BID_LOG, lot_id)
    return [
        BidRecord(
            seq=int(r["seq"]), bidder_id=int(r["bidder_id"]), paddle=int(r["paddle"]),
            amount_fen=int(r["amount_fen"]), at_ms=int(r["at_ms"]),
        )
        for r in rows
    ]
