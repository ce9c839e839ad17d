"""The registration lifecycle against real PostgreSQL (auction/store/registrations.py and the
deposit confirmation of ledger.py): states, paddles, amounts, steps, refunds."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable

import pytest

from auction.store import Conflict, NotFound, Store, ledger, registrations, steps
from auction.store.records import Lot, Registration, Session
from auction.store.steps import Actor

MakeSession = Callable[..., Awaitable[Session]]
MakeLot = Callable[..., Awaitable[Lot]]
BIDDER = Actor(role="bidder", name="bidder", account_id=None)
ADMIN = Actor(role="market_admin", name="admin")
FINANCE = Actor(role="finance", name="finance")


async def _bidders(store: Store, n: int) -> list[int]:
    ids = []
    for i in range(n):
        b = await store.create_bidder(name=f"竞买企业{i}", uscc=f"T{secrets.token_hex(8)}{i:01d}")
        ids.append(b.id)
    return ids


async def _approved(store: Store, session_id: int, bidder_id: int) -> Registration:
    reg, created = await registrations.apply(store, session_id, bidder_id, by=BIDDER)
    assert created and reg.status == "applied"
    return await registrations.change(store, reg.id, "approved", by=ADMIN)


async def test_paddles_are_unique_and_consecutive_under_concurrency(
    store: Store, make_session: MakeSession
) -> None:
    """Twenty deposits confirmed at once in one session get paddles 101…120, each once."""
    session = await make_session()
    regs = [await _approved(store, session.id, b) for b in await _bidders(store, 20)]
    paid = await asyncio.gather(*(
        ledger.confirm_deposit(store, r.id, 50_000_00, actor="f", by=FINANCE) for r in regs
    ))
    assert sorted(r.paddle or 0 for r in paid) == list(range(101, 121))
    assert all(r.status == "deposit_paid" and r.deposit_fen == 50_000_00 for r in paid)


async def test_paddles_are_per_session(store: Store, make_session: MakeSession) -> None:
    """Each session numbers its paddles from 101 independently."""
    (bidder,) = await _bidders(store, 1)
    for _ in range(2):
        session = await make_session()
        reg = await _approved(store, session.id, bidder)
        assert (await ledger.confirm_deposit(store, reg.id, 1, actor="f")).paddle == 101


async def test_confirming_again_with_the_same_amount_is_a_normal_return(
    store: Store, make_session: MakeSession, make_lot: MakeLot
) -> None:
    """The same amount again returns the same registration and writes nothing; another amount
    is a conflict; below the requirement is deposit_insufficient; unapproved is wrong_state."""
    session = await make_session()
    lot = await make_lot(session.id)
    await ledger.set_lot_deposit(store, lot.id, 500)
    bidder, other = await _bidders(store, 2)
    reg = await _approved(store, session.id, bidder)
    with pytest.raises(Conflict) as low:
        await ledger.confirm_deposit(store, reg.id, 499, actor="f")
    assert (low.value.code, low.value.field) == ("deposit_insufficient", "deposit_fen")
    first = await ledger.confirm_deposit(store, reg.id, 500, actor="f")
    again = await ledger.confirm_deposit(store, reg.id, 500, actor="f")
    assert again == first
    with pytest.raises(Conflict) as changed:
        await ledger.confirm_deposit(store, reg.id, 600, actor="f")
    assert (changed.value.code, changed.value.field) == ("conflict", "deposit_fen")
    entries = await store.pool.fetchval(
        "SELECT count(*) FROM deposit_entries e JOIN deposits d ON d.id = e.deposit_id"
        " WHERE d.registration_id = $1 AND e.kind = 'confirmed'", reg.id)
    assert entries == 1
    applied, _ = await registrations.apply(store, session.id, other, by=BIDDER)
    with pytest.raises(Conflict) as unapproved:
        await ledger.confirm_deposit(store, applied.id, 500, actor="f")
    assert unapproved.value.code == "wrong_state"


async def test_desk_registration_waits_for_the_bidder(
    store: Store, make_session: MakeSession
) -> None:
    """An invitation cannot be approved; the bidder's own application accepts it."""
    session = await make_session()
    (bidder,) = await _bidders(store, 1)
    invited = await registrations.invite(store, session.id, bidder, by=ADMIN)
    assert invited.status == "invited"
    with pytest.raises(Conflict) as early:
        await registrations.change(store, invited.id, "approved", by=ADMIN)
    assert early.value.code == "wrong_state"
    accepted, created = await registrations.apply(store, session.id, bidder, by=BIDDER)
    assert (accepted.id, accepted.status, created) == (invited.id, "applied", False)
    with pytest.raises(Conflict):
        await registrations.apply(store, session.id, bidder, by=BIDDER)
    history = [s.step for s in await steps.history(store, invited.id)]
    assert history == ["invited", "accepted"]


async def test_withdrawing_a_paid_registration_releases_its_deposit(
    store: Store, make_session: MakeSession
) -> None:
    """Before bidding the confirmed deposit is released; once held, withdrawing is refused."""
    session = await make_session()
    first, second = await _bidders(store, 2)
    reg = await _approved(store, session.id, first)
    await ledger.confirm_deposit(store, reg.id, 100, actor="f")
    out = await registrations.change(store, reg.id, "withdrawn", by=BIDDER)
    assert out.status == "withdrawn"
    assert await store.pool.fetchval(
        "SELECT state FROM deposits WHERE registration_id = $1", reg.id) == "released"
    steps_of = await steps.history(store, reg.id)
    assert [s.step for s in steps_of] == ["applied", "approved", "deposit_confirmed",
                                         "withdrawn"]
    assert steps_of[-1].detail["released_deposits"]
    held = await _approved(store, session.id, second)
    await ledger.confirm_deposit(store, held.id, 100, actor="f")
    await ledger.hold_session(store, session.id, actor="open")
    with pytest.raises(Conflict) as started:
        await registrations.change(store, held.id, "withdrawn", by=BIDDER)
    assert started.value.code == "bidding_started"


async def test_steps_are_append_only(store: Store, make_session: MakeSession) -> None:
    """UPDATE and DELETE of a step are refused by the trigger."""
    session = await make_session()
    (bidder,) = await _bidders(store, 1)
    reg, _ = await registrations.apply(store, session.id, bidder, by=BIDDER)
    with pytest.raises(Exception, match="append-only"):
        await store.pool.execute(
            "UPDATE registration_steps SET actor = 'x' WHERE registration_id = $1", reg.id)
    with pytest.raises(Exception, match="append-only"):
        await store.pool.execute("DELETE FROM registration_steps WHERE registration_id = $1",
                                 reg.id)


async def test_unknown_bidder_is_not_found(store: Store, make_session: MakeSession) -> None:
    """Registering an unknown bidder is NotFound on field ``bidder_id``."""
    session = await make_session()
    with pytest.raises(NotFound) as info:
        await registrations.apply(store, session.id, 999_999_999, by=BIDDER)
    assert info.value.field == "bidder_id"
