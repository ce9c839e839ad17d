"""A contract-registration receiver that misbehaves on purpose, then recovers.

A bare HTTP/1.1 server on asyncio (so it controls the connection itself: it can hold a request
past the deliverer's timeout, or apply a packet and drop the connection without an answer).
Per ``Idempotency-Key``, attempt ``n`` is answered by ``script[n - 1]`` (the last entry once the
script is used up):

- ``timeout``: hold the request without answering for ``hold_s`` (longer than the deliverer's
  5 s timeout), then close;
- ``lost``: apply the packet, then drop the connection without a response (the deliverer sees a
  network error; the packet is in);
- ``503`` / ``429``: answer that status with ``Retry-After: 1``;
- ``ok``: apply the packet and answer 201 (200 when it was applied already: dedup by key).

Every request's signature is verified (``X-Auction-Signature``, HMAC-SHA256 of the raw body);
a bad one is answered 401 and counted. Applying a key twice is a no-op (the office dedups), but
each application is counted, as are requests per key and the bodies seen per key.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from auction.registration.signing import HEADER, verify
from auction.settings import Secret

DEFAULT_SCRIPT = ("timeout", "lost", "503", "503", *["429"] * 14, "ok")


@dataclass
class Seen:
    key: str
    attempt: int
    action: str
    mono: float


@dataclass
class Receiver:
    secret: Secret
    script: tuple[str, ...] = DEFAULT_SCRIPT
    hold_s: float = 7.0
    url: str = ""
    requests: list[Seen] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)
    applied: dict[str, bytes] = field(default_factory=dict)
    applications: Counter[str] = field(default_factory=Counter)
    bodies: dict[str, set[bytes]] = field(default_factory=lambda: defaultdict(set))
    bad_signatures: int = 0
    _server: asyncio.Server | None = None
    _conns: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/register"
        return self.url

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._conns):
            task.cancel()
        for task in list(self._conns):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    def action(self, key: str) -> tuple[int, str]:
        self.attempts[key] += 1
        n = self.attempts[key]
        return n, self.script[min(n, len(self.script)) - 1]

    def apply(self, key: str, body: bytes) -> bool:
        """True when this key was new."""
        self.applications[key] += 1
        if key in self.applied:
            return False
        self.applied[key] = body
        return True

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self._conns.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; False when the connection is to be closed."""
        line = await reader.readline()
        if not line:
            return False
        headers: dict[str, str] = {}
        while True:
            h = await reader.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            name, _, value = h.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        key = headers.get("idempotency-key", "")
        self.bodies[key].add(body)
        if not verify(self.secret, body, headers.get(HEADER.lower(), "")):
            self.bad_signatures += 1
            self.requests.append(Seen(key, 0, "401", time.monotonic()))
            await self._answer(writer, 401, b"bad signature")
            return True
        n, action = self.action(key)
        self.requests.append(Seen(key, n, action, time.monotonic()))
        if action == "timeout":
            await asyncio.sleep(self.hold_s)
            return False
        if action == "lost":
            self.apply(key, body)
            writer.transport.abort()
            return False
        if action in ("503", "429"):
            await self._answer(writer, int(action), b"busy", {"Retry-After": "1"})
            return True
        fresh = self.apply(key, body)
        await self._answer(writer, 201 if fresh else 200,
                           b'{"registered": true}' if fresh else b'{"duplicate": true}')
        return True

    async def _answer(self, writer: asyncio.StreamWriter, status: int, body: bytes,
                      headers: dict[str, str] | None = None) -> None:
        reason = {200: "OK", 201: "Created", 401: "Unauthorized", 429: "Too Many Requests",
                  503: "Service Unavailable"}[status]
        lines = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}",
                 "Content-Type: application/json"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
