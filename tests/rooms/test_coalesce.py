"""Several lots' bid calls share one round trip (auction/rooms/coalesce.py), against a real
Redis: each lot's bids still reach ``bid.lua`` in order, each caller gets its own reply or
error, and a stopped round trip tells every caller."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from auction.domain.errors import Rejection
from auction.rooms.coalesce import Coalescer
from auction.rooms.keys import Keys
from auction.rooms.service import Rooms
from tests.rooms.test_lanes import BIDDERS, INC, START, ladder, open_lot


def counting_shared_round_trips(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record how many callers' commands each of the coalescer's round trips carries (the real
    round trip still runs)."""
    sizes: list[int] = []
    real = Coalescer._send

    async def send(self: Coalescer, batch: Any) -> None:
        sizes.append(len(batch))
        await real(self, batch)

    monkeypatch.setattr(Coalescer, "_send", send)
    return sizes


async def test_ten_lots_bid_in_one_turn_share_one_round_trip_and_keep_their_order(
    redis: Redis, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three increasing bids on each of ten lots, submitted in one tick: one round trip carries
    the ten lots' calls, every bid is accepted at its lot's next seq in submit order."""
    rooms = Rooms(redis, keys)
    lots = list(range(1, 11))
    for lot in lots:
        await open_lot(rooms, lot)
    await rooms.lanes.script.load()
    sizes = counting_shared_round_trips(monkeypatch)
    bids = ladder(3)
    futures = {lot: [rooms.lanes.submit(lot, bidder=b, paddle=100 + b, amount=a,
                                        idem=f"b{b}:{lot}-{i}")
                     for i, (b, a) in enumerate(bids)] for lot in lots}
    for lot in lots:
        results = await asyncio.gather(*futures[lot])
        assert [r.seq for r in results] == [2, 3, 4], lot
        state = await rooms.room_state(lot)
        assert state is not None and (state.high, state.bids) == (bids[-1][1], 3)
    assert sizes == [10], sizes


async def test_a_shared_round_trip_after_a_restart_loads_the_script_and_sends_again(
    redis: Redis, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The script is not in Redis (a new namespace's script, as after a restart): every call of
    the shared round trip gets ``NOSCRIPT``, each lane loads the script and sends again, and
    every bid is accepted once, in order; a refused bid is refused for its own lot only."""
    rooms = Rooms(redis, keys)
    lots = [21, 22, 23, 24, 25]
    for lot in lots:
        await open_lot(rooms, lot)
    sizes = counting_shared_round_trips(monkeypatch)
    bids = ladder(4)
    futures = {lot: [rooms.lanes.submit(lot, bidder=b, paddle=100 + b, amount=a,
                                        idem=f"b{b}:{lot}-{i}")
                     for i, (b, a) in enumerate(bids)] for lot in lots}
    low = rooms.lanes.submit(lots[0], bidder=BIDDERS[0], paddle=100, amount=START, idem="low")
    for lot in lots:
        results = await asyncio.gather(*futures[lot])
        assert [r.seq for r in results] == [2, 3, 4, 5], lot
    with pytest.raises(Rejection) as refused:
        await low
    assert refused.value.code == "too_low"
    assert sizes[0] == len(lots), sizes  # the round trip that met NOSCRIPT
    assert sum(sizes[1:]) == len(lots), sizes  # each lot's call once more, however grouped
    for lot in lots[1:]:
        state = await rooms.room_state(lot)
        assert state is not None and state.bids == 4 and state.high == START + 3 * INC


async def test_each_caller_gets_its_own_reply_or_error(redis: Redis, keys: Keys) -> None:
    """A command that fails (WRONGTYPE) fails for its caller alone; the others of the same
    round trip get their replies."""
    text, table = f"{keys.namespace}:c:text", f"{keys.namespace}:c:table"
    await redis.set(text, "一")
    await redis.hset(table, "f", "二")
    shared = Coalescer(redis)
    replies = await asyncio.gather(
        shared.execute("GET", text), shared.execute("HGET", text, "f"),
        shared.execute("HGET", table, "f"), return_exceptions=True)
    assert replies[0] == "一".encode()
    assert isinstance(replies[1], ResponseError) and "WRONGTYPE" in str(replies[1])
    assert replies[2] == "二".encode()


async def test_a_lone_command_goes_without_a_pipeline(
    redis: Redis, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = f"{keys.namespace}:c:lone"
    await redis.set(key, "1")
    pipelines: list[object] = []
    real = Redis.pipeline

    def pipeline(self: Redis, *args: Any, **kwargs: Any) -> Any:
        pipelines.append(self)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Redis, "pipeline", pipeline)
    shared = Coalescer(redis)
    assert await shared.execute("GET", key) == b"1"
    assert pipelines == []
    assert await asyncio.gather(shared.execute("GET", key), shared.execute("GET", key)) \
        == [b"1", b"1"]
    assert len(pipelines) == 1


async def test_callers_waiting_on_a_stopped_round_trip_are_told(
    redis: Redis, keys: Keys
) -> None:
    """The caller that leads a round trip is cancelled (shutdown) before sending: the callers
    that joined it get an error instead of waiting for ever, and the next round trip works."""
    key = f"{keys.namespace}:c:stop"
    await redis.set(key, "1")
    shared = Coalescer(redis)
    leader = asyncio.create_task(shared.execute("GET", key))
    follower = asyncio.create_task(shared.execute("GET", key))
    await asyncio.sleep(0)  # both have queued their command; the leader waits one turn
    leader.cancel()
    done = await asyncio.gather(leader, follower, return_exceptions=True)
    assert isinstance(done[0], asyncio.CancelledError)
    assert isinstance(done[1], RedisConnectionError)
    assert await asyncio.wait_for(shared.execute("GET", key), 5) == b"1"
