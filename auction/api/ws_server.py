"""The websocket protocol ``auction serve`` gives uvicorn: uvicorn's default one (sans-I/O
``websockets``) plus one ASGI extension, ``auction.direct_write``, through which a connection's
outbox writes ready-made frames to the socket itself (auction/api/outbox.py).

Why: through ASGI each ``websocket.send`` is one awaited call that frames the message again
(for every watcher of the same event) and writes it to the socket; fanning one event out to
2,000 watchers cost 2,000 writer-task wake-ups, 2,000 framings and 2,000 writes
(docs/performance.md "Fan-out"). With the extension the outbox writes every frame queued for a
socket in one ``transport.write``, from one callback per event-loop tick for all sockets, with
the event framed once (auction/wire/frames.py) — the way ``websockets.broadcast`` writes.

What the extension promises (:class:`DirectWrite`): ``open()`` is true only while uvicorn would
itself send a data frame (handshake done, no close sent or received, the peer there);
``writable()`` is uvicorn's own back-pressure flag (the transport's buffer is under its
high-water mark); ``write`` takes whole frames only, so the keep-alive pings and the close that
uvicorn writes never interleave with half a frame. Everything else (accept, close, the receive
side) stays uvicorn's. Servers without the extension (other implementations, ``TestClient``)
get the same outbox through plain ASGI sends.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

try:  # the library's C helper, as its own parser uses; its pure-Python one otherwise
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover
    from websockets.utils import apply_mask

from auction.api.direct_read import DIRECT_READ, Reader
from auction.api.outbox import DIRECT_WRITE


class DirectWrite:
    """The outbox's handle on one uvicorn websocket protocol (see the module docstring)."""

    __slots__ = ("_proto",)

    def __init__(self, proto: WebSocketsSansIOProtocol) -> None:
        self._proto = proto

    def open(self) -> bool:
        # Called for every socket on every flush, so only what can change once the outbox
        # exists (after the accept, so no refused handshake either): uvicorn sets ``close_sent``
        # when it sends a close (ours, a protocol error's, a keep-alive timeout's), and closes
        # the transport when a close arrives (the sans-I/O protocol leaves OPEN) or the peer
        # is gone, so ``conn.state`` and ``disconnected`` need not be read.
        p = self._proto
        return p.handshake_complete and not p.close_sent and not p.transport.is_closing()

    def writable(self) -> bool:
        return self._proto.writable.is_set()

    async def wait_writable(self) -> None:
        # set again by resume_writing, and by connection_lost (uvicorn unblocks its own sends)
        await self._proto.writable.wait()

    def write(self, data: bytes) -> None:
        self._proto.transport.write(data)


class DirectRead:
    """The connection's hand on the protocol's incoming binary messages
    (auction/api/direct_read.py)."""

    __slots__ = ("_proto",)

    def __init__(self, proto: AuctionWebSocketProtocol) -> None:
        self._proto = proto

    def read_with(self, reader: Reader | None) -> None:
        self._proto.reader = reader


#: the longest frame payload the framer cuts out itself (a 7- or 16-bit length); a longer frame
#: hands it and the rest of the stream to the parser for good
FRAMED_MAX = 65_535
#: the first byte of an unfragmented binary frame without extension bits (FIN, opcode 2)
_FIN_BINARY = 0x82


class AuctionWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O websockets protocol, offering :class:`DirectWrite` and
    :class:`DirectRead` in the scope, and cutting incoming frames itself.

    **The framer.** Once the handshake request is parsed, every chunk read from the socket is
    cut into whole frames here before the ``websockets`` parser sees it. A frame that can be a
    ``bid`` (unfragmented, binary, uncompressed, masked) goes to the reader straight from the
    bytes (header read, payload unmasked with the library's own ``apply_mask``) when the
    reader may take it; every other frame, and a bid the reader declines, goes to the parser
    whole, in order, and is handled exactly as before. Why: the library's generator-based
    parser costs ≈ 3 µs a frame, ten times this, and at twice a server's capacity most frames
    are bids refused at the door (docs/performance.md, "Issue 17, eighth pass").

    The parser only ever receives whole frames, so it is at a frame boundary whenever the
    framer is at one. The framer starts only when the chunk that completed the request ended
    with it (a client that sent frames before the handshake's answer keeps the parser for the
    whole connection), and gives the rest of the stream to the parser for good at a frame it
    does not cut (a 64-bit length, longer than :data:`FRAMED_MAX` or the connection's size
    limit, or unmasked: the parser refuses those as before)."""

    reader: Reader | None = None
    #: this connection's chunks are cut into frames here (see the class docstring)
    _framing = False
    #: the start of a frame whose end has not arrived yet
    _partial = b""
    #: the message the parser is handed was declined by the reader already
    _declined = False

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # none when the handshake was refused
        if scope is not None:
            scope["extensions"][DIRECT_WRITE] = DirectWrite(self)
            scope["extensions"][DIRECT_READ] = DirectRead(self)

    def data_received(self, data: bytes) -> None:
        if self._framing:
            self._frames_received(data)
            return
        fresh = not self.handshake_initiated
        super().data_received(data)
        conn = self.conn
        if (fresh and self.handshake_initiated and not self.close_sent
                and conn.parser_exc is None and data.endswith(b"\r\n\r\n")
                and not conn.reader.buffer):
            # the request ended with this chunk: the parser waits for a frame's first byte
            self._framing = True

    def _frames_received(self, data: bytes) -> None:
        """Cut ``data`` (after what was left over) into frames (see the class docstring)."""
        conn = self.conn
        buf = self._partial + data if self._partial else data
        self._partial = b""
        size = len(buf)
        limit = FRAMED_MAX
        for cap in (conn.max_message_size, conn.max_fragment_size):
            if cap is not None and cap < limit:
                limit = cap
        pos = 0  # the next frame's first byte
        run = 0  # the first byte neither taken nor parsed yet
        while size - pos >= 2:
            first, second = buf[pos], buf[pos + 1]
            length = second & 0x7F
            mask_at = pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length = (buf[mask_at] << 8) | buf[mask_at + 1]
                mask_at += 2
            if length > limit or not second & 0x80:  # (127: a 64-bit length)
                self._framing = False
                self._parse(buf[run:])
                return
            end = mask_at + 4 + length
            if end > size:
                break
            if first == _FIN_BINARY and self.reader is not None:
                if run < pos:
                    if not self._parse(buf[run:pos]):
                        return
                    run = pos
                reader = self.reader
                if (reader is not None and conn.state is State.OPEN
                        and conn.current_size is None and not self.close_sent
                        and not self.frames and self.queue.empty()):
                    if reader(apply_mask(buf[mask_at + 4:end], buf[mask_at:mask_at + 4])):
                        pos = run = end
                        continue
                    self._declined = True
                    try:
                        if not self._parse(buf[pos:end]):
                            return
                    finally:
                        self._declined = False
                    pos = run = end
                    continue
            pos = end
        if run < pos and not self._parse(buf[run:pos]):
            return
        if pos < size:
            self._partial = bytes(buf[pos:])

    def _parse(self, chunk: bytes) -> bool:
        """Whole frames to the parser and their events handled, as uvicorn does with a chunk;
        ``False`` when the parser failed (the connection is being closed)."""
        conn = self.conn
        conn.receive_data(chunk)
        if conn.parser_exc is not None:
            self._framing = False
            self.handle_parser_exception()
            return False
        self.handle_events()
        return True

    def send_receive_event_to_app(self) -> None:
        # uvicorn calls this once a whole message is in ``self.frames``; offer a binary one to
        # the reader when nothing waits in the queue before it (the order stays the client's)
        reader = self.reader
        if (reader is not None and self.curr_msg_data_type == "bytes" and not self.close_sent
                and not self._declined and self.queue.empty()):
            frames = self.frames
            data = frames[0] if len(frames) == 1 else b"".join(frames)
            if reader(data):
                self.frames = []
                return
        super().send_receive_event_to_app()


#: uvicorn's ``ws=`` for ``auction serve`` (auction/cli.py), the tests' servers and the bench
PROTOCOL = AuctionWebSocketProtocol
