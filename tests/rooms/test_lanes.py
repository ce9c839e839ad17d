"""Bid lanes (auction/rooms/lanes.py) against a real Redis: the bids of a lot reach ``bid.lua``
in the order they were submitted, share round trips, and a bid refused ``overloaded`` (at the
door or after waiting too long) changes nothing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import msgpack
import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from auction.domain.errors import Rejection
from auction.domain.lot import LotMode
from auction.rooms.door import MAX_BATCH, MAX_CALL, LaneLimits, Overloaded, lane_batch
from auction.rooms.keys import Keys
from auction.rooms.lanes import BidLanes
from auction.rooms.service import Rooms
from auction.settings import ConfigError, Settings

START, INC = 1_000_000, 10_000
BIDDERS = (1, 2, 3, 4)


async def open_lot(rooms: Rooms, lot: int) -> None:
    """A live english lot, open, every bidder of :data:`BIDDERS` eligible."""
    await rooms.init_lot(lot, mode=LotMode.LIVE, start=START, inc=INC, reserve=0, session_id=1)
    await rooms.redis.hset(rooms.keys.lot(lot).eligible,
                           mapping={"written": "1", **{str(b): "1" for b in BIDDERS}})
    await rooms.open(lot)


def ladder(n: int) -> list[tuple[int, int]]:
    """``n`` bids (bidder, amount), strictly increasing, never two in a row by one bidder: all
    valid when they reach the script in this order."""
    return [(BIDDERS[i % len(BIDDERS)], START + i * INC) for i in range(n)]


def slow_round_trips(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Every round trip of the lanes takes ``seconds`` longer (a slow machine under load); the
    real call still runs."""
    real = BidLanes._call

    async def slow(self: BidLanes, lot: int, batch: Any) -> list[Any]:
        await asyncio.sleep(seconds)
        return await real(self, lot, batch)

    monkeypatch.setattr(BidLanes, "_call", slow)


def counting_round_trips(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the size of every round trip the lanes make (the real call still runs)."""
    sizes: list[int] = []
    real = BidLanes._call

    async def call(self: BidLanes, lot: int, batch: Any) -> list[Any]:
        sizes.append(len(batch))
        return await real(self, lot, batch)

    monkeypatch.setattr(BidLanes, "_call", call)
    return sizes


async def test_a_ladder_submitted_at_once_is_all_accepted_in_order_in_one_round_trip(
    redis: Redis, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """60 increasing bids submitted in one tick are all accepted, with consecutive seqs in
    submit order, and share one round trip to Redis (the script was not loaded yet: the lane
    loads it and sends the calls again, in order)."""
    rooms = Rooms(redis, keys)
    await open_lot(rooms, 1)
    sizes = counting_round_trips(monkeypatch)
    bids = ladder(60)
    futures = [rooms.lanes.submit(1, bidder=b, paddle=100 + b, amount=a, idem=f"b{b}:k{i}")
               for i, (b, a) in enumerate(bids)]
    results = await asyncio.gather(*futures)
    assert [r.seq for r in results] == list(range(2, 62))  # seq 1 is `opened`
    state = await rooms.room_state(1)
    assert state is not None and (state.high, state.bids) == (bids[-1][1], 60)
    assert sizes[-1] == 60 and sum(sizes) in (60, 120), sizes  # 120: once more after NOSCRIPT


async def test_a_full_lot_queue_goes_to_redis_in_one_call(
    redis: Redis, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the default limits one call takes a lot's whole queue (``per_lot`` bids): a lane
    carries at most one batch per round trip, so a smaller batch capped what one lot could take
    under load (docs/performance.md, "Issue 17, sixth pass")."""
    rooms = Rooms(redis, keys)
    await rooms.lanes.script.load()  # no NOSCRIPT retry: one call per batch
    await open_lot(rooms, 1)
    sizes = counting_round_trips(monkeypatch)
    full = rooms.lanes.limits.per_lot
    assert rooms.lanes.batch >= full
    bids = ladder(full)
    futures = [rooms.lanes.submit(1, bidder=b, paddle=100 + b, amount=a, idem=f"b{b}:k{i}")
               for i, (b, a) in enumerate(bids)]
    assert rooms.lanes.shed(1) is not None  # the queue is full: the next bid is refused
    results = await asyncio.gather(*futures)
    assert [r.seq for r in results] == list(range(2, full + 2))
    assert sizes == [full], sizes


async def test_a_batch_larger_than_one_call_goes_as_several_calls_in_one_round_trip(
    redis: Redis, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch of more than ``MAX_CALL`` bids is split into script calls of at most that many
    (Redis serves other clients between them), sent in one pipeline: one round trip, and the
    bids decided in submit order across the calls, as one call would."""
    n = 2 * MAX_CALL + 76
    rooms = Rooms(redis, keys, lanes=LaneLimits(per_lot=n, total=n))
    await rooms.lanes.script.load()
    await open_lot(rooms, 1)
    sizes = counting_round_trips(monkeypatch)
    calls: list[int] = []
    real_pipeline = redis.pipeline

    def pipeline(*args: Any, **kwargs: Any) -> Any:
        pipe = real_pipeline(*args, **kwargs)
        queue = pipe.execute_command

        def execute_command(*command: Any, **options: Any) -> Any:
            if command[0] == "EVALSHA":
                calls.append(len(msgpack.unpackb(command[-1])))
            return queue(*command, **options)

        pipe.execute_command = execute_command  # type: ignore[method-assign]
        return pipe

    monkeypatch.setattr(redis, "pipeline", pipeline)
    bids = ladder(n)
    futures = [rooms.lanes.submit(1, bidder=b, paddle=100 + b, amount=a, idem=f"b{b}:k{i}")
               for i, (b, a) in enumerate(bids)]
    results = await asyncio.gather(*futures)
    assert [r.seq for r in results] == list(range(2, n + 2))
    assert sizes == [n]
    assert calls == [MAX_CALL, MAX_CALL, 76]
    state = await rooms.room_state(1)
    assert state is not None and (state.high, state.bids) == (bids[-1][1], n)


async def test_bids_arriving_while_a_batch_is_in_flight_follow_it_in_order(
    redis: Redis, keys: Keys
) -> None:
    """Bids submitted over several ticks (each tick while the previous batch is on its way to
    Redis) still reach the script in submit order: every one of a ladder is accepted."""
    rooms = Rooms(redis, keys)
    await open_lot(rooms, 2)
    futures = []
    for i, (b, a) in enumerate(ladder(80)):
        futures.append(rooms.lanes.submit(2, bidder=b, paddle=100 + b, amount=a,
                                          idem=f"b{b}:k{i}"))
        if i % 7 == 0:
            await asyncio.sleep(0)
    results = await asyncio.gather(*futures)
    assert [r.seq for r in results] == list(range(2, 82))


async def test_the_door_sheds_a_full_lane_and_the_shed_bid_changes_nothing(
    redis: Redis, keys: Keys
) -> None:
    """With the lot's queue full, :meth:`BidLanes.shed` answers ``overloaded`` with a retry
    time; the queued bids are all answered and the lot holds only theirs."""
    rooms = Rooms(redis, keys, lanes=LaneLimits(per_lot=5, total=100))
    await open_lot(rooms, 3)
    futures = [rooms.lanes.submit(3, bidder=b, paddle=100 + b, amount=a, idem=f"b{b}:k{i}")
               for i, (b, a) in enumerate(ladder(5))]
    refusal = rooms.lanes.shed(3)
    assert isinstance(refusal, Overloaded) and refusal.code == "overloaded"
    assert 1 <= refusal.retry_after_ms <= 1000
    assert rooms.lanes.shed(4) is None, "another lot's lane is empty"
    await asyncio.gather(*futures)
    assert rooms.lanes.shed(3) is None, "the lane drained"
    assert rooms.lanes.queued == 0


async def test_the_process_queue_limit_sheds_every_lot(redis: Redis, keys: Keys) -> None:
    """The process-wide limit counts the bids queued on all lots together."""
    rooms = Rooms(redis, keys, lanes=LaneLimits(per_lot=100, total=3))
    await open_lot(rooms, 5)
    futures = [rooms.lanes.submit(5, bidder=b, paddle=100 + b, amount=a, idem=f"b{b}:k{i}")
               for i, (b, a) in enumerate(ladder(3))]
    assert isinstance(rooms.lanes.shed(6), Overloaded)
    await asyncio.gather(*futures)


async def test_a_bid_that_waited_too_long_is_refused_and_never_sent(
    redis: Redis, keys: Keys
) -> None:
    """A bid still queued after ``wait_ms`` is answered ``overloaded`` and not sent: nothing is
    stored under its key and the lot's seq does not move; the same key may be sent again."""
    rooms = Rooms(redis, keys, lanes=LaneLimits(wait_ms=1))
    await open_lot(rooms, 7)
    future = rooms.lanes.submit(7, bidder=1, paddle=101, amount=START, idem="b1:late")
    time.sleep(0.01)  # the loop is busy: the bid waits longer than wait_ms before its batch
    with pytest.raises(Overloaded):
        await future
    assert not await redis.hexists(keys.lot(7).idem, "b1:late")
    state = await rooms.room_state(7)
    assert state is not None and (state.seq, state.bids) == (1, 0)
    accepted = await rooms.lanes.submit(7, bidder=1, paddle=101, amount=START, idem="b1:late")
    assert (accepted.seq, accepted.replay) == (2, False)


async def test_rule_refusals_and_vetting_answer_each_bid_of_a_batch(
    redis: Redis, keys: Keys
) -> None:
    """One batch mixes answers: the vet refuses one bid (never sent), the rules refuse another
    (``already_leading``), the others are accepted, each future with its own answer."""
    rooms = Rooms(redis, keys)
    await open_lot(rooms, 8)

    class Refused(Exception):
        pass

    async def vet(lot: int, batch: Any) -> list[BaseException | None]:
        assert lot == 8
        return [Refused() if bid.credential == "revoked" else None for bid in batch]

    rooms.lanes.vet = vet
    first = rooms.lanes.submit(8, bidder=1, paddle=101, amount=START, idem="b1:a")
    again = rooms.lanes.submit(8, bidder=1, paddle=101, amount=START + INC, idem="b1:b")
    vetoed = rooms.lanes.submit(8, bidder=2, paddle=102, amount=START + INC, idem="b2:a",
                                credential="revoked")
    other = rooms.lanes.submit(8, bidder=3, paddle=103, amount=START + INC, idem="b3:a")
    assert (await first).seq == 2
    with pytest.raises(Rejection) as leading:
        await again
    assert leading.value.code == "already_leading"
    with pytest.raises(Refused):
        await vetoed
    assert not await redis.hexists(keys.lot(8).idem, "b2:a")
    assert (await other).seq == 3



async def test_a_bid_whose_decision_raises_fails_alone_and_the_batch_goes_on(
    redis: Redis, keys: Keys
) -> None:
    """``bid.lua`` decides a batch's bids one by one: when one bid's decision raises in Redis
    (here its idempotency entry is unreadable), that bid alone gets the error; the bids before
    and after it in the same call are decided as if each were its own call."""
    rooms = Rooms(redis, keys)
    await open_lot(rooms, 9)
    await redis.hset(keys.lot(9).idem, "b2:broken", "no separator")
    first = rooms.lanes.submit(9, bidder=1, paddle=101, amount=START, idem="b1:a")
    broken = rooms.lanes.submit(9, bidder=2, paddle=102, amount=START + INC, idem="b2:broken")
    after = rooms.lanes.submit(9, bidder=3, paddle=103, amount=START + INC, idem="b3:a")
    assert (await first).seq == 2
    with pytest.raises(ResponseError):
        await broken
    assert (await after).seq == 3
    state = await rooms.room_state(9)
    assert state is not None and (state.high, state.leader, state.bids) == (START + INC, 3, 2)


async def test_floor_and_online_bids_of_one_batch_keep_their_own_fingerprints(
    redis: Redis, keys: Keys
) -> None:
    """The source travels with each bid of the batch: a floor bid's key covers its paddle and
    source (C7), so the same key sent again as an online bid is a conflict, while the online
    bid's key replays."""
    rooms = Rooms(redis, keys)
    await open_lot(rooms, 10)
    floor = rooms.lanes.submit(10, bidder=1, paddle=101, amount=START, idem="f:1",
                               source="floor")
    online = rooms.lanes.submit(10, bidder=2, paddle=102, amount=START + INC, idem="o:2")
    assert [(await floor).seq, (await online).seq] == [2, 3]
    replay = await rooms.lanes.submit(10, bidder=2, paddle=102, amount=START + INC, idem="o:2")
    assert (replay.seq, replay.replay) == (3, True)
    with pytest.raises(Rejection) as conflict:
        await rooms.lanes.submit(10, bidder=1, paddle=101, amount=START, idem="f:1")
    assert conflict.value.code == "idempotency_conflict"
    events = await rooms.events_after(10, 1)
    assert events is not None
    assert [(e.data["paddle"], e.data["source"]) for e in events] == [
        (101, "floor"), (102, "online")]


async def test_the_next_batch_is_vetted_while_the_previous_one_is_in_flight(
    redis: Redis, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two batches overlap: the second batch is taken and vetted while the first one's script
    call is on its way (a call that waits for the second vetting would wait forever if they
    ran one after the other), and the calls still go one at a time in submit order: every bid
    of the ladder is accepted with consecutive seqs."""
    rooms = Rooms(redis, keys, lanes=LaneLimits(batch=5))
    await open_lot(rooms, 11)
    await rooms.lanes.script.load()  # no NOSCRIPT retry: one call per batch
    vetted: list[int] = []
    second_vetted = asyncio.Event()

    async def vet(lot: int, batch: Any) -> list[BaseException | None]:
        vetted.append(len(batch))
        if len(vetted) == 2:
            second_vetted.set()
        return [None] * len(batch)

    calls: list[tuple[str, int]] = []
    real = BidLanes._call

    async def call(self: BidLanes, lot: int, batch: Any) -> list[Any]:
        calls.append(("start", batch[0].amount))
        if len(calls) == 1:
            await asyncio.wait_for(second_vetted.wait(), 5)
        replies = await real(self, lot, batch)
        calls.append(("end", batch[0].amount))
        return replies

    rooms.lanes.vet = vet
    monkeypatch.setattr(BidLanes, "_call", call)
    bids = ladder(15)
    futures = [rooms.lanes.submit(11, bidder=b, paddle=100 + b, amount=a, idem=f"b{b}:k{i}")
               for i, (b, a) in enumerate(bids)]
    results = await asyncio.gather(*futures)
    assert [r.seq for r in results] == list(range(2, 17))
    assert vetted == [5, 5, 5]
    firsts = [bids[0][1], bids[5][1], bids[10][1]]
    expected: list[tuple[str, int]] = [(e, a) for a in firsts for e in ("start", "end")]
    assert [c for c in calls if c[0] in ("start", "end")] == expected  # one call at a time


async def test_a_lane_stopped_with_a_batch_vetted_ahead_answers_every_waiting_bid(
    redis: Redis, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lane cancelled (shutdown) while one batch's call is in flight and the next batch is
    being vetted answers the next batch and the queue ``overloaded``: nothing of theirs was
    sent, and no caller is left waiting for them."""
    rooms = Rooms(redis, keys, lanes=LaneLimits(batch=2))
    await open_lot(rooms, 12)
    in_vet = asyncio.Event()
    never = asyncio.Event()

    async def vet(lot: int, batch: Any) -> list[BaseException | None]:
        if batch[0].idem.endswith(":k2"):  # the second batch
            in_vet.set()
            await never.wait()
        return [None] * len(batch)

    async def call(self: BidLanes, lot: int, batch: Any) -> list[Any]:
        await never.wait()
        raise AssertionError("unreachable")

    rooms.lanes.vet = vet
    monkeypatch.setattr(BidLanes, "_call", call)
    futures = [rooms.lanes.submit(12, bidder=b, paddle=100 + b, amount=a, idem=f"b{b}:k{i}")
               for i, (b, a) in enumerate(ladder(6))]
    await asyncio.wait_for(in_vet.wait(), 5)
    task = rooms.lanes._lanes[12].task
    assert task is not None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for future in futures[2:]:
        assert isinstance(future.exception(), Overloaded)
    assert rooms.lanes.queued == 0 and 12 not in rooms.lanes._lanes
    state = await rooms.room_state(12)
    assert state is not None and (state.seq, state.bids) == (1, 0)
    for future in futures[:2]:  # the batch in flight: its outcome is unknown, never guessed
        future.cancel()


def test_a_round_trip_carries_the_lot_queue_up_to_the_cap() -> None:
    """The deepest a lot's queue may get sets the batch too (the whole queue per round trip), but no
    round trip carries more than :data:`MAX_BATCH` bids, and no script call more than
    :data:`MAX_CALL` (Redis runs a call as one command: the test above splits a batch)."""
    assert LaneLimits().batch == lane_batch(LaneLimits().deepest) == MAX_BATCH
    assert LaneLimits(per_lot=5000, most=100).deepest == 5000
    assert lane_batch(100) == 100 and lane_batch(1) == 1
    assert lane_batch(1_000_000) == MAX_BATCH == 4096
    assert MAX_CALL == 512


async def test_a_lot_that_drains_fast_may_queue_past_per_lot_up_to_most(
    redis: Redis, keys: Keys
) -> None:
    """Past ``per_lot`` the door lets a lot's queue grow while the lane, at the rate it last
    drained, would send it all within a quarter of ``wait_ms``, and never past ``most``. Before the
    lane has drained a batch nothing is known, so ``per_lot`` holds."""
    rooms = Rooms(redis, keys, lanes=LaneLimits(per_lot=4, most=40, total=1000,
                                                wait_ms=60_000))
    await open_lot(rooms, 11)
    bids = ladder(44)
    first = [rooms.lanes.submit(11, bidder=b, paddle=100 + b, amount=a, idem=f"b{b}:k{i}")
             for i, (b, a) in enumerate(bids[:4])]
    assert isinstance(rooms.lanes.shed(11), Overloaded), "not measured yet: per_lot holds"
    await asyncio.gather(*first)  # the lane drained a batch: its rate is known
    rest = []
    for i, (b, a) in enumerate(bids[4:], start=4):
        if rooms.lanes.depth(11) == 40:
            break
        assert rooms.lanes.shed(11) is None, f"refused at depth {rooms.lanes.depth(11)}"
        rest.append(rooms.lanes.submit(11, bidder=b, paddle=100 + b, amount=a,
                                       idem=f"b{b}:k{i}"))
    assert rooms.lanes.depth(11) == 40
    assert isinstance(rooms.lanes.shed(11), Overloaded), "most holds however fast the lane"
    assert [r.seq for r in await asyncio.gather(*rest)] == list(range(6, 46))


async def test_a_lot_that_drains_slowly_sheds_at_per_lot(
    redis: Redis, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lane whose batches take longer than the queue's budget (a quarter of ``wait_ms``) for
    ``per_lot`` bids keeps its queue at ``per_lot``: the answers stay within the wait."""
    slow_round_trips(monkeypatch, 0.02)
    rooms = Rooms(redis, keys, lanes=LaneLimits(per_lot=4, most=40, total=1000, wait_ms=100))
    await open_lot(rooms, 12)
    bids = ladder(9)
    await rooms.lanes.submit(12, bidder=bids[0][0], paddle=100, amount=bids[0][1], idem="k0")
    queued = [rooms.lanes.submit(12, bidder=b, paddle=100 + b, amount=a, idem=f"b{b}:k{i}")
              for i, (b, a) in enumerate(bids[1:5], start=1)]
    # 4 bids at ≥ 20 ms each would take ≥ 80 ms to drain, past the budget of 25 ms
    assert isinstance(rooms.lanes.shed(12), Overloaded)
    await asyncio.gather(*queued)


def test_the_queue_settings_come_from_the_environment(tmp_path: Path) -> None:
    """``AUCTION_BID_QUEUE_LOT_MAX`` beside the other queue variables: defaults, a value, and a
    value out of range refused with the variable's name."""
    base = {"AUCTION_DATA_DIR": str(tmp_path), "AUCTION_SECRET": "s" * 40}
    default = Settings.from_env(base)
    assert (default.bid_queue_lot, default.bid_queue_lot_most, default.bid_queue_total,
            default.bid_queue_wait_ms) == (512, 4096, 8192, 500)
    assert Settings.from_env({**base, "AUCTION_BID_QUEUE_LOT_MAX": "300"}).bid_queue_lot_most == 300
    with pytest.raises(ConfigError, match="AUCTION_BID_QUEUE_LOT_MAX"):
        Settings.from_env({**base, "AUCTION_BID_QUEUE_LOT_MAX": "0"})


async def test_busy_lots_together_shed_by_the_process_drain_rate(
    redis: Redis, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lots whose queues are each below ``per_lot`` but which together would take longer than the
    budget (a quarter of ``wait_ms``) to drain at their lanes' measured rates: the door sheds
    every lot, a quiet one too. Once the lanes are idle again nothing is shed."""
    slow_round_trips(monkeypatch, 0.05)
    rooms = Rooms(redis, keys, lanes=LaneLimits(per_lot=4, most=4, total=1000, wait_ms=200))
    lots = (21, 22, 23)
    for lot in lots:
        await open_lot(rooms, lot)
    await rooms.lanes.script.loaded()  # no NOSCRIPT round trip in the measured ones
    bids = ladder(4)

    def bid(lot: int, i: int) -> asyncio.Future[Any]:
        b, a = bids[i]
        return rooms.lanes.submit(lot, bidder=b, paddle=100 + b, amount=a, idem=f"{lot}:k{i}")

    # each lane: one bid in flight, one queued behind it; once the first is answered, each lane
    # has drained one bid in ≥ 50 ms (≤ 20 bids/s a lot, ≤ 60 for the process) and is busy
    # sending the second
    firsts = [bid(lot, 0) for lot in lots]
    await asyncio.sleep(0.005)
    seconds = [bid(lot, 1) for lot in lots]
    await asyncio.gather(*firsts)
    await asyncio.sleep(0.005)
    thirds = [bid(lot, 2) for lot in lots]
    assert rooms.lanes.shed(21) is None, "3 queued: fewer than per_lot in all"
    fourths = [bid(lot, 3) for lot in lots[:1]]
    # 4 queued (1 a lot, 2 on lot 21) at ≤ 60 bids/s: ≥ 66 ms, past the budget of 50 ms
    assert max(rooms.lanes.depth(lot) for lot in lots) < 4
    assert isinstance(rooms.lanes.shed(22), Overloaded)
    assert isinstance(rooms.lanes.shed(99), Overloaded), "a quiet lot shares the round trips"
    await asyncio.gather(*seconds, *thirds, *fourths)
    assert rooms.lanes.shed(99) is None, "idle lanes: nothing measured is busy"


async def test_a_burst_on_many_quiet_lots_is_taken(redis: Redis, keys: Keys) -> None:
    """Bids on many lots at once, none of whose lanes has been measured while busy: the door
    takes them all (up to ``total``), however many more than ``per_lot`` they are."""
    rooms = Rooms(redis, keys, lanes=LaneLimits(per_lot=4, most=4, total=1000, wait_ms=100))
    lots = range(31, 51)
    for lot in lots:
        await open_lot(rooms, lot)
    futures = []
    for lot in lots:
        assert rooms.lanes.shed(lot) is None, f"refused on lot {lot}"
        futures.append(rooms.lanes.submit(lot, bidder=1, paddle=101, amount=START, idem=f"{lot}"))
    assert rooms.lanes.queued == 20
    assert [r.seq for r in await asyncio.gather(*futures)] == [2] * 20, "each lot's first bid"
