"""The refund list of a session (退款清单, issue 12 item 4; docs/http-api.md "Refunds") and the
bidder's refund account on its registration.

Amounts come from the deposits ledger as it stands (:mod:`auction.store.ledger`: a deposit is
``confirmed`` when received, ``held`` once bidding started, then ``applied`` to a won lot,
``released`` (refunded) or ``forfeited``). Per registration that received any deposit: what it
paid, what was applied to a lot it won, what was forfeited, what is to be refunded (the rest)
and how much of that the ledger has released.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auction.domain.deposits import SPENDABLE, DepositState, after_session
from auction.store.errors import Conflict, NotFound, translated

if TYPE_CHECKING:
    from auction.store import Store

_REGISTRATIONS = """
SELECT r.id, r.bidder_id, b.name, b.uscc, b.kind, r.paddle, r.status,
       r.refund_name, r.refund_bank, r.refund_account
FROM registrations r JOIN bidders b ON b.id = r.bidder_id
WHERE r.session_id = $1 AND EXISTS (
    SELECT 1 FROM deposits d WHERE d.registration_id = r.id AND d.state <> 'required')
ORDER BY r.paddle NULLS LAST, r.id
"""

_DEPOSITS = """
SELECT d.registration_id, d.lot_id, d.amount_fen, d.state FROM deposits d
WHERE d.session_id = $1 AND d.state <> 'required'
"""

_WON = """
SELECT res.winner_id, res.lot_id FROM lot_results res JOIN lots l ON l.id = res.lot_id
WHERE l.session_id = $1 AND res.outcome = 'sold'
"""


@dataclass(frozen=True, slots=True)
class RefundAccount:
    """Where the bidder wants its deposit back: 户名, 开户行, 账号 ('' while not given)."""

    name: str = ""
    bank: str = ""
    account: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"refund_name": self.name, "refund_bank": self.bank,
                "refund_account": self.account}


@dataclass(frozen=True, slots=True)
class Refund:
    """One registration's line of the refund list; money in fen."""

    registration_id: int
    bidder_id: int
    bidder_name: str
    bidder_uscc: str | None
    bidder_kind: str
    paddle: int | None
    status: str
    paid_fen: int
    applied_fen: int
    forfeited_fen: int
    released_fen: int
    account: RefundAccount

    @property
    def refund_fen(self) -> int:
        """What goes back to the bidder: paid, less applied to a won lot and forfeited."""
        return self.paid_fen - self.applied_fen - self.forfeited_fen

    @property
    def released(self) -> bool:
        """The ledger has released all of it (nothing to refund counts as done)."""
        return self.released_fen >= self.refund_fen

    def to_json(self) -> dict[str, Any]:
        return {
            "registration_id": self.registration_id, "bidder_id": self.bidder_id,
            "bidder_name": self.bidder_name, "bidder_uscc": self.bidder_uscc,
            "bidder_kind": self.bidder_kind, "paddle": self.paddle, "status": self.status,
            "deposit_fen": self.paid_fen, "applied_fen": self.applied_fen,
            "forfeited_fen": self.forfeited_fen, "refund_fen": self.refund_fen,
            "released_fen": self.released_fen, "released": self.released,
            **self.account.to_json(),
        }


async def refund_list(store: Store, session_id: int) -> list[Refund]:
    """Every registration of the session that paid a deposit, by paddle. A deposit still
    ``confirmed`` or ``held`` counts where the settlement will put it
    (:func:`auction.domain.deposits.after_session`): applied when it covers a lot its bidder
    won (settled), else to be refunded."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction(
            isolation="repeatable_read", readonly=True
        ):
            rows = await conn.fetch(_REGISTRATIONS, session_id)
            deposits = await conn.fetch(_DEPOSITS, session_id)
            won_rows = await conn.fetch(_WON, session_id)
    won: dict[int, frozenset[int]] = {}
    for w in won_rows:
        won[int(w["winner_id"])] = won.get(int(w["winner_id"]), frozenset()) | {int(w["lot_id"])}
    sums: dict[int, dict[str, int]] = {}
    bidder_of = {int(r["id"]): int(r["bidder_id"]) for r in rows}
    for d in deposits:
        registration = int(d["registration_id"])
        if registration not in bidder_of:
            continue
        state = DepositState(d["state"])
        if state in SPENDABLE:
            state = after_session(d["lot_id"], won.get(bidder_of[registration], frozenset()))
            kind = "applied" if state is DepositState.APPLIED else "pending"
        else:
            kind = state.value
        line = sums.setdefault(registration, {})
        line["paid"] = line.get("paid", 0) + int(d["amount_fen"])
        line[kind] = line.get(kind, 0) + int(d["amount_fen"])
    return [
        Refund(
            registration_id=int(r["id"]), bidder_id=int(r["bidder_id"]),
            bidder_name=str(r["name"]), bidder_uscc=r["uscc"], bidder_kind=str(r["kind"]),
            paddle=r["paddle"], status=str(r["status"]),
            paid_fen=sums[int(r["id"])].get("paid", 0),
            applied_fen=sums[int(r["id"])].get("applied", 0),
            forfeited_fen=sums[int(r["id"])].get("forfeited", 0),
            released_fen=sums[int(r["id"])].get("released", 0),
            account=RefundAccount(r["refund_name"], r["refund_bank"], r["refund_account"]),
        )
        for r in rows
    ]


async def session_closed_at(store: Store, session_id: int) -> datetime | None:
    """When the session's last lot closed, once every lot of it has its result; else None."""
    with translated():
        row = await store.pool.fetchrow(
            "SELECT count(*) FILTER (WHERE res.lot_id IS NULL) AS open, max(res.closed_at) AS at"
            " FROM lots l LEFT JOIN lot_results res ON res.lot_id = l.id"
            " WHERE l.session_id = $1",
            session_id,
        )
    if row is None or row["open"] or row["at"] is None:
        return None
    at: datetime = row["at"]
    return at


async def refund_account(store: Store, registration_id: int) -> RefundAccount:
    with translated():
        row = await store.pool.fetchrow(
            "SELECT refund_name, refund_bank, refund_account FROM registrations WHERE id = $1",
            registration_id,
        )
    if row is None:
        raise NotFound(message="报名不存在", field="registration_id")
    return RefundAccount(row["refund_name"], row["refund_bank"], row["refund_account"])


async def set_refund_account(
    store: Store, registration_id: int, account: RefundAccount
) -> RefundAccount:
    """Replace the registration's refund account; a forfeited registration is
    ``Conflict('wrong_state')`` naming ``status`` (its deposit is not refunded)."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            status = await conn.fetchval(
                "SELECT status FROM registrations WHERE id = $1 FOR UPDATE", registration_id
            )
            if status is None:
                raise NotFound(message="报名不存在", field="registration_id")
            if status == "forfeited":
                raise Conflict("wrong_state", "保证金已没收, 不能再修改退款账户", "status")
            await conn.execute(
                "UPDATE registrations SET refund_name = $2, refund_bank = $3,"
                " refund_account = $4 WHERE id = $1",
                registration_id, account.name, account.bank, account.account,
            )
    return account
