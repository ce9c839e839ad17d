"""Lot results and the registration outbox (tables ``lot_results``, ``registration_outbox``).

:func:`auction.store.settlements.record_results` is the settlement transaction (for a batch of
lots): the result, the lot's status and, for a sold lot, the outbox row commit together or not
at all (invariant 5: outbox row in the settlement transaction). ``lot_results.lot_id`` is the
primary key, so a second settlement of the same lot inserts nothing and reports so (invariant 4,
house style rule 13). This module holds the records it writes and the delivery side.

The delivery side claims due rows with ``FOR UPDATE SKIP LOCKED`` and pushes their
``next_attempt_at`` forward by a claim lease in the same statement, so several deliverer
processes never send the same row at once and no transaction stays open across an HTTP call.
A deliverer that dies mid-call leaves the row to be retried when the lease runs out.

Outbox status: ``pending`` → ``delivered`` | ``filed`` (written to disk, no URL configured) |
``registered`` / ``rejected`` (the office's answer, in the delivery's response or a later
callback: :mod:`auction.store.answers`) | ``dead`` (refused by the receiver, or failing for
longer than the retry window; ``last_error`` says why) → ``pending`` again when an operator
re-queues it (:func:`requeue`, :func:`requeue_all_dead`), or when the market corrects a
``rejected`` one (:func:`auction.store.answers.new_version`). The API reads the row with
:meth:`auction.store.catalogue.Catalogue.registration_status`.

Counters: ``attempts`` counts tries that failed for our side to fix or wait out (network,
timeout, 5xx other than 503) plus the one that succeeded; ``deferrals`` counts 429 / 503 answers,
which never use up anything. ``first_attempt_at`` is the first claim since the row was queued or
re-queued: the deliverer measures its retry window from it.

``last_error``: its first line is the latest failure; any further lines are the history kept
across re-queues (newest first), so an operator still sees why a re-queued row had died.

Failures surface as :mod:`auction.store.errors` (``translated``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from auction.store.errors import Conflict, NotFound, translated

if TYPE_CHECKING:
    from auction.store import Store


@dataclass(frozen=True, slots=True)
class LotSheet:
    """What registration needs to know about a lot, its session and its market."""

    lot_id: int
    title: str
    result_type: str
    ip_type: str
    technology_field: str
    transaction_mode: str
    contract_type: str
    holder_name: str
    holder_uscc: str
    non_tech_fen: int
    session_id: int
    session_name: str
    market_code: str
    market_id: int = 0
    market_name: str = ""
    #: how the sale came about: ``auction``, or ``agreement`` (协议成交, a listing's one buyer)
    deal: str = "auction"


@dataclass(frozen=True, slots=True)
class BuyerRecord:
    """The winning bidder: real name, credit code (an enterprise) or resident identity number
    (a person, ``kind`` ``person``), and the paddle it bid with."""

    bidder_id: int
    name: str
    uscc: str | None
    paddle: int
    kind: str = "enterprise"
    resident_id: str | None = None


@dataclass(frozen=True, slots=True)
class LotResult:
    """One row of ``lot_results``; the winner fields are ``None`` unless sold."""

    lot_id: int
    outcome: str  # sold | passed | withdrawn
    reason: str
    winner_id: int | None
    paddle: int | None
    amount_fen: int | None
    winning_seq: int | None
    closed_at_ms: int
    bid_count: int
    bid_log_sha256: str


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A registration hand-off to queue; ``body`` is the packet's one serialization."""

    idempotency_key: str
    body: bytes
    #: the market whose registration endpoint the packet is for (the lot's session's market)
    market_id: int | None = None


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A claimed outbox row. ``packet_json`` is PostgreSQL's text of the JSONB packet;
    ``market_id`` the market whose endpoint it goes to; ``version`` the packet's version."""

    lot_id: int
    idempotency_key: str
    packet_json: str
    attempts: int
    deferrals: int
    #: seconds since the row's first attempt (0 at the first claim), by PostgreSQL's clock
    retrying_s: float
    market_id: int = 0
    version: int = 1

    @property
    def failures(self) -> int:
        """Failed tries so far, deferrals included (the exponent of the backoff)."""
        return self.attempts + self.deferrals


@dataclass(frozen=True, slots=True)
class Backlog:
    """The outbox at a glance: rows waiting, rows dead, and how long the oldest has waited."""

    pending: int
    dead: int
    #: seconds since the oldest pending row was queued (its lot sold); 0 when none is pending
    oldest_pending_age_s: float

    def to_json(self) -> dict[str, int | float]:
        return {
            "pending": self.pending, "dead": self.dead,
            "oldest_pending_age_s": round(self.oldest_pending_age_s, 3),
        }


_CLAIM = """
UPDATE registration_outbox o
SET next_attempt_at = now() + $2::int * interval '1 second',
    first_attempt_at = COALESCE(o.first_attempt_at, now())
FROM (
    SELECT lot_id FROM registration_outbox
    WHERE status = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
) due
WHERE o.lot_id = due.lot_id
RETURNING o.lot_id, o.idempotency_key, o.packet::text AS packet_json, o.attempts, o.deferrals,
          EXTRACT(EPOCH FROM now() - o.first_attempt_at)::float8 AS retrying_s, o.version,
          COALESCE(o.market_id, (SELECT s.market_id FROM lots l JOIN sessions s
                                 ON s.id = l.session_id WHERE l.id = o.lot_id)) AS market_id
"""

# The history lines of last_error (from its first newline on; '' when there are none). A new
# failure replaces the first line and keeps these.
_HISTORY = (
    "CASE WHEN strpos(last_error, E'\\n') > 0"
    " THEN substr(last_error, strpos(last_error, E'\\n')) ELSE '' END"
)
#: last_error stays bounded however often a row is re-queued
MAX_ERROR_CHARS = 4000

_DELIVERED = f"""
UPDATE registration_outbox
SET status = $2, attempts = attempts + $3, delivered_at = now(),
    last_error = ltrim({_HISTORY}, E'\\n')
WHERE lot_id = $1 AND status = 'pending' AND ($4::text IS NULL OR idempotency_key = $4)
"""

_RETRY = f"""
UPDATE registration_outbox
SET attempts = attempts + $4, deferrals = deferrals + $5,
    last_error = left($3 || {_HISTORY}, {MAX_ERROR_CHARS}),
    next_attempt_at = now() + $2::bigint * interval '1 millisecond'
WHERE lot_id = $1 AND status = 'pending' AND ($6::text IS NULL OR idempotency_key = $6)
"""

_DEAD = f"""
UPDATE registration_outbox
SET status = 'dead', attempts = attempts + $3, deferrals = deferrals + $4,
    last_error = left($2 || {_HISTORY}, {MAX_ERROR_CHARS})
WHERE lot_id = $1 AND status = 'pending' AND ($5::text IS NULL OR idempotency_key = $5)
"""

# Re-queue: a fresh start (counters, window, due now); the reason it died becomes the newest
# history line, stamped in China Standard Time like everything the operators read.
_REQUEUE = f"""
UPDATE registration_outbox
SET status = 'pending', attempts = 0, deferrals = 0, first_attempt_at = NULL,
    next_attempt_at = now(),
    last_error = left(
        're-queued, not yet retried' || E'\\n'
        || to_char(now() AT TIME ZONE 'UTC' + interval '8 hours',
                   'YYYY-MM-DD"T"HH24:MI:SS"+08:00"')
        || ' re-queued; was dead after ' || attempts || ' attempts, ' || deferrals
        || ' deferrals: ' || last_error,
        {MAX_ERROR_CHARS})
WHERE status = 'dead' AND ($1::bigint IS NULL OR lot_id = $1)
RETURNING lot_id
"""

# a note on a delivered row (its latest line), the history kept below it
_NOTE = f"""
UPDATE registration_outbox
SET last_error = left($2 || CASE WHEN last_error = '' THEN '' ELSE E'\\n' || last_error END,
                      {MAX_ERROR_CHARS})
WHERE lot_id = $1
"""

_STATUS = "SELECT status FROM registration_outbox WHERE lot_id = $1"
_LOT_EXISTS = "SELECT EXISTS (SELECT 1 FROM lots WHERE id = $1)"

# Each count reads one partial index (pending: registration_outbox_due_idx, dead:
# registration_outbox_dead_idx), so the deliverer can afford this every pass.
_BACKLOG = """
SELECT (SELECT count(*) FROM registration_outbox WHERE status = 'pending') AS pending,
       (SELECT count(*) FROM registration_outbox WHERE status = 'dead') AS dead,
       COALESCE(EXTRACT(EPOCH FROM now() - (
           SELECT min(created_at) FROM registration_outbox WHERE status = 'pending'
       ))::float8, 0) AS oldest_pending_age_s
"""


async def claim_due(store: Store, *, limit: int, lease_s: int) -> list[DueDelivery]:
    """Claim up to ``limit`` pending rows that are due; no other caller gets them for
    ``lease_s`` seconds. The first claim of a row starts its retry window."""
    with translated():
        rows = await store.pool.fetch(_CLAIM, limit, lease_s)
    return [
        DueDelivery(
            lot_id=int(r["lot_id"]), idempotency_key=r["idempotency_key"],
            packet_json=r["packet_json"], attempts=int(r["attempts"]),
            deferrals=int(r["deferrals"]), retrying_s=max(float(r["retrying_s"]), 0.0),
            market_id=int(r["market_id"]), version=int(r["version"]),
        )
        for r in rows
    ]


async def mark_delivered(store: Store, lot_id: int, *, key: str | None = None) -> None:
    """The receiver accepted the packet (2xx): one more attempt, status ``delivered``; the
    latest error is cleared, the re-queue history kept. With ``key``, only while the row still
    holds that version (a correction may have replaced it meanwhile: then nothing changes);
    the same holds for the other ``mark_*``."""
    with translated():
        await store.pool.execute(_DELIVERED, lot_id, "delivered", 1, key)


async def mark_filed(store: Store, lot_id: int, *, key: str | None = None) -> None:
    """The packet was written to disk for manual upload: status ``filed``."""
    with translated():
        await store.pool.execute(_DELIVERED, lot_id, "filed", 0, key)


async def note_error(store: Store, lot_id: int, error: str) -> None:
    """Put ``error`` as the latest line of ``last_error`` (history kept), status unchanged."""
    with translated():
        await store.pool.execute(_NOTE, lot_id, _one_line(error))


async def mark_retry(
    store: Store, lot_id: int, *, delay_ms: int, error: str, deferred: bool = False,
    key: str | None = None,
) -> None:
    """A failed try worth repeating, next in ``delay_ms``: counted as an attempt, or as a
    deferral when the receiver asked us to wait (``deferred``: 429 / 503)."""
    with translated():
        await store.pool.execute(
            _RETRY, lot_id, delay_ms, _one_line(error), 0 if deferred else 1,
            1 if deferred else 0, key,
        )


async def mark_dead(
    store: Store, lot_id: int, *, error: str, counted: bool = True, deferred: bool = False,
    key: str | None = None,
) -> None:
    """Give up on the row (``dead``) with the reason; ``counted`` adds the failed try, as an
    attempt or (``deferred``) as a deferral."""
    attempts = 1 if counted and not deferred else 0
    deferrals = 1 if counted and deferred else 0
    with translated():
        await store.pool.execute(_DEAD, lot_id, _one_line(error), attempts, deferrals, key)


async def requeue(store: Store, lot_id: int) -> None:
    """Put the dead row of ``lot_id`` back in the queue, due now, with fresh counters and a
    fresh retry window; ``last_error`` keeps why it died.

    ``NotFound`` when there is no such lot or the lot has no registration row (it was not
    sold); ``Conflict`` (code ``wrong_state``) when the row is not dead.
    """
    with translated():
        async with store.pool.acquire() as conn:
            if await conn.fetchval(_REQUEUE, lot_id) is not None:
                return
            status = await conn.fetchval(_STATUS, lot_id)
            if status is None:
                if not await conn.fetchval(_LOT_EXISTS, lot_id):
                    raise NotFound(message=f"标的 {lot_id} 不存在", field="lot_id")
                raise NotFound(message=f"标的 {lot_id} 没有登记记录 (未成交)", field="lot_id")
    raise Conflict(
        "wrong_state", f"标的 {lot_id} 的登记状态为 {status}, 只有 dead 可以重新排队", "lot_id"
    )


async def requeue_all_dead(store: Store) -> list[int]:
    """Re-queue every dead row (as :func:`requeue`); their lot ids, ascending."""
    with translated():
        rows = await store.pool.fetch(_REQUEUE, None)
    return sorted(int(r["lot_id"]) for r in rows)


async def backlog(store: Store) -> Backlog:
    """Pending and dead counts and the age of the oldest pending row."""
    with translated():
        r = await store.pool.fetchrow(_BACKLOG)
    return Backlog(
        pending=int(r["pending"]), dead=int(r["dead"]),
        oldest_pending_age_s=max(float(r["oldest_pending_age_s"]), 0.0),
    )


def _one_line(error: str) -> str:
    # the first line of last_error is the latest failure; history lines follow it
    return " ".join(error.split())
