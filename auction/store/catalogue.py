"""Catalogue queries: markets, sessions, lots, bidders, registrations and the public reads.

SQL is plain text in this module (house style rule 12). Every method translates asyncpg
failures into :mod:`auction.store.errors` (unique key → ``Conflict``, missing reference →
``NotFound``, CHECK → ``Invalid``, no server → ``Unavailable``).

:class:`Catalogue` is a mixin of :class:`auction.store.Store`; it only needs ``self.pool``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from auction.domain.increments import DEFAULT_TABLE, Band
from auction.domain.increments import to_json as bands_json
from auction.store.errors import Conflict, NotFound, translated
from auction.store.records import (
    Bidder,
    Lot,
    LotOutcome,
    Market,
    PublicBid,
    Registration,
    RegistrationStatus,
    Result,
    Session,
)

#: Paddles of a session are handed out from this number up (docs/http-api.md).
FIRST_PADDLE = 101

_MARKET = "SELECT id, code, slug, name, level, parent_id FROM markets"

_SESSION = """
SELECT s.id, s.market_id, m.code AS market_code, s.name, s.season, s.mode, s.starts_at,
       s.status, s.extension_window_s, s.extension_s, s.increments, s.announcement, s.terms,
       s.contact_phone, s.registration_deadline, s.payee_name, s.payee_bank, s.payee_account,
       s.published_at, s.ends_at, s.close_gap_s, s.max_extensions, s.hard_end_at,
       (SELECT count(*) FROM lots l WHERE l.session_id = s.id)::int AS lot_count
FROM sessions s JOIN markets m ON m.id = s.market_id
"""

_LOT_COLUMNS = """
id, session_id, ordinal, title, description, result_type, ip_type, technology_field,
transaction_mode, contract_type, holder_name, holder_uscc, start_price_fen, increment_fen,
reserve_fen, non_tech_fen, duration_s, status, appraisal_fen, starts_at, relisted_from,
format, revisions, step_fen, interval_s, floor_fen, free_s, round_s, preempt_window_s,
listing_ends_at, listing_days
"""

# A retraction names the retracted bid by seq in its data (``bid_seq``); comparing jsonb values
# never fails on a malformed one, it just does not match.
_PUBLIC_BIDS = """
SELECT b.seq, b.paddle, b.amount_fen, b.at,
       CASE WHEN b.data->>'source' IN ('floor', 'phone') THEN b.data->>'source'
            ELSE 'online' END AS source,
       CASE WHEN b.data->>'preempt' = 'true' THEN 'preempt'
            WHEN b.data->>'auto' = 'true' THEN 'auto'
            WHEN b.data->>'sealed' = 'true' THEN 'sealed'
            WHEN b.data->>'accepted' = 'true' THEN 'accepted'
            WHEN b.data->>'source' = 'listing' THEN 'listing' END AS mark,
       EXISTS (SELECT 1 FROM lot_events r
               WHERE r.lot_id = b.lot_id AND r.kind = 'bid_retracted'
                 AND r.data->'bid_seq' = to_jsonb(b.seq)) AS retracted
FROM lot_events b WHERE b.lot_id = $1 AND b.kind = 'bid' ORDER BY b.seq
"""

_BIDDER_COLUMNS = "id, name, uscc, contact, created_at"

_REGISTRATION_COLUMNS = "id, session_id, bidder_id, status, paddle, deposit_fen, reason"


@dataclass(frozen=True, slots=True)
class SessionTexts:
    """What a session tells its bidders besides the rules of bidding (issue 11): 拍卖公告,
    竞买须知, the market's contact phone, the registration deadline and the deposit payee."""

    announcement: str = ""
    terms: str = ""
    contact_phone: str = ""
    registration_deadline: datetime | None = None
    payee_name: str = ""
    payee_bank: str = ""
    payee_account: str = ""


@dataclass(frozen=True, slots=True)
class SessionSchedule:
    """How a timed session runs itself (issue 15; docs/formats.md "Scheduling"): the session end
    (``ends_at``: the first lot's close; ``None``: the session's lots are opened by hand), the
    gap between closes, the cap on each lot's extensions and the hard end."""

    ends_at: datetime | None = None
    close_gap_s: int = 0
    max_extensions: int | None = None
    hard_end_at: datetime | None = None


def _session(row: Mapping[str, Any]) -> Session:
    """A session row; ``increments`` (jsonb, checked when stored) becomes a tuple of bands."""
    fields = dict(row)
    fields["increments"] = tuple(
        (int(band["from_fen"]), int(band["inc_fen"])) for band in fields["increments"]
    )
    return Session(**fields)


def _not_found(what: str, field: str | None = None) -> NotFound:
    return NotFound(message=f"{what}不存在", field=field)


class Catalogue:
    """Catalogue reads and writes over ``self.pool`` (an asyncpg pool)."""

    pool: Any

    # -- markets ---------------------------------------------------------------------------

    async def create_market(
        self, *, code: str, slug: str, name: str, level: str, parent_code: str | None = None
    ) -> Market:
        """A new market; ``parent_code`` must name an existing market. Code and slug are
        unique (``Conflict`` naming the field)."""
        with translated():
            async with self.pool.acquire() as conn:
                parent_id = None
                if parent_code is not None:
                    parent_id = await conn.fetchval(
                        "SELECT id FROM markets WHERE code = $1", parent_code
                    )
                    if parent_id is None:
                        raise _not_found("上级技术市场", "parent_code")
                row = await conn.fetchrow(
                    "INSERT INTO markets (code, slug, name, level, parent_id)"
                    " VALUES ($1, $2, $3, $4, $5)"
                    " RETURNING id, code, slug, name, level, parent_id",
                    code, slug, name, level, parent_id,
                )
        return Market(**dict(row))

    async def list_markets(self) -> list[Market]:
        """Every market, ordered by division code."""
        with translated():
            rows = await self.pool.fetch(_MARKET + " ORDER BY code")
        return [Market(**dict(r)) for r in rows]

    async def get_market_by_code(self, code: str) -> Market:
        """The market with this division code, else ``NotFound``."""
        with translated():
            row = await self.pool.fetchrow(_MARKET + " WHERE code = $1", code)
        if row is None:
            raise _not_found("技术市场", "code")
        return Market(**dict(row))

    # -- sessions --------------------------------------------------------------------------

    async def create_session(
        self,
        *,
        market_code: str,
        name: str,
        season: str,
        mode: str,
        starts_at: datetime,
        extension_window_s: int = 300,
        extension_s: int = 300,
        increments: Sequence[Band] = DEFAULT_TABLE,
        texts: SessionTexts | None = None,
        draft: bool = False,
        schedule: SessionSchedule | None = None,
    ) -> Session:
        """A new scheduled session of the market ``market_code`` (``NotFound`` if missing).
        ``increments`` is its increment table, checked by the caller
        (:func:`auction.domain.increments.check`); ``()`` is none. ``texts``: its 拍卖公告,
        竞买须知, contact phone, registration deadline and deposit payee. A ``draft`` is not
        published (``published_at`` NULL) until :meth:`publish_session`. ``schedule``: how a
        timed session runs itself (checked by the caller)."""
        t = texts or SessionTexts()
        plan = schedule or SessionSchedule()
        with translated():
            session_id = await self.pool.fetchval(
                "INSERT INTO sessions (market_id, name, season, mode, starts_at,"
                " extension_window_s, extension_s, increments, announcement, terms,"
                " contact_phone, registration_deadline, payee_name, payee_bank, payee_account,"
                " published_at, ends_at, close_gap_s, max_extensions, hard_end_at)"
                " SELECT id, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,"
                " CASE WHEN $16::boolean THEN NULL ELSE now() END, $17, $18, $19, $20"
                " FROM markets WHERE code = $1 RETURNING id",
                market_code, name, season, mode, starts_at, extension_window_s, extension_s,
                bands_json(increments), t.announcement, t.terms, t.contact_phone,
                t.registration_deadline, t.payee_name, t.payee_bank, t.payee_account, draft,
                plan.ends_at, plan.close_gap_s, plan.max_extensions, plan.hard_end_at,
            )
        if session_id is None:
            raise _not_found("技术市场", "market_code")
        return await self.get_session(session_id)

    async def update_session_texts(self, session_id: int, texts: SessionTexts) -> Session:
        """Replace the session's texts and facts (``NotFound`` for an unknown session)."""
        with translated():
            found = await self.pool.fetchval(
                "UPDATE sessions SET announcement = $2, terms = $3, contact_phone = $4,"
                " registration_deadline = $5, payee_name = $6, payee_bank = $7,"
                " payee_account = $8 WHERE id = $1 RETURNING id",
                session_id, texts.announcement, texts.terms, texts.contact_phone,
                texts.registration_deadline, texts.payee_name, texts.payee_bank,
                texts.payee_account,
            )
        if found is None:
            raise _not_found("场次", "session_id")
        return await self.get_session(session_id)

    async def update_session_schedule(
        self, session_id: int, starts_at: datetime, schedule: SessionSchedule
    ) -> None:
        """Replace the session's start and schedule (checked by the caller)."""
        with translated():
            await self.pool.execute(
                "UPDATE sessions SET starts_at = $2, ends_at = $3, close_gap_s = $4,"
                " max_extensions = $5, hard_end_at = $6 WHERE id = $1",
                session_id, starts_at, schedule.ends_at, schedule.close_gap_s,
                schedule.max_extensions, schedule.hard_end_at,
            )

    async def publish_session(self, session_id: int) -> tuple[Session, bool]:
        """Publish a draft: ``(session, True)``; an already published session is returned
        unchanged with ``False``. A session without lots is ``Conflict`` ``no_lots`` (the row
        is locked, so a lot cannot be counted out by a concurrent change); an unknown one
        ``NotFound``."""
        with translated():
            async with self.pool.acquire() as conn, conn.transaction():
                row = await conn.fetchrow(
                    "SELECT published_at FROM sessions WHERE id = $1 FOR UPDATE", session_id
                )
                if row is None:
                    raise _not_found("场次", "session_id")
                changed = row["published_at"] is None
                if changed:
                    lots = await conn.fetchval(
                        "SELECT count(*) FROM lots WHERE session_id = $1", session_id
                    )
                    if not lots:
                        raise Conflict(code="no_lots", message="场次还没有标的, 不能发布",
                                       field="session_id")
                    await conn.execute(
                        "UPDATE sessions SET published_at = now() WHERE id = $1", session_id
                    )
        return await self.get_session(session_id), changed

    async def session_published(self, session_id: int) -> bool | None:
        """Whether the session is published (``None``: no such session)."""
        with translated():
            row = await self.pool.fetchrow(
                "SELECT published_at IS NOT NULL AS published FROM sessions WHERE id = $1",
                session_id,
            )
        return None if row is None else bool(row["published"])

    async def list_sessions(
        self, market_code: str | None = None, *, drafts_of: Sequence[int] | None = None
    ) -> list[Session]:
        """Sessions (of one market when ``market_code`` is given), by start time then id:
        the published ones, and the drafts of the markets ``drafts_of`` (``None``: every
        draft; ``()``: none)."""
        markets = None if drafts_of is None else list(drafts_of)
        with translated():
            rows = await self.pool.fetch(
                _SESSION + " WHERE ($1::text IS NULL OR m.code = $1)"
                " AND (s.published_at IS NOT NULL OR $2::bigint[] IS NULL"
                " OR s.market_id = ANY($2::bigint[]))"
                " ORDER BY s.starts_at, s.id",
                market_code, markets,
            )
        return [_session(r) for r in rows]

    async def get_session(self, session_id: int) -> Session:
        """One session with its lot count, else ``NotFound``."""
        with translated():
            row = await self.pool.fetchrow(_SESSION + " WHERE s.id = $1", session_id)
        if row is None:
            raise _not_found("场次", "session_id")
        return _session(row)

    # -- lots ------------------------------------------------------------------------------

    async def create_lot(
        self,
        session_id: int,
        *,
        title: str,
        result_type: str,
        ip_type: str,
        technology_field: str,
        transaction_mode: str,
        contract_type: str,
        holder_name: str,
        holder_uscc: str,
        start_price_fen: int,
        increment_fen: int,
        reserve_fen: int = 0,
        non_tech_fen: int = 0,
        duration_s: int = 0,
        description: str = "",
        ordinal: int | None = None,
        appraisal_fen: int | None = None,
        starts_at: datetime | None = None,
        relisted_from: int | None = None,
        format: str = "english",
        revisions: int = 0,
        step_fen: int = 0,
        interval_s: int = 0,
        floor_fen: int = 0,
        free_s: int = 0,
        round_s: int = 0,
        preempt_window_s: int = 0,
        listing_ends_at: datetime | None = None,
        listing_days: int | None = None,
    ) -> Lot:
        """A new scheduled lot. Without ``ordinal`` it goes last in the session; the session
        row is locked so concurrent creations get distinct ordinals. ``starts_at``: its own
        opening time (timed sessions); ``relisted_from``: the lot it relists (a lot relisted
        twice is ``Conflict('already_relisted')``)."""
        with translated():
            async with self.pool.acquire() as conn, conn.transaction():
                found = await conn.fetchval(
                    "SELECT id FROM sessions WHERE id = $1 FOR UPDATE", session_id
                )
                if found is None:
                    raise _not_found("场次", "session_id")
                if ordinal is None:
                    ordinal = await conn.fetchval(
                        "SELECT coalesce(max(ordinal), 0) + 1 FROM lots WHERE session_id = $1",
                        session_id,
                    )
                row = await conn.fetchrow(
                    "INSERT INTO lots (session_id, ordinal, title, description, result_type,"
                    " ip_type, technology_field, transaction_mode, contract_type, holder_name,"
                    " holder_uscc, start_price_fen, increment_fen, reserve_fen, non_tech_fen,"
                    " duration_s, appraisal_fen, starts_at, relisted_from, format, revisions,"
                    " step_fen, interval_s, floor_fen, free_s, round_s, preempt_window_s,"
                    " listing_ends_at, listing_days)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
                    " $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27,"
                    " $28, $29)"
                    " ON CONFLICT (relisted_from) WHERE relisted_from IS NOT NULL DO NOTHING"
                    f" RETURNING {_LOT_COLUMNS}",
                    session_id, ordinal, title, description, result_type, ip_type,
                    technology_field, transaction_mode, contract_type, holder_name,
                    holder_uscc, start_price_fen, increment_fen, reserve_fen, non_tech_fen,
                    duration_s, appraisal_fen, starts_at, relisted_from, format, revisions,
                    step_fen, interval_s,
                    floor_fen, free_s, round_s, preempt_window_s, listing_ends_at,
                    listing_days,
                )
                if row is None:
                    raise Conflict("already_relisted", "该标的已经重新挂拍", "lot_id")
        return Lot(**dict(row))

    async def list_lots(self, session_id: int) -> list[Lot]:
        """The lots of a session in ``ordinal`` order (empty for an unknown session)."""
        with translated():
            rows = await self.pool.fetch(
                f"SELECT {_LOT_COLUMNS} FROM lots WHERE session_id = $1 ORDER BY ordinal",
                session_id,
            )
        return [Lot(**dict(r)) for r in rows]

    async def get_lot(self, lot_id: int) -> Lot:
        """One lot, else ``NotFound``."""
        with translated():
            row = await self.pool.fetchrow(f"SELECT {_LOT_COLUMNS} FROM lots WHERE id = $1", lot_id)
        if row is None:
            raise _not_found("标的", "lot_id")
        return Lot(**dict(row))

    async def get_lots(self, lot_ids: Sequence[int]) -> list[Lot]:
        """These lots (those that exist), in one query, in the order of ``lot_ids``."""
        if not lot_ids:
            return []
        with translated():
            rows = await self.pool.fetch(
                f"SELECT {_LOT_COLUMNS} FROM lots WHERE id = ANY($1::bigint[])", list(lot_ids))
        found = {int(r["id"]): Lot(**dict(r)) for r in rows}
        return [found[i] for i in lot_ids if i in found]

    # -- bidders ---------------------------------------------------------------------------

    async def create_bidder(self, *, name: str, uscc: str, contact: str = "") -> Bidder:
        """A new bidder; the credit code is unique (``Conflict`` on field ``uscc``). The caller
        has validated the code (:mod:`auction.domain.identity`)."""
        with translated():
            row = await self.pool.fetchrow(
                "INSERT INTO bidders (name, uscc, contact) VALUES ($1, $2, $3)"
                f" RETURNING {_BIDDER_COLUMNS}",
                name, uscc, contact,
            )
        return Bidder(**dict(row))

    async def get_bidder(self, bidder_id: int) -> Bidder:
        """One bidder, else ``NotFound``."""
        with translated():
            row = await self.pool.fetchrow(
                f"SELECT {_BIDDER_COLUMNS} FROM bidders WHERE id = $1", bidder_id
            )
        if row is None:
            raise _not_found("竞买人", "bidder_id")
        return Bidder(**dict(row))

    # -- registrations (their changes: auction/store/registrations.py, ledger.py) -----------

    async def get_registration(self, registration_id: int) -> Registration:
        """One registration, else ``NotFound``."""
        with translated():
            row = await self.pool.fetchrow(
                f"SELECT {_REGISTRATION_COLUMNS} FROM registrations WHERE id = $1",
                registration_id,
            )
        if row is None:
            raise _not_found("报名", "registration_id")
        return Registration(**dict(row))

    async def get_registration_by_session_bidder(
        self, session_id: int, bidder_id: int
    ) -> Registration:
        """The bidder's registration in the session, else ``NotFound``."""
        with translated():
            row = await self.pool.fetchrow(
                f"SELECT {_REGISTRATION_COLUMNS} FROM registrations"
                " WHERE session_id = $1 AND bidder_id = $2",
                session_id, bidder_id,
            )
        if row is None:
            raise _not_found("报名", "registration_id")
        return Registration(**dict(row))

    # -- public reads ----------------------------------------------------------------------

    async def public_bids(self, lot_id: int) -> list[PublicBid]:
        """The lot's bids from the journal (``lot_events`` kind ``bid``) in seq order, each with
        its ``source`` (event field; absent in events older than floor bids: ``online``) and
        whether a ``bid_retracted`` event of the lot names its seq (``bid_seq``)."""
        with translated():
            rows = await self.pool.fetch(_PUBLIC_BIDS, lot_id)
        return [PublicBid(**dict(r)) for r in rows]

    async def results(self, session_id: int | None = None) -> list[Result]:
        """成交公示: sold lots (of one session, or all), by hammer time then lot id."""
        with translated():
            rows = await self.pool.fetch(
                "SELECT r.lot_id, l.session_id, l.title, r.paddle, r.amount_fen,"
                " r.closed_at AS hammer_at, r.bid_count"
                " FROM lot_results r JOIN lots l ON l.id = r.lot_id"
                " WHERE r.outcome = 'sold' AND ($1::bigint IS NULL OR l.session_id = $1)"
                " ORDER BY r.closed_at, r.lot_id",
                session_id,
            )
        return [Result(**dict(r)) for r in rows]

    async def lot_outcomes(self, lot_ids: list[int]) -> dict[int, LotOutcome]:
        """How each of the lots ended (its ``lot_results`` row); lots not settled are absent."""
        with translated():
            rows = await self.pool.fetch(
                "SELECT lot_id, outcome, reason, paddle, amount_fen, closed_at, bid_count"
                " FROM lot_results WHERE lot_id = ANY($1::bigint[])",
                lot_ids,
            )
        return {int(r["lot_id"]): LotOutcome(**dict(r)) for r in rows}

    async def registration_status(self, lot_id: int) -> RegistrationStatus:
        """The lot's contract-registration outbox row, else ``NotFound``."""
        with translated():
            row = await self.pool.fetchrow(
                "SELECT o.lot_id, o.status, o.attempts, o.last_error, o.idempotency_key,"
                " o.delivered_at, o.version, o.registration_no, o.answer_reason AS reason,"
                " o.answered_at, m.code AS market_code"
                " FROM registration_outbox o JOIN lots l ON l.id = o.lot_id"
                " JOIN sessions s ON s.id = l.session_id"
                " JOIN markets m ON m.id = COALESCE(o.market_id, s.market_id)"
                " WHERE o.lot_id = $1",
                lot_id,
            )
        if row is None:
            raise _not_found("登记记录", "lot_id")
        return RegistrationStatus(**dict(row))
