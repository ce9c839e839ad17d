"""A connection's subscription start and a reset that comes while it runs
(auction/api/ws_subscriptions.py), over real Redis, a real hub and the real recovery script.

The race: a client resumes, and while its resume is being read the room gets a new epoch
(Redis restarted; :mod:`auction.rooms.recovery`). The hub resets the connection, whose fresh
snapshot (new epoch) must be the last word: the resume read before, finishing after it, must
not put the subscription back on the old epoch, where every later event is withheld as foreign
and no further reset ever comes (the client would see the lot go quiet for good)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import msgpack
import pytest
from redis.asyncio import Redis

from auction.api.outbox import Outgoing
from auction.api.tokens import Tokens
from auction.api.ws import Connection
from auction.domain.lot import LotMode
from auction.rooms.fanout import Hub
from auction.rooms.keys import Keys
from auction.rooms.recovery import Recovery
from auction.rooms.service import Rooms
from auction.services import Services
from auction.settings import Settings
from auction.store import Store
from auction.wire.frames import Frame


@pytest.fixture
async def services(
    settings: Settings, store: Store, redis: Redis, keys: Keys
) -> AsyncIterator[Services]:
    rooms = Rooms(redis, keys)
    hub = Hub(redis, keys, rooms)
    await hub.start()
    try:
        await asyncio.wait_for(hub.connected.wait(), 5)
        yield Services(settings=settings, store=store, redis=redis, keys=keys, rooms=rooms,
                       tokens=Tokens(settings.secret, settings.admin_token), hub=hub)
    finally:
        await hub.stop()


def first_map(frame: Outgoing) -> dict[str, Any]:
    raw = frame.payload if isinstance(frame, Frame) else frame
    if isinstance(raw, tuple):
        raw = raw[0]
    out: dict[str, Any] = msgpack.unpackb(raw, raw=False)
    return out


async def test_a_reset_while_a_resume_is_read_is_not_undone_by_it(
    services: Services, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    rooms, redis, keys = services.rooms, services.redis, services.keys
    lot = 880_000 + secrets.randbelow(100_000)  # no such lot in PostgreSQL: anyone may watch
    await rooms.init_lot(lot, mode=LotMode.LIVE, start=100, inc=10, reserve=0, session_id=1,
                         epoch="0ld0ld00")
    conn = Connection(ws=None, services=services)  # type: ignore[arg-type]  # frames stay queued

    # hold the resume's read of the missed events (the real read) until the reset has run
    real_events_after = rooms.events_after
    reading, go_on = asyncio.Event(), asyncio.Event()

    async def held_events_after(lot_id: int, after_seq: int, **kw: Any) -> Any:
        got = await real_events_after(lot_id, after_seq, **kw)
        if lot_id == lot and not go_on.is_set():
            reading.set()
            await go_on.wait()
        return got

    monkeypatch.setattr(rooms, "events_after", held_events_after)
    resume = asyncio.create_task(conn.subscribe(lot, "0ld0ld00", 0))
    await asyncio.wait_for(reading.wait(), 5)

    # the room gets a new epoch as after a Redis restart; the hub hears it and resets us
    recovery = Recovery(redis, keys, store)
    assert await recovery._reepoch([(lot, "0ld0ld00", 0)]) == {lot}
    new_epoch = (await redis.hget(keys.lot(lot).state, "epoch")).decode()
    for _ in range(100):
        if conn.lots[lot].resyncing:
            break
        await asyncio.sleep(0.02)
    assert conn.lots[lot].resyncing, "the hub did not reset the connection"
    await asyncio.sleep(0.2)  # a resync free to run has read and sent its snapshot by now

    go_on.set()
    await asyncio.wait_for(resume, 5)
    for _ in range(100):
        if not conn.lots[lot].resyncing:
            break
        await asyncio.sleep(0.02)

    answers = [first_map(f) for f in conn.outbox.take()]
    starts = [(m["t"], m["epoch"], m.get("recovered")) for m in answers
              if m["t"] in ("snapshot", "resumed")]
    assert starts[-1] == ("snapshot", new_epoch, False), starts
    assert conn.lots[lot].epoch == new_epoch, starts

    # and the lot's next event reaches the client
    await rooms.open(lot)
    for _ in range(100):
        events = [first_map(f) for f in conn.outbox.take()]
        if any(m["t"] == "ev" for m in events):
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the event after the reset never reached the connection")
    conn.unsubscribe(lot)
