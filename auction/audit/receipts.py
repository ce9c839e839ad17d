"""Signed receipts for accepted bids (issue 16 item 5; docs/formats.md "Bid receipt").

A receipt names one accepted bid, ``(lot, seq)`` — ``seq`` is also the entry's position in the
lot's chain — with what the bidder needs to hold the market to it: the session, the paddle, the
amount, the server time the room accepted it and the chain hash of its journal entry
(:mod:`auction.audit.chain`). It is signed with the server's **Ed25519** key
(``AUCTION_RECEIPT_KEY``, :mod:`auction.settings`), whose public half is published
(``GET /api/v1/receipts/key``), so anyone can check a receipt without the server::

    canonical = ["bid_receipt",2,<lot_id>,<session_id>,<seq>,<paddle>,<amount_fen>,<at_ms>,
                 "<sha256>"]   (one line)
    signature = base64 Ed25519(seed, UTF-8 bytes of canonical)
    key_id    = the first 16 hex digits of SHA-256(the 32-byte raw public key)

(the canonical text a JSON array without whitespace). The signature proves the server issued
it; the chain hash ties it to the published record: the entry (lot, seq) of the lot's chain
must carry that hash, and the chain from it must lead to the lot head that the session's head
(成交公示) covers (``auction verify --receipt FILE [--bundle FILE] [--key KEY]``). Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT = "auction-bid-receipt"
VERSION = 2
ALG = "Ed25519"


class ReceiptError(ValueError):
    """The document is not a receipt this version reads (or a key is not an Ed25519 key)."""


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A receipt-checking key: the raw 32 bytes of an Ed25519 public key."""

    raw: bytes

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()[:16]

    @property
    def b64(self) -> str:
        return base64.b64encode(self.raw).decode("ascii")

    def pem(self) -> str:
        key = Ed25519PublicKey.from_public_bytes(self.raw)
        return key.public_bytes(serialization.Encoding.PEM,
                                serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")

    def to_json(self) -> dict[str, str]:
        """What ``GET /api/v1/receipts/key`` publishes."""
        return {"alg": ALG, "key_id": self.key_id, "public_key": self.b64,
                "public_key_pem": self.pem()}

    def verifies(self, receipt: Receipt, signature: str) -> bool:
        """Whether ``signature`` (base64) is this key's over ``receipt``."""
        try:
            sig = base64.b64decode(signature, validate=True)
            Ed25519PublicKey.from_public_bytes(self.raw).verify(
                sig, receipt.canonical().encode("utf-8"))
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    @classmethod
    def parse(cls, text: str) -> PublicKey:
        """A key as published: the base64 of the raw 32 bytes, or a PEM public key, or the JSON
        ``GET /api/v1/receipts/key`` answers (its ``public_key``)."""
        text = text.strip()
        if text.startswith("{"):
            try:
                text = str(json.loads(text)["public_key"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ReceiptError(f"not a published receipt key: {exc}") from None
        if text.startswith("-----BEGIN"):
            try:
                key = serialization.load_pem_public_key(text.encode("ascii"))
            except ValueError as exc:
                raise ReceiptError(f"not a PEM public key: {exc}") from None
            if not isinstance(key, Ed25519PublicKey):
                raise ReceiptError("the PEM key is not an Ed25519 key")
            return cls(key.public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw))
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ReceiptError("a receipt key is the base64 of 32 bytes (or PEM)")
        return cls(raw)


class Signer:
    """The server's receipt key (from the base64 seed in the settings)."""

    def __init__(self, seed_b64: str) -> None:
        seed = base64.b64decode(seed_b64, validate=True)
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public = PublicKey(self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw))

    def sign(self, receipt: Receipt) -> str:
        return base64.b64encode(self._key.sign(receipt.canonical().encode("utf-8"))).decode()


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
        return (f'["bid_receipt",{VERSION},{self.lot_id},{self.session_id},{self.seq},'
                f'{self.paddle},{self.amount_fen},{self.at_ms},"{self.sha256}"]')

    def to_json(self, signer: Signer, at: str) -> dict[str, Any]:
        """The signed document; ``at`` is the server time in words (RFC 3339, +08:00)."""
        return {
            "format": FORMAT, "version": VERSION, "lot_id": self.lot_id,
            "session_id": self.session_id, "seq": self.seq, "paddle": self.paddle,
            "amount_fen": self.amount_fen, "at_ms": self.at_ms, "at": at,
            "sha256": self.sha256, "alg": ALG, "key_id": signer.public.key_id,
            "signature": signer.sign(self),
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
