"""Closing open websockets with 1001 (going away) when the server stops.

Contract:

- :func:`register` / :func:`unregister` record a socket while its handler runs;
  :func:`tracked` wraps an endpoint so that it does (the ``/ws`` route, auction/api/app.py).
  :func:`open_count` is how many are registered (the ``auction_connections`` gauge).
- :func:`close_all` sends close 1001 to every registered socket (of one app, or all) and waits,
  up to ``timeout``, for their handlers to return, so each unsubscribes and releases what it
  holds while Redis and PostgreSQL are still open. A socket that is already closing is skipped;
  a failing close is ignored (the peer may be gone).
- :class:`GracefulServer` is a ``uvicorn.Server`` whose shutdown closes the sockets with 1001
  *before* uvicorn's own shutdown runs. This is needed because uvicorn (0.30 to at least
  0.54), on shutdown, first sends every open websocket close 1012 (service restart) and drops
  its transport, waits ``timeout_graceful_shutdown`` for the handlers, and only then runs the
  lifespan shutdown: a close sent from the lifespan comes too late to reach the client.

The registry is per process (a module-level dict of sets, keyed by the Starlette app so that
several apps in one process, as in the tests, only close their own sockets). It holds no
connection to anything, only the sockets the server already has.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
from starlette.websockets import WebSocket, WebSocketState

log = logging.getLogger("auction.shutdown")

GOING_AWAY = 1001
CLOSE_TIMEOUT_S = 2.0

_OPEN: dict[int, set[WebSocket]] = {}  # id(app) → sockets whose handler is running


def _app_key(ws: WebSocket) -> int:
    return id(ws.scope.get("app"))


def register(ws: WebSocket) -> None:
    """Record ``ws`` as open (idempotent)."""
    _OPEN.setdefault(_app_key(ws), set()).add(ws)


def unregister(ws: WebSocket) -> None:
    """Forget ``ws`` (idempotent); call when its handler returns."""
    key = _app_key(ws)
    sockets = _OPEN.get(key)
    if sockets is None:
        return
    sockets.discard(ws)
    if not sockets:
        del _OPEN[key]


def tracked(
    endpoint: Callable[[WebSocket], Awaitable[None]],
) -> Callable[[WebSocket], Awaitable[None]]:
    """``endpoint`` with its socket registered while it runs."""

    async def run(ws: WebSocket) -> None:
        register(ws)
        try:
            await endpoint(ws)
        finally:
            unregister(ws)

    return run


def open_count(app: Any = None) -> int:
    """Registered sockets of ``app`` (all apps when ``None``)."""
    if app is not None:
        return len(_OPEN.get(id(app), ()))
    return sum(len(s) for s in _OPEN.values())


def _sockets(app: Any) -> list[WebSocket]:
    if app is not None:
        return list(_OPEN.get(id(app), ()))
    return [ws for sockets in _OPEN.values() for ws in sockets]


async def close_all(
    code: int = GOING_AWAY, *, app: Any = None, reason: str = "server shutting down",
    timeout: float = CLOSE_TIMEOUT_S,
) -> int:
    """Close every registered socket (of ``app``, or all) with ``code``; wait up to ``timeout``
    for their handlers to unregister. Returns how many were sent a close frame."""
    targets = [ws for ws in _sockets(app)
               if ws.application_state == WebSocketState.CONNECTED
               and ws.client_state == WebSocketState.CONNECTED]
    for ws in targets:
        with contextlib.suppress(Exception):  # the peer may be gone already
            await ws.close(code, reason)
    if targets:
        log.info("closed %d websocket(s) with %d", len(targets), code)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while any(ws in _sockets(app) for ws in targets) and loop.time() < deadline:
        await asyncio.sleep(0.02)
    return len(targets)


class GracefulServer(uvicorn.Server):
    """A uvicorn server that closes open websockets with 1001 before uvicorn's shutdown."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in getattr(self, "servers", []):
            server.close()  # no new connections while the open ones are told to go away
        await close_all(GOING_AWAY, app=self.config.app)
        await super().shutdown(sockets)
