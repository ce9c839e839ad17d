"""Settlement of a closed lot: result, bid-log digest and registration outbox row, once.

:func:`settle` is called by the drainer after the lot's terminal event (sold / passed /
withdrawn) and every event before it are in PostgreSQL, so the bid log it digests is complete
and final. The writes happen in one transaction (:func:`auction.store.outbox.record_result`);
a second call for the same lot writes nothing and returns :attr:`Settled.ALREADY` (invariant 4).
"""

from __future__ import annotations

import enum
import logging
from typing import TYPE_CHECKING

from auction.domain.room import LotEvent
from auction.registration.packet import build_packet, idempotency_key, packet_body
from auction.settlement.digest import bid_log_sha256
from auction.store import journal, outbox

if TYPE_CHECKING:
    from auction.store import Store

log = logging.getLogger(__name__)

TERMINAL_KINDS = frozenset({"sold", "passed", "withdrawn"})


class Settled(enum.StrEnum):
    NOW = "settled"
    ALREADY = "already settled"


class SettlementError(Exception):
    """The lot cannot be settled from what the store holds (unknown lot or winner).

    ``code`` is stable: ``not_terminal``, ``unknown_lot``, ``unknown_bidder``.
    """

    def __init__(self, code: str, lot_id: int) -> None:
        super().__init__(f"{code}: lot {lot_id}")
        self.code = code
        self.lot_id = lot_id


async def settle(store: Store, lot_id: int, terminal: LotEvent) -> Settled:
    """Write the lot's result (and, if sold, its registration outbox row) in one transaction.

    ``terminal`` is the lot's last event, kind ``sold`` {bidder, paddle, amount, winning_seq},
    ``passed`` {reason} or ``withdrawn`` {reason?}. Idempotent: returns ``Settled.ALREADY``
    without writing when the lot already has a result.
    """
    if terminal.kind not in TERMINAL_KINDS:
        raise SettlementError("not_terminal", lot_id)
    bids = await journal.bid_log(store, lot_id)
    digest = bid_log_sha256(bids)
    entry: outbox.OutboxEntry | None = None
    if terminal.kind == "sold":
        data = terminal.data
        bidder_id, paddle = int(data["bidder"]), int(data["paddle"])
        amount, winning_seq = int(data["amount"]), int(data["winning_seq"])
        sheet = await outbox.lot_sheet(store, lot_id)
        if sheet is None:
            raise SettlementError("unknown_lot", lot_id)
        winner = await outbox.buyer(store, bidder_id, paddle)
        if winner is None:
            raise SettlementError("unknown_bidder", lot_id)
        packet = build_packet(
            sheet, winner, amount_fen=amount, winning_seq=winning_seq,
            hammer_at_ms=terminal.at, bid_log_sha256=digest,
        )
        entry = outbox.OutboxEntry(
            idempotency_key(sheet), packet_body(packet), market_id=sheet.market_id
        )
        result = outbox.LotResult(
            lot_id=lot_id, outcome="sold", reason="", winner_id=bidder_id, paddle=paddle,
            amount_fen=amount, winning_seq=winning_seq, closed_at_ms=terminal.at,
            bid_count=len(bids), bid_log_sha256=digest,
        )
    else:
        result = outbox.LotResult(
            lot_id=lot_id, outcome=terminal.kind, reason=str(terminal.data.get("reason", "")),
            winner_id=None, paddle=None, amount_fen=None, winning_seq=None,
            closed_at_ms=terminal.at, bid_count=len(bids), bid_log_sha256=digest,
        )
    settled = await outbox.record_result(store, result, entry)
    if not settled:
        return Settled.ALREADY
    log.info("lot %d settled: %s, %d bids, sha256 %s", lot_id, result.outcome, len(bids), digest)
    return Settled.NOW
