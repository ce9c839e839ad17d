"""The life of a registration (报名), each change with its step (:mod:`auction.store.steps`) in
the same transaction (docs/roles.md "Registration and deposits")::

    invited ──accept──► applied ──approve──► approved ──deposit──► deposit_paid
    (desk)              (bidder)   (market)              (finance, ledger.py)
       │                   │                    │                      │
       └───────────────────┴──── reject (market) / withdraw (bidder) ──┘──► rejected / withdrawn
                                                           forfeit (ledger.py) ──► forfeited

Rejecting or withdrawing a paid registration releases its confirmed deposits (refund); once
bidding started (a deposit ``held``) it is ``Conflict('bidding_started')``. A move the rules
refuse is ``Conflict('wrong_state')`` naming ``status``; nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auction.domain.deposits import DepositState
from auction.store import steps
from auction.store.errors import Conflict, NotFound, translated
from auction.store.ledger import move_deposit
from auction.store.records import Registration, rfc3339
from auction.store.refunds import RefundAccount
from auction.store.steps import Actor

if TYPE_CHECKING:
    from auction.store import Store

_COLUMNS = "id, session_id, bidder_id, status, paddle, deposit_fen, reason"

#: where each change may start from
_FROM: dict[str, tuple[str, ...]] = {
    "accepted": ("invited",),
    "approved": ("applied",),
    "rejected": ("invited", "applied", "approved", "deposit_paid"),
    "withdrawn": ("invited", "applied", "approved", "deposit_paid"),
}
_TARGET = {"accepted": "applied", "approved": "approved", "rejected": "rejected",
           "withdrawn": "withdrawn"}
STATUS_WORDS = {
    "invited": "待竞买人确认", "applied": "已报名", "approved": "已审核通过", "rejected": "已驳回",
    "deposit_paid": "保证金已确认", "withdrawn": "已撤回", "forfeited": "保证金已没收",
}


def _registration(row: Any) -> Registration:
    return Registration(**dict(row))


async def apply(
    store: Store, session_id: int, bidder_id: int, *, by: Actor, agreed: str | None = None,
    open_for_new: bool = True, refund: RefundAccount | None = None,
) -> tuple[Registration, bool]:
    """The bidder's own application: a new ``applied`` registration (``True``), or the desk's
    invitation of it accepted (``False``). Any other existing registration of the bidder in
    the session is ``Conflict``. ``agreed`` (the SHA-256 of the session's texts) records the
    bidder's agreement to the 拍卖公告 and 竞买须知 with the server's time, in the same
    transaction. Past the registration deadline (``open_for_new`` false) only an invitation
    may still be accepted: a new application is ``Conflict('registration_closed')``.
    ``refund``: the account the bidder wants its deposit back on (:mod:`auction.store.refunds`),
    written in the same transaction."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            row = None
            if open_for_new:
                row = await conn.fetchrow(
                    "INSERT INTO registrations (session_id, bidder_id, status, agreed_at,"
                    " agreed_sha256) VALUES ($1, $2, 'applied', CASE WHEN $3::text IS NULL"
                    " THEN NULL ELSE now() END, coalesce($3::text, ''))"
                    f" ON CONFLICT (session_id, bidder_id) DO NOTHING RETURNING {_COLUMNS}",
                    session_id, bidder_id, agreed,
                )
            if row is not None:
                await steps.record(conn, row["id"], "applied", by=by, from_status=None,
                                   to_status="applied", detail=_agreement(agreed))
                await _refund_account(conn, int(row["id"]), refund)
                return _registration(row), True
            existing = await conn.fetchrow(
                f"SELECT {_COLUMNS} FROM registrations WHERE session_id = $1 AND bidder_id = $2"
                " FOR UPDATE",
                session_id, bidder_id,
            )
            if existing is None and not open_for_new:
                raise Conflict("registration_closed", "报名已截止", "session_id")
            if existing is None or existing["status"] != "invited":
                raise Conflict("conflict", "已报名该场次", "bidder_id")
            await _refund_account(conn, int(existing["id"]), refund)
            return await _move(conn, existing, "accepted", by=by, agreed=agreed), False


async def _refund_account(conn: Any, registration_id: int, refund: RefundAccount | None) -> None:
    if refund is not None:
        await conn.execute(
            "UPDATE registrations SET refund_name = $2, refund_bank = $3, refund_account = $4"
            " WHERE id = $1",
            registration_id, refund.name, refund.bank, refund.account,
        )


def _agreement(agreed: str | None) -> dict[str, Any]:
    """The step's record of the agreement: which texts (their SHA-256) were agreed to."""
    return {} if agreed is None else {"agreed": True, "texts_sha256": agreed}


async def invite(store: Store, session_id: int, bidder_id: int, *, by: Actor) -> Registration:
    """A desk registration by the market: ``invited``, in effect only once the bidder's account
    accepts it. A bidder already registered in the session is ``Conflict``."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "INSERT INTO registrations (session_id, bidder_id, status) VALUES ($1, $2,"
                f" 'invited') RETURNING {_COLUMNS}",
                session_id, bidder_id,
            )
            await steps.record(conn, row["id"], "invited", by=by, from_status=None,
                               to_status="invited")
    return _registration(row)


async def _move(
    conn: Any, current: Any, step: str, *, by: Actor, reason: str = "",
    detail: dict[str, Any] | None = None, agreed: str | None = None,
) -> Registration:
    """Move the locked registration ``current`` by ``step``; a repeat of the same move is a
    normal return with nothing written. ``agreed`` (accepting): the agreement to the session's
    texts, recorded with the server's time."""
    target = _TARGET[step]
    status = current["status"]
    if status == target:
        return _registration(current)
    if status not in _FROM[step]:
        word = STATUS_WORDS.get(status, status)
        raise Conflict("wrong_state", f"报名状态为「{word}」, 不能{step_word(step)}", "status")
    released: list[int] = []
    if status == "deposit_paid":
        released = await _release(conn, current["id"], by=by)
    row = await conn.fetchrow(
        "UPDATE registrations SET status = $2, reason = CASE WHEN $3 = '' THEN reason ELSE $3 END"
        f" WHERE id = $1 RETURNING {_COLUMNS}",
        current["id"], target, reason,
    )
    if agreed is not None:
        await conn.execute(
            "UPDATE registrations SET agreed_at = now(), agreed_sha256 = $2 WHERE id = $1",
            current["id"], agreed,
        )
    extra = {**(detail or {}), **_agreement(agreed)}
    if reason:
        extra["reason"] = reason
    if released:
        extra["released_deposits"] = released
    await steps.record(conn, current["id"], step, by=by, from_status=status, to_status=target,
                       detail=extra)
    return _registration(row)


def step_word(step: str) -> str:
    return {"accepted": "确认报名", "approved": "审核通过", "rejected": "驳回",
            "withdrawn": "撤回"}.get(step, step)


async def _release(conn: Any, registration_id: int, *, by: Actor) -> list[int]:
    """A paid registration leaves before bidding: its confirmed deposits are released (refund).
    A deposit already held (bidding started) or further refuses the move."""
    rows = await conn.fetch(
        "SELECT id, state FROM deposits WHERE registration_id = $1 ORDER BY id FOR UPDATE",
        registration_id,
    )
    if any(r["state"] not in (DepositState.REQUIRED.value, DepositState.CONFIRMED.value)
           for r in rows):
        raise Conflict("bidding_started", "竞价已开始, 保证金已冻结, 不能撤回或驳回", "status")
    released = []
    for r in rows:
        if r["state"] == DepositState.CONFIRMED.value:
            await move_deposit(conn, r["id"], DepositState.RELEASED, actor=by.name or by.role,
                               reason="报名撤回或驳回")
            released.append(int(r["id"]))
    return released


async def change(
    store: Store, registration_id: int, step: str, *, by: Actor, reason: str = "",
    agreed: str | None = None,
) -> Registration:
    """``accepted`` / ``approved`` / ``rejected`` / ``withdrawn`` (see the module docstring);
    ``agreed``: see :func:`apply`."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            current = await conn.fetchrow(
                f"SELECT {_COLUMNS} FROM registrations WHERE id = $1 FOR UPDATE", registration_id
            )
            if current is None:
                raise NotFound(message="报名不存在", field="registration_id")
            return await _move(conn, current, step, by=by, reason=reason, agreed=agreed)


async def note(
    store: Store, registration_id: int, step: str, *, by: Actor,
    detail: dict[str, Any] | None = None,
) -> None:
    """A step that changes no status (``credential_issued``, ``agent_recorded``)."""
    with translated():
        async with store.pool.acquire() as conn, conn.transaction():
            status = await conn.fetchval(
                "SELECT status FROM registrations WHERE id = $1", registration_id
            )
            if status is None:
                raise NotFound(message="报名不存在", field="registration_id")
            await steps.record(conn, registration_id, step, by=by, from_status=status,
                               to_status=status, detail=detail)


async def list_for_session(store: Store, session_id: int) -> list[dict[str, Any]]:
    """The session's registrations with the bidder's name and credit code, which a market sees
    only once the bidder applied (``null`` while a desk registration awaits the bidder)."""
    with translated():
        rows = await store.pool.fetch(
            "SELECT r.id, r.session_id, r.bidder_id, r.status, r.paddle, r.deposit_fen,"
            " r.reason, r.agreed_at, b.name, b.uscc FROM registrations r"
            " JOIN bidders b ON b.id = r.bidder_id WHERE r.session_id = $1 ORDER BY r.id",
            session_id,
        )
    out = []
    for r in rows:
        shown = r["status"] != "invited"
        out.append({
            **_registration({k: r[k] for k in _COLUMNS.split(", ")}).to_json(),
            "bidder_name": r["name"] if shown else None,
            "bidder_uscc": r["uscc"] if shown else None,
            "status_text": STATUS_WORDS.get(r["status"], r["status"]),
            "agreed_at": rfc3339(r["agreed_at"]),
        })
    return out


@dataclass(frozen=True, slots=True)
class Detail:
    """What a registration's page shows beyond :class:`Registration`: when the bidder agreed to
    the session's texts, its agent, and the deposits of the registration with their state."""

    agreed_at: datetime | None
    agreed_sha256: str
    agent_name: str
    agent_resident_id: str
    agent_recorded_at: datetime | None
    created_at: datetime
    #: ``(id, lot_id, amount_fen, state)`` of each deposit row, oldest first
    deposits: list[tuple[int, int | None, int, str]]


async def detail(store: Store, registration_id: int) -> Detail:
    """The :class:`Detail` of a registration, else ``NotFound``."""
    with translated():
        row = await store.pool.fetchrow(
            "SELECT agreed_at, agreed_sha256, agent_name, agent_resident_id, agent_recorded_at,"
            " created_at FROM registrations WHERE id = $1",
            registration_id,
        )
        if row is None:
            raise NotFound(message="报名不存在", field="registration_id")
        deposits = await store.pool.fetch(
            "SELECT id, lot_id, amount_fen, state FROM deposits WHERE registration_id = $1"
            " ORDER BY id",
            registration_id,
        )
    return Detail(
        **dict(row),
        deposits=[(int(d["id"]), d["lot_id"], int(d["amount_fen"]), str(d["state"]))
                  for d in deposits],
    )


async def of_bidder(store: Store, bidder_id: int) -> list[Registration]:
    """Every registration of the bidder (its own account's view), newest first."""
    with translated():
        rows = await store.pool.fetch(
            f"SELECT {_COLUMNS} FROM registrations WHERE bidder_id = $1 ORDER BY id DESC",
            bidder_id,
        )
    return [_registration(r) for r in rows]


async def bidder_of_paddle(store: Store, session_id: int, paddle: int) -> int | None:
    """The bidder holding ``paddle`` in the session (a floor or phone bid names the paddle),
    ``None`` when no registration of the session has it."""
    with translated():
        found = await store.pool.fetchval(
            "SELECT bidder_id FROM registrations WHERE session_id = $1 AND paddle = $2"
            " ORDER BY id LIMIT 1",
            session_id, paddle,
        )
    return None if found is None else int(found)
