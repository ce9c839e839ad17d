"""What PostgreSQL knows of each lot's room, for checking Redis against it
(:mod:`auction.rooms.recovery`) and for the drainer's comparison of what it copies.

- :func:`positions`: every lot with its catalogue status and the highest journalled seq;
- :func:`room_terms` (:func:`room_terms_many`): the terms a room is created with (lot, session,
  deposit requirement);
- :func:`events` (:func:`events_many`): a lot's journalled events rebuilt as the stream carried
  them;
- :func:`verified_run` / :func:`record_verification`: table ``redis_verifications``, which Redis
  instance (by run id) each namespace last checked, under a transaction-level advisory lock so
  one process checks while the others wait.

Failures surface as :mod:`auction.store.errors` (``translated``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auction.domain import increments
from auction.domain.lot import LotMode
from auction.domain.room import LotEvent
from auction.store.errors import translated

if TYPE_CHECKING:
    from auction.store import Store

#: journal column → event field (the reverse of auction/store/journal.py's split)
_COLUMNS = {"bidder_id": "bidder", "paddle": "paddle", "amount_fen": "amount"}

_POSITIONS = """
SELECT l.id, l.status,
       coalesce((SELECT max(e.seq) FROM lot_events e WHERE e.lot_id = l.id), 0) AS max_seq
FROM lots l ORDER BY l.id
"""

_TERMS = """
SELECT l.id, s.mode, l.start_price_fen, l.increment_fen, l.reserve_fen, l.duration_s,
       s.extension_window_s, s.extension_s, l.session_id, l.deposit_fen, s.increments,
       l.format, l.revisions, l.step_fen, l.interval_s, l.floor_fen, l.free_s, l.round_s,
       l.preempt_window_s,
       (SELECT string_agg(p.bidder_id || ':' || p.rank, ',' ORDER BY p.bidder_id)
        FROM lot_preemptors p WHERE p.lot_id = l.id) AS holders
FROM lots l JOIN sessions s ON s.id = l.session_id WHERE l.id = ANY($1::bigint[])
"""

_EVENTS = """
SELECT lot_id, seq, kind, (extract(epoch FROM at) * 1000)::bigint AS at_ms,
       bidder_id, paddle, amount_fen, data::text AS data
FROM lot_events WHERE lot_id = ANY($1::bigint[]) ORDER BY lot_id, seq
"""

_VERIFIED = "SELECT run_id FROM redis_verifications WHERE namespace = $1"

_RECORD = """
INSERT INTO redis_verifications
    (namespace, run_id, verified_at, rooms_checked, rooms_rebuilt, rooms_reepoched)
VALUES ($1, $2, now(), $3, $4, $5)
ON CONFLICT (namespace) DO UPDATE SET
    run_id = excluded.run_id, verified_at = excluded.verified_at,
    rooms_checked = excluded.rooms_checked, rooms_rebuilt = excluded.rooms_rebuilt,
    rooms_reepoched = excluded.rooms_reepoched
"""


@dataclass(frozen=True, slots=True)
class Position:
    lot_id: int
    status: str  # the catalogue's: scheduled / open / sold / passed / withdrawn
    max_seq: int  # highest journalled seq, 0 when none


@dataclass(frozen=True, slots=True)
class RoomTerms:
    """What ``init.lua`` is given for a lot (times in ms, money in fen)."""

    lot_id: int
    mode: LotMode
    start: int
    inc: int
    reserve: int
    duration_ms: int
    window_ms: int
    ext_ms: int
    session_id: int
    deposit: int
    bands: str = ""  # the session's increment table (auction/domain/increments.py text)
    format: str = "english"  # and its parameters (auction/domain/formats.py)
    revisions: int = 0
    step: int = 0
    interval_ms: int = 0
    floor: int = 0
    free_ms: int = 0
    round_ms: int = 0
    holders: str = ""  # preemptive-right holders, 'bidder:order,…' (R9)
    preempt_ms: int = 0  # their window after a timed lot's clock (R10)


def _event(row: Any) -> LotEvent:
    data: dict[str, Any] = json.loads(row["data"])
    for column, name in _COLUMNS.items():
        if row[column] is not None:
            data[name] = int(row[column])
    return LotEvent(seq=int(row["seq"]), kind=str(row["kind"]), at=int(row["at_ms"]), data=data)


async def positions(store: Store) -> list[Position]:
    with translated():
        rows = await store.pool.fetch(_POSITIONS)
    return [Position(int(r["id"]), str(r["status"]), int(r["max_seq"])) for r in rows]


async def room_terms(store: Store, lot_id: int) -> RoomTerms | None:
    return (await room_terms_many(store, [lot_id])).get(lot_id)


async def room_terms_many(store: Store, lot_ids: Sequence[int]) -> dict[int, RoomTerms]:
    """:func:`room_terms` of several lots in one query (lots unknown to PostgreSQL: absent)."""
    with translated():
        rows = await store.pool.fetch(_TERMS, list(lot_ids))
    return {int(r["id"]): _terms(r) for r in rows}


def _terms(r: Any) -> RoomTerms:
    return RoomTerms(
        lot_id=int(r["id"]), mode=LotMode(r["mode"]), start=int(r["start_price_fen"]),
        inc=int(r["increment_fen"]), reserve=int(r["reserve_fen"]),
        duration_ms=int(r["duration_s"]) * 1000, window_ms=int(r["extension_window_s"]) * 1000,
        ext_ms=int(r["extension_s"]) * 1000, session_id=int(r["session_id"]),
        deposit=int(r["deposit_fen"] or 0), bands=_bands(r["increments"]),
        format=str(r["format"]), revisions=int(r["revisions"]), step=int(r["step_fen"]),
        interval_ms=int(r["interval_s"]) * 1000, floor=int(r["floor_fen"]),
        free_ms=int(r["free_s"]) * 1000, round_ms=int(r["round_s"]) * 1000,
        holders=str(r["holders"] or ""), preempt_ms=int(r["preempt_window_s"]) * 1000,
    )


def _bands(raw: Any) -> str:
    """The session's ``increments`` column (JSON text or decoded) as the room's ``bands``."""
    table = json.loads(raw) if isinstance(raw, str) else (raw or [])
    return increments.to_text([(int(b["from_fen"]), int(b["inc_fen"])) for b in table])


async def events(store: Store, lot_id: int) -> list[LotEvent]:
    """Every journalled event of the lot, in seq order."""
    return (await events_many(store, [lot_id])).get(lot_id, [])


async def events_many(store: Store, lot_ids: Sequence[int]) -> dict[int, list[LotEvent]]:
    """:func:`events` of several lots in one query (lots with none: absent)."""
    with translated():
        rows = await store.pool.fetch(_EVENTS, list(lot_ids))
    out: dict[int, list[LotEvent]] = {}
    for r in rows:
        out.setdefault(int(r["lot_id"]), []).append(_event(r))
    return out


def _lock_key(namespace: str) -> int:
    digest = hashlib.sha256(f"auction.rooms.recovery:{namespace}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@asynccontextmanager
async def verification(store: Store, namespace: str) -> AsyncIterator[str | None]:
    """Hold the namespace's verification lock (a transaction-level advisory lock: released
    when the block ends, or when the connection dies) and yield the run id last verified."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(namespace))
            yield await conn.fetchval(_VERIFIED, namespace)


async def record_verification(
    store: Store, namespace: str, run_id: str, *, checked: int, rebuilt: int, reepoched: int
) -> None:
    with translated():
        await store.pool.execute(_RECORD, namespace, run_id, checked, rebuilt, reepoched)
