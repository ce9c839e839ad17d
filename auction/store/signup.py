"""Bidder sign-up in one transaction: the enterprise (by its credit code) and, when asked for,
its account (SQL as plain text, house style rule 12).

Either both rows are made or neither: a taken username must not leave the enterprise registered
(its credit code would then be "taken" for the real enterprise), and a taken credit code makes
no account. A taken key is an outcome, not an error: the API decides who may learn which one
(docs/roles.md "Sign-up").
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auction.store.errors import translated
from auction.store.records import Bidder

if TYPE_CHECKING:
    from auction.store import Store


class Outcome(enum.Enum):
    CREATED = "created"
    USCC_TAKEN = "uscc_taken"
    USERNAME_TAKEN = "username_taken"


@dataclass(frozen=True, slots=True)
class NewAccount:
    username: str
    password_hash: str
    person_name: str = ""
    resident_id: str = ""


@dataclass(frozen=True, slots=True)
class SignUp:
    outcome: Outcome
    bidder: Bidder | None = None
    account_id: int | None = None


class _Taken(Exception):
    """Leaves the transaction (rolled back) when the username turns out to be taken."""


async def sign_up(
    store: Store, *, name: str, uscc: str, contact: str = "", account: NewAccount | None = None
) -> SignUp:
    """Register the enterprise and, with ``account``, its bidder account, atomically. The caller
    has validated the codes and hashed the password."""
    with translated():
        async with store.pool.acquire() as conn:
            try:
                async with conn.transaction():
                    row = await conn.fetchrow(
                        "INSERT INTO bidders (name, uscc, contact) VALUES ($1, $2, $3)"
                        " ON CONFLICT (uscc) DO NOTHING"
                        " RETURNING id, name, uscc, contact, created_at",
                        name, uscc, contact,
                    )
                    if row is None:
                        return SignUp(Outcome.USCC_TAKEN)
                    bidder = Bidder(**dict(row))
                    if account is None:
                        return SignUp(Outcome.CREATED, bidder)
                    account_id = await conn.fetchval(
                        "INSERT INTO accounts (username, password_hash, role, bidder_id,"
                        " person_name, resident_id) VALUES ($1, $2, 'bidder', $3, $4, $5)"
                        " ON CONFLICT (username) DO NOTHING RETURNING id",
                        account.username, account.password_hash, bidder.id,
                        account.person_name, account.resident_id,
                    )
                    if account_id is None:
                        raise _Taken
                    return SignUp(Outcome.CREATED, bidder, int(account_id))
            except _Taken:
                return SignUp(Outcome.USERNAME_TAKEN)
