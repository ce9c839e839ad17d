"""The audit trail in PostgreSQL (table ``audit_log``, migrations/0009_audit_trail.sql).

Append-only: :func:`append` inserts, :func:`entries` reads; nothing here updates or deletes, and
the table's trigger refuses it from anywhere else. ``jsonb`` goes in and out as Python
objects (the pool's codec, :mod:`auction.store.pool`). The market an entry concerns is resolved in
the ``INSERT`` itself from the ids it names (lot → session → market, registration → session →
market, deposit, account, session, market code), most specific first, else the actor's own
market: one round trip, no lookups before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auction.store.errors import translated

if TYPE_CHECKING:
    from auction.store import Store


@dataclass(frozen=True, slots=True)
class Entry:
    """One write to record. ``refs`` names what the market is resolved from: ``lot_id``,
    ``registration_id``, ``deposit_id``, ``session_id``, ``account_id`` (ints) and
    ``market_code`` (text); any may be missing."""

    actor_role: str
    actor_account_id: int | None
    actor_subject: str
    actor_market_id: int | None
    actor_session_id: int | None
    actor_address: str
    method: str
    route: str
    path_ids: dict[str, Any]
    query: dict[str, str]
    body: Any
    status: int
    created: dict[str, Any]
    refs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Row:
    """One stored entry as the read routes show it."""

    id: int
    at: datetime
    actor_role: str
    actor_account_id: int | None
    actor_subject: str
    actor_market_id: int | None
    actor_session_id: int | None
    actor_address: str
    method: str
    route: str
    path_ids: dict[str, Any]
    query: dict[str, str]
    market_id: int | None
    market_code: str | None
    body: Any
    status: int
    created: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "at": self.at.isoformat(),
            "actor": {
                "role": self.actor_role, "account_id": self.actor_account_id,
                "subject": self.actor_subject, "market_id": self.actor_market_id,
                "session_id": self.actor_session_id, "address": self.actor_address,
            },
            "method": self.method, "route": self.route, "ids": self.path_ids, "query": self.query,
            "market_id": self.market_id, "market_code": self.market_code, "body": self.body,
            "status": self.status, "created": self.created,
        }


_INSERT = """
INSERT INTO audit_log (actor_role, actor_account_id, actor_subject, actor_market_id,
                       actor_session_id, actor_address, method, route, path_ids, query,
                       market_id, body, status, created)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $19::jsonb, COALESCE(
    (SELECT s.market_id FROM lots l JOIN sessions s ON s.id = l.session_id WHERE l.id = $13),
    (SELECT s.market_id FROM registrations r JOIN sessions s ON s.id = r.session_id
      WHERE r.id = $14),
    (SELECT d.market_id FROM deposits d WHERE d.id = $15),
    (SELECT s.market_id FROM sessions s WHERE s.id = $16),
    (SELECT a.market_id FROM accounts a WHERE a.id = $17),
    (SELECT m.id FROM markets m WHERE m.code = $18),
    $4), $10::jsonb, $11, $12::jsonb)
RETURNING id
"""

_SELECT = """
SELECT a.id, a.at, a.actor_role, a.actor_account_id, a.actor_subject, a.actor_market_id,
       a.actor_session_id, a.actor_address, a.method, a.route, a.path_ids, a.query, a.market_id,
       m.code AS market_code, a.body, a.status, a.created
FROM audit_log a LEFT JOIN markets m ON m.id = a.market_id
WHERE (a.market_id = ANY($1::bigint[]) OR ($2 AND a.market_id IS NULL))
  AND ($3::timestamptz IS NULL OR a.at >= $3)
  AND ($4::timestamptz IS NULL OR a.at < $4)
  AND ($5::text IS NULL OR a.actor_subject = $5 OR a.actor_account_id::text = $5)
ORDER BY a.at DESC, a.id DESC
LIMIT $6
"""

#: ids PostgreSQL's BIGINT holds (a bigger one names nothing)
_MAX_ID = 2**63 - 1


def _id(value: Any) -> int | None:
    return value if type(value) is int and 0 < value <= _MAX_ID else None


def _code(value: Any) -> str | None:
    return value if isinstance(value, str) and len(value) == 6 and value.isdigit() else None


async def append(store: Store, entry: Entry) -> int:
    """Insert ``entry``; its id. Raises the store's errors (``Unavailable`` …)."""
    refs = entry.refs
    with translated():
        value = await store.pool.fetchval(
            _INSERT, entry.actor_role, entry.actor_account_id, entry.actor_subject,
            entry.actor_market_id, entry.actor_session_id, entry.actor_address, entry.method,
            entry.route, entry.path_ids, entry.body, entry.status, entry.created,
            _id(refs.get("lot_id")), _id(refs.get("registration_id")),
            _id(refs.get("deposit_id")), _id(refs.get("session_id")),
            _id(refs.get("account_id")), _code(refs.get("market_code")), entry.query,
        )
    return int(value)


async def entries(
    store: Store, market_ids: list[int], *, unplaced: bool, since: datetime | None,
    until: datetime | None, actor: str | None, limit: int,
) -> list[Row]:
    """Entries of ``market_ids`` (and those of no market when ``unplaced``), newest first,
    within ``[since, until)``, of ``actor`` (its subject or account id) when given."""
    with translated():
        rows = await store.pool.fetch(_SELECT, market_ids, unplaced, since, until, actor, limit)
    return [
        Row(
            id=int(r["id"]), at=r["at"], actor_role=r["actor_role"],
            actor_account_id=r["actor_account_id"], actor_subject=r["actor_subject"],
            actor_market_id=r["actor_market_id"], actor_session_id=r["actor_session_id"],
            actor_address=r["actor_address"], method=r["method"], route=r["route"],
            path_ids=r["path_ids"], query=r["query"],
            market_id=r["market_id"],
            market_code=r["market_code"], body=r["body"], status=r["status"],
            created=r["created"],
        )
        for r in rows
    ]
