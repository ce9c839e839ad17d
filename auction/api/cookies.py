"""The pages' login cookie and its CSRF protection (docs/http-api.md "Cookie login",
docs/roles.md "Accounts and tokens").

``POST /api/v1/auth/login {…, "cookie": true}`` sets two cookies, both ``Path=/``, with the
token's lifetime (``Max-Age``), ``SameSite=Strict`` and ``Secure`` when the request came over
HTTPS (directly, or from a trusted proxy's ``X-Forwarded-Proto``: auction/api/headers.py):

- :data:`TOKEN_COOKIE` (``HttpOnly``): the account's login token; scripts never see it;
- :data:`CSRF_COOKIE` (readable by the page's scripts): the CSRF value of that login,
  :meth:`auction.api.tokens.Tokens.csrf_of` its token id.

A request authenticated by the cookie (no ``Authorization`` header) that may change state —
any method but ``GET``, ``HEAD`` and ``OPTIONS`` — must carry that value in the
:data:`CSRF_HEADER` header, else 403 ``csrf_failed`` before anything is done. The comparison is
in constant time, against the value derived from the cookie's own token (signed double submit):
a value planted in the CSRF cookie by someone else (a sibling subdomain, a man in the middle of
plain HTTP) does not match. Bearer tokens in ``Authorization`` need no CSRF value: a browser
never adds that header by itself.

Why ``Strict`` rather than ``Lax``: the pages are static files whose first load needs no login;
every authenticated call is a ``fetch`` or the websocket from a page of this origin, where a
strict cookie is sent. ``Lax`` would add only top-level ``GET`` navigations from other sites,
which the API does not serve, and would let a cross-site link start a cookie-carrying request.

A cookie login whose request carries an ``Origin`` that is not this server's (or one of
``AUCTION_ALLOWED_ORIGINS``) is refused with 403 ``csrf_failed``: another site must not log a
visitor in as someone else (login CSRF).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import HTTPConnection
from starlette.responses import Response

TOKEN_COOKIE = "auction_token"
CSRF_COOKIE = "auction_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token_of(conn: HTTPConnection) -> str | None:
    """The login token of the cookie, or None when there is none."""
    value = conn.cookies.get(TOKEN_COOKIE)
    return value or None


def changes_state(conn: HTTPConnection) -> bool:
    """An HTTP request whose method may change state (websocket handshakes never do: their
    ``Origin`` is checked instead, auction/api/ws_auth.py)."""
    return conn.scope["type"] == "http" and conn.scope.get("method", "GET") not in SAFE_METHODS


def secure(conn: HTTPConnection) -> bool:
    return conn.url.scheme in ("https", "wss")


def set_login(response: Response, conn: HTTPConnection, *, token: str, csrf: str,
              max_age: int) -> None:
    """Set both cookies on ``response`` (see the module docstring)."""
    for name, value, http_only in ((TOKEN_COOKIE, token, True), (CSRF_COOKIE, csrf, False)):
        response.set_cookie(
            name, value, max_age=max(0, max_age), path="/", secure=secure(conn),
            httponly=http_only, samesite="strict",
        )


def clear_login(response: Response, conn: HTTPConnection) -> None:
    """Expire both cookies."""
    for name, http_only in ((TOKEN_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(name, path="/", secure=secure(conn), httponly=http_only,
                               samesite="strict")


def origin_allowed(conn: HTTPConnection, allowed: tuple[str, ...]) -> bool:
    """No ``Origin`` (not a browser, or a same-origin ``GET``), or one on ``allowed``
    (``AUCTION_ALLOWED_ORIGINS``; ``*`` is any), or — ``allowed`` empty — this server's own."""
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    origin = origin.rstrip("/")
    if allowed:
        return "*" in allowed or origin in allowed
    host = conn.headers.get("host", "")
    return urlsplit(origin).netloc.lower() == host.lower()
