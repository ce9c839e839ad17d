"""``terms.lua`` and :func:`auction.domain.room.change_terms` are one rule (house style rule 8):
from the same room state, both take new terms only while the lot is scheduled, and leave the
same state (the room's increment following the session's table, R8), or both refuse with
``wrong_state`` and change nothing."""

from __future__ import annotations

from dataclasses import asdict, replace

import pytest
from redis.asyncio import Redis

from auction.domain import room as rules
from auction.domain.errors import Rejection
from auction.domain.lot import LotMode, LotStatus
from auction.domain.room import RoomState
from auction.rooms.keys import Keys
from auction.rooms.service import Rooms

BANDS = "0:10000,1030000:20000,1060000:50000"
NEW = {"start": 1_050_000, "inc": 5_000, "reserve": 1_200_000, "duration_ms": 600_000,
       "deposit": 200_000}

CASES = [
    ("scheduled live", RoomState(mode=LotMode.LIVE, start=1_000_000, inc=10_000)),
    ("scheduled, a table band above the new start",
     RoomState(mode=LotMode.LIVE, start=1_000_000, inc=10_000, inc0=10_000, bands=BANDS)),
    ("scheduled timed, an override set",
     RoomState(mode=LotMode.TIMED, start=1_000_000, inc=30_000, inc0=10_000,
               inc_override=30_000, duration_ms=300_000)),
    ("open", RoomState(mode=LotMode.LIVE, start=1_000_000, inc=10_000, status=LotStatus.OPEN,
                       seq=1, opened_at=1)),
    ("sold", RoomState(mode=LotMode.LIVE, start=1_000_000, inc=10_000, status=LotStatus.SOLD,
                       seq=3, bids=1, high=1_000_000, leader=1, paddle=101)),
    ("passed", RoomState(mode=LotMode.TIMED, start=1_000_000, inc=10_000,
                         status=LotStatus.PASSED, seq=2, duration_ms=300_000)),
    ("withdrawn", RoomState(mode=LotMode.LIVE, start=1_000_000, inc=10_000,
                            status=LotStatus.WITHDRAWN, seq=1)),
]


async def _place(redis: Redis, keys: Keys, lot: int, state: RoomState) -> None:
    fields = {k: (v.value if hasattr(v, "value") else str(v)) for k, v in asdict(state).items()}
    fields.update(epoch="e", session="1")
    await redis.hset(keys.lot(lot).state, mapping=fields)


@pytest.mark.parametrize(("name", "state"), CASES, ids=[c[0] for c in CASES])
async def test_lua_and_model_agree(redis: Redis, keys: Keys, name: str, state: RoomState) -> None:
    """Same state in, same state (or the same refusal, nothing written) out."""
    rooms = Rooms(redis, keys)
    await _place(redis, keys, 1, state)
    try:
        expected: RoomState | str = rules.change_terms(state, **NEW)
    except Rejection as exc:
        expected = exc.code
    try:
        changed = await rooms.set_terms(
            1, start=NEW["start"], inc=NEW["inc"], reserve=NEW["reserve"],
            duration_ms=NEW["duration_ms"], deposit_fen=NEW["deposit"],
        )
        assert changed
        got: RoomState | str | None = await rooms.room_state(1)
    except Rejection as exc:
        got = exc.code
    assert got == expected
    if expected == "wrong_state":
        assert await rooms.room_state(1) == state
    else:
        assert isinstance(expected, RoomState) and expected.start == NEW["start"]


async def test_the_table_sets_the_room_increment(redis: Redis, keys: Keys) -> None:
    """A new start in a band above the lot's own: the lot's increment holds (R8: the band of
    the start price uses the lot's own increment) and ``inc0`` is the new one."""
    state = RoomState(mode=LotMode.LIVE, start=1_000_000, inc=10_000, inc0=10_000, bands=BANDS)
    after = rules.change_terms(state, **NEW)
    assert (after.inc, after.inc0) == (5_000, 5_000)
    overridden = rules.change_terms(replace(state, inc_override=40_000, inc=40_000), **NEW)
    assert (overridden.inc, overridden.inc0) == (40_000, 5_000)


async def test_a_lot_without_a_room_is_reported_not_made(redis: Redis, keys: Keys) -> None:
    """No room: ``set_terms`` answers False and creates nothing (init_lot makes rooms)."""
    rooms = Rooms(redis, keys)
    assert not await rooms.set_terms(9, start=1, inc=1, reserve=0, duration_ms=0, deposit_fen=0)
    assert await rooms.room_state(9) is None
