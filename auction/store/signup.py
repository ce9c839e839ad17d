"""Bidder sign-up in one transaction: the bidder — an enterprise (by its credit code) or a
natural person (by its resident identity number) — and, when asked for, its account (SQL as
plain text, house style rule 12).

Either both rows are made or neither: a taken username must not leave the bidder registered
(its credit code or resident id would then be "taken" for the real owner), and a taken code
makes no account. A taken key is an outcome, not an error: the API decides who may learn which
one (docs/roles.md "Sign-up").
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auction.domain.identity import mask_resident_id
from auction.store.errors import translated
from auction.store.records import Bidder

if TYPE_CHECKING:
    from auction.store import Store


class Outcome(enum.Enum):
    CREATED = "created"
    USCC_TAKEN = "uscc_taken"
    RESIDENT_ID_TAKEN = "resident_id_taken"
    USERNAME_TAKEN = "username_taken"


@dataclass(frozen=True, slots=True)
class NewAccount:
    username: str
    password_hash: str
    person_name: str = ""
    resident_id: str = ""


@dataclass(frozen=True, slots=True)
class Enterprise:
    """An enterprise bidder: validated credit code, its contact and legal representative."""

    name: str
    uscc: str
    contact: str = ""
    legal_representative: str = ""


@dataclass(frozen=True, slots=True)
class Person:
    """A natural person bidder: validated resident identity number and phone."""

    name: str
    resident_id: str
    phone: str


@dataclass(frozen=True, slots=True)
class SignUp:
    outcome: Outcome
    bidder: Bidder | None = None
    account_id: int | None = None
    #: what the platform admin's desk is shown of the new bidder (resident id masked)
    shown: dict[str, Any] | None = None


class _Taken(Exception):
    """Leaves the transaction (rolled back) when the username turns out to be taken."""


_RETURNING = (
    " RETURNING id, name, uscc, contact, created_at, kind, legal_representative, resident_id,"
    " phone"
)


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    bidder = Bidder(**{k: row[k] for k in ("id", "name", "uscc", "contact", "created_at")})
    answer = bidder.to_json()
    answer["kind"] = row["kind"]
    if row["kind"] == "person":
        answer.update(resident_id=mask_resident_id(row["resident_id"]), phone=row["phone"])
    else:
        answer["legal_representative"] = row["legal_representative"]
    return answer


async def sign_up(
    store: Store, *, name: str = "", uscc: str = "", contact: str = "",
    account: NewAccount | None = None, bidder: Enterprise | Person | None = None,
) -> SignUp:
    """Register the bidder (``bidder``, or the enterprise ``name``/``uscc``/``contact`` of
    earlier callers) and, with ``account``, its bidder account, atomically. The caller has
    validated the codes and hashed the password."""
    if bidder is None:
        bidder = Enterprise(name=name, uscc=uscc, contact=contact)
    with translated():
        async with store.pool.acquire() as conn:
            try:
                async with conn.transaction():
                    if isinstance(bidder, Person):
                        row = await conn.fetchrow(
                            "INSERT INTO bidders (kind, name, resident_id, phone)"
                            " VALUES ('person', $1, $2, $3)"
                            " ON CONFLICT (resident_id) DO NOTHING" + _RETURNING,
                            bidder.name, bidder.resident_id, bidder.phone,
                        )
                        if row is None:
                            return SignUp(Outcome.RESIDENT_ID_TAKEN)
                    else:
                        row = await conn.fetchrow(
                            "INSERT INTO bidders (kind, name, uscc, contact, legal_representative)"
                            " VALUES ('enterprise', $1, $2, $3, $4)"
                            " ON CONFLICT (uscc) DO NOTHING" + _RETURNING,
                            bidder.name, bidder.uscc, bidder.contact, bidder.legal_representative,
                        )
                        if row is None:
                            return SignUp(Outcome.USCC_TAKEN)
                    fields = dict(row)
                    made = Bidder(**{k: fields[k] for k in
                                     ("id", "name", "uscc", "contact", "created_at")})
                    if account is None:
                        return SignUp(Outcome.CREATED, made, shown=_shown(fields))
                    account_id = await conn.fetchval(
                        "INSERT INTO accounts (username, password_hash, role, bidder_id,"
                        " person_name, resident_id) VALUES ($1, $2, 'bidder', $3, $4, $5)"
                        " ON CONFLICT (username) DO NOTHING RETURNING id",
                        account.username, account.password_hash, made.id,
                        account.person_name, account.resident_id,
                    )
                    if account_id is None:
                        raise _Taken
                    return SignUp(Outcome.CREATED, made, int(account_id), shown=_shown(fields))
            except _Taken:
                return SignUp(Outcome.USERNAME_TAKEN)
