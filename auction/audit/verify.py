"""Recompute a record: every chain, and every settled result from its lot's events (pure).

Checked for each lot, in this order, and reported as :class:`Finding` (lot and entry named):

1. the chain: seqs 1, 2, 3 … without a gap; each entry's ``prev_sha256`` is the hash of the
   entry before it (64 zeros for seq 1); each entry's ``sha256`` is the SHA-256 of its canonical
   text (:mod:`auction.audit.chain`), i.e. no column of the row was changed after it was written;
   then, from PostgreSQL only, the secret book's private chain (``lot_book``) the same way;
2. the log (with the book's writes) folds (:func:`auction.domain.replay.replay`) into a state;
3. the settled result (``lot_results``), when there is one: outcome, winner, paddle, price and
   winning seq equal the folded state's status, leader, paddle, high and high seq (a passed or
   withdrawn lot has none of them); the close time equals the last event's; the bid count and
   the bid-log digest (:mod:`auction.settlement.digest`) equal those of the log's ``bid`` rows.

Each market's back-office chain (``audit_log``) is checked like 1., by ``chain_n``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from auction.audit.chain import GENESIS, AuditEntry, BookEntry, EventEntry, LotHead
from auction.domain.lot import LotMode, LotStatus
from auction.domain.replay import BookWrite, ReplayError, replay
from auction.domain.room import LotEvent, RoomState
from auction.settlement.digest import bid_log_sha256
from auction.store.journal import BidRecord


@dataclass(frozen=True, slots=True)
class Result:
    """A lot's settled result as ``lot_results`` holds it."""

    outcome: str
    winner_id: int | None
    paddle: int | None
    amount_fen: int | None
    winning_seq: int | None
    closed_at_ms: int
    bid_count: int
    bid_log_sha256: str

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome, "winner_id": self.winner_id, "paddle": self.paddle,
            "amount_fen": self.amount_fen, "winning_seq": self.winning_seq,
            "closed_at_ms": self.closed_at_ms, "bid_count": self.bid_count,
            "bid_log_sha256": self.bid_log_sha256,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Result:
        def opt(name: str) -> int | None:
            return None if raw[name] is None else int(raw[name])
        return cls(
            outcome=str(raw["outcome"]), winner_id=opt("winner_id"), paddle=opt("paddle"),
            amount_fen=opt("amount_fen"), winning_seq=opt("winning_seq"),
            closed_at_ms=int(raw["closed_at_ms"]), bid_count=int(raw["bid_count"]),
            bid_log_sha256=str(raw["bid_log_sha256"]),
        )


@dataclass(frozen=True, slots=True)
class LotRecord:
    """One lot's chained events (seq order) and its settled result, if any."""

    lot_id: int
    session_id: int
    entries: Sequence[EventEntry]
    result: Result | None = None
    #: the secret book's private chain (``lot_book``): from PostgreSQL only, never in a bundle
    book: Sequence[BookEntry] = ()

    def head(self) -> LotHead:
        if not self.entries:
            return LotHead(self.lot_id, 0, GENESIS)
        last = self.entries[-1]
        return LotHead(self.lot_id, last.seq, last.sha256)


@dataclass(frozen=True, slots=True)
class Finding:
    """The first thing wrong with one chain: ``where`` names the lot (or market) and entry."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(slots=True)
class Report:
    """What a verification checked and what it found (empty ``findings``: all good)."""

    lots: int = 0
    events: int = 0
    results: int = 0
    markets: int = 0
    audit_entries: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def _first_break(entries: Sequence[Any], number: Callable[[Any], int],
                 where: Callable[[int], str]) -> Finding | None:
    """The first broken link of a chain: an ``n`` missing, a ``prev_sha256`` that is not the
    entry before it, or a row that does not hash to its ``sha256``; ``where(n)`` names it."""
    prev = GENESIS
    for expected, entry in enumerate(entries, start=1):
        n = number(entry)
        if n != expected:
            return Finding(where(expected), f"missing (next is {n})")
        if entry.prev_sha256 != prev:
            return Finding(where(n), f"prev_sha256 {entry.prev_sha256} is not the hash of the "
                           f"entry before it ({prev})")
        computed = entry.computed()
        if computed != entry.sha256:
            return Finding(where(n), f"the row does not hash to its sha256 (stored "
                           f"{entry.sha256}, recomputed {computed}): the entry was changed")
        prev = entry.sha256
    return None


def check_lot_chain(lot: LotRecord) -> Finding | None:
    """The first broken link of the lot's chain, or None."""
    return _first_break(lot.entries, lambda e: e.seq, lambda n: f"lot {lot.lot_id} seq {n}")


def check_book_chain(lot: LotRecord) -> Finding | None:
    """The first broken link of the lot's secret book chain (``lot_book``), or None."""
    return _first_break(lot.book, lambda e: e.n,
                        lambda n: f"lot {lot.lot_id} book entry {n}")


def fold(lot: LotRecord) -> RoomState:
    """The lot's state after its log and its book (terms other than the log's own are
    neutral)."""
    events = [LotEvent(seq=e.seq, kind=e.kind, at=e.at_ms, data=e.fields())
              for e in lot.entries]
    writes = [BookWrite(n=b.n, after_seq=b.after_seq, bidder=b.bidder_id, paddle=b.paddle,
                        amount=b.amount_fen, revision=b.revision, at=b.at_ms) for b in lot.book]
    return replay(RoomState(mode=LotMode.LIVE, start=0, inc=0), events, writes)


def bids_of(lot: LotRecord) -> list[BidRecord]:
    """The ``bid`` rows of the lot, as the settlement digested them."""
    return [
        BidRecord(seq=e.seq, bidder_id=int(e.bidder_id or 0), paddle=int(e.paddle or 0),
                  amount_fen=int(e.amount_fen or 0), at_ms=e.at_ms)
        for e in lot.entries if e.kind == "bid"
    ]


def check_result(lot: LotRecord) -> Finding | None:
    """The first field of the settled result that the log does not reproduce, or None."""
    result = lot.result
    if result is None:
        return None
    where = f"lot {lot.lot_id} result"
    try:
        state = fold(lot)
    except (ReplayError, ValueError, KeyError) as exc:
        return Finding(where, f"the log does not fold: {exc}")
    last = lot.entries[-1] if lot.entries else None
    if last is None or last.kind != result.outcome:
        return Finding(where, f"outcome {result.outcome} but the log ends with "
                       f"{'nothing' if last is None else last.kind}")
    sold = result.outcome == "sold"
    expected: dict[str, Any] = {
        "outcome": state.status.value if isinstance(state.status, LotStatus) else state.status,
        "winner_id": state.leader if sold else None,
        "paddle": state.paddle if sold else None,
        "amount_fen": state.high if sold else None,
        "winning_seq": state.high_seq if sold else None,
        "closed_at_ms": last.at_ms,
    }
    bids = bids_of(lot)
    expected["bid_count"] = len(bids)
    expected["bid_log_sha256"] = bid_log_sha256(bids)
    stored = result.to_json()
    for name, value in expected.items():
        if stored[name] != value:
            return Finding(where, f"{name} is {stored[name]!r}, the log gives {value!r}")
    return None


def check_audit_chain(market_id: int | None, entries: Sequence[AuditEntry]) -> Finding | None:
    """The first broken link of a market's back-office chain, or None."""
    name = "no market" if market_id is None else f"market {market_id}"
    ids = {e.chain_n: e.id for e in entries}

    def where(n: int) -> str:
        return (f"audit chain of {name} entry {n} (id {ids[n]})" if n in ids
                else f"audit chain of {name} entry {n}")

    return _first_break(entries, lambda e: e.chain_n, where)


def verify_lots(lots: Iterable[LotRecord], report: Report) -> None:
    """Check each lot's chain and result into ``report``."""
    for lot in lots:
        report.lots += 1
        report.events += len(lot.entries)
        finding = check_lot_chain(lot) or check_book_chain(lot)
        if finding is None and lot.result is not None:
            report.results += 1
            finding = check_result(lot)
        if finding is not None:
            report.findings.append(finding)


def verify_audit(chains: dict[int | None, list[AuditEntry]], report: Report) -> None:
    """Check each market's back-office chain into ``report``."""
    for market_id in sorted(chains, key=lambda m: -1 if m is None else m):
        report.markets += 1
        entries = chains[market_id]
        report.audit_entries += len(entries)
        finding = check_audit_chain(market_id, entries)
        if finding is not None:
            report.findings.append(finding)
