"""The framer of ``auction serve``'s websocket protocol (auction/api/ws_server.py): whatever way a
client's bytes are split into chunks, the app sees the same messages in the same order as
through uvicorn's stock protocol, bids the reader takes included, and the socket gets the same
bytes back (pongs, closes).

Both protocols are driven here without a server: one fake transport each, the chunks handed to
``data_received`` as the event loop would, and an ASGI app that accepts, installs a reader (on
the direct-read extension when there is one) and logs every message it receives.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import random
import struct
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.utils import apply_mask

from auction.api.direct_read import DIRECT_READ
from auction.api.ws_server import FRAMED_MAX, AuctionWebSocketProtocol

KEY = base64.b64encode(b"0123456789abcdef").decode()
REQUEST = (
    "GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
).encode()


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.written.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default)


def _frame(opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True,
           rsv1: bool = False) -> bytes:
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    mask_bit = 0x80 if masked else 0
    n = len(payload)
    if n < 126:
        head = bytes([first, mask_bit | n])
    elif n < 65536:
        head = bytes([first, mask_bit | 126]) + struct.pack("!H", n)
    else:
        head = bytes([first, mask_bit | 127]) + struct.pack("!Q", n)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + apply_mask(payload, mask)


def binary(payload: bytes, **kw: Any) -> bytes:
    return _frame(0x2, payload, **kw)


_OPEN: list[_Run] = []


@pytest.fixture(autouse=True)
async def _close_runs() -> Any:
    yield
    while _OPEN:
        await _OPEN.pop().close()


class _Run:
    """One protocol instance, its app and what it saw."""

    def __init__(self, protocol: type[WebSocketsSansIOProtocol], *, max_size: int = 1 << 20
                 ) -> None:
        self.log: list[tuple[str, Any]] = []
        self.accepted = asyncio.Event()
        config = Config(app=self._app, ws="none", lifespan="off", log_level="warning",
                        interface="asgi3", ws_max_size=max_size, ws_per_message_deflate=False,
                        ws_ping_interval=None)
        config.load()
        self.transport = _Transport()
        self.state = ServerState()
        self.proto = protocol(config, self.state, app_state={})
        self.proto.connection_made(self.transport)
        _OPEN.append(self)

    async def close(self) -> None:
        """The socket goes away; the app's task ends."""
        if not self.proto.disconnected:
            self.proto.connection_lost(None)
        await asyncio.wait_for(asyncio.gather(*self.state.tasks), 5)

    def _take(self, data: bytes) -> bool:
        if data[:1] == b"B":
            self.log.append(("taken", bytes(data)))
            return True
        return False

    async def _app(self, scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        direct = scope["extensions"].get(DIRECT_READ)
        if direct is not None:
            direct.read_with(self._take)
        self.accepted.set()
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                self.log.append(("disconnect", message.get("code")))
                return
            if message.get("bytes") is not None:
                data = message["bytes"]
                # the stock protocol has no reader: the app takes the same messages itself
                self.log.append(("taken", data) if data[:1] == b"B" else ("bytes", data))
            else:
                self.log.append(("text", message["text"]))

    async def feed(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            self.proto.data_received(chunk)
            # the app's task runs between reads, as with a real socket (several turns: the
            # queue's getter wakes, then takes)
            for _ in range(3):
                await asyncio.sleep(0)
        for _ in range(5):
            await asyncio.sleep(0)

    def replies(self) -> bytes:
        """What the server wrote after its handshake answer."""
        text = b"".join(self.transport.written)
        return text[text.index(b"\r\n\r\n") + 4:]


async def _both(stream: bytes, cut: list[int], *, head: bytes = REQUEST,
                max_size: int = 1 << 20) -> tuple[_Run, _Run]:
    """Feed the handshake then ``stream`` split at ``cut`` to the stock and our protocol."""
    runs = []
    for protocol in (WebSocketsSansIOProtocol, AuctionWebSocketProtocol):
        run = _Run(protocol, max_size=max_size)
        await run.feed([head])
        await asyncio.wait_for(run.accepted.wait(), 5)
        bounds = [0, *sorted(set(cut)), len(stream)]
        await run.feed([stream[a:b] for a, b in itertools.pairwise(bounds) if b > a])
        runs.append(run)
    return runs[0], runs[1]


def _mixed_stream(rng: random.Random) -> bytes:
    parts = []
    for i in range(40):
        kind = rng.choice(["bid", "bid", "bid", "other", "text", "ping", "frag", "long"])
        if kind == "bid":
            parts.append(binary(b"B%d" % i + os.urandom(rng.randrange(0, 40))))
        elif kind == "other":
            parts.append(binary(b"X%d" % i))
        elif kind == "text":
            parts.append(_frame(0x1, f"t{i}".encode()))
        elif kind == "ping":
            parts.append(_frame(0x9, b"p%d" % i))
        elif kind == "frag":  # a bid split in two frames: the parser joins it
            parts.append(binary(b"B%d-" % i, fin=False) + _frame(0x0, b"tail"))
        else:  # a 16-bit length
            parts.append(binary(b"B%d" % i + b"." * rng.randrange(126, 700)))
    return b"".join(parts)


@pytest.mark.parametrize("seed", range(12))
async def test_any_chunking_gives_the_app_what_the_stock_protocol_gives(seed: int) -> None:
    rng = random.Random(seed)
    stream = _mixed_stream(rng)
    if seed == 0:
        cut = list(range(1, len(stream)))  # one byte at a time
    elif seed == 1:
        cut = []  # all in one chunk
    else:
        cut = rng.sample(range(1, len(stream)), rng.randrange(1, 60))
    stock, ours = await _both(stream, cut)
    assert ours.log == stock.log
    assert ours.replies() == stock.replies()  # the pongs, in order
    assert any(kind == "taken" for kind, _ in ours.log)
    assert ours.proto._framing  # type: ignore[attr-defined]


async def test_the_reader_takes_bids_without_the_parser() -> None:
    """A chunk of bids never reaches the library's parser (what makes the framer cheaper)."""
    run = _Run(AuctionWebSocketProtocol)
    await run.feed([REQUEST])
    parsed: list[bytes] = []
    original = run.proto.conn.receive_data

    def spy(data: bytes | bytearray) -> None:
        parsed.append(bytes(data))
        original(data)

    run.proto.conn.receive_data = spy  # type: ignore[method-assign]
    await run.feed([binary(b"B1") + binary(b"B2"), binary(b"X3"), binary(b"B4") + binary(b"B5")])
    assert run.log == [("taken", b"B1"), ("taken", b"B2"), ("bytes", b"X3"), ("taken", b"B4"),
                       ("taken", b"B5")]
    assert len(parsed) == 1  # only the frame the reader declined
    # a bid behind a message still queued for the app waits its turn in the queue (order)
    await run.feed([binary(b"X6") + binary(b"B7")])
    assert run.log[-2:] == [("bytes", b"X6"), ("taken", b"B7")]
    assert parsed[-1].endswith(apply_mask(b"B7", parsed[-1][-6:-2]))


@pytest.mark.parametrize("case", ["unmasked", "too_long", "64bit", "close", "rsv1"])
async def test_frames_the_framer_does_not_cut_end_as_with_the_stock_protocol(case: str) -> None:
    max_size = 1000
    before = binary(b"B-before")
    after = binary(b"B-after")
    if case == "unmasked":
        bad = binary(b"B-unmasked", masked=False)
    elif case == "too_long":
        bad = binary(b"B" * (max_size + 1))
    elif case == "64bit":
        bad = binary(b"B" * (FRAMED_MAX + 1))
    elif case == "close":
        bad = _frame(0x8, struct.pack("!H", 1000) + b"bye")
    else:  # a compressed frame on a connection without the extension: a protocol error
        bad = binary(b"B-rsv1", rsv1=True)
    stream = before + bad + after
    # ``before`` in a chunk of its own: the stock protocol drops the messages of a chunk in
    # which the parser fails (ours hands over the ones before the bad frame)
    edge = len(before)
    for cut in ([edge], [edge, edge + 1], [edge, *range(edge + 3, len(stream), 7)]):
        stock, ours = await _both(stream, cut, max_size=max_size)
        assert ours.log == stock.log, (case, cut)
        assert ours.replies() == stock.replies(), (case, cut)
        assert ours.transport.closed == stock.transport.closed


async def test_frames_sent_with_the_request_keep_the_stock_parser() -> None:
    """A client that sends frames before the handshake's answer: the framer never starts, and
    the messages arrive as with the stock protocol."""
    early = binary(b"X-early")
    stock, ours = await _both(binary(b"B-later") + binary(b"X-last"), [3], head=REQUEST + early)
    assert ours.log == stock.log
    assert not ours.proto._framing  # type: ignore[attr-defined]
