"""Settlement in bulk (issue 17 item 4): the drainer copies and settles many lots per round
trip, and still settles every lot exactly once, with its outbox row, its 成交公示 notice and an
intact chain — across batches, across a crash between batches, and with two drainers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import msgpack
import pytest
from redis.asyncio import Redis
from settlement_factory import MakeSession, SessionFixture

from auction.audit.verify import Report, verify_lots
from auction.domain.room import LotEvent
from auction.rooms.keys import Keys
from auction.rooms.service import Rooms
from auction.settlement.drainer import Drainer
from auction.store import Store, settlements
from auction.store import chain as store_chain
from auction.store.errors import Unavailable


class Crash(BaseException):
    """The process dying: nothing in the drainer catches it (as with a kill)."""


def outcome_of(i: int) -> str:
    """The planned end of the sale's i-th lot: most sell, some pass, some are withdrawn."""
    return "withdrawn" if i % 7 == 3 else "passed" if i % 5 == 4 else "sold"


async def run_sales(rooms: Rooms, sale: SessionFixture) -> dict[int, str]:
    """Open every lot, bid on it (1-3 bids), then close it as :func:`outcome_of` says (a lot
    planned to pass has a reserve no bid meets: ``high_reserve``)."""
    planned: dict[int, str] = {}
    for i, lot in enumerate(sale.lot_ids):
        await rooms.open(lot)
        for n in range(1 + i % 3):
            b = sale.bidders[(i + n) % len(sale.bidders)]
            await rooms.bid(lot, bidder=b.id, paddle=b.paddle, amount=sale.start + n * sale.inc)
        planned[lot] = outcome_of(i)
        if planned[lot] == "withdrawn":
            await rooms.command(lot, "withdraw", "权属争议")
        else:
            await rooms.close(lot, "hammer")
    return planned


async def make_sale(make_session: MakeSession, lots: int) -> SessionFixture:
    return await make_session(
        lots=lots, high_reserve=frozenset(i for i in range(lots) if outcome_of(i) == "passed"))


async def check_settled_once(store: Store, redis: Redis, keys: Keys,
                             planned: dict[int, str]) -> None:
    """Every lot: one result with the planned outcome, one outbox row and one notice exactly
    when sold, its catalogue status, an intact chain that reproduces the result, and no longer
    active."""
    lots = sorted(planned)
    rows = await store.pool.fetch(
        "SELECT l.id, l.status, (SELECT count(*) FROM lot_results r WHERE r.lot_id = l.id) AS n,"
        " (SELECT min(outcome) FROM lot_results r WHERE r.lot_id = l.id) AS outcome,"
        " (SELECT count(*) FROM registration_outbox o WHERE o.lot_id = l.id) AS outbox,"
        " (SELECT count(*) FROM publicity_notices p WHERE p.lot_id = l.id) AS notices"
        " FROM lots l WHERE l.id = ANY($1::bigint[]) ORDER BY l.id", lots)
    assert [r["id"] for r in rows] == lots
    for r in rows:
        sold = planned[r["id"]] == "sold"
        assert (r["n"], r["outcome"], r["status"]) == (1, planned[r["id"]], planned[r["id"]]), r
        assert (r["outbox"], r["notices"]) == ((1, 1) if sold else (0, 0)), r
    report = Report()
    verify_lots(await store_chain.lot_records(store, lots), report)
    assert report.ok, report.findings
    assert (report.lots, report.results) == (len(lots), len(lots))
    assert not set(lots) & {int(m) for m in await redis.smembers(keys.active)}


def spy_settlements(monkeypatch: pytest.MonkeyPatch, *,
                    crash_after: int | None = None) -> list[set[int]]:
    """Record which lots each settlement transaction settled. ``crash_after=n``: the process
    dies right after the n-th transaction committed (before the drainer could take its lots out
    of the active set)."""
    real = settlements.record_results
    calls: list[set[int]] = []

    async def recording(store: Store, batch: Sequence[settlements.Settlement]) -> set[int]:
        settled = await real(store, batch)
        calls.append(settled)
        if crash_after == len(calls):
            raise Crash
        return settled

    monkeypatch.setattr(settlements, "record_results", recording)
    return calls


async def test_many_lots_settle_in_one_transaction_each_exactly_once(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_session: MakeSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pass over 40 closed lots writes their events in one transaction and settles them in
    one more: each lot once, with outbox row, notice, status and chain; the session finishes."""
    sale = await make_sale(make_session, 40)
    planned = await run_sales(rooms, sale)
    calls = spy_settlements(monkeypatch)

    await Drainer(store, redis, keys, lots_per_batch=64).drain_once()

    assert calls == [set(sale.lot_ids)]
    await check_settled_once(store, redis, keys, planned)
    assert await store.pool.fetchval(
        "SELECT status FROM sessions WHERE id = $1", sale.session_id) == "finished"


async def test_a_crash_between_batches_never_settles_a_lot_twice(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_session: MakeSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The drainer dies right after its second batch committed (its lots still active) and a
    new one takes over: the committed lots are not settled again (their outbox rows untouched),
    the rest are settled, each lot once."""
    sale = await make_sale(make_session, 30)
    planned = await run_sales(rooms, sale)
    first = spy_settlements(monkeypatch, crash_after=2)
    with pytest.raises(Crash):
        await Drainer(store, redis, keys, lots_per_batch=10).drain_once()
    assert [len(c) for c in first] == [10, 10]
    committed = sorted(first[1])
    before = await store.pool.fetch(
        "SELECT lot_id, idempotency_key, created_at FROM registration_outbox"
        " WHERE lot_id = ANY($1::bigint[]) ORDER BY lot_id", committed)
    still_active = {int(m) for m in await redis.smembers(keys.active)}
    assert set(committed) <= still_active  # the crash came before they were taken out

    monkeypatch.undo()
    again = spy_settlements(monkeypatch)
    restarted = Drainer(store, redis, keys, lots_per_batch=10)
    await restarted.drain_once()

    settled_twice = [lot for lot in sale.lot_ids if sum(lot in c for c in first + again) > 1]
    assert settled_twice == []
    assert set().union(*first, *again) == set(sale.lot_ids)
    assert not set(committed) & set().union(*again)  # the new drainer found them settled
    await check_settled_once(store, redis, keys, planned)
    after = await store.pool.fetch(
        "SELECT lot_id, idempotency_key, created_at FROM registration_outbox"
        " WHERE lot_id = ANY($1::bigint[]) ORDER BY lot_id", committed)
    assert after == before


async def test_a_crash_inside_the_settlement_transaction_writes_nothing_of_its_batch(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_session: MakeSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A batch's settlement is all or nothing: its connection dying inside it leaves none of the
    batch's lots with a result, a status, an outbox row or a notice; the next drainer settles
    them all once."""
    sale = await make_sale(make_session, 20)
    planned = await run_sales(rooms, sale)
    # the connection dies inside the transaction, after the results, the lots' and the
    # sessions' statements ran and where the outbox rows would be written
    monkeypatch.setattr(settlements, "_INSERT_OUTBOX", (
        "SELECT pg_terminate_backend(pg_backend_pid()) WHERE $1::bigint[] IS NOT NULL"
        " AND $2::text[] IS NOT NULL AND $3::text[] IS NOT NULL AND $4::bigint[] IS NOT NULL"))
    with pytest.raises(Unavailable):
        await Drainer(store, redis, keys, lots_per_batch=20).drain_once()
    monkeypatch.undo()
    written = await store.pool.fetchval(
        "SELECT (SELECT count(*) FROM lot_results WHERE lot_id = ANY($1::bigint[]))"
        " + (SELECT count(*) FROM registration_outbox WHERE lot_id = ANY($1::bigint[]))"
        " + (SELECT count(*) FROM publicity_notices WHERE lot_id = ANY($1::bigint[]))"
        " + (SELECT count(*) FROM lots WHERE id = ANY($1::bigint[]) AND status <> 'open')",
        list(sale.lot_ids))
    assert written == 0
    assert len(await store.pool.fetch(
        "SELECT 1 FROM lot_events WHERE lot_id = ANY($1::bigint[])", list(sale.lot_ids))) > 40

    spy_settlements(monkeypatch)
    await Drainer(store, redis, keys, lots_per_batch=20).drain_once()
    await check_settled_once(store, redis, keys, planned)


async def test_two_drainers_with_overlapping_batches_settle_each_lot_once(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_session: MakeSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two drainers (a lease overlap) racing over the same 30 lots in batches: every event
    written once, every lot settled by exactly one of them."""
    sale = await make_sale(make_session, 30)
    planned = await run_sales(rooms, sale)
    calls = spy_settlements(monkeypatch)
    a = Drainer(store, redis, keys, lots_per_batch=8)
    b = Drainer(store, redis, keys, lots_per_batch=8)
    await asyncio.gather(a.drain_once(), b.drain_once(), a.drain_once(), b.drain_once())

    settled = [lot for c in calls for lot in c]
    assert sorted(settled) == sorted(sale.lot_ids)
    await check_settled_once(store, redis, keys, planned)


async def test_events_drained_over_several_passes_chain_across_batches(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_session: MakeSession,
) -> None:
    """Bids drained pass by pass, many lots per statement: each lot's chain continues from the
    entry an earlier transaction wrote, and every event is in PostgreSQL within a pass."""
    sale = await make_session(lots=12)
    drainer = Drainer(store, redis, keys, lots_per_batch=5)
    for lot in sale.lot_ids:
        await rooms.open(lot)
    await drainer.drain_once()
    for n in range(3):
        for i, lot in enumerate(sale.lot_ids):
            b = sale.bidders[(i + n) % len(sale.bidders)]
            await rooms.bid(lot, bidder=b.id, paddle=b.paddle, amount=sale.start + n * sale.inc)
        assert await drainer.drain_once() == len(sale.lot_ids)
    for lot in sale.lot_ids:
        await rooms.close(lot, "hammer")
    assert await drainer.drain_once() == len(sale.lot_ids)
    await check_settled_once(store, redis, keys, dict.fromkeys(sale.lot_ids, "sold"))
    (record,) = await store_chain.lot_records(store, [sale.lot_ids[0]])
    assert [e.kind for e in record.entries] == ["opened", "bid", "bid", "bid", "sold"]


async def test_a_lot_whose_rows_are_refused_holds_up_only_itself(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_session: MakeSession,
) -> None:
    """One lot's stream carries an event PostgreSQL refuses (a NUL in its text): the batch is
    written lot by lot, the other lots are journalled and settled, the bad one stays active."""
    sale = await make_session(lots=6)
    bad = sale.lot_ids[2]
    planned = {}
    drainer = Drainer(store, redis, keys, lots_per_batch=64)
    for lot in sale.lot_ids:
        await rooms.open(lot)
    assert await drainer.drain_once() == len(sale.lot_ids)
    for lot in sale.lot_ids:
        if lot == bad:
            continue
        b = sale.bidders[0]
        await rooms.bid(lot, bidder=b.id, paddle=b.paddle, amount=sale.start)
        await rooms.close(lot, "hammer")
        planned[lot] = "sold"
    blob = msgpack.packb(LotEvent(2, "announced", int(time.time() * 1000), {"text": "a\x00b"})
                         .to_map())
    await redis.xadd(keys.lot(bad).events, {"e": blob}, id="2-0")
    await redis.hset(keys.lot(bad).state, "seq", 2)

    assert await drainer.drain_once() == 2 * len(planned)

    await check_settled_once(store, redis, keys, planned)
    assert await store.pool.fetchval(
        "SELECT max(seq) FROM lot_events WHERE lot_id = $1", bad) == 1
    assert await redis.sismember(keys.active, str(bad))
