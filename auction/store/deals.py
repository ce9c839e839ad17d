"""After the hammer, the money of a sold lot: the buyer's part payments of the balance
(``lot_payments``) and the default (悔拍, ``lot_defaults``), rules in
:mod:`auction.domain.payment`.

The deposit stays in the ledger (:mod:`auction.store.ledger`): the deposit counted towards a lot
is the one rule the 成交确认书 states (:func:`auction.domain.confirmation.deposit_applied`: a lot
deposit to its lot, a band deposit shared among the winner's won lots in hammer order). A
default forfeits the winner's deposits that cover the lot while they are ``confirmed``, ``held``
or ``applied``: its lot deposit, and its band deposit when the lot is the first it won (by
hammer time; a band deposit is one row and is forfeited whole). A default forfeits those deposits
through the ledger's own forfeit (:func:`auction.store.ledger.forfeit_in`), with the default's
row, in one transaction: the ledger's conservation holds throughout.

A refusal is ``Conflict`` (409: ``not_sold``, ``defaulted``, ``paid``, ``not_overdue``,
``duplicate_reference``) or ``Invalid`` with ``overpayment`` (400); nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from auction.domain import deadlines
from auction.domain.deposits import DepositState
from auction.domain.payment import (
    Account,
    PaymentError,
    check_default,
    check_payment,
    deposit_applied,
)
from auction.store import confirmation, ledger
from auction.store.errors import Conflict, Invalid, translated
from auction.store.steps import Actor

if TYPE_CHECKING:
    from auction.store import Store

_SALE = """
SELECT r.lot_id, l.session_id, s.market_id, l.ordinal, l.title, r.winner_id, r.paddle,
       r.amount_fen, r.closed_at, b.name AS buyer_name, b.kind AS buyer_kind,
       (SELECT coalesce(sum(p.amount_fen), 0) FROM lot_payments p WHERE p.lot_id = r.lot_id)
           AS paid_fen,
       d.lot_id IS NOT NULL AS defaulted, d.reason AS default_reason,
       d.declared_at AS defaulted_at, d.forfeited_fen
FROM lot_results r JOIN lots l ON l.id = r.lot_id JOIN sessions s ON s.id = l.session_id
JOIN bidders b ON b.id = r.winner_id LEFT JOIN lot_defaults d ON d.lot_id = r.lot_id
WHERE r.outcome = 'sold'
"""

#: the winner's deposits that count towards a lot ($1 lot, $2 session, $3 winner)
_COUNTED = """
SELECT d.id, d.amount_fen, d.state FROM deposits d
JOIN registrations g ON g.id = d.registration_id
WHERE g.session_id = $2 AND g.bidder_id = $3 AND d.state = ANY($4::text[])
  AND (d.lot_id = $1 OR (d.lot_id IS NULL AND $1 = (
        SELECT l.id FROM lot_results x JOIN lots l ON l.id = x.lot_id
        WHERE l.session_id = $2 AND x.outcome = 'sold' AND x.winner_id = $3
        ORDER BY x.closed_at, x.lot_id LIMIT 1)))
ORDER BY d.id
"""
_TOWARDS = [DepositState.CONFIRMED.value, DepositState.HELD.value, DepositState.APPLIED.value]


@dataclass(frozen=True, slots=True)
class Sale:
    """A sold lot with its money: price, deposit counted, paid, due date, default."""

    lot_id: int
    session_id: int
    market_id: int
    ordinal: int
    title: str
    winner_id: int
    paddle: int | None
    closed_at: datetime
    buyer_name: str
    buyer_kind: str
    account: Account
    default_reason: str | None
    defaulted_at: datetime | None
    forfeited_fen: int | None


@dataclass(frozen=True, slots=True)
class Payment:
    id: int
    lot_id: int
    amount_fen: int
    paid_on: date
    bank_reference: str
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Default:
    """A default recorded against a bidder (shown on its registration for staff)."""

    lot_id: int
    title: str
    session_id: int
    market_code: str
    market_name: str
    reason: str
    forfeited_fen: int
    declared_at: datetime


async def _sale(conn: Any, row: Any) -> Sale:
    price = int(row["amount_fen"])
    applied = await confirmation.applied_in(conn, row["lot_id"], row["session_id"],
                                            row["winner_id"])
    account = Account(
        price_fen=price,
        deposit_applied_fen=deposit_applied(price, applied),
        paid_fen=int(row["paid_fen"]), due_on=deadlines.balance_due(row["closed_at"]),
        defaulted=bool(row["defaulted"]),
    )
    return Sale(
        lot_id=row["lot_id"], session_id=row["session_id"], market_id=row["market_id"],
        ordinal=row["ordinal"], title=row["title"], winner_id=row["winner_id"],
        paddle=row["paddle"], closed_at=row["closed_at"], buyer_name=row["buyer_name"],
        buyer_kind=row["buyer_kind"], account=account, default_reason=row["default_reason"],
        defaulted_at=row["defaulted_at"], forfeited_fen=row["forfeited_fen"],
    )


async def _locked_sale(conn: Any, lot_id: int) -> Sale:
    """The lot's sale with its result row locked (payments and defaults of one lot queue)."""
    outcome = await conn.fetchval(
        "SELECT outcome FROM lot_results WHERE lot_id = $1 FOR UPDATE", lot_id
    )
    if outcome != "sold":
        raise Conflict("not_sold", "该标的没有成交, 没有尾款", "lot_id")
    row = await conn.fetchrow(_SALE + " AND r.lot_id = $1", lot_id)
    return await _sale(conn, row)


async def sale(store: Store, lot_id: int) -> Sale | None:
    """The sold lot's money, or ``None`` when the lot is not (yet) sold."""
    with translated():
        async with store.pool.acquire() as conn:
            row = await conn.fetchrow(_SALE + " AND r.lot_id = $1", lot_id)
            return None if row is None else await _sale(conn, row)


async def session_sales(store: Store, session_id: int) -> list[Sale]:
    """Every sold lot of the session, by ordinal."""
    with translated():
        async with store.pool.acquire() as conn:
            rows = await conn.fetch(
                _SALE + " AND l.session_id = $1 ORDER BY l.ordinal, l.id", session_id
            )
            return [await _sale(conn, row) for row in rows]


async def payments(store: Store, lot_id: int) -> list[Payment]:
    with translated():
        rows = await store.pool.fetch(
            "SELECT id, lot_id, amount_fen, paid_on, bank_reference, recorded_by, recorded_at"
            " FROM lot_payments WHERE lot_id = $1 ORDER BY paid_on, id", lot_id,
        )
    return [Payment(**dict(r)) for r in rows]


def _refused(exc: PaymentError) -> Exception:
    if exc.code == "overpayment":
        return Invalid(exc.code, exc.message, exc.field)
    return Conflict(exc.code, exc.message, exc.field)


async def record_payment(
    store: Store, lot_id: int, *, amount_fen: int, paid_on: date, bank_reference: str,
    recorded_by: str,
) -> Payment:
    """One part payment of the balance; ``duplicate_reference`` when the lot already has a
    payment with this bank reference, ``overpayment`` when it exceeds what is open."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            current = await _locked_sale(conn, lot_id)
            taken = await conn.fetchval(
                "SELECT 1 FROM lot_payments WHERE lot_id = $1 AND bank_reference = $2",
                lot_id, bank_reference,
            )
            if taken:
                raise Conflict("duplicate_reference", "该标的已登记过此银行流水号",
                               "bank_reference")
            try:
                check_payment(current.account, amount_fen)
            except PaymentError as exc:
                raise _refused(exc) from exc
            row = await conn.fetchrow(
                "INSERT INTO lot_payments (lot_id, amount_fen, paid_on, bank_reference,"
                " recorded_by) VALUES ($1, $2, $3, $4, $5) RETURNING id, lot_id, amount_fen,"
                " paid_on, bank_reference, recorded_by, recorded_at",
                lot_id, amount_fen, paid_on, bank_reference, recorded_by,
            )
    return Payment(**dict(row))


@dataclass(frozen=True, slots=True)
class Declared:
    """A default declared: the deposits forfeited and their registrations."""

    forfeited_fen: int
    deposit_ids: list[int]
    registration_ids: list[int]


async def declare_default(
    store: Store, lot_id: int, *, reason: str, today: date, actor: str, by: Actor
) -> Declared:
    """悔拍: allowed only when the balance is open after the due date (``today``, the server's
    day in China, is after it). The winner's deposits counted towards the lot are forfeited
    through the ledger (a ``confirmed`` one is held first, as at the session's settlement), the
    registration with them, and the default is recorded against the bidder; one transaction."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            current = await _locked_sale(conn, lot_id)
            try:
                check_default(current.account, today)
            except PaymentError as exc:
                raise _refused(exc) from exc
            counted = await conn.fetch(
                _COUNTED + " FOR UPDATE OF d", lot_id, current.session_id, current.winner_id,
                _TOWARDS,
            )
            forfeited = 0
            registrations: list[int] = []
            for deposit in counted:
                if deposit["state"] == DepositState.CONFIRMED.value:
                    await ledger.move_deposit(conn, deposit["id"], DepositState.HELD,
                                              actor=actor)
                registration = await ledger.forfeit_in(
                    conn, deposit["id"], reason=reason, actor=actor, by=by,
                    detail={"lot_id": lot_id, "default": True},
                )
                forfeited += int(deposit["amount_fen"])
                if registration not in registrations:
                    registrations.append(registration)
            await conn.execute(
                "INSERT INTO lot_defaults (lot_id, bidder_id, market_id, reason, forfeited_fen,"
                " declared_by) VALUES ($1, $2, $3, $4, $5, $6)",
                lot_id, current.winner_id, current.market_id, reason, forfeited, actor,
            )
    return Declared(forfeited, [int(d["id"]) for d in counted], registrations)


async def defaults_of(store: Store, bidder_id: int, market_ids: list[int]) -> list[Default]:
    """The bidder's defaults in the given markets, latest first."""
    with translated():
        rows = await store.pool.fetch(
            "SELECT d.lot_id, l.title, l.session_id, m.code AS market_code,"
            " m.name AS market_name, d.reason, d.forfeited_fen, d.declared_at"
            " FROM lot_defaults d JOIN lots l ON l.id = d.lot_id"
            " JOIN markets m ON m.id = d.market_id"
            " WHERE d.bidder_id = $1 AND d.market_id = ANY($2::bigint[])"
            " ORDER BY d.declared_at DESC, d.lot_id",
            bidder_id, market_ids,
        )
    return [Default(**dict(r)) for r in rows]

