"""What PostgreSQL knows of a session's progress, for ``GET /api/v1/sessions/{id}/progress``
(:mod:`auction.api.progress`): how many bidders are registered, and each lot in running order
with its catalogue status and, once its settlement is written, its hammer price.

The rooms in Redis are ahead of this (a lot hammered a moment ago, or reopened, is settled only
when it is final): the API overlays their status where a room exists.

Failures surface as :mod:`auction.store.errors` (``translated``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from auction.store.errors import translated

if TYPE_CHECKING:
    from auction.store import Store

#: 报名人数 counts registrations the market approved, whatever happened after (deposit paid,
#: or forfeited after bidding); not those still pending, rejected or withdrawn
REGISTERED = ("approved", "deposit_paid", "forfeited")

_REGISTERED = """
SELECT count(*) FROM registrations WHERE session_id = $1 AND status = any($2::text[])
"""

_LOTS = """
SELECT l.id, l.ordinal, l.title, l.status,
       CASE WHEN r.outcome = 'sold' THEN r.amount_fen END AS hammer_fen
FROM lots l LEFT JOIN lot_results r ON r.lot_id = l.id
WHERE l.session_id = $1 ORDER BY l.ordinal
"""


@dataclass(frozen=True, slots=True)
class LotLine:
    """One lot of the running order as the catalogue has it."""

    lot_id: int
    ordinal: int
    title: str
    status: str  # scheduled / open / sold / passed / withdrawn
    hammer_fen: int | None  # the settled sale's amount, else None


async def registered(store: Store, session_id: int) -> int:
    """报名人数: registrations of the session in :data:`REGISTERED`."""
    with translated():
        return int(await store.pool.fetchval(_REGISTERED, session_id, list(REGISTERED)))


async def running_order(store: Store, session_id: int) -> list[LotLine]:
    """The session's lots by ``ordinal`` (empty for an unknown session)."""
    with translated():
        rows = await store.pool.fetch(_LOTS, session_id)
    return [
        LotLine(
            lot_id=int(r["id"]), ordinal=int(r["ordinal"]), title=str(r["title"]),
            status=str(r["status"]),
            hammer_fen=None if r["hammer_fen"] is None else int(r["hammer_fen"]),
        )
        for r in rows
    ]
