"""Preemptive rights (优先购买权) on lots: who holds one and in which order (rule R9 of
docs/formats.md). Table ``lot_preemptors`` (migrations/0015_lot_formats.sql)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from auction.store.errors import Invalid, translated

if TYPE_CHECKING:
    from auction.store import Store


async def holders(store: Store, lot_id: int) -> list[tuple[int, int]]:
    """``(bidder_id, order)`` of the lot's holders, by order then bidder."""
    with translated():
        rows = await store.pool.fetch(
            "SELECT bidder_id, rank FROM lot_preemptors WHERE lot_id = $1"
            " ORDER BY rank, bidder_id", lot_id)
    return [(int(r["bidder_id"]), int(r["rank"])) for r in rows]


async def replace_holders(
    store: Store, lot_id: int, session_id: int, pairs: Sequence[tuple[int, int]]
) -> None:
    """The lot's holders become ``pairs``; each bidder must have a registration in the lot's
    session (else ``BadInput`` naming ``holders[i].bidder_id``)."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            for i, (bidder, _order) in enumerate(pairs):
                found = await conn.fetchval(
                    "SELECT 1 FROM registrations WHERE session_id = $1 AND bidder_id = $2"
                    " LIMIT 1", session_id, bidder)
                if found is None:
                    raise Invalid("unknown_bidder", "该竞买人未报名本场次",
                                  f"holders[{i}].bidder_id")
            await conn.execute("DELETE FROM lot_preemptors WHERE lot_id = $1", lot_id)
            for bidder, order in pairs:
                await conn.execute(
                    "INSERT INTO lot_preemptors (lot_id, bidder_id, rank) VALUES ($1, $2, $3)",
                    lot_id, bidder, order)
