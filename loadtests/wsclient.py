"""A minimal websocket client for load generation (bench only; locust users use the SDK).

Why not the SDK or the ``websockets`` library here: a load generator on a 2-core machine shares
the CPU with the server it measures, so every microsecond it spends per frame is taken from the
server. This client is an ``asyncio.Protocol`` that does the RFC 6455 handshake, sends binary
frames with an all-zero mask key (valid: the mask bit is set, XOR with zero is the identity, so no
per-byte Python loop) and parses the server's unmasked frames. It answers pings (uvicorn pings
every 20 s) and treats a close frame as the end of the connection. It speaks exactly the
protocol of docs/protocol.md: msgpack maps in binary frames.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import msgpack

_packb = msgpack.packb
_unpackb = msgpack.unpackb
_ZERO_MASK = b"\x00\x00\x00\x00"


def frame(payload: bytes, opcode: int = 0x2) -> bytes:
    """One masked client frame (FIN set) carrying ``payload``."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + _ZERO_MASK + payload


class MiniWS(asyncio.Protocol):
    """One connection. ``on_message(dict)`` is called for every decoded server frame."""

    def __init__(self, on_message: Callable[[dict[str, Any]], None] | None = None,
                 on_raw: Callable[[bytes], None] | None = None) -> None:
        self.on_message = on_message
        self.on_raw = on_raw
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._handshaken = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._request = b""

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"connection lost in handshake: {exc}"))
        if not self.closed.done():
            self.closed.set_result(1006)

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        if not self._handshaken:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[: buf.find(b"\r\n")])
            del buf[: end + 4]
            if b" 101 " not in status:
                self.ready.set_exception(ConnectionError(status.decode(errors="replace")))
                assert self.transport is not None
                self.transport.close()
                return
            self._handshaken = True
            self.ready.set_result(None)
        pos = 0
        size = len(buf)
        while size - pos >= 2:
            b0 = buf[pos]
            n = buf[pos + 1] & 0x7F
            hdr = 2
            if n == 126:
                if size - pos < 4:
                    break
                n = (buf[pos + 2] << 8) | buf[pos + 3]
                hdr = 4
            elif n == 127:
                if size - pos < 10:
                    break
                n = struct.unpack_from("!Q", buf, pos + 2)[0]
                hdr = 10
            if size - pos < hdr + n:
                break
            payload = bytes(buf[pos + hdr : pos + hdr + n])
            pos += hdr + n
            opcode = b0 & 0x0F
            if opcode == 0x2:
                if self.on_raw is not None:
                    self.on_raw(payload)
                if self.on_message is not None:
                    self.on_message(_unpackb(payload, raw=False, strict_map_key=False))
            elif opcode == 0x9:  # ping → pong
                self.write_frame(payload, 0xA)
            elif opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                if not self.closed.done():
                    self.closed.set_result(code)
                if self.transport is not None:
                    self.transport.close()
        if pos:
            del buf[:pos]

    # -- sending ----------------------------------------------------------------------------

    def write_frame(self, payload: bytes, opcode: int = 0x2) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame(payload, opcode))

    def send(self, message: dict[str, Any]) -> None:
        self.write_frame(_packb(message, use_bin_type=True))

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame(struct.pack("!H", 1000), 0x8))
            self.transport.close()


async def connect(url: str, on_message: Callable[[dict[str, Any]], None] | None = None, *,
                  on_raw: Callable[[bytes], None] | None = None,
                  timeout: float = 30.0, forwarded_for: str | None = None) -> MiniWS:
    """Open ``ws://host:port/path`` and finish the handshake. ``forwarded_for`` sends
    ``X-Forwarded-For``: the server trusts it from 127.0.0.1 (``AUCTION_TRUSTED_PROXIES``), as
    behind a load balancer, so each simulated client has its own address for the per-address
    limits (auction/accounts/limits.py) instead of all of them being 127.0.0.1."""
    xff = f"X-Forwarded-For: {forwarded_for}\r\n" if forwarded_for else ""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    key = base64.b64encode(os.urandom(16)).decode()
    proto = MiniWS(on_message, on_raw)
    proto._request = (
        f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"{xff}\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    await asyncio.wait_for(loop.create_connection(lambda: proto, host, port), timeout)
    await asyncio.wait_for(proto.ready, timeout)
    return proto


_next_address = [int.from_bytes(os.urandom(3), "big")]


def client_address() -> str:
    """A fresh private address per simulated client (10.0.0.0/8)."""
    n = _next_address[0] = (_next_address[0] + 1) % (1 << 24)
    return f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}"


class Session:
    """A connected, welcomed protocol session: hello sent, welcome received. Frames after the
    welcome go to ``handler``."""

    def __init__(self) -> None:
        self.ws: MiniWS | None = None
        self.welcome: dict[str, Any] | None = None
        self.handler: Callable[[dict[str, Any]], None] | None = None
        self._welcomed: asyncio.Future[dict[str, Any]] | None = None

    def _on(self, msg: dict[str, Any]) -> None:
        if self.welcome is None and self._welcomed is not None and not self._welcomed.done():
            if msg.get("t") == "welcome":
                self.welcome = msg
                self._welcomed.set_result(msg)
                return
        if self.handler is not None:
            self.handler(msg)

    async def open(self, url: str, token: str | None = None, timeout: float = 30.0,
                   forwarded_for: str | None = None) -> Session:
        self._welcomed = asyncio.get_running_loop().create_future()
        self.ws = await connect(url, self._on, timeout=timeout, forwarded_for=forwarded_for)
        hello: dict[str, Any] = {"t": "hello"}
        if token:
            hello["token"] = token
        self.ws.send(hello)
        await asyncio.wait_for(self._welcomed, timeout)
        return self

    def send(self, message: dict[str, Any]) -> None:
        assert self.ws is not None
        self.ws.send(message)

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
