"""Edits of a session's lots before bidding (issue 12 item 3, docs/http-api.md "Lot edits"):
one lot's terms and facts, and the running order of a session's lots.

Both refuse once bidding started: a lot of the session (the edited lot, for an edit) whose row
is no longer ``scheduled`` is ``Conflict('bidding_started')``. The lot's Redis room is the other
half of that check; the caller passes it as ``then``, run inside the transaction after the
row changed, so a room that refuses rolls the row back (and PostgreSQL refusing leaves the
room untouched).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from auction.store.errors import Conflict, NotFound, translated
from auction.store.records import Lot

if TYPE_CHECKING:
    from auction.store import Store

_COLUMNS = """
id, session_id, ordinal, title, description, result_type, ip_type, technology_field,
transaction_mode, contract_type, holder_name, holder_uscc, start_price_fen, increment_fen,
reserve_fen, non_tech_fen, duration_s, status, appraisal_fen, starts_at, relisted_from,
format, revisions, step_fen, interval_s, floor_fen, free_s, round_s, preempt_window_s
"""

#: the columns an edit may set (the lot's fields of ``POST /sessions/{id}/lots``)
EDITABLE = (
    "title", "description", "result_type", "ip_type", "technology_field", "transaction_mode",
    "contract_type", "holder_name", "holder_uscc", "start_price_fen", "increment_fen",
    "reserve_fen", "non_tech_fen", "duration_s", "appraisal_fen", "deposit_fen", "starts_at",
)

# The lot's status, and whether its opening time (its own, else its session's) has come in a
# published session: the scheduler's test (auction/store/calendar.py), by the same clock.
_LOCK = """
SELECT l.status,
       coalesce(l.starts_at, s.starts_at) <= now() AND s.published_at IS NOT NULL AS due
FROM lots l JOIN sessions s ON s.id = l.session_id
WHERE l.id = $1
FOR UPDATE OF l
"""

_UPDATE = (
    "UPDATE lots SET " + ", ".join(f"{c} = ${i}" for i, c in enumerate(EDITABLE, start=2))
    + f" WHERE id = $1 RETURNING {_COLUMNS}"
)


def _started(what: str, field: str) -> Conflict:
    return Conflict("bidding_started", f"竞价已开始, 不能再{what}", field)


async def update_lot(
    store: Store, lot_id: int, fields: Mapping[str, Any],
    then: Callable[[Lot], Awaitable[None]], *, start_moves: bool = False,
) -> Lot:
    """Set every column of :data:`EDITABLE` from ``fields`` on a ``scheduled`` lot (row
    locked), then await ``then(lot)`` before committing: if it raises, nothing is written.
    ``NotFound`` for an unknown lot; ``Conflict('bidding_started')`` naming ``lot_id`` when the
    row is no longer scheduled. ``start_moves`` (``fields`` change ``starts_at``): the lot's
    current opening time must still be ahead, else ``Conflict('start_passed')`` naming
    ``starts_at`` (the scheduler or the auctioneer may be opening it: docs/http-api.md "Lot
    edits")."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            found = await conn.fetchrow(_LOCK, lot_id)
            if found is None:
                raise NotFound(message="标的不存在", field="lot_id")
            if found["status"] != "scheduled":
                raise _started("修改标的", "lot_id")
            if start_moves and found["due"]:
                raise Conflict("start_passed", "标的开始时间已到, 不能再修改开始时间",
                               "starts_at")
            row = await conn.fetchrow(_UPDATE, lot_id, *(fields[c] for c in EDITABLE))
            lot = Lot(**dict(row))
            await then(lot)
    return lot


async def reorder(
    store: Store, session_id: int, lot_ids: Sequence[int],
    then: Callable[[list[Lot]], Awaitable[None]],
) -> list[Lot]:
    """The session's lots numbered 1..n in the order of ``lot_ids``. The caller has checked
    that ``lot_ids`` are the session's lots, each once; a mismatch found here under the lock (a
    lot added meanwhile) is ``Conflict('conflict')`` naming ``lot_ids``. Every lot must still be
    scheduled (``Conflict('bidding_started')``); ``then(lots)`` is awaited before committing
    (the rooms' check). The session row is locked, as lot creation locks it, so no ordinal is
    taken meanwhile; the UNIQUE (session_id, ordinal) key holds at every statement because
    every lot first moves to a negative ordinal, in the same transaction."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            found = await conn.fetchval(
                "SELECT id FROM sessions WHERE id = $1 FOR UPDATE", session_id
            )
            if found is None:
                raise NotFound(message="场次不存在", field="session_id")
            rows = await conn.fetch(
                "SELECT id, status FROM lots WHERE session_id = $1 ORDER BY id FOR UPDATE",
                session_id,
            )
            if sorted(int(r["id"]) for r in rows) != sorted(lot_ids):
                raise Conflict("conflict", "场次的标的已变化, 请刷新后重试", "lot_ids")
            if any(r["status"] != "scheduled" for r in rows):
                raise _started("调整标的顺序", "session_id")
            await conn.execute(
                "UPDATE lots SET ordinal = -ordinal WHERE session_id = $1", session_id
            )
            await conn.execute(
                "UPDATE lots SET ordinal = o.n FROM unnest($2::bigint[]) WITH ORDINALITY"
                " AS o(id, n) WHERE lots.id = o.id AND lots.session_id = $1",
                session_id, list(lot_ids),
            )
            lots = [Lot(**dict(r)) for r in await conn.fetch(
                f"SELECT {_COLUMNS} FROM lots WHERE session_id = $1 ORDER BY ordinal",
                session_id,
            )]
            await then(lots)
    return lots
