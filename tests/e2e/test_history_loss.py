"""History lost in Redis is detected and told, never hidden (invariant 11, issue 8 part 3).

These tests damage the room of a real server's lot the way a torn AOF tail or a restart would,
on the machine's shared Redis (the fault suite, tests/faults, does it with real kill -9 and
truncated files on a Redis of its own): the room is rebuilt from the PostgreSQL journal or gets a
new epoch, watchers get ``snapshot recovered: false``, and no (lot, seq) carries two events.

Each test's server runs on a database of its own: the check after a restart covers every lot of
the database, and on the suite's shared one that is every lot the other tests left there (rooms
of other namespaces, each "gone" and rebuilt: thousands in a full run, past 10 s on a slow
machine; CI, 2026-12-02). And on a ``redis-server`` of its own: ``SCRIPT FLUSH`` empties the
script cache of every client of a Redis, and the machine's is shared by the tests running beside
these (``pytest -n``): a pipeline of theirs queued after its script was checked would meet
``NOSCRIPT``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
from redis.asyncio import Redis

from auction.rooms.keys import Keys
from auction.settings import Settings
from auction.store import Store, journal
from auction.store import rooms as store_rooms
from tests.conftest import opened_store
from tests.e2e.conftest import fresh_server
from tests.e2e.harness import Raw, Server, create_sale, raw_client
from tests.e2e.test_live_auction import command
from tests.faults.cluster import RedisServer


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A ``redis-server`` of the test's own (module docstring), stopped after it."""
    own = RedisServer(tmp_path / "own-redis")
    own.start("--appendonly", "no")
    try:
        yield own
    finally:
        own.stop()


@pytest.fixture
async def redis(own_redis: RedisServer) -> AsyncIterator[Redis]:
    """A client of the test's own Redis."""
    await own_redis.wait_ready()
    client = Redis.from_url(own_redis.url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def server(
    settings: Settings, tmp_path: Any, fresh_database_url: str, redis: Redis,
    own_redis: RedisServer,
) -> AsyncIterator[Server]:
    """A fresh server on a database and a Redis of its own (module docstring)."""
    own = settings.with_changes(database_url=fresh_database_url, redis_url=own_redis.url)
    async with fresh_server(own, tmp_path) as srv:
        yield srv


@pytest.fixture
async def store(fresh_database_url: str) -> AsyncIterator[Store]:
    """A Store on the server's own database."""
    async with opened_store(fresh_database_url) as opened:
        yield opened


async def _bids(sale: Any, clients: tuple[Raw, Raw], lot: int, count: int, start: int) -> int:
    amount = start
    for i in range(count):
        client = clients[i % 2]
        key = f"b{lot}-{amount}"
        await client.send(t="bid", lot=lot, amount=amount, key=key)
        reply = await client.until(lambda m, k=key: m.get("key") == k)
        assert reply["t"] == "ack", reply
        amount += 10_000
    return amount


async def _journalled(store: Store, lot: int, seq: int) -> None:
    for _ in range(100):
        if await journal.max_seq(store, lot) >= seq:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"seq {seq} of lot {lot} never reached PostgreSQL")


async def _seqs_and_events(store: Store, lot: int) -> list[tuple[int, str, Any]]:
    return [(e.seq, e.kind, e.data.get("amount")) for e in await store_rooms.events(store, lot)]


async def test_a_torn_tail_after_the_drain_is_rebuilt_from_postgresql(
    server: Server, redis: Redis, store: Store
) -> None:
    """Redis loses the last bid after it reached PostgreSQL (same epoch, seq one back): the room
    is rebuilt from the journal under a new epoch, the watcher is told, the next bid continues
    after the journal's last seq and PostgreSQL never holds two versions of a seq."""
    sale = await create_sale(server, mode="live", bidders=2)
    lot = sale.lots[0]
    keys = Keys(server.settings.redis_namespace).lot(lot)
    async with raw_client(server, sale.auctioneer) as console, \
            raw_client(server, sale.tokens[0]) as b1, raw_client(server, sale.tokens[1]) as b2, \
            raw_client(server) as viewer:
        await command(console, lot, "open", "o")
        await viewer.send(t="sub", lot=lot)
        first = await viewer.until(lambda m: m["t"] == "snapshot")
        amount = await _bids(sale, (b1, b2), lot, 5, 1_000_000)
        await _journalled(store, lot, 6)
        before = await _seqs_and_events(store, lot)

        # the torn tail: the room goes back to seq 5 with its epoch, the stream loses entry 6
        events = await store_rooms.events(store, lot)
        previous = events[-2]  # bid at seq 5
        await redis.xdel(keys.events, "6-0")
        await redis.hset(keys.state, mapping={
            "seq": 5, "high": previous.data["amount"], "leader": previous.data["bidder"],
            "paddle": previous.data["paddle"], "high_seq": 5, "bids": 4,
        })

        told = await viewer.until(lambda m: m["t"] == "snapshot" and m is not first)
        assert told["recovered"] is False
        assert told["epoch"] != first["epoch"]
        assert told["seq"] == 6 and told["state"]["high"] == before[-1][2]

        # the next bid continues after the journal's last seq, under the new epoch
        leader = b1 if told["state"]["paddle"] == sale.paddles[1] else b2
        await leader.send(t="bid", lot=lot, amount=amount, key="after")
        reply = await leader.until(lambda m: m.get("key") == "after")
        assert reply["t"] == "ack" and reply["seq"] == 7, reply
        event = await viewer.until(lambda m: m["t"] == "ev" and m["seq"] == 7)
        assert event["epoch"] == told["epoch"]
    await _journalled(store, lot, 7)
    after = await _seqs_and_events(store, lot)
    assert after[:6] == before and after[6] == (7, "bid", amount)


async def test_a_restarted_redis_is_checked_before_any_bid(
    server: Server, redis: Redis, store: Store
) -> None:
    """After a restart (a new run id; the script cache empty) the first bid waits for the check:
    the open room gets a new epoch, a watcher and a client resuming with the old epoch get
    ``recovered: false``, and the bid is then accepted."""
    sale = await create_sale(server, mode="live", bidders=2)
    lot = sale.lots[0]
    namespace = server.settings.redis_namespace
    async with raw_client(server, sale.auctioneer) as console, \
            raw_client(server, sale.tokens[0]) as b1, raw_client(server, sale.tokens[1]) as b2, \
            raw_client(server) as viewer:
        await command(console, lot, "open", "o")
        await viewer.send(t="sub", lot=lot)
        first = await viewer.until(lambda m: m["t"] == "snapshot")
        amount = await _bids(sale, (b1, b2), lot, 2, 1_000_000)

        # what a restart looks like from here: another run id than the one checked, no scripts
        await store.pool.execute(
            "UPDATE redis_verifications SET run_id = 'before-restart' WHERE namespace = $1",
            namespace)
        await redis.script_flush()

        await b1.send(t="bid", lot=lot, amount=amount, key="after-restart")
        reply = await b1.until(lambda m: m.get("key") == "after-restart")
        assert reply["t"] == "ack" and reply["seq"] == 4, reply
        told = await viewer.until(lambda m: m["t"] == "snapshot" and m is not first)
        assert told["recovered"] is False and told["epoch"] != first["epoch"]
        run_id = (await redis.info("server"))["run_id"]
        row = await store.pool.fetchrow(
            "SELECT run_id, rooms_reepoched FROM redis_verifications WHERE namespace = $1",
            namespace)
        assert row["run_id"] == run_id and row["rooms_reepoched"] >= 1

    async with raw_client(server, resume={lot: [first["epoch"], 3]}) as late:
        snap = await late.until(lambda m: m["t"] == "snapshot")
        assert snap["recovered"] is False and snap["epoch"] == told["epoch"]


async def test_a_changed_event_in_redis_is_never_journalled_twice(
    server: Server, redis: Redis, store: Store
) -> None:
    """The stream's event at the journal's last seq differs from PostgreSQL's (a room restored
    from another history): the check rebuilds the room from the journal, and the journal keeps
    its one version of that seq."""
    sale = await create_sale(server, mode="live", bidders=2)
    lot = sale.lots[0]
    keys = Keys(server.settings.redis_namespace).lot(lot)
    async with raw_client(server, sale.auctioneer) as console, \
            raw_client(server, sale.tokens[0]) as b1, raw_client(server, sale.tokens[1]) as b2:
        await command(console, lot, "open", "o")
        await _bids(sale, (b1, b2), lot, 3, 1_000_000)
        await _journalled(store, lot, 4)
        before = await _seqs_and_events(store, lot)
        # rewrite the stream: entry 4 now carries another amount
        entries = await redis.xrange(keys.events)
        await redis.delete(keys.events)
        for entry_id, fields in entries:
            event = msgpack.unpackb(fields[b"e"], raw=False)
            if event["seq"] == 4:
                event["amount"] += 990_000
            await redis.xadd(keys.events, {"e": msgpack.packb(event)}, id=entry_id)
        await store.pool.execute(
            "UPDATE redis_verifications SET run_id = 'before-restart' WHERE namespace = $1",
            server.settings.redis_namespace)
        await redis.script_flush()
        await b1.send(t="bid", lot=lot, amount=2_000_000, key="x")
        reply = await b1.until(lambda m: m.get("key") == "x")
        assert reply["t"] in ("ack", "nack"), reply
    stream = await redis.xrange(keys.events, min="4-0", max="4-0")
    assert msgpack.unpackb(stream[0][1][b"e"], raw=False)["amount"] == before[3][2]
    await asyncio.sleep(0.5)
    assert (await _seqs_and_events(store, lot))[:4] == before
