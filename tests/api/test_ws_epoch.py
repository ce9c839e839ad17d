"""A connection never sends an event stamped with another epoch than the client's snapshot.

The race this holds (seen under load in tests/faults/test_redis_kill.py): the room's epoch
changes, a client subscribes and reads its snapshot (new epoch) before the hub's feed has
noticed; the feed keeps stamping events with the old epoch until its reset. Those frames must
not reach the client, which would take them for a gap in the new history."""

from __future__ import annotations

from typing import Any

from auction.api.ws import Connection
from auction.api.ws_subscriptions import LotSub
from auction.wire.frames import Frame


def connection() -> Connection:
    conn = Connection(ws=None, services=None)  # type: ignore[arg-type]  # offer uses neither
    conn.lots[7] = LotSub(sent=5, epoch="new", pending=None)
    return conn


def drained(conn: Connection) -> list[Any]:
    return [f.payload if isinstance(f, Frame) else f for f in conn.outbox.take()]


def test_an_event_of_the_old_epoch_is_not_sent() -> None:
    conn = connection()
    conn.offer(7, 6, Frame.of(b"old-6"), "old")
    assert drained(conn) == []
    conn.offer(7, 6, Frame.of(b"new-6"), "new")
    conn.offer(7, 7, Frame.of(b"new-7"), "new")
    assert drained(conn) == [b"new-6", b"new-7"]


def test_parked_events_are_checked_when_released() -> None:
    conn = connection()
    sub = conn.lots[7]
    sub.pending = [(6, Frame.of(b"old-6"), "old"), (6, Frame.of(b"new-6"), "new")]
    conn._release(7, sub)
    assert drained(conn) == [b"new-6"]
