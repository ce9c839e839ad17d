"""Reading the chained record back (migrations/0018_record_chain.sql builds it on insert).

- :func:`lot_records`: lots' chained events, secret book chains (``lot_book``, never
  exported) and settled results, for ``auction verify``;
- :func:`session_lots` / :func:`market_lots` / :func:`all_lots`: which lots a session, a market
  or the deployment holds; :func:`audit_markets`: which markets have a back-office chain;
- :func:`audit_chains`: the back-office chains of markets;
- :func:`session_heads`: the head hash of finished sessions (成交公示);
- :func:`bid_entry`: one accepted bid with its chain hash (receipts).

Nothing here writes: the tables are append-only and their triggers compute the hashes.
Failures surface as :mod:`auction.store.errors` (``translated``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auction.audit.chain import AuditEntry, EventEntry, LotHead, session_head
from auction.audit.verify import LotRecord, Result
from auction.store import book as book_store
from auction.store.errors import translated

if TYPE_CHECKING:
    from auction.store import Store

_EVENTS = """
SELECT lot_id, seq, epoch, kind, (extract(epoch FROM at) * 1000)::bigint AS at_ms,
       bidder_id, paddle, amount_fen, data::text AS data, prev_sha256, sha256
FROM lot_events WHERE lot_id = ANY($1::bigint[]) ORDER BY lot_id, seq
"""

_RESULTS = """
SELECT lot_id, outcome, winner_id, paddle, amount_fen, winning_seq,
       (extract(epoch FROM closed_at) * 1000)::bigint AS closed_at_ms, bid_count, bid_log_sha256
FROM lot_results WHERE lot_id = ANY($1::bigint[])
"""

_LOTS = "SELECT id, session_id FROM lots WHERE id = ANY($1::bigint[]) ORDER BY id"

_SESSION_LOTS = "SELECT id FROM lots WHERE session_id = $1 ORDER BY id"

_MARKET_LOTS = """
SELECT l.id FROM lots l JOIN sessions s ON s.id = l.session_id JOIN markets m ON m.id = s.market_id
WHERE m.code = $1 ORDER BY l.id
"""

_MARKET_ID = "SELECT id FROM markets WHERE code = $1"

_ALL_LOTS = "SELECT id FROM lots ORDER BY id"

_AUDIT_MARKETS = "SELECT DISTINCT market_id FROM audit_log ORDER BY market_id NULLS FIRST"

_AUDIT = """
SELECT market_id, chain_n, id, (extract(epoch FROM at) * 1000000)::bigint AS at_us, actor_role,
       actor_account_id, actor_subject, actor_market_id, actor_session_id, actor_address, method,
       route, path_ids::text AS path_ids, query::text AS query, body::text AS body, status,
       created::text AS created, prev_sha256, sha256
FROM audit_log WHERE coalesce(market_id, 0) = ANY($1::bigint[])
ORDER BY coalesce(market_id, 0), chain_n
"""

_SESSION = """
SELECT s.id, s.name, s.status, m.id AS market_id, m.code AS market_code
FROM sessions s JOIN markets m ON m.id = s.market_id WHERE s.id = $1
"""

# A session is finished when every lot of it has a settled result (or its status says so).
_HEADS = """
SELECT l.session_id, l.id AS lot_id, coalesce(h.seq, 0) AS seq, h.sha256
FROM lots l
LEFT JOIN LATERAL (SELECT e.seq, e.sha256 FROM lot_events e WHERE e.lot_id = l.id
                   ORDER BY e.seq DESC LIMIT 1) h ON true
WHERE l.session_id = ANY($1::bigint[])
  AND l.session_id IN (
      SELECT s.id FROM sessions s WHERE s.id = ANY($1::bigint[]) AND (s.status = 'finished'
          OR NOT EXISTS (SELECT 1 FROM lots x LEFT JOIN lot_results r ON r.lot_id = x.id
                         WHERE x.session_id = s.id AND r.lot_id IS NULL)))
ORDER BY l.session_id, l.id
"""

_BID = """
SELECT e.lot_id, e.seq, e.kind, (extract(epoch FROM e.at) * 1000)::bigint AS at_ms,
       e.bidder_id, e.paddle, e.amount_fen, e.sha256, l.session_id
FROM lot_events e JOIN lots l ON l.id = e.lot_id WHERE e.lot_id = $1 AND e.seq = $2
"""


@dataclass(frozen=True, slots=True)
class SessionInfo:
    id: int
    name: str
    status: str
    market_id: int
    market_code: str


@dataclass(frozen=True, slots=True)
class BidEntry:
    """One journalled event of a lot, with its chain hash (a receipt is for a ``bid``)."""

    lot_id: int
    session_id: int
    seq: int
    kind: str
    at_ms: int
    bidder_id: int | None
    paddle: int | None
    amount_fen: int | None
    sha256: str


def _opt(value: Any) -> int | None:
    return None if value is None else int(value)


async def lot_records(store: Store, lot_ids: Sequence[int]) -> list[LotRecord]:
    """The chained events and settled result of each existing lot of ``lot_ids``, by id."""
    ids = list(lot_ids)
    with translated():
        async with store.pool.acquire() as conn, conn.transaction(isolation="repeatable_read",
                                                                   readonly=True):
            lots = await conn.fetch(_LOTS, ids)
            events = await conn.fetch(_EVENTS, ids)
            results = await conn.fetch(_RESULTS, ids)
    by_lot: dict[int, list[EventEntry]] = {int(r["id"]): [] for r in lots}
    for r in events:
        by_lot[int(r["lot_id"])].append(EventEntry(
            lot_id=int(r["lot_id"]), seq=int(r["seq"]), epoch=r["epoch"], kind=r["kind"],
            at_ms=int(r["at_ms"]), bidder_id=_opt(r["bidder_id"]), paddle=_opt(r["paddle"]),
            amount_fen=_opt(r["amount_fen"]), data=r["data"], prev_sha256=r["prev_sha256"],
            sha256=r["sha256"],
        ))
    by_result = {
        int(r["lot_id"]): Result(
            outcome=r["outcome"], winner_id=_opt(r["winner_id"]), paddle=_opt(r["paddle"]),
            amount_fen=_opt(r["amount_fen"]), winning_seq=_opt(r["winning_seq"]),
            closed_at_ms=int(r["closed_at_ms"]), bid_count=int(r["bid_count"]),
            bid_log_sha256=str(r["bid_log_sha256"]),
        )
        for r in results
    }
    books = await book_store.entries(store, ids)
    return [
        LotRecord(lot_id=int(r["id"]), session_id=int(r["session_id"]),
                  entries=by_lot[int(r["id"])], result=by_result.get(int(r["id"])),
                  book=books.get(int(r["id"]), []))
        for r in lots
    ]


async def session_lots(store: Store, session_id: int) -> list[int]:
    with translated():
        rows = await store.pool.fetch(_SESSION_LOTS, session_id)
    return [int(r["id"]) for r in rows]


async def market_lots(store: Store, code: str) -> list[int]:
    with translated():
        rows = await store.pool.fetch(_MARKET_LOTS, code)
    return [int(r["id"]) for r in rows]


async def all_lots(store: Store) -> list[int]:
    with translated():
        rows = await store.pool.fetch(_ALL_LOTS)
    return [int(r["id"]) for r in rows]


async def audit_markets(store: Store) -> list[int | None]:
    """Every market with a back-office chain (``None``: the chain of no market)."""
    with translated():
        rows = await store.pool.fetch(_AUDIT_MARKETS)
    return [None if r["market_id"] is None else int(r["market_id"]) for r in rows]


async def market_id(store: Store, code: str) -> int | None:
    with translated():
        value = await store.pool.fetchval(_MARKET_ID, code)
    return None if value is None else int(value)


async def session(store: Store, session_id: int) -> SessionInfo | None:
    with translated():
        row = await store.pool.fetchrow(_SESSION, session_id)
    if row is None:
        return None
    return SessionInfo(id=int(row["id"]), name=row["name"], status=row["status"],
                       market_id=int(row["market_id"]), market_code=row["market_code"])


async def audit_chains(
    store: Store, market_ids: Sequence[int | None]
) -> dict[int | None, list[AuditEntry]]:
    """The back-office chain of each market (``None``: the entries of no market), in order."""
    keys = [0 if m is None else m for m in market_ids]
    with translated():
        rows = await store.pool.fetch(_AUDIT, keys)
    chains: dict[int | None, list[AuditEntry]] = {m: [] for m in market_ids}
    for r in rows:
        entry = AuditEntry(
            market_id=_opt(r["market_id"]), chain_n=int(r["chain_n"]), id=int(r["id"]),
            at_us=int(r["at_us"]), actor_role=r["actor_role"],
            actor_account_id=_opt(r["actor_account_id"]), actor_subject=r["actor_subject"],
            actor_market_id=_opt(r["actor_market_id"]),
            actor_session_id=_opt(r["actor_session_id"]), actor_address=r["actor_address"],
            method=r["method"], route=r["route"], path_ids=r["path_ids"], query=r["query"],
            body=r["body"], status=int(r["status"]), created=r["created"],
            prev_sha256=r["prev_sha256"], sha256=r["sha256"],
        )
        chains[entry.market_id].append(entry)
    return chains


async def session_heads(store: Store, session_ids: Sequence[int]) -> dict[int, str]:
    """The head hash (:func:`auction.audit.chain.session_head`) of each finished session."""
    with translated():
        rows = await store.pool.fetch(_HEADS, list(session_ids))
    heads: dict[int, list[LotHead]] = {}
    for r in rows:
        heads.setdefault(int(r["session_id"]), []).append(
            LotHead(int(r["lot_id"]), int(r["seq"]), r["sha256"] or "0" * 64))
    return {sid: session_head(sid, lots) for sid, lots in heads.items()}


async def bid_entry(store: Store, lot_id: int, seq: int) -> BidEntry | None:
    """The journalled event (lot, seq) with its chain hash, or None."""
    with translated():
        r = await store.pool.fetchrow(_BID, lot_id, seq)
    if r is None:
        return None
    return BidEntry(
        lot_id=int(r["lot_id"]), session_id=int(r["session_id"]), seq=int(r["seq"]),
        kind=r["kind"], at_ms=int(r["at_ms"]), bidder_id=_opt(r["bidder_id"]),
        paddle=_opt(r["paddle"]), amount_fen=_opt(r["amount_fen"]), sha256=r["sha256"],
    )
