"""The ordered link (auction/rooms/ordered.py) and the lanes' calls in flight on it, against a
real Redis: replies come back in the order written, an error reply answers only its own
command, a lost connection tells every waiting command, and a lane with two calls in flight
keeps its lot's bids in order through ``NOSCRIPT`` and a killed connection."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from auction.domain.lot import LotMode
from auction.rooms.keys import Keys
from auction.rooms.lanes import SKIPPED, WINDOW, LaneLimits
from auction.rooms.ordered import OrderedLink
from auction.rooms.service import Rooms

START, INC = 1_000_000, 10_000
BIDDERS = (1, 2, 3, 4)


async def open_lot(rooms: Rooms, lot: int) -> None:
    await rooms.init_lot(lot, mode=LotMode.LIVE, start=START, inc=INC, reserve=0, session_id=1)
    await rooms.redis.hset(rooms.keys.lot(lot).eligible,
                           mapping={"written": "1", **{str(b): "1" for b in BIDDERS}})
    await rooms.open(lot)


def ladder(n: int) -> list[tuple[int, int]]:
    return [(BIDDERS[i % len(BIDDERS)], START + i * INC) for i in range(n)]


async def test_replies_come_back_in_the_order_written(redis: Redis, keys: Keys) -> None:
    link = OrderedLink(redis)
    key = f"{keys.namespace}:ordered:n"
    try:
        futures = [await link.send("INCR", key) for _ in range(200)]
        assert link.waiting <= 200
        assert await asyncio.gather(*futures) == list(range(1, 201))
        assert link.waiting == 0
    finally:
        await link.close()
        await redis.delete(key)


async def test_an_error_reply_answers_only_its_own_command(redis: Redis, keys: Keys) -> None:
    link = OrderedLink(redis)
    key = f"{keys.namespace}:ordered:e"
    try:
        first = await link.send("SET", key, "a")
        wrong = await link.send("INCR", key)  # not an integer: an error reply
        after = await link.send("GET", key)
        assert await first is True or await first == b"OK"
        with pytest.raises(ResponseError):
            await wrong
        assert await after == b"a"
    finally:
        await link.close()
        await redis.delete(key)


async def test_a_killed_connection_tells_every_waiting_command_and_the_next_connects(
    redis: Redis, keys: Keys
) -> None:
    link = OrderedLink(redis)
    try:
        own = await (await link.send("CLIENT", "ID"))
        # the connection blocks on a BLPOP; a second command waits behind it
        blocked = await link.send("BLPOP", f"{keys.namespace}:ordered:never", 5)
        behind = await link.send("PING")
        await asyncio.sleep(0.05)
        assert await redis.execute_command("CLIENT", "KILL", "ID", own) == 1
        for future in (blocked, behind):
            with pytest.raises(RedisConnectionError):
                await asyncio.wait_for(future, 5)
        assert await (await link.send("PING")) in (True, b"PONG")
    finally:
        await link.close()


async def test_a_lane_keeps_two_calls_in_flight_and_its_lot_in_order(
    redis: Redis, keys: Keys
) -> None:
    """Bids submitted over many ticks go out as calls that overlap (a second call written
    before the first is answered), and every bid of the ladder is accepted in submit order."""
    rooms = Rooms(redis, keys, lanes=LaneLimits(batch=20))
    await rooms.lanes.script.load()
    await open_lot(rooms, 21)
    link = rooms.lanes._link
    assert link is not None
    most = 0
    real_send = link.send

    async def send(*args: Any) -> Any:
        nonlocal most
        answer = await real_send(*args)
        most = max(most, link.waiting)
        return answer

    link.send = send  # type: ignore[method-assign]
    futures = []
    for i, (b, a) in enumerate(ladder(400)):
        futures.append(rooms.lanes.submit(21, bidder=b, paddle=100 + b, amount=a,
                                          idem=f"b{b}:k{i}"))
        if i % 10 == 0:
            await asyncio.sleep(0)
    results = await asyncio.gather(*futures)
    assert [r.seq for r in results] == list(range(2, 402))
    assert most == WINDOW, most
    await rooms.lanes.aclose()


async def test_a_call_whose_predecessor_never_ran_is_skipped_and_sent_again_in_order(
    redis: Redis, keys: Keys
) -> None:
    """The first call meets ``NOSCRIPT`` (the script is not loaded); before the second call
    (sent behind it) runs, another client loads the script. The second call must not run ahead
    of the first: it answers ``skipped``, and the lane sends both again in order — every bid of
    the ladder accepted with consecutive seqs."""
    rooms = Rooms(redis, keys, lanes=LaneLimits(batch=5))
    await open_lot(rooms, 22)
    await redis.script_flush()
    link = rooms.lanes._link
    assert link is not None
    answers: list[Any] = []
    sent = 0
    real_send = link.send

    async def send(*args: Any) -> Any:
        nonlocal sent
        sent += 1
        if sent == 2:  # the first call was written without the script: load it now
            other = Redis(connection_pool=redis.connection_pool)
            await other.script_load(rooms.lanes.script.source)
        answer = await real_send(*args)
        answer.add_done_callback(
            lambda f: answers.append(f.exception() or f.result()))
        return answer

    link.send = send  # type: ignore[method-assign]
    bids = ladder(10)
    futures = [rooms.lanes.submit(22, bidder=b, paddle=100 + b, amount=a, idem=f"b{b}:k{i}")
               for i, (b, a) in enumerate(bids)]
    results = await asyncio.gather(*futures)
    assert [r.seq for r in results] == list(range(2, 12))
    assert type(answers[0]).__name__ == "NoScriptError"
    assert answers[1] == SKIPPED
    state = await rooms.room_state(22)
    assert state is not None and (state.high, state.bids) == (bids[-1][1], 10)
    await rooms.lanes.aclose()


async def test_calls_in_flight_on_a_killed_connection_are_answered_and_the_lane_goes_on(
    redis: Redis, keys: Keys
) -> None:
    """The link's connection is killed with calls in flight: each of their bids is answered
    with the connection error (whether it ran is unknown; the same key may be sent again), no
    caller waits for ever, and the next bids go out on a new connection, in order."""
    rooms = Rooms(redis, keys, lanes=LaneLimits(batch=5))
    await rooms.lanes.script.load()
    await open_lot(rooms, 23)
    link = rooms.lanes._link
    assert link is not None
    own = await (await link.send("CLIENT", "ID"))
    # a slow command ahead holds the bids' calls in flight behind it
    await link.send("BLPOP", f"{keys.namespace}:ordered:never", 5)
    bids = ladder(20)
    futures = [rooms.lanes.submit(23, bidder=b, paddle=100 + b, amount=a, idem=f"b{b}:k{i}")
               for i, (b, a) in enumerate(bids)]
    for _ in range(50):
        await asyncio.sleep(0.01)
        if link.waiting >= 2:
            break
    assert link.waiting >= 2
    assert await redis.execute_command("CLIENT", "KILL", "ID", own) == 1
    outcomes = await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), 10)
    lost = [o for o in outcomes if isinstance(o, RedisConnectionError)]
    decided = [o for o in outcomes if hasattr(o, "seq")]
    assert lost and len(lost) + len(decided) == len(bids), outcomes
    # the lane goes on, on a new connection: a higher bid is accepted, and the lot's bids
    # went in as the lane sent them (amounts strictly rising, consecutive seqs)
    last = await rooms.lanes.submit(23, bidder=1, paddle=101, amount=START + 100 * INC,
                                    idem="b1:last")
    events = await rooms.events_after(23, 1)
    assert events is not None and events[-1].seq == last.seq
    amounts = [e.data["amount"] for e in events if e.kind == "bid"]
    assert amounts == sorted(set(amounts)) and amounts[-1] == START + 100 * INC
    await rooms.lanes.aclose()
