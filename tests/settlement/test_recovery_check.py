"""The check after a Redis restart takes many lots together (:meth:`Recovery.check_batch`,
invariant 11): in one batch a lost room, a room whose stream changed an event, a room whose
stream lost its last event, a whole open room and a whole closed one each get their own
outcome — rebuilt from the journal, a new epoch, or left as they are."""

from __future__ import annotations

import asyncio
import contextlib

import msgpack
import pytest
from redis.asyncio import Redis
from settlement_factory import MakeSession, SessionFixture

from auction import metrics
from auction.domain.room import LotEvent
from auction.rooms import recovery as recovery_module
from auction.rooms.keys import Keys
from auction.rooms.recovery import Recovery
from auction.rooms.service import Rooms
from auction.settlement.drainer import Drainer
from auction.store import Store
from auction.store import rooms as store_rooms
from auction.store.errors import Unavailable


async def _epoch(redis: Redis, keys: Keys, lot: int) -> bytes | None:
    epoch: bytes | None = await redis.hget(keys.lot(lot).state, "epoch")
    return epoch


async def _journalled(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, sale: SessionFixture,
) -> tuple[dict[int, store_rooms.Position], dict[int, list[LotEvent]]]:
    """Every lot of ``sale`` opened with one bid, the last one hammered, all of it journalled:
    each lot's position and journal."""
    lots = sale.lot_ids
    b = sale.bidders[0]
    for lot in lots:
        await rooms.open(lot)
        await rooms.bid(lot, bidder=b.id, paddle=b.paddle, amount=sale.start)
    await rooms.close(lots[-1], "hammer")
    drainer = Drainer(store, redis, keys)
    for _ in range(3):
        await drainer.drain_once()
    positions = {p.lot_id: p for p in await store_rooms.positions(store) if p.lot_id in lots}
    return positions, {lot: await store_rooms.events(store, lot) for lot in lots}


async def test_one_batch_gives_each_room_its_outcome(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_session: MakeSession
) -> None:
    sale = await make_session(lots=5, bidders=2)
    lots = sale.lot_ids
    positions, journal = await _journalled(store, redis, keys, rooms, sale)
    assert [positions[lot].max_seq for lot in lots[:4]] == [2, 2, 2, 2]

    # lot 0: gone; lot 1: the stream's last event says another amount; lot 2: the stream lost
    # its last event (the room's seq did not move); lot 3: whole and open; lot 4: whole, closed
    gone = keys.lot(lots[0])
    await redis.delete(gone.state, gone.events, gone.book)
    changed = keys.lot(lots[1]).events
    entries = await redis.xrange(changed)
    await redis.delete(changed)
    for entry_id, fields in entries:
        event = msgpack.unpackb(fields[b"e"], raw=False)
        if event["seq"] == 2:
            event["amount"] += 990_000
        await redis.xadd(changed, {"e": msgpack.packb(event)}, id=entry_id)
    await redis.xdel(keys.lot(lots[2]).events, "2-0")
    epochs = {lot: await _epoch(redis, keys, lot) for lot in lots}
    mismatches = metrics.HISTORY_LOSS.labels("journal_mismatch")._value.get()

    outcomes = await Recovery(redis, keys, store).check_batch([positions[lot] for lot in lots])

    assert outcomes == ["rebuilt", "rebuilt", "rebuilt", "reepoched", "ok"]
    # the changed event and the missing one are both the journal's mismatch
    assert metrics.HISTORY_LOSS.labels("journal_mismatch")._value.get() == mismatches + 2
    for lot in lots[:3]:  # rebuilt: the journal's events again, under a new epoch
        stream = await redis.xrange(keys.lot(lot).events)
        assert [msgpack.unpackb(f[b"e"], raw=False)["seq"] for _, f in stream] == [1, 2]
        assert [msgpack.unpackb(f[b"e"], raw=False) for _, f in stream] == [
            e.to_map() for e in journal[lot]]
        assert await _epoch(redis, keys, lot) not in (None, epochs[lot])
    assert await _epoch(redis, keys, lots[3]) != epochs[lots[3]]
    assert await _epoch(redis, keys, lots[4]) == epochs[lots[4]]
    # every rebuilt or re-epoched open room takes the next bid at the next seq
    for lot in lots[:4]:
        other = sale.bidders[1]
        accepted = await rooms.bid(lot, bidder=other.id, paddle=other.paddle,
                                   amount=sale.start + sale.inc)
        assert accepted.seq == 3


async def test_an_empty_batch_and_a_lot_with_no_journal(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_session: MakeSession
) -> None:
    """A scheduled room nobody opened (nothing journalled, seq 0) keeps its epoch; an empty
    batch is no work."""
    sale = await make_session(lots=1, bidders=1)
    (lot,) = sale.lot_ids
    recovery = Recovery(redis, keys, store)
    assert await recovery.check_batch([]) == []
    before = await _epoch(redis, keys, lot)
    (position,) = [p for p in await store_rooms.positions(store) if p.lot_id == lot]
    assert position.max_seq == 0
    assert await recovery.check_batch([position]) == ["ok"]
    assert await _epoch(redis, keys, lot) == before


async def test_a_failed_eligibility_push_is_pushed_on_the_next_check(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_session: MakeSession,
) -> None:
    """The push after a rebuild fails (PostgreSQL went away): the check raises, and the check
    run again finds the rooms whole, rebuilds nothing, and still pushes the lots it owes, once
    (a session whose lots are all closed gets no other push)."""
    sale = await make_session(lots=2, bidders=2)
    lots = sale.lot_ids
    positions, _ = await _journalled(store, redis, keys, rooms, sale)
    for lot in lots:
        lost = keys.lot(lot)
        await redis.delete(lost.state, lost.events, lost.book)
    pushed: list[dict[int, list[int]]] = []
    calls = 0

    async def after_rebuild(by_session: dict[int, list[int]]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise Unavailable(message="PostgreSQL away")
        pushed.append(by_session)

    recovery = Recovery(redis, keys, store, after_rebuild=after_rebuild)
    batch = [positions[lot] for lot in lots]
    with pytest.raises(Unavailable):
        await recovery.check_batch(batch, restart=False)
    assert pushed == []
    # whole now: nothing rebuilt (restart=False: as the drainer's check_lot, no new epochs)
    assert await recovery.check_batch(batch, restart=False) == ["ok", "ok"]
    assert pushed == [{sale.session_id: sorted(lots)}]
    assert await recovery.check_batch(batch, restart=False) == ["ok", "ok"]
    assert len(pushed) == 1  # owed once, pushed once


async def test_a_push_owed_by_a_process_that_died_is_pushed_by_another(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_session: MakeSession,
) -> None:
    """A process rebuilds rooms and dies before their eligibility push: another process, which
    never saw the rebuild, pushes them from its poll (:meth:`Recovery.run`), once, and the
    owed set is empty afterwards."""
    sale = await make_session(lots=2, bidders=2)
    lots = sale.lot_ids
    positions, _ = await _journalled(store, redis, keys, rooms, sale)
    for lot in lots:
        lost = keys.lot(lot)
        await redis.delete(lost.state, lost.events, lost.book)
    pushing = asyncio.Event()

    async def dies_pushing(by_session: dict[int, list[int]]) -> None:
        pushing.set()
        await asyncio.Event().wait()  # never returns: the process dies here

    dying = Recovery(redis, keys, store, after_rebuild=dies_pushing)
    task = asyncio.create_task(dying.check_batch([positions[lot] for lot in lots]))
    await asyncio.wait_for(pushing.wait(), 10)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert await redis.hget(keys.lot(lots[0]).state, "seq") == b"2"  # rebuilt, not pushed

    pushed: list[dict[int, list[int]]] = []
    done = asyncio.Event()

    async def after_rebuild(by_session: dict[int, list[int]]) -> None:
        pushed.append(by_session)
        done.set()

    other = asyncio.create_task(Recovery(redis, keys, store, after_rebuild=after_rebuild).run())
    try:
        await asyncio.wait_for(done.wait(), 10)
        await asyncio.sleep(3 * recovery_module.POLL_S)  # more polls: nothing more to push
    finally:
        other.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await other
    assert pushed == [{sale.session_id: sorted(lots)}]
    assert await redis.smembers(keys.eligibility_owed) == set()


async def test_rooms_lost_together_are_rebuilt_together(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_session: MakeSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every room of a session lost at once (a Redis that lost everything) is rebuilt in one
    pass (:meth:`Recovery.rebuild_many`), in pipelines cut by size: the open rooms take bids
    again and are back in the active set, the hammered one is sold and final; the eligibility
    push is asked once, with the session's four lots; a lot PostgreSQL does not know is left
    alone."""
    monkeypatch.setattr(recovery_module, "RESTORE_ARGS", 1)  # a pipeline per room
    sale = await make_session(lots=4, bidders=2)
    lots = sale.lot_ids
    other = sale.bidders[1]
    positions, journal = await _journalled(store, redis, keys, rooms, sale)
    for lot in lots:
        lost = keys.lot(lot)
        await redis.delete(lost.state, lost.events, lost.book)
    await redis.srem(keys.active, *map(str, lots))
    pushed: list[dict[int, list[int]]] = []

    async def after_rebuild(by_session: dict[int, list[int]]) -> None:
        pushed.append(by_session)

    recovery = Recovery(redis, keys, store, after_rebuild=after_rebuild)
    unknown = store_rooms.Position(max(lots) + 10**9, "open", 2)
    outcomes = await recovery.check_batch([*(positions[lot] for lot in lots), unknown])

    assert outcomes == ["rebuilt"] * 4 + ["ok"]
    assert pushed == [{sale.session_id: list(lots)}]
    for lot in lots:
        stream = await redis.xrange(keys.lot(lot).events)
        assert [msgpack.unpackb(f[b"e"], raw=False) for _, f in stream] == [
            e.to_map() for e in journal[lot]]
    assert {int(m) for m in await redis.smembers(keys.active)} & set(lots) == set(lots[:3])
    sold = await redis.hmget(keys.lot(lots[3]).state, ["status", "final"])
    assert sold == [b"sold", b"1"]
    assert await redis.exists(keys.lot(unknown.lot_id).state) == 0
    for lot in lots[:3]:
        accepted = await rooms.bid(lot, bidder=other.id, paddle=other.paddle,
                                   amount=sale.start + sale.inc)
        assert accepted.seq == 3
