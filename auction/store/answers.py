"""Registration endpoints per market, the office's answers, corrected versions and callbacks
(tables ``market_registration_endpoints``, ``registration_versions``,
``registration_callbacks`` and the answer columns of ``registration_outbox``; migration 0013).

- Endpoints: :func:`set_endpoint` / :func:`clear_endpoint` for one market; :func:`endpoints`
  reads every market's parent and own endpoint, for :mod:`auction.registration.routing` to
  resolve (a market without one inherits its parent's). Secrets leave this module only for
  signing: :class:`EndpointRow` does not print its secret.
- Answers: :func:`mark_answered` (in the delivery's response), :func:`answer_callback` (later,
  by callback; its outcome says what happened), :func:`record_callback` (every callback,
  refused ones too).
- Versions: :func:`new_version` moves a ``rejected`` row's packet to ``registration_versions``
  and queues the corrected one under the next version's key, due now.
- :func:`views` reads the statuses for pages (:class:`RegistrationView`).
- :func:`packet` reads one version's packet as stored (the hand-off download,
  :mod:`auction.api.registration_packet`).

Failures surface as :mod:`auction.store.errors` (``translated``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auction.domain.registration_form import STATUS_SHOWN, STATUS_WORDS
from auction.store.errors import Conflict, NotFound, translated
from auction.store.outbox import _HISTORY
from auction.store.records import rfc3339

if TYPE_CHECKING:
    from auction.store import Store


@dataclass(frozen=True, slots=True)
class EndpointRow:
    """A market's own registration endpoint. ``secret`` is not in its repr."""

    market_id: int
    url: str
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class EndpointTable:
    """Every market's parent and the endpoints markets set for themselves."""

    parent: dict[int, int | None]
    own: dict[int, EndpointRow]
    codes: dict[int, str]


@dataclass(frozen=True, slots=True)
class RegistrationView:
    """A lot's registration as pages show it."""

    lot_id: int
    status: str
    version: int
    registration_no: str | None
    reason: str
    answered_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status, "shown": STATUS_SHOWN.get(self.status, self.status),
            "status_text": STATUS_WORDS.get(self.status, self.status),
            "registration_no": self.registration_no, "reason": self.reason,
            "version": self.version, "answered_at": rfc3339(self.answered_at),
        }


@dataclass(frozen=True, slots=True)
class StoredPacket:
    """One version of a lot's registration packet as stored: ``packet_json`` is PostgreSQL's
    text of the JSONB packet (:func:`auction.registration.packet.packet_body` of it gives the
    bytes sent); ``status`` that version's outbox status (an earlier version's as it was when
    it was superseded)."""

    lot_id: int
    version: int
    idempotency_key: str
    packet_json: str
    status: str
    current: bool
    #: every version the lot has, ascending
    versions: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CallbackTarget:
    """The outbox row a callback's key names, locked by :func:`answer_callback`'s caller."""

    lot_id: int
    market_id: int
    status: str
    registration_no: str | None
    reason: str


_ENDPOINTS = """
SELECT m.id, m.parent_id, m.code, e.url, e.secret
FROM markets m LEFT JOIN market_registration_endpoints e ON e.market_id = m.id
"""

_SET_ENDPOINT = """
INSERT INTO market_registration_endpoints (market_id, url, secret, updated_by)
VALUES ($1, $2, $3, $4)
ON CONFLICT (market_id) DO UPDATE
SET url = EXCLUDED.url, secret = EXCLUDED.secret, updated_by = EXCLUDED.updated_by,
    updated_at = now()
"""

_CLEAR_ENDPOINT = "DELETE FROM market_registration_endpoints WHERE market_id = $1 RETURNING 1"

# an answer in the delivery's response: the row is delivered and answered at once
_ANSWERED = f"""
UPDATE registration_outbox
SET status = $3, registration_no = $4, answer_reason = $5, answered_at = now(),
    attempts = attempts + 1, delivered_at = now(), last_error = ltrim({_HISTORY}, E'\\n')
WHERE lot_id = $1 AND idempotency_key = $2 AND status = 'pending'
"""

_TARGET = """
SELECT lot_id, COALESCE(o.market_id, (SELECT s.market_id FROM lots l JOIN sessions s
                                      ON s.id = l.session_id WHERE l.id = o.lot_id))
       AS market_id, status, registration_no, answer_reason AS reason
FROM registration_outbox o WHERE idempotency_key = $1
"""

_SUPERSEDED = "SELECT lot_id FROM registration_versions WHERE idempotency_key = $1"

# a callback's answer: from any state but an answer already given (pending: the response was
# lost but the office took it; filed / dead: handed over by hand)
_CALLBACK_ANSWER = """
UPDATE registration_outbox
SET status = $2, registration_no = $3, answer_reason = $4, answered_at = now(),
    delivered_at = COALESCE(delivered_at, now())
WHERE idempotency_key = $1 AND status IN ('pending', 'delivered', 'filed', 'dead')
RETURNING lot_id
"""

_RECORD_CALLBACK = """
INSERT INTO registration_callbacks (lot_id, idempotency_key, outcome, http_status, detail,
                                    address, body_excerpt)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""

_CURRENT = """
SELECT lot_id, version, idempotency_key, packet::text AS packet_json, status
FROM registration_outbox WHERE lot_id = $1 FOR UPDATE
"""

_ARCHIVE = """
INSERT INTO registration_versions (lot_id, version, idempotency_key, packet, status, attempts,
                                   registration_no, answer_reason, answered_at, delivered_at,
                                   superseded_by)
SELECT lot_id, version, idempotency_key, packet, status, attempts, registration_no,
       answer_reason, answered_at, delivered_at, $2
FROM registration_outbox WHERE lot_id = $1
"""

_NEXT_VERSION = """
UPDATE registration_outbox
SET version = $2, idempotency_key = $3, packet = $4::text::jsonb, status = 'pending',
    attempts = 0, deferrals = 0, first_attempt_at = NULL, next_attempt_at = now(),
    registration_no = NULL, answer_reason = '', answered_at = NULL, delivered_at = NULL,
    last_error = ''
WHERE lot_id = $1
"""

_VIEWS = """
SELECT lot_id, status, version, registration_no, answer_reason AS reason, answered_at
FROM registration_outbox WHERE lot_id = ANY($1::bigint[])
"""

_LOT_EXISTS = "SELECT EXISTS (SELECT 1 FROM lots WHERE id = $1)"

# the current version (the outbox row) and every earlier one (registration_versions)
_PACKETS = """
SELECT version, idempotency_key, packet::text AS packet_json, status, true AS current
FROM registration_outbox WHERE lot_id = $1
UNION ALL
SELECT version, idempotency_key, packet::text, status, false
FROM registration_versions WHERE lot_id = $1
ORDER BY version
"""


async def endpoints(store: Store) -> EndpointTable:
    """The market tree with every market's own endpoint (if any)."""
    with translated():
        rows = await store.pool.fetch(_ENDPOINTS)
    parent = {int(r["id"]): (int(r["parent_id"]) if r["parent_id"] is not None else None)
              for r in rows}
    own = {int(r["id"]): EndpointRow(int(r["id"]), r["url"], r["secret"])
           for r in rows if r["url"] is not None}
    return EndpointTable(parent=parent, own=own, codes={int(r["id"]): r["code"] for r in rows})


async def set_endpoint(store: Store, market_id: int, url: str, secret: str, by: str) -> None:
    """Set (or replace) the market's own endpoint."""
    with translated():
        await store.pool.execute(_SET_ENDPOINT, market_id, url, secret, by)


async def clear_endpoint(store: Store, market_id: int) -> bool:
    """Remove the market's own endpoint (it inherits again); whether it had one."""
    with translated():
        return await store.pool.fetchval(_CLEAR_ENDPOINT, market_id) is not None


async def mark_answered(
    store: Store, lot_id: int, key: str, *, status: str, registration_no: str | None,
    reason: str,
) -> None:
    """The delivery's response carried the office's answer (``registered`` with its number,
    or ``rejected`` with a reason): one more attempt, delivered and answered now."""
    with translated():
        await store.pool.execute(_ANSWERED, lot_id, key, status, registration_no, reason)


async def callback_target(store: Store, key: str) -> CallbackTarget | None:
    """The current outbox row of the idempotency key; ``None`` when no current row has it
    (see :func:`is_superseded`)."""
    with translated():
        r = await store.pool.fetchrow(_TARGET, key)
    if r is None:
        return None
    return CallbackTarget(int(r["lot_id"]), int(r["market_id"]), r["status"],
                          r["registration_no"], r["reason"])


async def is_superseded(store: Store, key: str) -> int | None:
    """The lot of an earlier version's key, else ``None``."""
    with translated():
        found = await store.pool.fetchval(_SUPERSEDED, key)
    return int(found) if found is not None else None


async def answer_callback(
    store: Store, key: str, *, status: str, registration_no: str | None, reason: str
) -> bool:
    """Store a callback's answer on the row of ``key``; ``False`` when the row already has
    an answer (the caller compares it: the same is a duplicate, another a conflict)."""
    with translated():
        found = await store.pool.fetchval(_CALLBACK_ANSWER, key, status, registration_no, reason)
    return found is not None


async def record_callback(
    store: Store, *, lot_id: int | None, key: str, outcome: str, http_status: int, detail: str,
    address: str, body_excerpt: str,
) -> None:
    """One line in ``registration_callbacks``, whatever the outcome."""
    with translated():
        await store.pool.execute(_RECORD_CALLBACK, lot_id, key, outcome, http_status,
                                 detail[:500], address, body_excerpt[:500])


async def new_version(
    store: Store, lot_id: int, build: Callable[[str, str, int], tuple[str, bytes]], by: str
) -> RegistrationView:
    """Queue the next version of a rejected registration. ``build(previous packet json,
    previous key, version)`` gives the new key and body. ``NotFound`` for an unknown lot or
    one without a registration; ``Conflict`` ``wrong_state`` unless the row is
    ``rejected``."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            r = await conn.fetchrow(_CURRENT, lot_id)
            if r is None:
                if not await conn.fetchval(_LOT_EXISTS, lot_id):
                    raise NotFound(message=f"标的 {lot_id} 不存在", field="lot_id")
                raise NotFound(message=f"标的 {lot_id} 没有登记记录 (未成交)", field="lot_id")
            if r["status"] != "rejected":
                raise Conflict("wrong_state", f"标的 {lot_id} 的登记状态为 {r['status']}, "
                               "只有未予登记 (rejected) 的可以更正重发", "lot_id")
            version = int(r["version"]) + 1
            key, body = build(r["packet_json"], r["idempotency_key"], version)
            await conn.execute(_ARCHIVE, lot_id, by)
            await conn.execute(_NEXT_VERSION, lot_id, version, key, body.decode("utf-8"))
    return RegistrationView(lot_id, "pending", version, None, "", None)


async def views(store: Store, lot_ids: list[int]) -> dict[int, RegistrationView]:
    """The registration of each lot that has one."""
    if not lot_ids:
        return {}
    with translated():
        rows = await store.pool.fetch(_VIEWS, lot_ids)
    return {int(r["lot_id"]): RegistrationView(**dict(r)) for r in rows}


async def packet(store: Store, lot_id: int, version: int | None) -> StoredPacket:
    """Version ``version`` (``None``: the current one) of the lot's packet. ``NotFound``
    naming ``lot_id`` for a lot without a registration row (unsold, or no such lot), naming
    ``version`` for a version the lot does not have."""
    with translated():
        rows = await store.pool.fetch(_PACKETS, lot_id)
    if not rows:
        raise NotFound(message=f"标的 {lot_id} 没有登记移交材料 (未成交或尚未结算)",
                       field="lot_id")
    versions = tuple(int(r["version"]) for r in rows)
    for r in rows:
        if (version is None and r["current"]) or int(r["version"]) == version:
            return StoredPacket(lot_id, int(r["version"]), r["idempotency_key"],
                                r["packet_json"], r["status"], bool(r["current"]), versions)
    raise NotFound(message=f"标的 {lot_id} 没有第 {version} 版登记材料 (现有: "
                   f"{', '.join(map(str, versions))})", field="version")
