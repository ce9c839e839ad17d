"""The secret book's journal in PostgreSQL (table ``lot_book``, migrations/0020_lot_book.sql).

Every write of a room's secret book (a proxy maximum, a sealed quote) is copied here by the
drainer from the lot's private book stream (:mod:`auction.rooms.keys` ``book``), idempotent on
``(lot_id, n)``; the insert trigger chains the rows per lot. Read back by the rooms' recovery
and by ``auction verify`` only: nothing public reads this table (invariant 9).
Failures surface as :mod:`auction.store.errors` (``translated``).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING

from auction.audit.chain import BookEntry
from auction.domain.replay import BookWrite
from auction.store.errors import translated

if TYPE_CHECKING:
    from auction.store import Store

_INSERT = """
WITH ins AS (
    INSERT INTO lot_book (lot_id, n, after_seq, bidder_id, paddle, amount_fen, revision, at_ms,
                          nonce, prev_sha256, sha256)
    SELECT $1::bigint, w.n, w.after_seq, w.bidder_id, w.paddle, w.amount_fen, w.revision,
           w.at_ms, w.nonce, '', ''
    FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::int[], $6::bigint[], $7::int[],
                $8::bigint[], $9::text[])
         AS w (n, after_seq, bidder_id, paddle, amount_fen, revision, at_ms, nonce)
    ORDER BY w.n
    ON CONFLICT (lot_id, n) DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM ins
"""

_MAX_N = "SELECT coalesce(max(n), 0) FROM lot_book WHERE lot_id = $1"

_MAX_NS = """
SELECT l.id AS lot_id, coalesce(max(b.n), 0) AS n
FROM unnest($1::bigint[]) AS l (id) LEFT JOIN lot_book b ON b.lot_id = l.id
GROUP BY l.id
"""

_ENTRIES = """
SELECT lot_id, n, after_seq, bidder_id, paddle, amount_fen, revision, at_ms, nonce,
       prev_sha256, sha256
FROM lot_book WHERE lot_id = ANY($1::bigint[]) ORDER BY lot_id, n
"""


async def insert_writes(store: Store, lot_id: int, writes: Sequence[BookWrite]) -> int:
    """Journal ``writes`` of one lot (in ``n`` order); how many were new."""
    if not writes:
        return 0
    ordered = sorted(writes, key=lambda w: w.n)
    with translated():
        written = await store.pool.fetchval(
            _INSERT, lot_id, [w.n for w in ordered], [w.after_seq for w in ordered],
            [w.bidder for w in ordered], [w.paddle for w in ordered],
            [w.amount for w in ordered], [w.revision for w in ordered],
            [w.at for w in ordered], [secrets.token_hex(16) for _ in ordered],
        )
    return int(written)


async def max_n(store: Store, lot_id: int) -> int:
    """The order of the lot's last journalled book write, 0 when none."""
    with translated():
        return int(await store.pool.fetchval(_MAX_N, lot_id))


async def max_ns(store: Store, lot_ids: Sequence[int]) -> dict[int, int]:
    """:func:`max_n` of many lots in one query."""
    with translated():
        rows = await store.pool.fetch(_MAX_NS, list(lot_ids))
    return {int(r["lot_id"]): int(r["n"]) for r in rows}


async def entries(store: Store, lot_ids: Sequence[int]) -> dict[int, list[BookEntry]]:
    """The journalled book rows of each lot, in ``n`` order (lots without any: absent)."""
    with translated():
        rows = await store.pool.fetch(_ENTRIES, list(lot_ids))
    out: dict[int, list[BookEntry]] = {}
    for r in rows:
        out.setdefault(int(r["lot_id"]), []).append(BookEntry(
            lot_id=int(r["lot_id"]), n=int(r["n"]), after_seq=int(r["after_seq"]),
            bidder_id=int(r["bidder_id"]), paddle=int(r["paddle"]),
            amount_fen=int(r["amount_fen"]), revision=int(r["revision"]),
            at_ms=int(r["at_ms"]), nonce=str(r["nonce"]), prev_sha256=str(r["prev_sha256"]),
            sha256=str(r["sha256"]),
        ))
    return out


def writes_of(rows: Sequence[BookEntry]) -> list[BookWrite]:
    """The rows as the replay takes them."""
    return [BookWrite(n=r.n, after_seq=r.after_seq, bidder=r.bidder_id, paddle=r.paddle,
                      amount=r.amount_fen, revision=r.revision, at=r.at_ms) for r in rows]


async def writes(store: Store, lot_id: int) -> list[BookWrite]:
    """The lot's journalled book writes, in order, for the replay."""
    return writes_of((await entries(store, [lot_id])).get(lot_id, []))
