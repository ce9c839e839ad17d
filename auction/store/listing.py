"""What PostgreSQL knows for the public catalogue (``GET /api/v1/listing``) and the 成交公示
(``GET /api/v1/publicity``) of :mod:`auction.api.listing`.

The catalogue rows join each lot to its session and market and to its settlement
(``lot_results``) when there is one; the rooms in Redis are ahead of this and the API overlays
them. Search is ``ILIKE`` over title, holder and description with ``%``, ``_`` and ``\\``
escaped, so a search box finds exactly the text typed. A market filter covers the market and
every market below it (``parent_id``). Draft sessions (``published_at`` NULL) and their lots are
never shown here.

Failures surface as :mod:`auction.store.errors` (``translated``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auction.domain.deadlines import CST
from auction.store import vocabularies
from auction.store.errors import translated

if TYPE_CHECKING:
    from auction.store import Store

#: the largest page of the catalogue
MAX_LIMIT = 100

_SCOPE = """
WITH RECURSIVE scope AS (
    SELECT id FROM markets WHERE code = $1
    UNION ALL
    SELECT m.id FROM markets m JOIN scope ON m.parent_id = scope.id
)
"""

_WHERE = """
WHERE ($1::text IS NULL OR s.market_id IN (SELECT id FROM scope))
  AND ($2::text IS NULL OR l.status = $2)
  AND ($3::text IS NULL OR s.season = $3)
  AND ($4::text IS NULL OR l.technology_field = $4)
  AND ($5::text IS NULL OR l.title ILIKE $5 ESCAPE '\\' OR l.holder_name ILIKE $5 ESCAPE '\\'
       OR l.description ILIKE $5 ESCAPE '\\')
  AND ($6::bigint IS NULL OR l.session_id = $6)
  AND s.published_at IS NOT NULL
"""

_FROM = """
FROM lots l JOIN sessions s ON s.id = l.session_id JOIN markets m ON m.id = s.market_id
"""

# open lots first, then those to come (soonest first), then the closed ones (latest first)
_LISTING = _SCOPE + """
SELECT l.id, l.session_id, l.ordinal, l.title, l.result_type, l.ip_type, l.technology_field,
       l.transaction_mode, l.contract_type, l.holder_name, l.start_price_fen, l.increment_fen,
       l.deposit_fen, l.duration_s, l.status,
       s.name AS session_name, s.mode, s.season, s.starts_at,
       m.code AS market_code, m.name AS market_name,
       r.outcome, r.reason AS result_reason, r.amount_fen AS result_fen,
       r.paddle AS result_paddle, r.closed_at, l.format
""" + _FROM + """
LEFT JOIN lot_results r ON r.lot_id = l.id
""" + _WHERE + """
ORDER BY CASE l.status WHEN 'open' THEN 0 WHEN 'scheduled' THEN 1 ELSE 2 END,
         CASE WHEN l.status IN ('open', 'scheduled') THEN s.starts_at END,
         s.starts_at DESC, s.id DESC, l.ordinal
LIMIT $7 OFFSET $8
"""

_COUNT = _SCOPE + "SELECT count(*)" + _FROM + _WHERE

_PUBLICITY = _SCOPE + """
SELECT r.lot_id, l.session_id, l.ordinal, l.title, s.name AS session_name,
       m.code AS market_code, m.name AS market_name, r.outcome, r.reason, r.paddle,
       r.amount_fen, r.closed_at, r.bid_count, b.name AS buyer_name,
       coalesce(b.kind, '') AS buyer_kind, nullif(s.contact_phone, '') AS contact_phone,
       s.market_id, n.opened_at AS notice_opened_at, n.working_days AS notice_days,
       m.objection_contact, d.lot_id IS NOT NULL AS defaulted, le.outcome AS listing_outcome
FROM lot_results r JOIN lots l ON l.id = r.lot_id JOIN sessions s ON s.id = l.session_id
JOIN markets m ON m.id = s.market_id LEFT JOIN bidders b ON b.id = r.winner_id
LEFT JOIN publicity_notices n ON n.lot_id = r.lot_id
LEFT JOIN lot_defaults d ON d.lot_id = r.lot_id
LEFT JOIN listing_ends le ON le.lot_id = r.lot_id
WHERE ($1::text IS NULL OR s.market_id IN (SELECT id FROM scope))
  AND ($2::bigint IS NULL OR l.session_id = $2)
  AND s.published_at IS NOT NULL
ORDER BY r.closed_at DESC, r.lot_id
LIMIT $3
"""

#: the most technology fields offered as the field filter's choices
MAX_FIELDS = 200

#: the most rows of one 成交公示 answer
MAX_PUBLICITY = 1000


@dataclass(frozen=True, slots=True)
class ListingFilter:
    """The catalogue's filters; ``None`` is no filter. ``q`` is the raw search text."""

    market: str | None = None
    status: str | None = None
    season: str | None = None
    field: str | None = None
    q: str | None = None
    session: int | None = None
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ListingRow:
    """A lot of the catalogue with its session, market and settlement (if settled)."""

    id: int
    session_id: int
    ordinal: int
    title: str
    result_type: str
    ip_type: str
    technology_field: str
    transaction_mode: str
    contract_type: str
    holder_name: str
    start_price_fen: int
    increment_fen: int
    deposit_fen: int
    duration_s: int
    status: str
    session_name: str
    mode: str
    season: str
    starts_at: datetime
    market_code: str
    market_name: str
    outcome: str | None
    result_reason: str | None
    result_fen: int | None
    result_paddle: int | None
    closed_at: datetime | None
    format: str = "english"


@dataclass(frozen=True, slots=True)
class PublicityRow:
    """A settled lot (sold, passed or withdrawn) with what 成交公示 publishes of it."""

    lot_id: int
    session_id: int
    ordinal: int
    title: str
    session_name: str
    market_code: str
    market_name: str
    outcome: str
    reason: str
    paddle: int | None
    amount_fen: int | None
    closed_at: datetime
    bid_count: int
    buyer_name: str | None
    buyer_kind: str
    contact_phone: str | None
    market_id: int
    #: the 成交公示 of a sold lot (migration 0014): opened at settlement, its period then
    notice_opened_at: datetime | None
    notice_days: int | None
    objection_contact: str
    defaulted: bool
    #: how a listing (挂牌) ended (``agreement``: 协议成交), ``None`` for other lots
    listing_outcome: str | None = None


def like_pattern(text: str) -> str:
    """``%text%`` with the LIKE wildcards and the escape character of ``text`` escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _args(f: ListingFilter) -> list[Any]:
    return [f.market, f.status, f.season, f.field,
            like_pattern(f.q) if f.q else None, f.session]


async def listing(store: Store, f: ListingFilter) -> tuple[list[ListingRow], int]:
    """One page of the catalogue and the number of lots matching the filters."""
    with translated():
        async with store.pool.acquire() as conn:
            total = await conn.fetchval(_COUNT, *_args(f))
            rows = await conn.fetch(_LISTING, *_args(f), f.limit, f.offset)
    return [ListingRow(**dict(r)) for r in rows], int(total)


async def technology_fields(store: Store) -> list[str]:
    """The field filter's choices: the 11 statistics fields (the ``technology_field``
    vocabulary in force today, :mod:`auction.store.vocabularies`), always, in their customary
    order, then any other field some published lot has (text written before the vocabularies
    were checked), sorted; at most :data:`MAX_FIELDS` in all: a long tail of old free text never
    pushes the customary fields out."""
    listed = (await vocabularies.in_force(store, datetime.now(CST).date())).get(
        "technology_field")
    customary = list(listed.values) if listed is not None else []
    with translated():
        rows = await store.pool.fetch(
            "SELECT DISTINCT l.technology_field FROM lots l JOIN sessions s ON s.id = l.session_id"
            " WHERE s.published_at IS NOT NULL AND NOT (l.technology_field = ANY($2::text[]))"
            " ORDER BY l.technology_field LIMIT $1",
            max(0, MAX_FIELDS - len(customary)), customary,
        )
    return customary + [str(r[0]) for r in rows]


async def publicity(store: Store, *, market: str | None, session: int | None
                    ) -> list[PublicityRow]:
    """Settled lots (latest hammer first) of the market's subtree and/or the session."""
    with translated():
        rows = await store.pool.fetch(_PUBLICITY, market, session, MAX_PUBLICITY)
    return [PublicityRow(**dict(r)) for r in rows]
