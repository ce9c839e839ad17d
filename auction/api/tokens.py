"""Signed, expiring bearer tokens: ``<base64url(json claims)>.<base64url(hmac-sha256)>``.

Claims: ``sub`` (username, bidder id or staff name), ``role`` (see
:data:`auction.accounts.policy.ROLES`), ``mkt`` (the market a staff role is bound to),
``acc`` (the account, 0 for tokens not minted at a login), ``session`` (the session a bidder or a
session-bound auctioneer token is bound to), ``bidder``, ``paddle`` (bidders), ``jti`` (the token
id, for revocation), ``iat`` / ``exp`` (unix seconds). The key is ``AUCTION_SECRET``.

``AUCTION_ADMIN_TOKEN`` stays the platform-admin credential of the deployment (the demo and the
tests seed with it); it is configuration, so it cannot be revoked: change the setting instead.

:meth:`Tokens.verify` checks the signature and the expiry (no I/O); :func:`authenticate` also
checks revocation in Redis and is what handlers call.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auction.accounts import revocation
from auction.accounts.cache import AuthCache
from auction.accounts.keys import AccountKeys
from auction.accounts.policy import ROLES, Actor
from auction.accounts.revocation import SocketRegistry
from auction.settings import Secret

if TYPE_CHECKING:
    from auction.services import Services

DEFAULT_TTL_S = 86_400


class TokenError(Exception):
    """The token is malformed, forged, expired or revoked. ``code`` is always ``unauthorized``."""

    code = "unauthorized"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is on the other end of a request or a socket."""

    role: str
    subject: str = ""
    bidder_id: int = 0
    session_id: int = 0
    paddle: int = 0
    market_id: int = 0
    account_id: int = 0
    jti: str = ""
    issued_at: int = 0
    expires_at: int = 0
    #: the client's address (set by the websocket on connect; for per-address limits)
    address: str = ""

    @property
    def is_staff(self) -> bool:
        return self.role in ("auctioneer", "finance", "market_admin", "admin")

    @property
    def actor(self) -> Actor:
        return Actor(
            role=self.role, market_id=self.market_id, session_id=self.session_id,
            bidder_id=self.bidder_id, paddle=self.paddle,
        )

    def may_bid(self, session_id: int) -> bool:
        return self.role == "bidder" and self.session_id == session_id and self.paddle > 0


VIEWER = Principal(role="viewer")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Tokens:
    """Mints and verifies tokens; holds the process's auth caches and socket registry."""

    def __init__(self, secret: Secret, admin_token: Secret) -> None:
        self._key = secret.value.encode()
        self._admin = admin_token.value
        self.cache = AuthCache()
        self.sockets = SocketRegistry()

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def mint(self, principal: Principal, *, ttl_s: int = DEFAULT_TTL_S) -> str:
        """A new token for ``principal`` with a fresh id, valid ``ttl_s`` seconds."""
        now = int(time.time())
        claims = {
            "sub": principal.subject, "role": principal.role, "bidder": principal.bidder_id,
            "session": principal.session_id, "paddle": principal.paddle,
            "mkt": principal.market_id, "acc": principal.account_id,
            "jti": secrets.token_urlsafe(12), "iat": now, "exp": now + ttl_s,
        }
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{body}.{self._sign(body)}"

    def verify(self, token: str) -> Principal:
        """Signature and expiry only; :func:`authenticate` adds revocation."""
        if self._admin and hmac.compare_digest(token.encode(), self._admin.encode()):
            return Principal(role="admin", subject="admin")
        body, _, sig = token.partition(".")
        if not body or not sig or not hmac.compare_digest(sig, self._sign(body)):
            raise TokenError("invalid token")
        try:
            claims = json.loads(_unb64(body))
            role = str(claims["role"])
            if role not in ROLES or role == "viewer" or int(claims["exp"]) < time.time():
                raise TokenError("token expired or role unknown")
            return Principal(
                role=role, subject=str(claims["sub"]), bidder_id=int(claims["bidder"]),
                session_id=int(claims["session"]), paddle=int(claims["paddle"]),
                market_id=int(claims.get("mkt", 0)), account_id=int(claims.get("acc", 0)),
                jti=str(claims.get("jti", "")), issued_at=int(claims.get("iat", 0)),
                expires_at=int(claims["exp"]),
            )
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise TokenError("invalid token claims") from exc


def account_keys(services: Services) -> AccountKeys:
    return AccountKeys(services.keys.namespace)


async def authenticate(services: Services, token: str) -> Principal:
    """The principal of ``token``: signed, not expired, not revoked; else :class:`TokenError`."""
    principal = services.tokens.verify(token)
    if principal.jti and await revocation.is_revoked(
        services.redis, account_keys(services), jti=principal.jti,
        account_id=principal.account_id, issued_at=principal.issued_at,
    ):
        raise TokenError("token revoked")
    return principal


def bearer(authorization: str) -> str:
    """The token of an ``Authorization: Bearer …`` header, else :class:`TokenError`."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenError("missing bearer token")
    return token.strip()
