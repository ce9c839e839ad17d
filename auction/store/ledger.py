"""The deposits ledger (保证金台账): deposit rows with their state, and an append-only entry for
every change, in the same transaction (rules in :mod:`auction.domain.deposits`).

Functions take the :class:`auction.store.Store`. A move the rules refuse is
``Conflict('wrong_state')`` naming ``state``; nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auction.domain.deposits import (
    DepositError,
    DepositState,
    after_session,
    check_move,
    conserved,
)
from auction.store import steps
from auction.store.catalogue import FIRST_PADDLE
from auction.store.errors import Conflict, NotFound, translated
from auction.store.records import Registration
from auction.store.steps import Actor

if TYPE_CHECKING:
    from auction.store import Store

_REGISTRATION_COLUMNS = "id, session_id, bidder_id, status, paddle, deposit_fen, reason"
_DEPOSIT_COLUMNS = (
    "d.id, d.market_id, d.session_id, d.registration_id, d.lot_id, d.amount_fen, d.state,"
    " r.bidder_id, r.paddle, b.name AS bidder_name"
)
_DEPOSIT_FROM = (
    " FROM deposits d JOIN registrations r ON r.id = d.registration_id"
    " JOIN bidders b ON b.id = r.bidder_id"
)


@dataclass(frozen=True, slots=True)
class Deposit:
    id: int
    market_id: int
    session_id: int
    registration_id: int
    lot_id: int | None
    amount_fen: int
    state: str
    bidder_id: int
    paddle: int | None
    bidder_name: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "market_id": self.market_id, "session_id": self.session_id,
            "registration_id": self.registration_id, "lot_id": self.lot_id,
            "amount_fen": self.amount_fen, "state": self.state, "bidder_id": self.bidder_id,
            "paddle": self.paddle, "bidder_name": self.bidder_name,
        }


@dataclass(frozen=True, slots=True)
class MarketBalance:
    """Money of one market's deposits: ``received_fen`` (Σ confirmed entries) and the sum per
    current state; ``conserved`` when every received fen is in exactly one funded state."""

    market_id: int
    market_code: str
    received_fen: int
    balances: dict[str, int]
    entries: dict[str, int]

    @property
    def conserved(self) -> bool:
        # terminal states are entered once and never left but to forfeited: their entry sums
        # bound the balances from above
        return conserved(self.received_fen, self.balances) and all(
            self.balances.get(k, 0) <= self.entries.get(k, 0)
            for k in ("released", "applied", "forfeited")
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "market_id": self.market_id, "market_code": self.market_code,
            "received_fen": self.received_fen,
            "balances": {s.value: self.balances.get(s.value, 0) for s in DepositState},
            "entries": {s.value: self.entries.get(s.value, 0) for s in DepositState},
            "conserved": self.conserved,
        }


async def move_deposit(
    conn: Any, deposit_id: int, target: DepositState, *, actor: str, reason: str = "",
    amount_fen: int | None = None,
) -> None:
    """Move one (locked) deposit and write its entry; ``amount_fen`` replaces the amount
    (confirming a required deposit with what was actually paid)."""
    row = await conn.fetchrow(
        "SELECT state, amount_fen, market_id FROM deposits WHERE id = $1 FOR UPDATE", deposit_id
    )
    try:
        check_move(DepositState(row["state"]), target)
    except DepositError as exc:
        raise Conflict(exc.code, exc.message, "state") from exc
    amount = row["amount_fen"] if amount_fen is None else amount_fen
    await conn.execute(
        "UPDATE deposits SET state = $2, amount_fen = $3, updated_at = now() WHERE id = $1",
        deposit_id, target.value, amount,
    )
    await conn.execute(
        "INSERT INTO deposit_entries (deposit_id, market_id, kind, from_state, amount_fen, actor,"
        " reason) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        deposit_id, row["market_id"], target.value, row["state"], amount, actor, reason,
    )


async def _new_deposit(
    conn: Any, registration_id: int, lot_id: int | None, amount_fen: int, actor: str
) -> int:
    """A ``required`` deposit (and its entry) for the registration; the existing one if any."""
    existing = await conn.fetchval(
        "SELECT id FROM deposits WHERE registration_id = $1 AND coalesce(lot_id, 0) = $2",
        registration_id, lot_id or 0,
    )
    if existing is not None:
        return int(existing)
    row = await conn.fetchrow(
        "INSERT INTO deposits (market_id, session_id, registration_id, lot_id, amount_fen)"
        " SELECT s.market_id, r.session_id, r.id, $2, $3 FROM registrations r"
        " JOIN sessions s ON s.id = r.session_id WHERE r.id = $1"
        " RETURNING id, market_id",
        registration_id, lot_id, amount_fen,
    )
    if row is None:
        raise NotFound(message="报名不存在", field="registration_id")
    await conn.execute(
        "INSERT INTO deposit_entries (deposit_id, market_id, kind, amount_fen, actor)"
        " VALUES ($1, $2, 'required', $3, $4)",
        row["id"], row["market_id"], amount_fen, actor,
    )
    return int(row["id"])


async def require_deposit(store: Store, registration_id: int, *, actor: str) -> int:
    """After approval: the band deposit of the registration is ``required`` (amount: the
    session's largest lot requirement). Idempotent. Returns the required amount."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            session_id = await conn.fetchval(
                "SELECT session_id FROM registrations WHERE id = $1", registration_id
            )
            if session_id is None:
                raise NotFound(message="报名不存在", field="registration_id")
            amount = await conn.fetchval(
                "SELECT coalesce(max(deposit_fen), 0) FROM lots WHERE session_id = $1",
                session_id,
            )
            deposit_id = await _new_deposit(conn, registration_id, None, int(amount), actor)
            value = await conn.fetchval(
                "SELECT amount_fen FROM deposits WHERE id = $1", deposit_id
            )
    return int(value)


async def confirm_deposit(
    store: Store, registration_id: int, amount_fen: int, *, lot_id: int | None = None,
    actor: str, by: Actor | None = None,
) -> Registration:
    """Deposit received (保证金到账), confirmed by finance: the deposit (band, or for ``lot_id``)
    becomes ``confirmed`` with its ledger entry and the registration's ``deposit_confirmed``
    step, and the registration gets the session's next paddle (from 101), all in one
    transaction.

    Only an approved registration (or one already paid, for another lot's deposit) may be
    confirmed: any other status is ``Conflict('wrong_state')``. The amount must reach the
    requirement (the lot's deposit; for the band, the largest deposit of the session's lots),
    else ``Conflict('deposit_insufficient')`` naming ``deposit_fen``. Repeating it for a deposit
    already confirmed (or further) with the same amount is a normal return with the same paddle
    and no new entry; with another amount it is ``Conflict('conflict')`` and nothing changes.
    The session row is locked first, so concurrent confirmations take distinct, consecutive
    paddles.
    """
    by = by or Actor(role="system", name=actor)
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            session_id = await conn.fetchval(
                "SELECT session_id FROM registrations WHERE id = $1", registration_id
            )
            if session_id is None:
                raise NotFound(message="报名不存在", field="registration_id")
            await conn.execute("SELECT id FROM sessions WHERE id = $1 FOR UPDATE", session_id)
            current = await conn.fetchrow(
                f"SELECT {_REGISTRATION_COLUMNS} FROM registrations WHERE id = $1 FOR UPDATE",
                registration_id,
            )
            status = current["status"]
            if status not in ("approved", "deposit_paid"):
                why = "须先由市场管理员审核通过" if status in ("invited", "applied") else ""
                raise Conflict(
                    "wrong_state", f"报名状态 {status} 不能确认保证金{(', ' + why) if why else ''}",
                    "status",
                )
            if lot_id is not None:
                lot = await conn.fetchrow(
                    "SELECT session_id, deposit_fen FROM lots WHERE id = $1", lot_id
                )
                if lot is None or lot["session_id"] != session_id:
                    raise NotFound(message="本场次没有该标的", field="lot_id")
                requirement = int(lot["deposit_fen"])
            else:
                requirement = int(await conn.fetchval(
                    "SELECT coalesce(max(deposit_fen), 0) FROM lots WHERE session_id = $1",
                    session_id,
                ))
            existing = await conn.fetchrow(
                "SELECT id, state, amount_fen FROM deposits"
                " WHERE registration_id = $1 AND coalesce(lot_id, 0) = $2",
                registration_id, lot_id or 0,
            )
            if existing is not None and existing["state"] != DepositState.REQUIRED.value:
                if int(existing["amount_fen"]) != amount_fen:
                    raise Conflict(
                        "conflict",
                        f"该保证金已确认为 {existing['amount_fen']} 分, 不能改为 {amount_fen} 分",
                        "deposit_fen",
                    )
                return Registration(**dict(current))
            if amount_fen < requirement:
                raise Conflict(
                    "deposit_insufficient",
                    f"保证金不足: 应至少 {requirement} 分, 实为 {amount_fen} 分", "deposit_fen",
                )
            deposit_id = await _new_deposit(conn, registration_id, lot_id, amount_fen, actor)
            await move_deposit(
                conn, deposit_id, DepositState.CONFIRMED, actor=actor, amount_fen=amount_fen
            )
            if status == "deposit_paid":
                row = await conn.fetchrow(
                    "UPDATE registrations SET deposit_fen = deposit_fen + $2 WHERE id = $1"
                    f" RETURNING {_REGISTRATION_COLUMNS}",
                    registration_id, amount_fen,
                )
            else:
                paddle = await conn.fetchval(
                    "SELECT coalesce(max(paddle), $2 - 1) + 1 FROM registrations"
                    " WHERE session_id = $1",
                    session_id, FIRST_PADDLE,
                )
                row = await conn.fetchrow(
                    "UPDATE registrations SET status = 'deposit_paid', paddle = $2,"
                    " deposit_fen = deposit_fen + $3 WHERE id = $1"
                    f" RETURNING {_REGISTRATION_COLUMNS}",
                    registration_id, paddle, amount_fen,
                )
            await steps.record(
                conn, registration_id, "deposit_confirmed", by=by, from_status=status,
                to_status="deposit_paid",
                detail={"deposit_id": deposit_id, "lot_id": lot_id, "amount_fen": amount_fen,
                        "required_fen": requirement, "paddle": row["paddle"]},
            )
    return Registration(**dict(row))


async def hold_session(store: Store, session_id: int, *, actor: str) -> int:
    """Bidding started: every ``confirmed`` deposit of the session becomes ``held``. Returns how
    many moved (0 when repeated)."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            ids = await conn.fetch(
                "SELECT id FROM deposits WHERE session_id = $1 AND state = 'confirmed'"
                " ORDER BY id FOR UPDATE",
                session_id,
            )
            for row in ids:
                await move_deposit(conn, row["id"], DepositState.HELD, actor=actor)
    return len(ids)


async def unsettled_lots(store: Store, session_id: int) -> int:
    with translated():
        value = await store.pool.fetchval(
            "SELECT count(*) FROM lots l LEFT JOIN lot_results r ON r.lot_id = l.id"
            " WHERE l.session_id = $1 AND r.lot_id IS NULL",
            session_id,
        )
    return int(value)


async def settle_session(store: Store, session_id: int, *, actor: str) -> dict[str, int]:
    """After the session (every lot settled): deposits that covered a lot their bidder won are
    ``applied``, all others ``released`` (refunds). Idempotent. Returns counts and sums."""
    if await unsettled_lots(store, session_id):
        raise Conflict("session_not_settled", "场次仍有未结算的标的", "session_id")
    summary = {"applied": 0, "applied_fen": 0, "released": 0, "released_fen": 0}
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT d.id, d.lot_id, d.state, d.amount_fen, r.bidder_id FROM deposits d"
                " JOIN registrations r ON r.id = d.registration_id"
                " WHERE d.session_id = $1 AND d.state IN ('confirmed', 'held')"
                " ORDER BY d.id FOR UPDATE OF d",
                session_id,
            )
            won: dict[int, frozenset[int]] = {}
            for r in await conn.fetch(
                "SELECT res.winner_id, res.lot_id FROM lot_results res"
                " JOIN lots l ON l.id = res.lot_id"
                " WHERE l.session_id = $1 AND res.outcome = 'sold'",
                session_id,
            ):
                won[r["winner_id"]] = won.get(r["winner_id"], frozenset()) | {r["lot_id"]}
            for row in rows:
                target = after_session(row["lot_id"], won.get(row["bidder_id"], frozenset()))
                if row["state"] == DepositState.CONFIRMED.value:
                    await move_deposit(conn, row["id"], DepositState.HELD, actor=actor)
                await move_deposit(conn, row["id"], target, actor=actor)
                summary[target.value] += 1
                summary[f"{target.value}_fen"] += int(row["amount_fen"])
    return summary


async def forfeit(
    store: Store, deposit_id: int, *, reason: str, actor: str, by: Actor | None = None
) -> Deposit:
    """Default (悔拍) or a breach: a held or applied deposit is ``forfeited``, and its
    registration with it (status ``forfeited``, its ``forfeited`` step): it bids no more."""
    by = by or Actor(role="system", name=actor)
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            await forfeit_in(conn, deposit_id, reason=reason, actor=actor, by=by)
    return await get_deposit(store, deposit_id)


async def forfeit_in(
    conn: Any, deposit_id: int, *, reason: str, actor: str, by: Actor,
    detail: dict[str, Any] | None = None,
) -> int:
    """:func:`forfeit` inside the caller's transaction (a default, 悔拍, forfeits with the
    default's own row in one transaction); ``detail`` joins the step's. Returns the
    registration's id."""
    registration_id = await conn.fetchval(
        "SELECT registration_id FROM deposits WHERE id = $1", deposit_id
    )
    if registration_id is None:
        raise NotFound(message="保证金记录不存在", field="deposit_id")
    status = await conn.fetchval(
        "SELECT status FROM registrations WHERE id = $1 FOR UPDATE", registration_id
    )
    await move_deposit(conn, deposit_id, DepositState.FORFEITED, actor=actor, reason=reason)
    await conn.execute(
        "UPDATE registrations SET status = 'forfeited' WHERE id = $1", registration_id
    )
    await steps.record(
        conn, registration_id, "forfeited", by=by, from_status=status, to_status="forfeited",
        detail={"deposit_id": deposit_id, "reason": reason, **(detail or {})},
    )
    return int(registration_id)


async def get_deposit(store: Store, deposit_id: int) -> Deposit:
    with translated():
        row = await store.pool.fetchrow(
            f"SELECT {_DEPOSIT_COLUMNS}{_DEPOSIT_FROM} WHERE d.id = $1", deposit_id
        )
    if row is None:
        raise NotFound(message="保证金记录不存在", field="deposit_id")
    return Deposit(**dict(row))


async def list_deposits(
    store: Store, session_id: int, state: str | None = None
) -> list[Deposit]:
    with translated():
        rows = await store.pool.fetch(
            f"SELECT {_DEPOSIT_COLUMNS}{_DEPOSIT_FROM}"
            " WHERE d.session_id = $1 AND ($2::text IS NULL OR d.state = $2)"
            " ORDER BY r.paddle NULLS LAST, d.id",
            session_id, state,
        )
    return [Deposit(**dict(r)) for r in rows]


@dataclass(frozen=True, slots=True)
class Eligibility:
    """What the eligible sets of a session's lots are computed from, read in one snapshot:
    each lot's deposit requirement, and ``(bidder_id, deposit lot or None, amount_fen, state)``
    of every deposit of a paid (``deposit_paid``) registration of the session."""

    requirements: dict[int, int]
    deposits: list[tuple[int, int | None, int, str]]


async def eligibility(store: Store, session_id: int, lot_id: int | None = None) -> Eligibility:
    """:class:`Eligibility` of the session (of one lot of it when ``lot_id`` is given)."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction(
            isolation="repeatable_read", readonly=True
        ):
            lots = await conn.fetch(
                "SELECT id, deposit_fen FROM lots"
                " WHERE session_id = $1 AND ($2::bigint IS NULL OR id = $2)",
                session_id, lot_id,
            )
            deposits = await conn.fetch(
                "SELECT r.bidder_id, d.lot_id, d.amount_fen, d.state FROM deposits d"
                " JOIN registrations r ON r.id = d.registration_id"
                " WHERE r.session_id = $1 AND r.status = 'deposit_paid'",
                session_id,
            )
    return Eligibility(
        requirements={int(r["id"]): int(r["deposit_fen"]) for r in lots},
        deposits=[
            (int(d["bidder_id"]), d["lot_id"], int(d["amount_fen"]), str(d["state"]))
            for d in deposits
        ],
    )


async def sessions_in_play(store: Store) -> list[tuple[int, bool]]:
    """``(session_id, has an open lot)`` of every session with a lot not yet closed."""
    with translated():
        rows = await store.pool.fetch(
            "SELECT session_id, bool_or(status = 'open') AS open FROM lots"
            " WHERE status IN ('scheduled', 'open') GROUP BY session_id ORDER BY session_id"
        )
    return [(int(r["session_id"]), bool(r["open"])) for r in rows]


async def lot_terms(store: Store, lot_id: int) -> tuple[int, int] | None:
    """``(session_id, market_id)`` of a lot, or None."""
    with translated():
        row = await store.pool.fetchrow(
            "SELECT l.session_id, s.market_id FROM lots l"
            " JOIN sessions s ON s.id = l.session_id WHERE l.id = $1",
            lot_id,
        )
    return None if row is None else (int(row[0]), int(row[1]))


async def set_lot_deposit(store: Store, lot_id: int, deposit_fen: int) -> None:
    with translated():
        await store.pool.execute(
            "UPDATE lots SET deposit_fen = $2 WHERE id = $1", lot_id, deposit_fen
        )


async def lot_deposits(store: Store, lot_ids: list[int]) -> dict[int, int]:
    with translated():
        rows = await store.pool.fetch(
            "SELECT id, deposit_fen FROM lots WHERE id = ANY($1::bigint[])", lot_ids
        )
    return {int(r["id"]): int(r["deposit_fen"]) for r in rows}


async def deposit_scope(store: Store, deposit_id: int) -> tuple[int, int] | None:
    """``(session_id, market_id)`` of a deposit, or None."""
    with translated():
        row = await store.pool.fetchrow(
            "SELECT session_id, market_id FROM deposits WHERE id = $1", deposit_id
        )
    return None if row is None else (int(row[0]), int(row[1]))


async def balances(store: Store, market_ids: list[int]) -> list[MarketBalance]:
    """The conservation view of each market in ``market_ids``, by division code."""
    with translated():
        markets = await store.pool.fetch(
            "SELECT id, code FROM markets WHERE id = ANY($1::bigint[]) ORDER BY code", market_ids
        )
        states = await store.pool.fetch(
            "SELECT market_id, state, sum(amount_fen)::bigint AS total FROM deposits"
            " WHERE market_id = ANY($1::bigint[]) GROUP BY market_id, state",
            market_ids,
        )
        entries = await store.pool.fetch(
            "SELECT market_id, kind, sum(amount_fen)::bigint AS total FROM deposit_entries"
            " WHERE market_id = ANY($1::bigint[]) GROUP BY market_id, kind",
            market_ids,
        )
    out = []
    for m in markets:
        by_state = {r["state"]: int(r["total"]) for r in states if r["market_id"] == m["id"]}
        by_kind = {r["kind"]: int(r["total"]) for r in entries if r["market_id"] == m["id"]}
        out.append(MarketBalance(
            market_id=int(m["id"]), market_code=str(m["code"]),
            received_fen=by_kind.get("confirmed", 0), balances=by_state, entries=by_kind,
        ))
    return out


async def record_agent(
    store: Store, registration_id: int, *, agent_name: str, agent_resident_id: str
) -> dict[str, Any]:
    with translated():
        row = await store.pool.fetchrow(
            "UPDATE registrations SET agent_name = $2, agent_resident_id = $3,"
            " agent_recorded_at = now() WHERE id = $1"
            " RETURNING id, agent_name, agent_resident_id, agent_recorded_at",
            registration_id, agent_name, agent_resident_id,
        )
    if row is None:
        raise NotFound(message="报名不存在", field="registration_id")
    return dict(row)
