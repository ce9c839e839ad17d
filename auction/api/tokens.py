"""Signed, expiring bearer tokens: ``<base64url(json claims)>.<base64url(hmac-sha256)>``.

Claims: ``sub`` (bidder id or staff name), ``role`` (``bidder`` | ``auctioneer`` | ``admin``),
``session`` (the session a bidder or auctioneer is bound to), ``paddle`` (bidders), ``exp``
(unix seconds). The key is ``AUCTION_SECRET``. Accounts, roles per market and revocation arrive
with the tenancy issue; until then the admin token (``AUCTION_ADMIN_TOKEN``) is the only staff
credential that is not minted here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from auction.settings import Secret

ROLES = ("viewer", "bidder", "auctioneer", "admin")


class TokenError(Exception):
    """The token is malformed, forged or expired. ``code`` is always ``unauthorized``."""

    code = "unauthorized"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is on the other end of a request or a socket."""

    role: str
    subject: str = ""
    bidder_id: int = 0
    session_id: int = 0
    paddle: int = 0

    @property
    def is_staff(self) -> bool:
        return self.role in ("auctioneer", "admin")

    def may_run(self, session_id: int) -> bool:
        """Console commands: the admin everywhere, an auctioneer in its own session."""
        return self.role == "admin" or (self.role == "auctioneer" and self.session_id == session_id)

    def may_bid(self, session_id: int) -> bool:
        return self.role == "bidder" and self.session_id == session_id and self.paddle > 0


VIEWER = Principal(role="viewer")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Tokens:
    def __init__(self, secret: Secret, admin_token: Secret) -> None:
        self._key = secret.value.encode()
        self._admin = admin_token.value

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def mint(self, principal: Principal, *, ttl_s: int = 86_400) -> str:
        claims = {
            "sub": principal.subject, "role": principal.role, "bidder": principal.bidder_id,
            "session": principal.session_id, "paddle": principal.paddle,
            "exp": int(time.time()) + ttl_s,
        }
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{body}.{self._sign(body)}"

    def verify(self, token: str) -> Principal:
        if self._admin and hmac.compare_digest(token.encode(), self._admin.encode()):
            return Principal(role="admin", subject="admin")
        body, _, sig = token.partition(".")
        if not body or not sig or not hmac.compare_digest(sig, self._sign(body)):
            raise TokenError("invalid token")
        try:
            claims = json.loads(_unb64(body))
            role = str(claims["role"])
            if role not in ROLES or int(claims["exp"]) < time.time():
                raise TokenError("token expired or role unknown")
            return Principal(
                role=role, subject=str(claims["sub"]), bidder_id=int(claims["bidder"]),
                session_id=int(claims["session"]), paddle=int(claims["paddle"]),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise TokenError("invalid token claims") from exc
