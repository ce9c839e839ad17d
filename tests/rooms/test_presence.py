"""The room's presence (auction/rooms/presence.py): the reserve as a staff socket sees it, how
late a missed bid came, and the counts two processes share through Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import msgpack
from redis.asyncio import Redis

from auction.domain.lot import LotMode
from auction.rooms import presence as presence_module
from auction.rooms.keys import Keys
from auction.rooms.presence import Presence, ReserveWatch, late_ms
from auction.rooms.service import Rooms
from auction.wire.codec import pack


def ev(seq: int, kind: str, **fields: Any) -> bytes:
    return pack({"t": "ev", "lot": 1, "epoch": "e", "seq": seq, "kind": kind, "at": 0, **fields})


def unpacked(frame: bytes | None) -> dict[str, Any] | None:
    return None if frame is None else msgpack.unpackb(frame, raw=False)


def test_reserve_follows_bids_retractions_and_reopens() -> None:
    """met once a standing bid reaches the reserve, not_met after an undo below it, a frame
    only on a change, events the watch already reflects ignored."""
    watch = ReserveWatch(reserve=1_020_000, high=0, bids=0, seq=3)
    assert unpacked(watch.frame(1)) == {"t": "reserve", "lot": 1, "reserve": "not_met"}
    assert watch.after(1, ev(3, "bid", amount=2_000_000)) is None  # already in the state
    assert watch.after(1, ev(4, "bid", amount=1_000_000)) is None
    assert watch.after(1, ev(5, "warned", n=1)) is None
    met = watch.after(1, ev(6, "bid", amount=1_020_000))
    assert unpacked(met) == {"t": "reserve", "lot": 1, "reserve": "met"}
    assert watch.after(1, ev(7, "bid", amount=1_030_000)) is None
    assert watch.after(1, ev(8, "bid_retracted", bid_seq=7, paddle=2, amount=1_030_000,
                            high=1_020_000, high_paddle=1, bids=2)) is None
    undone = watch.after(1, ev(9, "bid_retracted", bid_seq=6, paddle=1, amount=1_020_000,
                              high=1_000_000, high_paddle=3, bids=1))
    assert unpacked(undone) == {"t": "reserve", "lot": 1, "reserve": "not_met"}
    assert watch.after(1, ev(10, "passed", reason="reserve_not_met")) is None
    again = watch.after(1, ev(11, "reopened", high=1_050_000, paddle=3, bids=4))
    assert unpacked(again) == {"t": "reserve", "lot": 1, "reserve": "met"}


def test_no_reserve_is_none() -> None:
    """A lot without a reserve is ``none`` whatever the bids."""
    watch = ReserveWatch(reserve=0, high=0, bids=0, seq=0)
    assert unpacked(watch.frame(1)) == {"t": "reserve", "lot": 1, "reserve": "none"}
    assert watch.after(1, ev(1, "bid", amount=5)) is None


def test_late_ms() -> None:
    """From closed_at, or from ends_at when a timed lot's clock ran out before its close."""
    assert late_ms(10_500, "live", "sold", 10_000, 0) == 500
    assert late_ms(10_500, "timed", "sold", 10_300, 10_000) == 500
    assert late_ms(10_500, "timed", "open", 0, 10_000) == 500  # the closer has not run yet
    assert late_ms(10_500, "timed", "withdrawn", 9_000, 20_000) == 1_500
    assert late_ms(9_000, "live", "sold", 10_000, 0) == 0  # never negative
    assert late_ms(9_000, "live", "sold", 0, 0) == 0


class Socket:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    def push(self, frame: bytes) -> None:
        self.frames.append(msgpack.unpackb(frame, raw=False))


async def test_two_processes_count_together_and_a_dead_one_stops_counting(
    redis: Redis, keys: Keys,
) -> None:
    """Two Presence instances (two processes) see each other's viewers and bidders; a bidder
    on both counts once; the counts of a process that stopped writing fade after 3 s."""
    rooms = Rooms(redis, keys)
    await rooms.init_lot(7, mode=LotMode.LIVE, start=100, inc=10, reserve=0, session_id=70)

    async def listen(lot: int, on: bool) -> None:
        return None

    a, b = (Presence(redis, keys, rooms, listen=listen) for _ in range(2))
    staff, viewer, other = Socket(), Socket(), Socket()
    await a.bidder_connected(70, 1)
    await b.bidder_connected(70, 1)
    await b.bidder_connected(70, 2)
    await b.join(7, viewer, staff=False)
    assert viewer.frames == [{"t": "viewers", "lot": 7, "viewers": 1}]
    await b.join(7, other, staff=False)
    await b.tick()
    assert viewer.frames[-1] == {"t": "viewers", "lot": 7, "viewers": 2}
    await a.join(7, staff, staff=True)
    assert staff.frames == [{"t": "presence", "lot": 7, "bidders": 2, "viewers": 3}]
    await a.tick()
    await b.tick()
    assert viewer.frames[-1] == {"t": "viewers", "lot": 7, "viewers": 3}
    await a.tick()
    assert len(staff.frames) == 1  # nothing changed, nothing sent
    b.leave(7, other)
    b.bidder_left(70, 2)
    await asyncio.sleep(0.05)  # the fade of bidder 2 (spawned)
    await b.tick()
    assert viewer.frames[-1] == {"t": "viewers", "lot": 7, "viewers": 2}
    await asyncio.sleep(presence_module.LEAVE_GRACE_MS / 1000 + 0.1)
    await a.tick()
    assert staff.frames[-1] == {"t": "presence", "lot": 7, "bidders": 1, "viewers": 2}
    # b stops writing (its process died): its viewer and its bidder go after 3 s
    await asyncio.sleep(presence_module.STALE_MS / 1000 + 0.2)
    await a.tick()
    assert staff.frames[-1] == {"t": "presence", "lot": 7, "bidders": 1, "viewers": 1}
    await a.tick()  # the dead field was deleted
    assert await redis.hkeys(keys.lot(7).viewers) == [a.process_id.encode()]
    a.leave(7, staff)
    await a.stop()
    await b.stop()
