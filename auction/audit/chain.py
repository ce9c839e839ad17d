"""Canonical bytes and SHA-256 of the chained record's entries (docs/formats.md).

The same text is built by PostgreSQL when an entry is inserted (``lot_event_canonical`` and
``audit_entry_canonical`` in migrations/0018_record_chain.sql); this module rebuilds it from the
stored columns, so a verifier needs only the rows (or an exported bundle), never the database's
functions. Pure: no I/O.

An entry's canonical text is a JSON array without whitespace between its elements: integers in
base 10, NULL as ``null``, text as a JSON string (only ``"``, ``\\`` and control characters
escaped, exactly as :func:`json.dumps` with ``ensure_ascii=False`` and PostgreSQL's ``to_json``
both do), and JSON columns as PostgreSQL prints a ``jsonb`` value (``jsonb::text``, kept
verbatim in the rows and bundles). The entry's hash is the lowercase hex SHA-256 of the UTF-8
bytes; the last element of the array is the previous entry's hash (64 zeros for the first).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: the previous hash of a chain's first entry
GENESIS = "0" * 64


def _str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _opt(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class EventEntry:
    """One row of ``lot_events`` as the chain covers it; ``data`` is ``data::text``."""

    lot_id: int
    seq: int
    epoch: str
    kind: str
    at_ms: int
    bidder_id: int | None
    paddle: int | None
    amount_fen: int | None
    data: str
    prev_sha256: str
    sha256: str

    def canonical(self) -> str:
        """The entry's canonical text, with its stored ``prev_sha256``."""
        return (
            f'["lot_event",{self.lot_id},{self.seq},{_str(self.epoch)},{_str(self.kind)},'
            f"{self.at_ms},{_opt(self.bidder_id)},{_opt(self.paddle)},{_opt(self.amount_fen)},"
            f"{self.data},{_str(self.prev_sha256)}]"
        )

    def computed(self) -> str:
        """SHA-256 of :meth:`canonical` (equal to ``sha256`` unless the row was changed)."""
        return sha256_hex(self.canonical())

    def fields(self) -> dict[str, Any]:
        """The event's fields as the stream carried them (columns folded back into data)."""
        out: dict[str, Any] = json.loads(self.data)
        for name, value in (("bidder", self.bidder_id), ("paddle", self.paddle),
                            ("amount", self.amount_fen)):
            if value is not None:
                out[name] = value
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "epoch": self.epoch, "kind": self.kind, "at_ms": self.at_ms,
            "bidder_id": self.bidder_id, "paddle": self.paddle, "amount_fen": self.amount_fen,
            "data": self.data, "prev_sha256": self.prev_sha256, "sha256": self.sha256,
        }

    @classmethod
    def from_json(cls, lot_id: int, raw: dict[str, Any]) -> EventEntry:
        return cls(
            lot_id=lot_id, seq=int(raw["seq"]), epoch=str(raw["epoch"]), kind=str(raw["kind"]),
            at_ms=int(raw["at_ms"]), bidder_id=_int_or_none(raw["bidder_id"]),
            paddle=_int_or_none(raw["paddle"]), amount_fen=_int_or_none(raw["amount_fen"]),
            data=str(raw["data"]), prev_sha256=str(raw["prev_sha256"]),
            sha256=str(raw["sha256"]),
        )


@dataclass(frozen=True, slots=True)
class BookEntry:
    """One row of ``lot_book`` (the secret book's journal, migrations/0020_lot_book.sql): a
    private chain per lot, never exported; ``nonce`` keeps its hash from revealing the amount."""

    lot_id: int
    n: int
    after_seq: int
    bidder_id: int
    paddle: int
    amount_fen: int
    revision: int
    at_ms: int
    nonce: str
    prev_sha256: str
    sha256: str

    def canonical(self) -> str:
        return (
            f'["lot_book",{self.lot_id},{self.n},{self.after_seq},{self.bidder_id},'
            f"{self.paddle},{self.amount_fen},{self.revision},{self.at_ms},{_str(self.nonce)},"
            f"{_str(self.prev_sha256)}]"
        )

    def computed(self) -> str:
        return sha256_hex(self.canonical())


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One row of ``audit_log`` as the chain covers it; JSON columns as ``jsonb::text``."""

    market_id: int | None
    chain_n: int
    id: int
    at_us: int
    actor_role: str
    actor_account_id: int | None
    actor_subject: str
    actor_market_id: int | None
    actor_session_id: int | None
    actor_address: str
    method: str
    route: str
    path_ids: str
    query: str
    body: str
    status: int
    created: str
    prev_sha256: str
    sha256: str

    def canonical(self) -> str:
        return (
            f'["audit",{_opt(self.market_id)},{self.chain_n},{self.id},{self.at_us},'
            f"{_str(self.actor_role)},{_opt(self.actor_account_id)},{_str(self.actor_subject)},"
            f"{_opt(self.actor_market_id)},{_opt(self.actor_session_id)},"
            f"{_str(self.actor_address)},{_str(self.method)},{_str(self.route)},"
            f"{self.path_ids},{self.query},{self.body},{self.status},{self.created},"
            f"{_str(self.prev_sha256)}]"
        )

    def computed(self) -> str:
        return sha256_hex(self.canonical())


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True, slots=True)
class LotHead:
    """The end of one lot's chain: its last seq and that entry's hash (0 / GENESIS: none)."""

    lot_id: int
    seq: int
    sha256: str


def session_head(session_id: int, heads: Iterable[LotHead]) -> str:
    """The session's head hash: SHA-256 of ``["session",<id>,[[lot,seq,"sha"],...]]`` over
    every lot of the session in lot id order (docs/formats.md)."""
    items = ",".join(f"[{h.lot_id},{h.seq},{_str(h.sha256)}]"
                     for h in sorted(heads, key=lambda h: h.lot_id))
    return sha256_hex(f'["session",{session_id},[{items}]]')
