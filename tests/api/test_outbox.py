"""The outbox (auction/api/outbox.py) against a socket that says when it is full: frames queued in
one tick go out in one write, in order; nothing is written while the transport is over its
high-water mark, and everything queued meanwhile goes out in one write once it is not; a full
outbox refuses the frame (the connection then drops the client with 4429)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.frames import Opcode
from websockets.protocol import Protocol, Side

from auction.api.outbox import DIRECT_WRITE, MAX_GAP_S, PACE, Outbox
from auction.wire.frames import Frame, binary_frame


class Socket:
    """A transport as the outbox sees it (auction/api/ws_server.py's DirectWrite)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.is_open = True
        self.room = asyncio.Event()
        self.room.set()

    def open(self) -> bool:
        return self.is_open

    def writable(self) -> bool:
        return self.room.is_set()

    async def wait_writable(self) -> None:
        await self.room.wait()

    def write(self, data: bytes) -> None:
        self.writes.append(data)


class FakeWs:
    def __init__(self, sock: Socket) -> None:
        self.scope: dict[str, Any] = {"extensions": {DIRECT_WRITE: sock}}


def messages(data: bytes) -> list[bytes]:
    """The payloads of the websocket frames in ``data``, parsed by the websockets library's
    client side (it refuses a masked, partial or otherwise bad server frame)."""
    client = Protocol(Side.CLIENT, max_size=None)
    client.receive_data(data)
    assert client.parser_exc is None, client.parser_exc
    frames = client.events_received()
    assert all(f.opcode is Opcode.BINARY and f.fin for f in frames), frames
    assert not client.data_to_send()  # nothing to answer: no close, no error
    return [bytes(f.data) for f in frames]


@pytest.fixture
async def box() -> AsyncIterator[tuple[Outbox, Socket]]:
    sock = Socket()
    outbox = Outbox(FakeWs(sock), limit=5)  # type: ignore[arg-type]
    writer = asyncio.create_task(outbox.run())
    await asyncio.sleep(0)
    yield outbox, sock
    writer.cancel()


async def tick() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


def test_binary_frame_lengths() -> None:
    for n in (0, 125, 126, 65535, 65536):
        payload = bytes(range(256)) * (n // 256) + bytes(n % 256)
        assert messages(binary_frame(payload)) == [payload]


async def test_one_write_per_tick_in_order(box: tuple[Outbox, Socket]) -> None:
    outbox, sock = box
    event = Frame.of(b"ev-1")
    assert outbox.put(b"ack")
    assert outbox.put(event)
    assert outbox.put((b"resumed", b"ev-0"))
    assert sock.writes == []  # nothing before the tick's flush
    await tick()
    assert len(sock.writes) == 1
    assert messages(sock.writes[0]) == [b"ack", b"ev-1", b"resumed", b"ev-0"]
    assert outbox.idle()


async def test_a_full_transport_holds_frames_then_one_write(box: tuple[Outbox, Socket]) -> None:
    outbox, sock = box
    sock.room.clear()  # over the high-water mark: the peer does not read
    for i in range(5):
        assert outbox.put(f"f{i}".encode())
        await tick()
    assert sock.writes == [] and len(outbox) == 5
    assert not outbox.put(b"one too many")  # the connection drops the client (4429)
    sock.room.set()
    await tick()
    assert len(sock.writes) == 1
    assert messages(sock.writes[0]) == [f"f{i}".encode() for i in range(5)]
    assert outbox.put(b"again")  # room again
    await tick()
    assert messages(sock.writes[1]) == [b"again"]


async def test_nothing_is_written_once_closed_or_discarded(box: tuple[Outbox, Socket]) -> None:
    outbox, sock = box
    sock.room.clear()
    outbox.put(b"late")
    await tick()
    outbox.discard()
    sock.room.set()
    await tick()
    assert sock.writes == [] and outbox.idle()
    sock.is_open = False
    outbox.put(b"after")
    await tick()
    assert sock.writes == []


async def test_a_socket_whose_write_fails_does_not_hold_up_the_others_in_its_tick() -> None:
    """Outboxes queued in one tick are flushed in one pass: when one socket's write raises (its
    peer went away), that outbox is dropped and the next ones are still written. Before, the
    pass stopped there and every outbox after it stayed marked as due, never to be flushed
    again (a console missed a ``missed_bid`` that way)."""

    class Broken(Socket):
        def write(self, data: bytes) -> None:
            raise ConnectionResetError("peer gone")

    broken, fine = Broken(), Socket()
    first = Outbox(FakeWs(broken), limit=5)  # type: ignore[arg-type]
    second = Outbox(FakeWs(fine), limit=5)  # type: ignore[arg-type]
    writers = [asyncio.create_task(first.run()), asyncio.create_task(second.run())]
    await asyncio.sleep(0)
    try:
        assert first.put(b"to a gone peer")
        assert second.put(b"missed_bid")
        await tick()
        assert [messages(w) for w in fine.writes] == [[b"missed_bid"]]
        assert first.idle()  # dropped, nothing waits
        assert second.put(b"next")  # the second outbox is not stuck
        await tick()
        assert messages(fine.writes[-1]) == [b"next"]
    finally:
        for writer in writers:
            writer.cancel()


class Slow(Socket):
    """A socket whose write takes ``cost`` seconds of the event loop (a send system call to many
    sockets, in one)."""

    def __init__(self, cost: float) -> None:
        super().__init__()
        self.cost = cost
        self.written_at: list[float] = []

    def write(self, data: bytes) -> None:
        until = time.perf_counter() + self.cost
        while time.perf_counter() < until:
            pass
        super().write(data)
        self.written_at.append(asyncio.get_running_loop().time())


async def _until(predicate: Any, timeout: float = 1.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.001)


async def test_a_slow_flush_pass_paces_the_next_and_answers_are_not_paced() -> None:
    """After a flush pass that took ``d`` (here one 20 ms write), the next pass waits
    ``PACE × d`` (at most MAX_GAP_S), so the frames queued meanwhile share its writes; an
    ``urgent`` frame (an answer its client waits for) is written in the tick it was queued,
    after whatever its outbox held before it."""
    slow, other = Slow(0.02), Socket()
    first = Outbox(FakeWs(slow), limit=10)  # type: ignore[arg-type]
    second = Outbox(FakeWs(other), limit=10)  # type: ignore[arg-type]
    writers = [asyncio.create_task(first.run()), asyncio.create_task(second.run())]
    await asyncio.sleep(0)
    try:
        first.put(b"ev-1")
        await _until(lambda: slow.written_at)
        pass_ended = slow.written_at[0]
        first.put(b"ev-2")  # paced: not before PACE × 20 ms after the pass
        second.put(b"ev-2")
        await tick()
        assert len(slow.writes) == 1 and other.writes == []
        await _until(lambda: len(slow.writes) == 2)
        assert slow.written_at[1] - pass_ended >= min(PACE * 0.02, MAX_GAP_S) * 0.9
        assert [messages(w) for w in other.writes] == [[b"ev-2"]]  # the same pass
        second.put(b"ev-3")  # the last pass took 20 ms again: the next one is paced ...
        second.put(b"ack", urgent=True)  # ... but an answer goes out now, after ev-3
        await tick()
        assert [messages(w) for w in other.writes[1:]] == [[b"ev-3", b"ack"]]
        assert second.idle()
    finally:
        for writer in writers:
            writer.cancel()
