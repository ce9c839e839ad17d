"""The drainer against real Redis and PostgreSQL: every event persisted once, every closed lot
settled once, with its digest and (if sold) its registration outbox row."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from typing import Any

import pytest
from redis.asyncio import Redis
from settlement_factory import LotFixture, MakeLot

from auction.domain.room import LotEvent
from auction.registration.packet import packet_body
from auction.rooms.keys import Keys
from auction.rooms.service import Rooms, decode_event
from auction.settlement.digest import bid_log_sha256
from auction.settlement.drainer import Drainer
from auction.settlement.settle import Settled, settle
from auction.store import Store, journal
from auction.store.errors import Unavailable


async def stream(redis: Redis, keys: Keys, lot_id: int) -> list[LotEvent]:
    entries: Any = await redis.xrange(keys.lot(lot_id).events)
    return [decode_event(fields[b"e"]) for _id, fields in entries]


async def journal_rows(store: Store, lot_id: int) -> list[dict[str, Any]]:
    rows = await store.pool.fetch(
        "SELECT seq, epoch, kind, (extract(epoch FROM at) * 1000)::bigint AS at_ms,"
        " bidder_id, paddle, amount_fen FROM lot_events WHERE lot_id = $1 ORDER BY seq",
        lot_id,
    )
    return [dict(r) for r in rows]


def expected_rows(events: list[LotEvent], epoch: str) -> list[dict[str, Any]]:
    return [
        {
            "seq": e.seq, "epoch": epoch, "kind": e.kind, "at_ms": e.at,
            "bidder_id": e.data.get("bidder"), "paddle": e.data.get("paddle"),
            "amount_fen": e.data.get("amount"),
        }
        for e in events
    ]


async def run_sale(rooms: Rooms, lot: LotFixture, bids: int, *, close: str = "hammer") -> None:
    await rooms.open(lot.lot_id)
    for i in range(bids):
        b = lot.bidders[i % len(lot.bidders)]
        await rooms.bid(lot.lot_id, bidder=b.id, paddle=b.paddle, amount=lot.start + i * lot.inc)
    await rooms.close(lot.lot_id, close)


async def epoch_of(redis: Redis, keys: Keys, lot_id: int) -> str:
    raw: Any = await redis.hget(keys.lot(lot_id).state, "epoch")
    assert isinstance(raw, bytes)
    return raw.decode()


async def test_sold_lot_is_journalled_and_settled(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_lot: MakeLot
) -> None:
    """A hammered lot's stream lands in lot_events verbatim, with result, digest and outbox row."""
    lot = await make_lot()
    await run_sale(rooms, lot, bids=5)
    events = await stream(redis, keys, lot.lot_id)

    written = await Drainer(store, redis, keys).drain_once()

    assert written == len(events) == 7
    epoch = await epoch_of(redis, keys, lot.lot_id)
    assert await journal_rows(store, lot.lot_id) == expected_rows(events, epoch)
    bids = await journal.bid_log(store, lot.lot_id)
    # the digest recomputed from the Redis stream itself, by the documented line format
    lines = "".join(
        f"{e.seq}|{e.data['paddle']}|{e.data['amount']}|{e.at}\n" for e in events if e.kind == "bid"
    )
    assert bid_log_sha256(bids) == hashlib.sha256(lines.encode()).hexdigest()

    sold = events[-1]
    result = await store.pool.fetchrow("SELECT * FROM lot_results WHERE lot_id = $1", lot.lot_id)
    assert result["outcome"] == "sold"
    assert result["winner_id"] == sold.data["bidder"] == lot.bidders[0].id
    assert result["paddle"] == lot.bidders[0].paddle
    assert result["amount_fen"] == lot.start + 4 * lot.inc
    assert result["winning_seq"] == sold.data["winning_seq"] == 6
    assert result["bid_count"] == 5
    assert result["bid_log_sha256"] == hashlib.sha256(lines.encode()).hexdigest()
    status = await store.pool.fetchval("SELECT status FROM lots WHERE id = $1", lot.lot_id)
    assert status == "sold"

    row = await store.pool.fetchrow(
        "SELECT idempotency_key, packet::text AS packet, status, attempts"
        " FROM registration_outbox WHERE lot_id = $1",
        lot.lot_id,
    )
    assert row["status"] == "pending" and row["attempts"] == 0
    assert row["idempotency_key"].startswith(f"lot-{lot.lot_id}-")
    packet = json.loads(row["packet"])
    assert {k: packet["contract"][k] for k in (
        "type", "total_amount_fen", "tech_amount_fen", "currency")} == {
        "type": "技术转让", "total_amount_fen": lot.start + 4 * lot.inc,
        "tech_amount_fen": lot.start + 4 * lot.inc - lot.non_tech_fen, "currency": "CNY",
    }
    assert packet["winning_bid"] == {"seq": 6, "amount_fen": lot.start + 4 * lot.inc}
    assert packet["buyer"]["paddle"] == lot.bidders[0].paddle
    assert packet["seller"] == {"name": "山东某大学", "uscc": "12370000MB1234567X",
                                "kind": "enterprise", "resident_id": None, "region": "370000",
                                "nature": "其他事业单位"}
    assert packet["session"]["market_code"] == lot.market_code
    assert packet["hammer_at"].endswith("+08:00")
    assert packet["bid_log_sha256"] == result["bid_log_sha256"]
    assert packet["packet_id"] in row["idempotency_key"]
    assert packet_body(packet).decode() == json.dumps(
        packet, ensure_ascii=False, separators=(",", ":"), sort_keys=True
    )
    assert not await redis.sismember(keys.active, str(lot.lot_id))


async def test_passed_lot_settles_without_outbox(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_lot: MakeLot
) -> None:
    """A lot below its reserve passes: result with reason and digest, no registration row."""
    lot = await make_lot(reserve_fen=10_000_000_00)
    await run_sale(rooms, lot, bids=2)
    await Drainer(store, redis, keys).drain_once()

    result = await store.pool.fetchrow("SELECT * FROM lot_results WHERE lot_id = $1", lot.lot_id)
    assert (result["outcome"], result["reason"], result["winner_id"]) == (
        "passed", "reserve_not_met", None,
    )
    assert result["bid_count"] == 2
    assert result["bid_log_sha256"] == bid_log_sha256(await journal.bid_log(store, lot.lot_id))
    assert await store.pool.fetchval(
        "SELECT count(*) FROM registration_outbox WHERE lot_id = $1", lot.lot_id
    ) == 0
    status = await store.pool.fetchval("SELECT status FROM lots WHERE id = $1", lot.lot_id)
    assert status == "passed"


async def test_settling_twice_is_a_no_op(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_lot: MakeLot
) -> None:
    """A second settle of a settled lot writes nothing and says 'already settled'."""
    lot = await make_lot()
    await run_sale(rooms, lot, bids=3)
    await Drainer(store, redis, keys).drain_once()
    before = await store.pool.fetchrow(
        "SELECT r.settled_at, o.created_at FROM lot_results r"
        " JOIN registration_outbox o USING (lot_id) WHERE lot_id = $1",
        lot.lot_id,
    )
    terminal = (await stream(redis, keys, lot.lot_id))[-1]

    assert await settle(store, lot.lot_id, terminal) is Settled.ALREADY
    assert str(Settled.ALREADY) == "already settled"
    after = await store.pool.fetchrow(
        "SELECT r.settled_at, o.created_at FROM lot_results r"
        " JOIN registration_outbox o USING (lot_id) WHERE lot_id = $1",
        lot.lot_id,
    )
    assert before == after
    assert await store.pool.fetchval(
        "SELECT count(*) FROM registration_outbox WHERE lot_id = $1", lot.lot_id
    ) == 1


async def test_two_concurrent_drainers_write_each_event_once(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_lot: MakeLot
) -> None:
    """Two drainers racing over the same lots write every event exactly once between them."""
    lots = [await make_lot() for _ in range(4)]
    for i, lot in enumerate(lots):
        await run_sale(rooms, lot, bids=3 + i)
    total = sum([len(await stream(redis, keys, lot.lot_id)) for lot in lots])

    a, b = Drainer(store, redis, keys), Drainer(store, redis, keys)
    written = await asyncio.gather(a.drain_once(), b.drain_once(), a.drain_once(), b.drain_once())

    assert sum(written) == total
    for lot in lots:
        epoch = await epoch_of(redis, keys, lot.lot_id)
        assert await journal_rows(store, lot.lot_id) == expected_rows(
            await stream(redis, keys, lot.lot_id), epoch
        )
        assert await store.pool.fetchval(
            "SELECT count(*) FROM lot_results WHERE lot_id = $1", lot.lot_id
        ) == 1
    assert await redis.scard(keys.active) == 0


async def test_drain_resumes_from_what_postgres_holds(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_lot: MakeLot
) -> None:
    """A new drainer (a restart) continues after the persisted seq and settles at the end."""
    lot = await make_lot()
    await rooms.open(lot.lot_id)
    b0, b1 = lot.bidders
    await rooms.bid(lot.lot_id, bidder=b0.id, paddle=b0.paddle, amount=lot.start)
    assert await Drainer(store, redis, keys).drain_once() == 2

    await rooms.bid(lot.lot_id, bidder=b1.id, paddle=b1.paddle, amount=lot.start + lot.inc)
    await rooms.close(lot.lot_id, "hammer")
    assert await Drainer(store, redis, keys).drain_once() == 2

    assert [r["seq"] for r in await journal_rows(store, lot.lot_id)] == [1, 2, 3, 4]
    assert await store.pool.fetchval(
        "SELECT winner_id FROM lot_results WHERE lot_id = $1", lot.lot_id
    ) == b1.id


async def test_lot_persisted_but_not_settled_is_settled_after_restart(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_lot: MakeLot
) -> None:
    """If a drainer died between persisting the terminal event and settling, the next settles."""
    lot = await make_lot()
    await run_sale(rooms, lot, bids=2)
    events = await stream(redis, keys, lot.lot_id)
    await journal.insert_events(store, lot.lot_id, await epoch_of(redis, keys, lot.lot_id), events)

    assert await Drainer(store, redis, keys).drain_once() == 0
    assert await store.pool.fetchval(
        "SELECT outcome FROM lot_results WHERE lot_id = $1", lot.lot_id
    ) == "sold"
    assert not await redis.sismember(keys.active, str(lot.lot_id))


async def test_a_failed_write_is_retried_and_nothing_is_lost(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_lot: MakeLot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A PostgreSQL failure on one pass leaves the events in Redis; the next pass writes them."""
    lot = await make_lot()
    await run_sale(rooms, lot, bids=3)
    real = journal.insert_batch
    calls = 0

    async def flaky(*args: Any, **kwargs: Any) -> dict[int, int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise Unavailable()  # what the store raises when PostgreSQL went away
        return await real(*args, **kwargs)

    monkeypatch.setattr(journal, "insert_batch", flaky)
    drainer = Drainer(store, redis, keys)
    with pytest.raises(Unavailable):
        await drainer.drain_once()
    assert await redis.sismember(keys.active, str(lot.lot_id))
    assert await journal_rows(store, lot.lot_id) == []
    assert await drainer.drain_once() == 5
    assert len(await journal_rows(store, lot.lot_id)) == 5


async def test_run_holds_a_lease_and_persists_bids_within_a_second(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_lot: MakeLot
) -> None:
    """Two running drainers: one holds the lease; a fresh bid reaches PostgreSQL in < 1 s."""
    lot = await make_lot()
    await rooms.open(lot.lot_id)
    a, b = Drainer(store, redis, keys), Drainer(store, redis, keys)
    tasks = [asyncio.create_task(a.run()), asyncio.create_task(b.run())]
    try:
        await asyncio.sleep(0.3)
        holder: Any = await redis.get(keys.lease("drainer"))
        assert isinstance(holder, bytes) and holder.decode() in (a.lease.token, b.lease.token)

        b0 = lot.bidders[0]
        accepted = await rooms.bid(lot.lot_id, bidder=b0.id, paddle=b0.paddle, amount=lot.start)
        started = time.monotonic()
        while await journal.max_seq(store, lot.lot_id) < accepted.seq:
            assert time.monotonic() - started < 1.0, "bid not persisted within a second"
            await asyncio.sleep(0.01)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert await redis.get(keys.lease("drainer")) is None
