"""The lot event journal in PostgreSQL (table ``lot_events``).

Every event of a lot's Redis stream is copied here by the drainer
(:mod:`auction.settlement.drainer`). The copy is idempotent on ``(lot_id, seq)``: writing the
same event twice, from a retry or from a second drainer, stores it once (invariant 1).

Columns ``bidder_id``, ``paddle`` and ``amount_fen`` hold the event fields ``bidder``, ``paddle``
and ``amount`` (filled for ``bid`` and ``sold``); every other field of the event goes to ``data``.
:func:`last_event` reverses the split, so a row turns back into the :class:`LotEvent` it came from.
The drainer writes many lots at once (issue 17 item 4): :func:`insert_batch` copies the new events
of many lots in one statement and one transaction, and :func:`last_events`, :func:`events_at_many`
and :func:`bid_logs` read many lots in one query each, so a pass over 1,000 lots is a handful of
round trips instead of a few per lot.

Failures surface as :mod:`auction.store.errors` (``translated``).

The table is append-only and hash-chained per lot (migrations/0018_record_chain.sql): its
triggers fill ``prev_sha256`` / ``sha256`` on insert and refuse UPDATE, DELETE and TRUNCATE;
:mod:`auction.store.chain` reads the chain back for ``auction verify``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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

# The same for many lots in one statement. Rows are inserted in (lot, seq) order: the chain
# trigger of each row sees the rows before it in the same statement (a BEFORE ROW trigger sees
# what its statement already inserted), and two drainers writing overlapping batches take the
# per-lot advisory locks in the same order, so they wait for each other instead of deadlocking.
_INSERT_MANY = """
WITH ins AS (
    INSERT INTO lot_events (lot_id, seq, epoch, kind, at, bidder_id, paddle, amount_fen, data)
    SELECT e.lot_id, e.seq, e.epoch, e.kind,
           timestamptz 'epoch' + e.at_ms * interval '1 millisecond',
           e.bidder_id, e.paddle, e.amount_fen, e.data::jsonb
    FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],
                $7::int[], $8::bigint[], $9::text[])
         AS e (lot_id, seq, epoch, kind, at_ms, bidder_id, paddle, amount_fen, data)
    ORDER BY e.lot_id, e.seq
    ON CONFLICT (lot_id, seq) DO NOTHING
    RETURNING lot_id
)
SELECT lot_id, count(*) AS n FROM ins GROUP BY lot_id
"""

# The catalogue follows the room: an ``opened`` event marks the lot open and its session running.
_MARK_OPEN = "UPDATE lots SET status = 'open' WHERE id = $1 AND status = 'scheduled'"
_MARK_RUNNING = """
UPDATE sessions SET status = 'running'
WHERE id = (SELECT session_id FROM lots WHERE id = $1) AND status = 'scheduled'
"""

_MARK_OPEN_MANY = """
UPDATE lots SET status = 'open' WHERE id = ANY($1::bigint[]) AND status = 'scheduled'
"""
_MARK_RUNNING_MANY = """
UPDATE sessions SET status = 'running'
WHERE id IN (SELECT session_id FROM lots WHERE id = ANY($1::bigint[])) AND status = 'scheduled'
"""

_MAX_SEQ = "SELECT coalesce(max(seq), 0) FROM lot_events WHERE lot_id = $1"

_LAST_EVENT = """
SELECT seq, kind, (extract(epoch FROM at) * 1000)::bigint AS at_ms,
       bidder_id, paddle, amount_fen, data::text AS data
FROM lot_events WHERE lot_id = $1 ORDER BY seq DESC LIMIT 1
"""

# one index probe per lot (the primary key backwards), however long each lot's journal is
_LAST_EVENTS = """
SELECT l.id AS lot_id, e.seq, e.kind, (extract(epoch FROM e.at) * 1000)::bigint AS at_ms,
       e.bidder_id, e.paddle, e.amount_fen, e.data::text AS data
FROM unnest($1::bigint[]) AS l (id)
CROSS JOIN LATERAL (SELECT * FROM lot_events x WHERE x.lot_id = l.id
                    ORDER BY x.seq DESC LIMIT 1) e
"""

_EVENTS_AT = """
SELECT e.lot_id, e.seq, e.kind, (extract(epoch FROM e.at) * 1000)::bigint AS at_ms,
       e.bidder_id, e.paddle, e.amount_fen, e.data::text AS data
FROM lot_events e
JOIN unnest($1::bigint[], $2::bigint[]) AS w (lot_id, seq)
  ON e.lot_id = w.lot_id AND e.seq = w.seq
"""

_BID_LOGS = """
SELECT lot_id, seq, bidder_id, paddle, amount_fen,
       (extract(epoch FROM at) * 1000)::bigint AS at_ms
FROM lot_events WHERE lot_id = ANY($1::bigint[]) AND kind = 'bid' ORDER BY lot_id, seq
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


@dataclass(frozen=True, slots=True)
class LotBatch:
    """New events of one lot for :func:`insert_batch`, in seq order, from one epoch."""

    lot_id: int
    epoch: str
    events: Sequence[LotEvent]


async def insert_batch(store: Store, batches: Sequence[LotBatch]) -> dict[int, int]:
    """Write the events of many lots in one statement and one transaction; return, per lot, how
    many were new (duplicates are skipped; a lot none of whose events was new is absent).

    All or nothing: if any row is refused (a lot's first event without its predecessor in the
    journal), nothing of the batch is written and the error is raised; the caller may then write
    the lots one by one with :func:`insert_events` to isolate the one at fault."""
    lots: list[int] = []
    seqs: list[int] = []
    ats: list[int] = []
    epochs: list[str] = []
    kinds: list[str] = []
    datas: list[str] = []
    bidders: list[int | None] = []
    paddles: list[int | None] = []
    amounts: list[int | None] = []
    opened: list[int] = []
    for batch in batches:
        for event in batch.events:
            bidder, paddle, amount, data = _split(event)
            lots.append(batch.lot_id)
            seqs.append(event.seq)
            epochs.append(batch.epoch)
            kinds.append(event.kind)
            ats.append(event.at)
            bidders.append(bidder)
            paddles.append(paddle)
            amounts.append(amount)
            datas.append(data)
            if event.kind == "opened":
                opened.append(batch.lot_id)
    if not lots:
        return {}
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_INSERT_MANY, lots, seqs, epochs, kinds, ats, bidders,
                                    paddles, amounts, datas)
            if opened:
                await conn.execute(_MARK_OPEN_MANY, opened)
                await conn.execute(_MARK_RUNNING_MANY, opened)
    return {int(r["lot_id"]): int(r["n"]) for r in rows}


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
    return None if row is None else _event(row)


def _event(row: Any) -> LotEvent:
    data: dict[str, Any] = json.loads(row["data"])
    for name, column in _COLUMNS.items():
        if row[column] is not None:
            data[name] = int(row[column])
    return LotEvent(seq=int(row["seq"]), kind=str(row["kind"]), at=int(row["at_ms"]), data=data)


async def last_events(store: Store, lot_ids: Sequence[int]) -> dict[int, LotEvent]:
    """:func:`last_event` of many lots in one query; lots without events are absent."""
    if not lot_ids:
        return {}
    with translated():
        rows = await store.pool.fetch(_LAST_EVENTS, list(lot_ids))
    return {int(r["lot_id"]): _event(r) for r in rows}


async def events_at_many(
    store: Store, wanted: Mapping[int, Sequence[int]]
) -> dict[int, dict[int, LotEvent]]:
    """The journalled events at the given seqs of each lot (those that exist), in one query:
    lot id → seq → event."""
    lots = [lot for lot, seqs in wanted.items() for _ in seqs]
    seqs = [seq for lot_seqs in wanted.values() for seq in lot_seqs]
    out: dict[int, dict[int, LotEvent]] = {lot: {} for lot in wanted}
    if not seqs:
        return out
    with translated():
        rows = await store.pool.fetch(_EVENTS_AT, lots, seqs)
    for r in rows:
        out[int(r["lot_id"])][int(r["seq"])] = _event(r)
    return out


async def bid_logs(store: Store, lot_ids: Sequence[int]) -> dict[int, list[BidRecord]]:
    """:func:`bid_log` of many lots in one query (every lot asked for is in the answer)."""
    out: dict[int, list[BidRecord]] = {lot: [] for lot in lot_ids}
    if not lot_ids:
        return out
    with translated():
        rows = await store.pool.fetch(_BID_LOGS, list(lot_ids))
    for r in rows:
        out[int(r["lot_id"])].append(BidRecord(
            seq=int(r["seq"]), bidder_id=int(r["bidder_id"]), paddle=int(r["paddle"]),
            amount_fen=int(r["amount_fen"]), at_ms=int(r["at_ms"]),
        ))
    return out


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
