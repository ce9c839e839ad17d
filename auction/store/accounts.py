"""Accounts and the market tree (SQL as plain text, house style rule 12).

Functions take the :class:`auction.store.Store` (like :mod:`auction.store.journal`). Failures
come out as :mod:`auction.store.errors`: a taken username is ``Conflict`` on ``username``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auction.domain.identity import mask_resident_id
from auction.store.errors import NotFound, translated
from auction.store.records import rfc3339

if TYPE_CHECKING:
    from auction.store import Store

_COLUMNS = (
    "a.id, a.username, a.password_hash, a.role, a.market_id, m.code AS market_code,"
    " a.bidder_id, a.person_name, a.resident_id, a.disabled, a.registration_id"
)
_FROM = " FROM accounts a LEFT JOIN markets m ON m.id = a.market_id"


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    username: str
    password_hash: str
    role: str
    market_id: int | None
    market_code: str | None
    bidder_id: int | None
    person_name: str
    resident_id: str
    disabled: bool
    #: an agent's account: the one registration of its enterprise it bids for
    registration_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The public shape: never the hash; the resident id masked but for its first 6 and
        last 4 (:func:`auction.domain.identity.mask_resident_id`)."""
        return {
            "id": self.id, "username": self.username, "role": self.role,
            "market_id": self.market_id, "market_code": self.market_code,
            "bidder_id": self.bidder_id, "person_name": self.person_name,
            "resident_id": mask_resident_id(self.resident_id),
            "disabled": self.disabled, "registration_id": self.registration_id,
        }


async def create_account(
    store: Store, *, username: str, password_hash: str, role: str, market_id: int | None = None,
    bidder_id: int | None = None, person_name: str = "", resident_id: str = "",
    registration_id: int | None = None,
) -> Account:
    with translated():
        account_id = await store.pool.fetchval(
            "INSERT INTO accounts (username, password_hash, role, market_id, bidder_id,"
            " person_name, resident_id, registration_id)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            username, password_hash, role, market_id, bidder_id, person_name, resident_id,
            registration_id,
        )
    return await get_account(store, account_id)


async def get_account(store: Store, account_id: int) -> Account:
    with translated():
        row = await store.pool.fetchrow(f"SELECT {_COLUMNS}{_FROM} WHERE a.id = $1", account_id)
    if row is None:
        raise NotFound(message="账号不存在", field="account_id")
    return Account(**dict(row))


async def find_account(store: Store, username: str) -> Account | None:
    with translated():
        row = await store.pool.fetchrow(
            f"SELECT {_COLUMNS}{_FROM} WHERE a.username = $1", username
        )
    return None if row is None else Account(**dict(row))


async def set_disabled(store: Store, account_id: int, disabled: bool) -> Account:
    with translated():
        found = await store.pool.fetchval(
            "UPDATE accounts SET disabled = $2 WHERE id = $1 RETURNING id", account_id, disabled
        )
    if found is None:
        raise NotFound(message="账号不存在", field="account_id")
    return await get_account(store, account_id)


async def set_password_hash(store: Store, account_id: int, password_hash: str) -> None:
    with translated():
        await store.pool.execute(
            "UPDATE accounts SET password_hash = $2 WHERE id = $1", account_id, password_hash
        )


@dataclass(frozen=True, slots=True)
class StaffAccount:
    """A staff account as the back office lists it: never the hash, never the resident id."""

    id: int
    username: str
    person_name: str
    role: str
    market_code: str
    market_name: str
    disabled: bool
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "username": self.username, "name": self.person_name,
            "role": self.role, "market_code": self.market_code,
            "market_name": self.market_name, "disabled": self.disabled,
            "created_at": rfc3339(self.created_at),
        }


async def staff_of(store: Store, market_ids: list[int]) -> list[StaffAccount]:
    """The staff accounts bound to the markets ``market_ids``, by market code then username."""
    with translated():
        rows = await store.pool.fetch(
            "SELECT a.id, a.username, a.person_name, a.role, m.code AS market_code,"
            " m.name AS market_name, a.disabled, a.created_at"
            " FROM accounts a JOIN markets m ON m.id = a.market_id"
            " WHERE a.market_id = ANY($1::bigint[])"
            " AND a.role IN ('market_admin', 'auctioneer', 'finance')"
            " ORDER BY m.code, a.username",
            market_ids,
        )
    return [StaffAccount(**dict(r)) for r in rows]


async def set_staff_role(store: Store, account_id: int, *, role: str, market_id: int) -> Account:
    """A staff account's new role and market (the schema's check keeps a market on staff)."""
    with translated():
        found = await store.pool.fetchval(
            "UPDATE accounts SET role = $2, market_id = $3 WHERE id = $1"
            " AND role IN ('market_admin', 'auctioneer', 'finance') RETURNING id",
            account_id, role, market_id,
        )
    if found is None:
        raise NotFound(message="账号不存在", field="account_id")
    return await get_account(store, account_id)


async def market_rows(store: Store) -> list[tuple[int, int | None]]:
    """``(id, parent_id)`` of every market: the tree the policy reads."""
    with translated():
        rows = await store.pool.fetch("SELECT id, parent_id FROM markets")
    return [(int(r["id"]), r["parent_id"]) for r in rows]


async def session_market(store: Store, session_id: int) -> int | None:
    with translated():
        value = await store.pool.fetchval(
            "SELECT market_id FROM sessions WHERE id = $1", session_id
        )
    return None if value is None else int(value)


async def registration_scope(store: Store, registration_id: int) -> tuple[int, int, int] | None:
    """``(session_id, market_id, bidder_id)`` of a registration, or None."""
    with translated():
        row = await store.pool.fetchrow(
            "SELECT r.session_id, s.market_id, r.bidder_id FROM registrations r"
            " JOIN sessions s ON s.id = r.session_id WHERE r.id = $1",
            registration_id,
        )
    return None if row is None else (int(row[0]), int(row[1]), int(row[2]))


async def markets_by_id(store: Store, ids: list[int]) -> dict[int, str]:
    """Division codes of the markets ``ids``."""
    with translated():
        rows = await store.pool.fetch(
            "SELECT id, code FROM markets WHERE id = ANY($1::bigint[])", ids
        )
    return {int(r["id"]): str(r["code"]) for r in rows}
