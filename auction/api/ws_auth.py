"""Authentication of the websocket (docs/protocol.md "Authentication"): who may connect, the
token of ``hello``, and closing a socket whose token or account is revoked.

- :func:`admit` runs before the handshake is accepted: a browser ``Origin`` must be on
  ``AUCTION_ALLOWED_ORIGINS`` (default: the server's own origin), else the handshake is refused
  (HTTP 403); connects per address are limited (``error rate_limited`` with
  ``retry_after_ms``, then close 4430). When Redis cannot be reached for that count, the socket is
  accepted, told ``error unavailable`` and closed with 1013 (try again later), never dropped.
- :func:`hello_token` is the token to check: ``hello.token`` when given, else the pages'
  login cookie (:mod:`auction.api.cookies`) when the handshake carried a valid one. The cookie
  needs no CSRF value here: the handshake's ``Origin`` was checked by :func:`admit`, and the
  cookie is ``SameSite=Strict``. A stale cookie (expired, revoked) leaves the socket anonymous,
  as a page without login is; a bad ``hello.token`` is still 4401.
- :func:`on_hello` verifies the token (signature, expiry, revocation: close 4401 when bad;
  any bytes that are not a token are the same 4401), notes the client's address on the
  principal (per-address bid limits) and registers the socket so that a revocation of its
  token, its account, the account that minted it or its registration closes it with 4401.
- :func:`on_close` unregisters it.

None of this reads PostgreSQL: tokens are signed (no lookup) and revocations live in Redis, so a
bidder connects and bids while PostgreSQL is away. Each bid checks the revocation again
(:func:`auction.api.tokens.check_revoked`), so a credential revoked stops bidding at once, even
before its socket is closed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.websockets import WebSocket

from auction import outage
from auction.accounts import limits, revocation
from auction.api import cookies
from auction.api.tokens import Principal, TokenError, account_keys, authenticate
from auction.services import Services
from auction.wire import codec

log = logging.getLogger("auction.ws")

CLOSE_RATE_LIMITED = 4430
CLOSE_TRY_AGAIN = 1013


def origin_allowed(websocket: WebSocket, allowed: tuple[str, ...]) -> bool:
    # no Origin: not a browser (browsers always send it on a websocket handshake)
    return cookies.origin_allowed(websocket, allowed)


async def admit(websocket: WebSocket) -> bool:
    """Accept the handshake unless the origin or the connect rate refuses it."""
    services: Services = websocket.app.state.services
    if not origin_allowed(websocket, services.settings.allowed_origins):
        log.info("websocket refused: origin %r", websocket.headers.get("origin"))
        await websocket.close(code=1008)  # before accept: the handshake gets HTTP 403
        return False
    address = websocket.client.host if websocket.client is not None else ""
    try:
        await limits.check(
            services.redis, account_keys(services), (limits.CONNECT_PER_ADDRESS, address)
        )
    except limits.RateLimited as exc:
        await websocket.accept()
        with contextlib.suppress(Exception):
            await websocket.send_bytes(codec.pack({
                "t": "error", "code": exc.code, "message": exc.message,
                "retry_after_ms": exc.retry_after_ms,
            }))
            await websocket.close(CLOSE_RATE_LIMITED, "rate_limited")
        return False
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        outage.REDIS.failed(exc, where="websocket connect")
        await websocket.accept()
        with contextlib.suppress(Exception):
            await websocket.send_bytes(
                codec.encode_error("unavailable", "服务暂时不可用, 请稍后重连")
            )
            await websocket.close(CLOSE_TRY_AGAIN, "unavailable")
        return False
    await websocket.accept()
    return True


async def hello_token(
    services: Services, token: str | None, websocket: WebSocket
) -> str | None:
    """The token ``hello`` authenticates with: its own, else a valid login cookie of the
    handshake, else None (an anonymous viewer)."""
    if token is not None:
        return token
    cookie = cookies.token_of(websocket)
    if cookie is None:
        return None
    try:
        await authenticate(services, cookie)
    except TokenError:
        return None
    return cookie


async def on_hello(services: Services, token: str, websocket: WebSocket) -> Principal:
    """The principal of ``hello.token``; :class:`TokenError` when it is not valid (or revoked
    while the socket was being registered)."""
    who = await authenticate(services, token)
    address = websocket.client.host if websocket.client is not None else ""
    who = dataclasses.replace(who, address=address)
    if who.jti:

        async def close() -> None:
            await websocket.close(codec.CLOSE_UNAUTHORIZED, "token revoked")

        async def recheck() -> bool:
            try:
                await authenticate(services, token)
            except TokenError:
                return False
            return True

        names = revocation.names_of(
            jti=who.jti, account_ids=who.accounts, registration_id=who.registration_id
        )
        await services.tokens.sockets.watch(
            services.redis, account_keys(services), handle=websocket, names=names, close=close,
            recheck=recheck,
        )
        # a revocation published before the subscription was in place
        try:
            await authenticate(services, token)
        except TokenError:
            await on_close(services, websocket)
            raise
    return who


async def on_close(services: Services, websocket: WebSocket) -> None:
    await services.tokens.sockets.unwatch(websocket)
