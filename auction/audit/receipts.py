"""Signed receipts for accepted bids (issue 16 item 5; docs/formats.md "Bid receipt").

A receipt names one accepted bid, ``(lot, seq)``, with what the bidder needs to hold the market
to it: the session, the paddle, the amount, the server time the room accepted it and the chain
hash of its journal entry (:mod:`auction.audit.chain`). It is signed with a key derived from
the server's secret (``AUCTION_SECRET``, :mod:`auction.settings`)::

    key       = HMAC-SHA256(secret, "auction bid receipt v1")
    signature = hex HMAC-SHA256(key, canonical)
    canonical = ["bid_receipt",<lot_id>,<session_id>,<seq>,<paddle>,<amount_fen>,<at_ms>,"<sha256>"]

(the canonical text a JSON array without whitespace, UTF-8). The signature proves the server
issued it; the chain hash ties it to the published record: the entry (lot, seq) of the lot's
chain must carry that hash, and the chain from it must lead to the lot head that the session's
head (成交公示) covers (``auction verify --receipt FILE [--bundle FILE]``). Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

FORMAT = "auction-bid-receipt"
VERSION = 1
_KEY_LABEL = b"auction bid receipt v1"


class ReceiptError(ValueError):
    """The document is not a receipt this version reads."""


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), _KEY_LABEL, hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class Receipt:
    lot_id: int
    session_id: int
    seq: int
    paddle: int
    amount_fen: int
    at_ms: int
    sha256: str

    def canonical(self) -> str:
        return (f'["bid_receipt",{self.lot_id},{self.session_id},{self.seq},{self.paddle},'
                f'{self.amount_fen},{self.at_ms},"{self.sha256}"]')

    def signature(self, secret: str) -> str:
        return hmac.new(_key(secret), self.canonical().encode("utf-8"),
                        hashlib.sha256).hexdigest()

    def to_json(self, secret: str, at: str) -> dict[str, Any]:
        """The signed document; ``at`` is the server time in words (RFC 3339, +08:00)."""
        return {
            "format": FORMAT, "version": VERSION, "lot_id": self.lot_id,
            "session_id": self.session_id, "seq": self.seq, "paddle": self.paddle,
            "amount_fen": self.amount_fen, "at_ms": self.at_ms, "at": at,
            "sha256": self.sha256, "signature": self.signature(secret),
        }


def parse(raw: Any) -> tuple[Receipt, str]:
    """The receipt and its stated signature; :class:`ReceiptError` when malformed."""
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ReceiptError(f"not an {FORMAT} document")
    if raw.get("version") != VERSION:
        raise ReceiptError(f"receipt version {raw.get('version')!r}, this reads {VERSION}")
    try:
        ints = {name: raw[name] for name in ("lot_id", "session_id", "seq", "paddle",
                                             "amount_fen", "at_ms")}
        if any(type(v) is not int for v in ints.values()):
            raise ReceiptError("lot_id, session_id, seq, paddle, amount_fen, at_ms: integers")
        sha, signature = raw["sha256"], raw["signature"]
    except KeyError as exc:
        raise ReceiptError(f"missing field {exc}") from None
    if not (isinstance(sha, str) and len(sha) == 64 and isinstance(signature, str)):
        raise ReceiptError("sha256 must be 64 hex digits, signature a string")
    return Receipt(sha256=sha, **ints), signature


def signed_by(receipt: Receipt, signature: str, secret: str) -> bool:
    """Whether ``signature`` is the server's (``secret``) over ``receipt``."""
    return hmac.compare_digest(receipt.signature(secret), signature)
