"""The signature on a registration delivery.

``X-Auction-Signature: sha256=<hex>``, where ``<hex>`` is the lowercase hex HMAC-SHA256 of the
raw request body under ``AUCTION_REGISTRATION_SECRET``. The receiver recomputes it over the
bytes it received and compares in constant time (:func:`verify`).
"""

from __future__ import annotations

import hashlib
import hmac

from auction.settings import Secret

HEADER = "X-Auction-Signature"
PREFIX = "sha256="


def signature(secret: Secret, body: bytes) -> str:
    """The header value for ``body``."""
    mac = hmac.new(secret.value.encode("utf-8"), body, hashlib.sha256)
    return PREFIX + mac.hexdigest()


def verify(secret: Secret, body: bytes, header: str) -> bool:
    """Whether ``header`` is the signature of ``body`` (constant-time comparison)."""
    return hmac.compare_digest(signature(secret, body), header)
