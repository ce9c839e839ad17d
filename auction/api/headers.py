"""Headers at the edge: what every HTTP answer carries, and whose ``X-Forwarded-For`` counts.

Every HTTP response (pages, static files, the JSON API, errors — a 500 rendered by Starlette's
outermost middleware included) carries:

- ``Content-Security-Policy``: scripts, styles and connections from this origin only — no inline
  script or style, no ``eval`` — no plugins, no ``<base>``, forms post here, and no page may be
  framed (``frame-ancestors 'none'``: no clickjacking of the console's 落槌 button);
- ``X-Frame-Options: DENY`` (the same for browsers that predate ``frame-ancestors``);
- ``X-Content-Type-Options: nosniff``: a JSON answer is never run as a script or a page;
- ``Referrer-Policy: no-referrer``: page addresses (lot ids, session ids) do not leak to other
  sites.

A header the handler set itself is kept. Websocket handshakes are not touched.

``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only from the peers listed in
``AUCTION_TRUSTED_PROXIES`` (auction/settings.py), with uvicorn's own parser; from anyone else
they are ignored and the peer's address is the client's. The app applies this itself, so every
server it runs in (``auction serve``, the test harness, an ASGI test client) agrees; uvicorn's
own ``proxy_headers`` is switched off (auction/cli.py), since it would otherwise trust
127.0.0.1 by default.
"""

from __future__ import annotations

from typing import Any, cast

from starlette.applications import Starlette
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

#: the page policy: nothing inline, nothing from elsewhere, never framed
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",  # the pages' empty icon (``<link rel=icon href="data:,">``)
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)


def client_address(conn: HTTPConnection) -> str:
    """The client's address as the per-address limits count it (a trusted proxy's
    ``X-Forwarded-For`` already applied); empty when the server does not know it."""
    return conn.client.host if conn.client is not None else ""


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class EdgeApp(Starlette):
    """Starlette with :class:`SecurityHeaders` and the trusted-proxy rule around its whole
    middleware stack (Starlette's error middleware included, so a 500 carries them too)."""

    def __init__(self, *args: Any, trusted_proxies: tuple[str, ...] = (), **kwargs: Any) -> None:
        self.trusted_proxies = trusted_proxies
        super().__init__(*args, **kwargs)

    def build_middleware_stack(self) -> ASGIApp:
        app: ASGIApp = SecurityHeaders(super().build_middleware_stack())
        if not self.trusted_proxies:
            return app
        # uvicorn types its middleware with its own scope types; it is a plain ASGI app
        proxied: Any = ProxyHeadersMiddleware(app, trusted_hosts=list(self.trusted_proxies))  # type: ignore[arg-type]
        return cast(ASGIApp, proxied)
