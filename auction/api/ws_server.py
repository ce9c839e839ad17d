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


class AuctionWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O websockets protocol, offering :class:`DirectWrite` and
    :class:`DirectRead` in the scope."""

    reader: Reader | None = None

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # none when the handshake was refused
        if scope is not None:
            scope["extensions"][DIRECT_WRITE] = DirectWrite(self)
            scope["extensions"][DIRECT_READ] = DirectRead(self)

    def send_receive_event_to_app(self) -> None:
        # uvicorn calls this once a whole message is in ``self.frames``; offer a binary one to
        # the reader when nothing waits in the queue before it (the order stays the client's)
        reader = self.reader
        if (reader is not None and self.curr_msg_data_type == "bytes" and not self.close_sent
                and self.queue.empty()):
            frames = self.frames
            data = frames[0] if len(frames) == 1 else b"".join(frames)
            if reader(data):
                self.frames = []
                return
        super().send_receive_event_to_app()


#: uvicorn's ``ws=`` for ``auction serve`` (auction/cli.py), the tests' servers and the bench
PROTOCOL = AuctionWebSocketProtocol
