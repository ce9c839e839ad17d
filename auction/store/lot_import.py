"""Many lots of one session in one transaction: the spreadsheet import (docs/http-api.md
"Lot import"). All rows or none: a failure of any insert rolls back every lot of the import.

The rows have been checked by the caller (:func:`auction.api.admin.check_lot`), exactly as
``POST /sessions/{id}/lots`` checks one; each row's deposit requirement is written with its lot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from auction.store.errors import NotFound, translated
from auction.store.records import Lot

if TYPE_CHECKING:
    from auction.store import Store

_COLUMNS = """
id, session_id, ordinal, title, description, result_type, ip_type, technology_field,
transaction_mode, contract_type, holder_name, holder_uscc, start_price_fen, increment_fen,
reserve_fen, non_tech_fen, duration_s, status, appraisal_fen, starts_at, relisted_from,
format, revisions, step_fen, interval_s, floor_fen, free_s, round_s, preempt_window_s
"""

_INSERT = f"""
INSERT INTO lots (session_id, ordinal, title, description, result_type, ip_type,
                  technology_field, transaction_mode, contract_type, holder_name, holder_uscc,
                  start_price_fen, increment_fen, reserve_fen, non_tech_fen, duration_s,
                  appraisal_fen, deposit_fen, starts_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
        $19)
RETURNING {_COLUMNS}
"""


async def create_lots(
    store: Store, session_id: int, rows: Sequence[Mapping[str, Any]]
) -> list[Lot]:
    """Insert ``rows`` (each the lot's columns, ``deposit_fen`` and optionally its own
    ``starts_at``) after the session's last
    lot, in order, in one transaction; the session row is locked so that a concurrent
    creation gets other ordinals. ``NotFound`` for an unknown session."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            found = await conn.fetchval(
                "SELECT id FROM sessions WHERE id = $1 FOR UPDATE", session_id
            )
            if found is None:
                raise NotFound(message="场次不存在", field="session_id")
            ordinal = await conn.fetchval(
                "SELECT coalesce(max(ordinal), 0) FROM lots WHERE session_id = $1", session_id
            )
            lots = []
            for row in rows:
                ordinal += 1
                record = await conn.fetchrow(
                    _INSERT, session_id, ordinal, row["title"], row["description"],
                    row["result_type"], row["ip_type"], row["technology_field"],
                    row["transaction_mode"], row["contract_type"], row["holder_name"],
                    row["holder_uscc"], row["start_price_fen"], row["increment_fen"],
                    row["reserve_fen"], row["non_tech_fen"], row["duration_s"],
                    row["appraisal_fen"], row["deposit_fen"], row.get("starts_at"),
                )
                lots.append(Lot(**dict(record)))
    return lots
