"""The eligibility push (auction/rooms/eligibility.py): PostgreSQL's answer to "who may bid on this
lot" lands in Redis, atomically, in order, and the bid script enforces it (rule R0)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from auction.domain.errors import Rejection
from auction.domain.lot import LotMode
from auction.rooms import eligibility
from auction.rooms.keys import Keys
from auction.rooms.service import Rooms
from auction.store import Store, ledger, registrations
from auction.store.steps import Actor
from tests.codes import new_market
from tests.e2e.harness import uscc

START, INC = 1_000_000, 10_000


@dataclass
class Session:
    id: int
    lots: dict[str, int]
    bidders: dict[str, int]
    deposits: dict[str, int]


async def eligible(redis: Redis, keys: Keys, lot: int) -> set[int]:
    fields = await redis.hkeys(keys.lot(lot).eligible)
    return {int(f) for f in fields if f.isdigit()}


async def make_session(store: Store, rooms: Rooms) -> Session:
    """Lots ``a`` (requirement 100) and ``b`` (300); bidders: ``band200`` (band deposit 200),
    ``band300`` (band 300), ``lot_b`` (deposit 300 for lot b only), ``small_b`` (100 for lot b),
    ``unpaid`` (approved, deposit only required)."""
    tag = secrets.token_hex(4)
    market = await new_market(store, slug=f"e-{tag}", name=f"资格{tag}", level="county")
    session = await store.create_session(
        market_code=market.code, name="资格推送专场", season="special", mode="live",
        starts_at=datetime.now(UTC),
    )
    lots = {}
    for name, requirement in (("a", 100), ("b", 300)):
        lot = await store.create_lot(
            session.id, title=f"标的{name}", result_type="专利", ip_type="发明专利",
            technology_field="电子信息", transaction_mode="转让", contract_type="技术转让",
            holder_name="某大学", holder_uscc=uscc(secrets.randbelow(10**8)),
            start_price_fen=START, increment_fen=INC, non_tech_fen=0,
        )
        # every deposit is confirmed while both lots ask 100; b's requirement is raised to
        # 300 afterwards, so smaller deposits that were enough then no longer cover it
        await ledger.set_lot_deposit(store, lot.id, 100)
        await rooms.init_lot(lot.id, mode=LotMode.LIVE, start=START, inc=INC, reserve=0,
                             session_id=session.id, deposit_fen=requirement)
        lots[name] = lot.id
    bidders, deposits = {}, {}
    by = Actor(role="market_admin", name="test")
    for name, amount, lot_name in (("band200", 200, None), ("band300", 300, None),
                                   ("lot_b", 300, "b"), ("small_b", 100, "b"),
                                   ("unpaid", 0, None)):
        bidder = await store.create_bidder(name=f"{name}-{tag}",
                                           uscc=uscc(secrets.randbelow(10**8)))
        reg, _ = await registrations.apply(store, session.id, bidder.id,
                                           by=Actor(role="bidder", name=name))
        await registrations.change(store, reg.id, "approved", by=by)
        await ledger.require_deposit(store, reg.id, actor="test")
        if amount:
            await ledger.confirm_deposit(store, reg.id, amount, actor="test",
                                         lot_id=lots[lot_name] if lot_name else None)
            deposits[name] = int(await store.pool.fetchval(
                "SELECT id FROM deposits WHERE registration_id = $1 AND state = 'confirmed'",
                reg.id))
        bidders[name] = bidder.id
    await ledger.set_lot_deposit(store, lots["b"], 300)
    return Session(session.id, lots, bidders, deposits)


async def test_sync_session_pushes_who_may_bid(store: Store, redis: Redis, keys: Keys) -> None:
    """A band deposit covers every lot whose requirement it reaches, a lot's own deposit that lot
    only and only when large enough; an unpaid registration covers nothing; a forfeited deposit
    stops covering once pushed, and the bid script then refuses with the requirement."""
    rooms = Rooms(redis, keys)
    s = await make_session(store, rooms)
    b = s.bidders
    assert await eligibility.sync_session(redis, keys, store, s.id) == 2
    assert await eligible(redis, keys, s.lots["a"]) == {b["band200"], b["band300"]}
    assert await eligible(redis, keys, s.lots["b"]) == {b["band300"], b["lot_b"]}
    assert await redis.hget(keys.lot(s.lots["b"]).state, "deposit") == b"300"

    await rooms.open(s.lots["b"])
    assert await ledger.hold_session(store, s.id, actor="test") == 4
    await eligibility.sync_session(redis, keys, store, s.id)
    assert await eligible(redis, keys, s.lots["b"]) == {b["band300"], b["lot_b"]}  # held covers
    await ledger.forfeit(store, s.deposits["band300"], reason="违约", actor="test")
    await eligibility.sync_session(redis, keys, store, s.id)
    assert await eligible(redis, keys, s.lots["b"]) == {b["lot_b"]}

    with pytest.raises(Rejection) as refused:
        await rooms.bid(s.lots["b"], bidder=b["band300"], paddle=102, amount=START)
    assert (refused.value.code, refused.value.data["required_fen"]) == ("deposit_required", 300)
    accepted = await rooms.bid(s.lots["b"], bidder=b["lot_b"], paddle=103, amount=START)
    assert accepted.seq == 2


async def test_an_older_push_never_replaces_a_newer_one(redis: Redis, keys: Keys) -> None:
    """Two pushes that cross: the one holding the older ticket (it read PostgreSQL earlier) is
    dropped, whatever order they reach Redis in; the requirement is never written into a room
    that does not exist (a push must not create a half room that init would then skip)."""
    script = redis.register_script(eligibility.SCRIPT)
    lot = keys.lot(1)
    assert await script(keys=[lot.state, lot.eligible], args=[5, 300, "d1", 11, 12]) == 1
    assert await script(keys=[lot.state, lot.eligible], args=[4, 300, "d2", 13]) == 0
    assert await eligible(redis, keys, 1) == {11, 12}
    assert await script(keys=[lot.state, lot.eligible], args=[6, 300, "d3"]) == 1
    assert await eligible(redis, keys, 1) == set()  # pushed and empty: nobody may bid
    assert await redis.exists(lot.state) == 0


async def test_sync_lot_and_the_resync_loop(store: Store, redis: Redis, keys: Keys) -> None:
    """``sync_lot`` pushes one lot (what a rebuilt room needs); the resync loop pushes the
    sessions with an open lot on every tick and the others on its full pass."""
    rooms = Rooms(redis, keys)
    s = await make_session(store, rooms)
    await eligibility.sync_lot(redis, keys, store, s.lots["a"])
    assert await eligible(redis, keys, s.lots["a"]) == {s.bidders["band200"],
                                                         s.bidders["band300"]}
    assert await redis.exists(keys.lot(s.lots["b"]).eligible) == 0

    loop = eligibility.EligibilitySync(store, redis, keys)
    await loop.resync_once()
    assert await redis.exists(keys.lot(s.lots["b"]).eligible) == 0  # no open lot yet
    await loop.resync_once(full=True)
    assert await eligible(redis, keys, s.lots["b"]) == {s.bidders["band300"],
                                                         s.bidders["lot_b"]}
    await redis.delete(keys.lot(s.lots["b"]).eligible)
    await store.pool.execute("UPDATE lots SET status = 'open' WHERE id = $1", s.lots["b"])
    assert await loop.resync_once() >= 1
    assert await eligible(redis, keys, s.lots["b"]) == {s.bidders["band300"],
                                                         s.bidders["lot_b"]}


async def test_sync_rebuilt_pushes_one_lot_or_the_whole_session(
    store: Store, redis: Redis, keys: Keys
) -> None:
    """Rooms rebuilt after a Redis loss get their eligible sets: one rebuilt lot of a session
    alone is pushed alone; several are pushed by one push of their session (every lot of it)."""
    rooms = Rooms(redis, keys)
    s = await make_session(store, rooms)
    a_may = {s.bidders["band200"], s.bidders["band300"]}
    b_may = {s.bidders["band300"], s.bidders["lot_b"]}
    await eligibility.sync_rebuilt(redis, keys, store, {s.id: [s.lots["b"]]})
    assert await eligible(redis, keys, s.lots["b"]) == b_may
    assert await redis.exists(keys.lot(s.lots["a"]).eligible) == 0
    for lot in s.lots.values():
        await redis.delete(keys.lot(lot).eligible)
    await eligibility.sync_rebuilt(redis, keys, store, {s.id: [s.lots["a"], s.lots["b"]]})
    assert await eligible(redis, keys, s.lots["a"]) == a_may
    assert await eligible(redis, keys, s.lots["b"]) == b_may


async def test_a_push_in_several_pipelines_writes_every_lot(
    store: Store, redis: Redis, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session's push is cut into pipelines of about ``CHUNK_IDS`` bidder ids (the event loop
    serves bids between them); with one id per pipeline every lot is still written, each with
    its own set."""
    rooms = Rooms(redis, keys)
    s = await make_session(store, rooms)
    b = s.bidders
    monkeypatch.setattr(eligibility, "CHUNK_IDS", 1)
    assert await eligibility.sync_session(redis, keys, store, s.id) == 2
    assert await eligible(redis, keys, s.lots["a"]) == {b["band200"], b["band300"]}
    assert await eligible(redis, keys, s.lots["b"]) == {b["band300"], b["lot_b"]}


async def test_the_digest_check_takes_the_ticket_only_for_the_same_set(
    redis: Redis, keys: Keys
) -> None:
    """``eligible_check.lua``: stale → 0 (nothing written); the stored digest → 1 (the ticket
    and the requirement taken, the set untouched); another digest or no set → 2."""
    replace = redis.register_script(eligibility.SCRIPT)
    check = redis.register_script(eligibility.CHECK)
    lot = keys.lot(2)
    both = [lot.state, lot.eligible]
    assert await check(keys=both, args=[1, 300, "d1"]) == 2  # nothing pushed yet
    await redis.hset(lot.state, "status", "scheduled")
    assert await replace(keys=both, args=[5, 300, "d1", 11, 12]) == 1
    assert await check(keys=both, args=[4, 300, "d1"]) == 0  # older than the set
    assert await check(keys=both, args=[7, 300, "d9"]) == 2  # a different set
    assert await redis.hget(lot.eligible, "written") == b"5"
    assert await check(keys=both, args=[7, 500, "d1"]) == 1
    assert await redis.hget(lot.eligible, "written") == b"7"
    assert await redis.hget(lot.state, "deposit") == b"500"
    assert await eligible(redis, keys, 2) == {11, 12}
    assert await replace(keys=both, args=[6, 300, "d6", 13]) == 0  # older than the check


async def test_a_resync_rewrites_only_the_sets_that_changed(
    store: Store, redis: Redis, keys: Keys
) -> None:
    """A second push with nothing changed in PostgreSQL sends digests, not sets: a set is not
    rewritten (a marker field left in it stays) but takes the newer ticket; once a deposit is
    forfeited the lot's set is replaced (the marker goes)."""
    rooms = Rooms(redis, keys)
    s = await make_session(store, rooms)
    b = s.bidders
    await eligibility.sync_session(redis, keys, store, s.id)
    await rooms.open(s.lots["b"])
    assert await ledger.hold_session(store, s.id, actor="test") == 4  # held covers as before
    lot_b = keys.lot(s.lots["b"]).eligible
    before = int(await redis.hget(lot_b, "written"))
    await redis.hset(lot_b, "marker", "1")
    await eligibility.sync_session(redis, keys, store, s.id)
    assert await redis.hget(lot_b, "marker") == b"1"
    assert int(await redis.hget(lot_b, "written")) > before
    await ledger.forfeit(store, s.deposits["band300"], reason="违约", actor="test")
    await eligibility.sync_session(redis, keys, store, s.id)
    assert await redis.hget(lot_b, "marker") is None
    assert await eligible(redis, keys, s.lots["b"]) == {b["lot_b"]}
