"""Signed, expiring bearer tokens: JSON Web Tokens (RFC 7519, HS256) made and checked by PyJWT.

Three kinds, told apart by the audience (``aud``) and each with its own lifetime
(:class:`TokenLifetimes`, from the settings):

==========  ==================  ==================================================================
kind        ``aud``             minted by
==========  ==================  ==================================================================
account     ``auction:account`` ``POST /api/v1/auth/login``: an account's own login
bid         ``auction:bid``     ``POST /api/v1/registrations/{id}/token``: a bidder account's
                                credential for one registration (session, paddle); only the
                                bidder's own login can take it
staff       ``auction:staff``   ``POST /api/v1/sessions/{id}/staff-tokens``: an auctioneer token
                                bound to one session, minted by a market admin (``by``)
==========  ==================  ==================================================================

Claims: ``iss`` (:data:`ISSUER`), ``aud``, ``sub`` (username or staff name), ``role`` (see
:data:`auction.accounts.policy.ROLES`), ``mkt`` (the market a staff role is bound to), ``acc``
(the account), ``by`` (the account that minted a staff token), ``reg`` / ``session`` /
``bidder`` / ``paddle`` (a bid credential), ``jti`` (the token id, for revocation), ``iat`` /
``exp`` (unix seconds). PyJWT checks the signature, ``exp``, ``iat``, ``iss`` and ``aud``; the
algorithm is pinned (``alg: none`` and any other algorithm are refused). The HMAC key is derived
from ``AUCTION_SECRET`` (SHA-256 of a label and the secret: 32 bytes whatever the secret's
length, and never the same key as any other use of the secret).

Any bytes that are not such a token — malformed, forged, expired, non-ASCII — are a
:class:`TokenError` (401 / close 4401), never another exception.

``AUCTION_ADMIN_TOKEN`` stays the platform-admin credential of the deployment (the demo and the
tests seed with it); it is configuration, so it cannot be revoked: change the setting instead.

:meth:`Tokens.verify` checks the token itself (no I/O); :func:`authenticate` also checks
revocation in Redis (the token's id, its account, the staff account that minted it, its
registration: :mod:`auction.accounts.revocation`) and is what handlers call.

The pages carry an account token in an HttpOnly cookie instead of a header
(:mod:`auction.api.cookies`); its CSRF value is :meth:`Tokens.csrf_of` the token's id — an
HMAC with a key of its own derived from ``AUCTION_SECRET`` like the token key — so it cannot
be made without the secret, nor moved to another login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt

from auction.accounts import revocation
from auction.accounts.cache import AuthCache
from auction.accounts.keys import AccountKeys
from auction.accounts.policy import ROLES, Actor
from auction.accounts.revocation import SocketRegistry
from auction.settings import Secret

if TYPE_CHECKING:
    from auction.services import Services

ISSUER = "tech-auction"
ALGORITHM = "HS256"
AUDIENCES = {"account": "auction:account", "bid": "auction:bid", "staff": "auction:staff"}
_KINDS = {aud: kind for kind, aud in AUDIENCES.items()}
_KEY_LABEL = b"tech-auction token key v1\x00"
_CSRF_LABEL = b"tech-auction csrf key v1\x00"
#: tokens longer than this are not looked at (a header or a hello field, not a document)
MAX_TOKEN_LENGTH = 4096

DEFAULT_TTL_S = 12 * 3600


class TokenError(Exception):
    """The token is malformed, forged, expired or revoked. ``code`` is always ``unauthorized``."""

    code = "unauthorized"


@dataclass(frozen=True, slots=True)
class TokenLifetimes:
    """Seconds each kind of token lives (``AUCTION_TOKEN_TTL_S``, ``AUCTION_BID_TOKEN_TTL_S``,
    ``AUCTION_STAFF_TOKEN_TTL_S``)."""

    account: int = DEFAULT_TTL_S
    bid: int = DEFAULT_TTL_S
    staff: int = DEFAULT_TTL_S

    @property
    def longest(self) -> int:
        return max(self.account, self.bid, self.staff)

    def of(self, kind: str) -> int:
        value: int = getattr(self, kind)
        return value


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
    #: the registration a bid credential is for (0: not a bid credential)
    registration_id: int = 0
    #: the staff account that minted this token (0: minted at a login, or by the deployment's
    #: admin token); disabling that account revokes the token
    minted_by: int = 0
    jti: str = ""
    issued_at: int = 0
    expires_at: int = 0
    #: the client's address (set by the websocket on connect; for per-address limits)
    address: str = ""
    #: the token came from the pages' login cookie, not an ``Authorization`` header
    cookie: bool = False

    @property
    def kind(self) -> str:
        """``bid``, ``account`` or ``staff`` (see the module docstring)."""
        if self.registration_id:
            return "bid"
        if self.account_id:
            return "account"
        return "staff"

    @property
    def is_staff(self) -> bool:
        return self.role in ("auctioneer", "finance", "market_admin", "admin")

    @property
    def is_own_login(self) -> bool:
        """An account's own login token (not a credential derived from one)."""
        return self.kind == "account" and self.account_id > 0

    @property
    def actor(self) -> Actor:
        return Actor(
            role=self.role, market_id=self.market_id, session_id=self.session_id,
            bidder_id=self.bidder_id, paddle=self.paddle, kind=self.kind,
        )

    @property
    def accounts(self) -> tuple[int, ...]:
        """The accounts whose disabling revokes this token."""
        return tuple(a for a in (self.account_id, self.minted_by) if a)

    def may_bid(self, session_id: int) -> bool:
        """A bid credential of ``session_id``: it names the account, the registration and the
        paddle (tokens of any other kind never bid)."""
        return (
            self.role == "bidder" and self.kind == "bid" and self.account_id > 0
            and self.session_id == session_id and self.paddle > 0
        )


VIEWER = Principal(role="viewer")


def _int(claims: dict[str, Any], name: str) -> int:
    value = claims.get(name, 0)
    if type(value) is not int or value < 0:
        raise TokenError(f"claim {name} is not a non-negative integer")
    return value


class Tokens:
    """Mints and verifies tokens; holds the process's auth caches and socket registry."""

    def __init__(
        self, secret: Secret, admin_token: Secret, lifetimes: TokenLifetimes | None = None
    ) -> None:
        self._key = hashlib.sha256(_KEY_LABEL + secret.value.encode()).digest()
        self._csrf_key = hashlib.sha256(_CSRF_LABEL + secret.value.encode()).digest()
        self._admin = admin_token.value.encode()
        self.lifetimes = lifetimes or TokenLifetimes()
        self.cache = AuthCache()
        self.sockets = SocketRegistry()

    def mint(self, principal: Principal, *, ttl_s: int | None = None) -> str:
        """A new token for ``principal`` with a fresh id, valid ``ttl_s`` seconds (default: the
        lifetime of its kind)."""
        now = int(time.time())
        kind = principal.kind
        ttl = self.lifetimes.of(kind) if ttl_s is None else ttl_s
        claims: dict[str, Any] = {
            "iss": ISSUER, "aud": AUDIENCES[kind], "sub": principal.subject,
            "role": principal.role, "mkt": principal.market_id, "acc": principal.account_id,
            "jti": secrets.token_urlsafe(12), "iat": now, "exp": now + ttl,
        }
        if principal.minted_by:
            claims["by"] = principal.minted_by
        if principal.session_id:
            claims["session"] = principal.session_id
        if principal.bidder_id:
            claims["bidder"] = principal.bidder_id
        if principal.paddle:
            claims["paddle"] = principal.paddle
        if principal.registration_id:
            claims["reg"] = principal.registration_id
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def csrf_of(self, jti: str) -> str:
        """The CSRF value that goes with the login token ``jti`` (43 URL-safe characters)."""
        digest = hmac.new(self._csrf_key, jti.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def csrf_matches(self, jti: str, presented: str | None) -> bool:
        """Is ``presented`` the CSRF value of ``jti``? Compared in constant time."""
        if not jti or not presented or len(presented) > 128 or not presented.isascii():
            return False
        return hmac.compare_digest(presented.encode(), self.csrf_of(jti).encode())

    def verify(self, token: str) -> Principal:
        """Signature, algorithm, issuer, audience and expiry (no I/O); :func:`authenticate`
        adds revocation. Anything else is :class:`TokenError`."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise TokenError("no token")
        try:
            raw = token.encode("utf-8")
        except UnicodeError as exc:
            raise TokenError("token is not text") from exc
        if self._admin and hmac.compare_digest(raw, self._admin):
            return Principal(role="admin", subject="admin")
        if not raw.isascii():
            raise TokenError("malformed token")
        try:
            claims = jwt.decode(
                token, self._key, algorithms=[ALGORITHM], issuer=ISSUER,
                audience=list(AUDIENCES.values()),
                options={"require": ["exp", "iat", "iss", "aud", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenError(f"invalid token: {type(exc).__name__}") from exc
        except (ValueError, TypeError, UnicodeError, OverflowError) as exc:
            raise TokenError("malformed token") from exc
        role = claims.get("role")
        kind = _KINDS.get(str(claims.get("aud")))
        if not isinstance(role, str) or role not in ROLES or role == "viewer" or kind is None:
            raise TokenError("token role or audience unknown")
        principal = Principal(
            role=role, subject=str(claims.get("sub", "")), bidder_id=_int(claims, "bidder"),
            session_id=_int(claims, "session"), paddle=_int(claims, "paddle"),
            market_id=_int(claims, "mkt"), account_id=_int(claims, "acc"),
            registration_id=_int(claims, "reg"), minted_by=_int(claims, "by"),
            jti=str(claims["jti"]), issued_at=_int(claims, "iat"), expires_at=_int(claims, "exp"),
        )
        if principal.kind != kind:
            raise TokenError("token claims do not match its audience")
        return principal


def account_keys(services: Services) -> AccountKeys:
    return AccountKeys(services.keys.namespace)


async def check_revoked(services: Services, principal: Principal) -> None:
    """:class:`TokenError` when ``principal``'s token was revoked (one Redis ``MGET``)."""
    if principal.jti and await revocation.is_revoked(
        services.redis, account_keys(services), jti=principal.jti,
        account_ids=principal.accounts, registration_id=principal.registration_id,
        issued_at=principal.issued_at,
    ):
        raise TokenError("token revoked")


async def authenticate(services: Services, token: str) -> Principal:
    """The principal of ``token``: signed, not expired, not revoked; else :class:`TokenError`."""
    principal = services.tokens.verify(token)
    await check_revoked(services, principal)
    return principal


def bearer(authorization: str) -> str:
    """The token of an ``Authorization: Bearer …`` header, else :class:`TokenError`."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenError("missing bearer token")
    return token.strip()
