"""成交公示 in PostgreSQL: each market's notice period and objection contact, the notice of a
sold lot (``publicity_notices``, opened by a trigger when the result is written: migration 0014)
and the objections filed against it (``publicity_objections``) with the market's resolution.

The notice's end date is not stored: it follows from ``opened_at`` and ``working_days`` through
the working-day calendar (:func:`auction.domain.deadlines.notice_ends`), in the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from auction.store.errors import Conflict, NotFound, translated

if TYPE_CHECKING:
    from auction.store import Store


@dataclass(frozen=True, slots=True)
class MarketNotice:
    """A market's 成交公示 settings."""

    id: int
    code: str
    name: str
    notice_working_days: int
    objection_contact: str


@dataclass(frozen=True, slots=True)
class Notice:
    """The notice of one sold lot, with its market's settings."""

    lot_id: int
    session_id: int
    market_id: int
    opened_at: datetime
    working_days: int


@dataclass(frozen=True, slots=True)
class Objection:
    id: int
    lot_id: int
    title: str
    name: str
    contact: str
    text: str
    filed_at: datetime
    resolution: str | None
    resolved_by: str | None
    resolved_at: datetime | None


_MARKET = "SELECT id, code, name, notice_working_days, objection_contact FROM markets"
_OBJECTION = (
    "SELECT o.id, o.lot_id, l.title, o.name, o.contact, o.text, o.filed_at, o.resolution,"
    " o.resolved_by, o.resolved_at FROM publicity_objections o JOIN lots l ON l.id = o.lot_id"
)


async def market(store: Store, code: str) -> MarketNotice | None:
    with translated():
        row = await store.pool.fetchrow(_MARKET + " WHERE code = $1", code)
    return None if row is None else MarketNotice(**dict(row))


async def update_market(
    store: Store, market_id: int, *, working_days: int | None, contact: str | None
) -> MarketNotice:
    """Set what is given; the other stays. A change applies to notices opened after it."""
    with translated():
        row = await store.pool.fetchrow(
            "UPDATE markets SET notice_working_days = coalesce($2, notice_working_days),"
            " objection_contact = coalesce($3, objection_contact) WHERE id = $1"
            " RETURNING id, code, name, notice_working_days, objection_contact",
            market_id, working_days, contact,
        )
    if row is None:
        raise NotFound(message="技术市场不存在", field="code")
    return MarketNotice(**dict(row))


async def notice(store: Store, lot_id: int) -> Notice | None:
    """The lot's notice; ``None`` when it has none (not sold, or no such lot)."""
    with translated():
        row = await store.pool.fetchrow(
            "SELECT n.lot_id, l.session_id, s.market_id, n.opened_at, n.working_days"
            " FROM publicity_notices n JOIN lots l ON l.id = n.lot_id"
            " JOIN sessions s ON s.id = l.session_id WHERE n.lot_id = $1",
            lot_id,
        )
    return None if row is None else Notice(**dict(row))


async def file_objection(
    store: Store, lot_id: int, *, name: str, contact: str, text: str
) -> Objection:
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            new_id = await conn.fetchval(
                "INSERT INTO publicity_objections (lot_id, name, contact, text)"
                " VALUES ($1, $2, $3, $4) RETURNING id",
                lot_id, name, contact, text,
            )
            row = await conn.fetchrow(_OBJECTION + " WHERE o.id = $1", new_id)
    return Objection(**dict(row))


async def session_objections(store: Store, session_id: int) -> list[Objection]:
    """Every objection against the session's lots, oldest first."""
    with translated():
        rows = await store.pool.fetch(
            _OBJECTION + " WHERE l.session_id = $1 ORDER BY o.filed_at, o.id", session_id
        )
    return [Objection(**dict(r)) for r in rows]


async def objection_scope(store: Store, objection_id: int) -> tuple[int, int] | None:
    """``(session_id, market_id)`` of the objection's lot, or ``None``."""
    with translated():
        row = await store.pool.fetchrow(
            "SELECT l.session_id, s.market_id FROM publicity_objections o"
            " JOIN lots l ON l.id = o.lot_id JOIN sessions s ON s.id = l.session_id"
            " WHERE o.id = $1",
            objection_id,
        )
    return None if row is None else (int(row[0]), int(row[1]))


async def resolve(store: Store, objection_id: int, *, resolution: str, by: str) -> Objection:
    """Record how the objection was resolved, once: ``already_resolved`` after that."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            done = await conn.fetchval(
                "SELECT resolution FROM publicity_objections WHERE id = $1 FOR UPDATE",
                objection_id,
            )
            if done is not None:
                raise Conflict("already_resolved", "该异议已记录处理结果", "objection_id")
            await conn.execute(
                "UPDATE publicity_objections SET resolution = $2, resolved_by = $3,"
                " resolved_at = now() WHERE id = $1",
                objection_id, resolution, by,
            )
            row = await conn.fetchrow(_OBJECTION + " WHERE o.id = $1", objection_id)
    return Objection(**dict(row))
