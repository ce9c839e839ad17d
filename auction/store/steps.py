"""The steps of a registration, with who took each and when (``registration_steps``,
append-only: a trigger refuses UPDATE and DELETE).

Every change of a registration's status writes its step in the same transaction
(:mod:`auction.store.registrations`, :mod:`auction.store.ledger`); so do the bidder taking its
credential (``credential_issued``) and recording an agent (``agent_recorded``), which change no
status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auction.store.errors import translated
from auction.store.records import rfc3339

if TYPE_CHECKING:
    from auction.store import Store

STEPS = (
    "invited", "applied", "accepted", "approved", "rejected", "deposit_confirmed", "withdrawn",
    "forfeited", "credential_issued", "agent_recorded", "migrated",
)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who takes a step: the token's role, its account (``None`` for the deployment's admin
    token or a staff token) and a name (username or staff token name)."""

    role: str
    name: str = ""
    account_id: int | None = None


SYSTEM = Actor(role="system", name="system")


@dataclass(frozen=True, slots=True)
class Step:
    id: int
    registration_id: int
    step: str
    from_status: str | None
    to_status: str
    actor_role: str
    actor_account_id: int | None
    actor: str
    detail: dict[str, Any]
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "step": self.step, "from_status": self.from_status,
            "to_status": self.to_status, "actor": self.actor, "actor_role": self.actor_role,
            "actor_account_id": self.actor_account_id, "detail": self.detail,
            "at": rfc3339(self.at),
        }


async def record(
    conn: Any, registration_id: int, step: str, *, by: Actor, from_status: str | None,
    to_status: str, detail: dict[str, Any] | None = None,
) -> None:
    """Append one step (inside the caller's transaction)."""
    await conn.execute(
        "INSERT INTO registration_steps (registration_id, step, from_status, to_status,"
        " actor_role, actor_account_id, actor, detail) VALUES ($1, $2, $3, $4, $5, $6, $7,"
        " $8)",
        registration_id, step, from_status, to_status, by.role, by.account_id, by.name,
        detail or {},  # the pool encodes jsonb (auction/store/pool.py)
    )


async def history(store: Store, registration_id: int) -> list[Step]:
    """Every step of the registration, oldest first."""
    with translated():
        rows = await store.pool.fetch(
            "SELECT id, registration_id, step, from_status, to_status, actor_role,"
            " actor_account_id, actor, detail, at FROM registration_steps"
            " WHERE registration_id = $1 ORDER BY id",
            registration_id,
        )
    return [Step(**dict(r)) for r in rows]
