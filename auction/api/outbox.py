"""A connection's outgoing frames: one bounded outbox per socket, written without a task
wake-up per frame (house style rule 10; docs/architecture.md "Delivery").

Putting a frame (:meth:`Outbox.put`) never blocks and never wakes a task: it appends to the
socket's list and, when the list was empty, enlists the outbox with the process's
:class:`Flusher`, which runs **one** callback per event-loop tick for every outbox with
something to send. That callback writes each socket's queued frames **in one write**: a lot
event the hub offered to 2,000 watchers in one tick is 2,000 list appends, then one
``transport.write`` per socket (events that arrived in the same tick share it), never 2,000
task switches. An event is framed once for all (auction/wire/frames.py); other frames (acks,
snapshots, presence) are framed as they are written. A tuple of messages is one entry (a
resume's ``resumed`` and the events it brings: however many, they must not overflow the outbox
of the client that was dropped for being too far behind).

Two ways to the socket:

- **direct**, when the server offers the ``auction.direct_write`` ASGI extension
  (auction/api/ws_server.py, what ``auction serve`` runs): the ready-made frames go to the
  transport as they are;
- **ASGI**, otherwise (another server, another uvicorn implementation, ``TestClient``): the
  connection's writer task sends the queued messages one ``websocket.send`` each, woken once
  per tick, not once per frame.

Back-pressure is the transport's: while its buffer is over the high-water mark (the peer does
not read), the direct path writes nothing and the writer task waits until the transport can
take more, then writes everything queued meanwhile in one go. Frames wait in the outbox, at
most ``limit`` of them: a put beyond that fails, and the connection drops the client with
4429; it resumes by seq without loss (docs/protocol.md "Close codes").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from starlette.websockets import WebSocket

from auction.wire.frames import Frame, binary_frame

log = logging.getLogger("auction.ws")

#: the ASGI scope extension through which a server lends an outbox its socket
DIRECT_WRITE = "auction.direct_write"


class DirectWriter(Protocol):
    """What ``scope["extensions"]["auction.direct_write"]`` must be (auction/api/ws_server.py)."""

    def open(self) -> bool:
        """The server would send a data frame now (handshake done, no close either way)."""

    def writable(self) -> bool:
        """The transport's buffer is under its high-water mark."""

    async def wait_writable(self) -> None:
        """Return once :meth:`writable` (or the socket is gone)."""

    def write(self, data: bytes) -> None:
        """Hand whole frames to the transport (never blocks)."""


#: what an outbox holds: a message, a message framed once for many sockets, or several
#: messages that count as one entry
Outgoing = bytes | Frame | tuple[bytes, ...]


def _wire(frame: Outgoing) -> bytes:
    if isinstance(frame, Frame):
        return frame.wire
    if isinstance(frame, tuple):
        return b"".join([binary_frame(m) for m in frame])
    return binary_frame(frame)


def _payloads(frame: Outgoing) -> tuple[bytes, ...]:
    if isinstance(frame, Frame):
        return (frame.payload,)
    return frame if isinstance(frame, tuple) else (frame,)


@dataclass(slots=True)
class Counts:
    """Frames and socket writes of the direct path in this process (``frames / writes`` is how
    much was coalesced; tests and profiling read them)."""

    frames: int = 0
    writes: int = 0


COUNTS = Counts()


#: a flush pass that took ``d`` seconds is followed by the next one no sooner than
#: ``PACE × d`` later (see :class:`Flusher`) …
PACE = 1.0
#: … and never later than this after the previous pass ended (s)
MAX_GAP_S = 0.025


class Flusher:
    """One call per event-loop tick that flushes every outbox with frames queued, **paced**:
    after a pass that took ``d`` seconds (its writes: one ``send`` system call per socket), the
    next pass runs no sooner than ``PACE × d`` (at most :data:`MAX_GAP_S`) later. A few sockets
    cost microseconds, so nothing waits; an event fanned out to 2,000 watchers costs a pass of
    10–20 ms, and the frames queued meanwhile (the next events, the acks) share the following
    pass's writes instead of each costing a write per socket of its own: the writes take at
    most about half of the event loop, and each carries more frames when events come faster
    (docs/performance.md "Issue 17, seventh pass")."""

    def __init__(self) -> None:
        self._due: dict[asyncio.AbstractEventLoop, list[Outbox]] = {}
        #: per loop: ``loop.time()`` before which the next pass does not run
        self._next: dict[asyncio.AbstractEventLoop, float] = {}
        #: per loop: the outboxes with an urgent frame, flushed this tick
        self._now: dict[asyncio.AbstractEventLoop, list[Outbox]] = {}

    def enlist(self, box: Outbox, *, urgent: bool = False) -> None:
        """Flush ``box`` in the next paced pass, or (``urgent``: an answer its client waits
        for) in this tick, unpaced."""
        loop = asyncio.get_running_loop()
        if urgent:
            now = self._now.get(loop)
            if now is None:
                now = self._now[loop] = []
                loop.call_soon(self._flush_now, loop)
            now.append(box)
            return
        due = self._due.get(loop)
        if due is None:
            due = self._due[loop] = []
            wait = self._next.get(loop, 0.0) - loop.time()
            if wait > 0:
                loop.call_later(wait, self._flush, loop)
            else:
                loop.call_soon(self._flush, loop)
        due.append(box)

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        started = time.perf_counter()
        _flush_all(self._due.pop(loop, ()))
        took = time.perf_counter() - started
        self._next[loop] = loop.time() + min(PACE * took, MAX_GAP_S)

    def _flush_now(self, loop: asyncio.AbstractEventLoop) -> None:
        _flush_all(self._now.pop(loop, ()))


def _flush_all(boxes: Iterable[Outbox]) -> None:
    for box in boxes:
        try:
            box.flush()
        except Exception as exc:  # that socket is gone; the others' frames still go out
            log.debug("flush failed, the socket's frames are dropped: %r", exc)
            box.discard()


FLUSHER = Flusher()


class Outbox:
    """The frames waiting for one socket (see the module docstring)."""

    def __init__(self, ws: WebSocket, limit: int) -> None:
        self.limit = limit
        self._ws = ws
        self._frames: list[Outgoing] = []
        self._direct: DirectWriter | None = (
            ws.scope.get("extensions", {}).get(DIRECT_WRITE) if ws is not None else None)
        self._enlisted = False
        self._urgent = False
        self._started = False
        self._closed = False
        self._busy = False  # the writer task is sending or waiting for the transport
        self._wake = asyncio.Event()

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def direct(self) -> bool:
        return self._direct is not None

    def idle(self) -> bool:
        """Nothing queued and nothing being sent."""
        return not self._frames and not self._busy

    def put(self, frame: Outgoing, *, urgent: bool = False) -> bool:
        """Queue one frame; ``False`` (nothing queued) when ``limit`` frames already wait.
        ``urgent``: an answer its client waits for (``ack``, ``nack``): written this tick with
        whatever is queued before it, not at the next paced pass."""
        if self._closed:
            return True
        if len(self._frames) >= self.limit:
            return False
        self._frames.append(frame)
        if self._started and not self._busy:
            if urgent:
                if not self._urgent:
                    self._urgent = True
                    FLUSHER.enlist(self, urgent=True)
            elif not self._enlisted:
                self._enlisted = True
                FLUSHER.enlist(self)
        return True

    def discard(self) -> None:
        """Drop what waits and send nothing more (the client is being dropped)."""
        self._closed = True
        self._frames.clear()

    def take(self) -> list[Outgoing]:
        """Everything queued, in order (the outbox is empty after)."""
        frames, self._frames = self._frames, []
        return frames

    def flush(self) -> None:
        """Write what is queued now if the socket takes it, else leave it to the writer task."""
        self._enlisted = self._urgent = False
        if not self._frames or self._busy or self._closed:
            return
        direct = self._direct
        if direct is not None and direct.open() and direct.writable():
            self._write_direct(direct)
        else:
            self._busy = True
            self._wake.set()

    def _write_direct(self, direct: DirectWriter) -> None:
        frames = self.take()
        COUNTS.frames += len(frames)
        COUNTS.writes += 1
        if len(frames) == 1:
            direct.write(_wire(frames[0]))
        else:
            direct.write(b"".join([_wire(f) for f in frames]))

    async def run(self) -> None:
        """The connection's writer task: writes what :meth:`flush` could not write at once
        (the transport was full, or there is no direct path). Runs until cancelled; it stops
        writing (and drops what waits) once the socket is closed."""
        self._started = True
        if self._frames:
            self._busy = True
            self._wake.set()
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._write_slowly()
            except Exception as exc:  # the peer is gone or the socket closed: nothing to send to
                log.debug("writer stopped: %r", exc)
                self.discard()
            finally:
                self._busy = False

    async def _write_slowly(self) -> None:
        direct = self._direct
        while self._frames and not self._closed:
            if direct is None:
                for frame in self.take():
                    for message in _payloads(frame):
                        if self._closed:
                            return  # discarded meanwhile: the client is being dropped
                        await self._ws.send_bytes(message)
            elif not direct.open():
                self.discard()  # closing or closed: uvicorn would not send these either
            elif not direct.writable():
                await direct.wait_writable()
            else:
                self._write_direct(direct)


async def drained(box: Outbox, timeout: float) -> None:
    """Wait up to ``timeout`` for ``box`` to be written out (before a close)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            while not box.idle():
                await asyncio.sleep(0.005)
