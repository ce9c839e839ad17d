"""Settlement of closed lots: result, bid-log digest and registration outbox row, once.

:func:`settle_many` is called by the drainer with lots whose terminal event (sold / passed /
withdrawn) and every event before it are in PostgreSQL, so each bid log it digests is complete
and final. It reads what it needs for the whole batch in a few queries (the bid logs, the lot
sheets, the winners) and writes the batch in one transaction
(:func:`auction.store.settlements.record_results`): every lot's result, status and, if sold,
outbox row commit together, and a lot that already has a result is left as it is and reported
:attr:`Settled.ALREADY` (invariant 4). A lot that cannot be settled from what the store holds
is reported with its :class:`SettlementError` and left out of the transaction; the others are
settled. :func:`settle` is the same for one lot.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from auction.domain.room import LotEvent
from auction.registration.packet import build_packet, idempotency_key, packet_body
from auction.settlement.digest import bid_log_sha256
from auction.store import journal, outbox, settlements

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
    without writing when the lot already has a result. Raises :class:`SettlementError`.
    """
    outcome = (await settle_many(store, {lot_id: terminal}))[lot_id]
    if isinstance(outcome, SettlementError):
        raise outcome
    return outcome


async def settle_many(
    store: Store, terminals: Mapping[int, LotEvent]
) -> dict[int, Settled | SettlementError]:
    """Settle every lot of ``terminals`` (lot id → its terminal event) in one transaction; the
    outcome of each lot: :class:`Settled`, or the :class:`SettlementError` that kept it out."""
    out: dict[int, Settled | SettlementError] = {}
    for lot_id, terminal in terminals.items():
        if terminal.kind not in TERMINAL_KINDS:
            out[lot_id] = SettlementError("not_terminal", lot_id)
    lots = [lot for lot in terminals if lot not in out]
    if not lots:
        return out
    logs = await journal.bid_logs(store, lots)
    sold = {lot: terminals[lot] for lot in lots if terminals[lot].kind == "sold"}
    sheets = await settlements.lot_sheets(store, list(sold))
    winners = await settlements.buyers(store, [int(t.data["bidder"]) for t in sold.values()])
    batch: list[settlements.Settlement] = []
    for lot_id in lots:
        terminal = terminals[lot_id]
        bids = logs[lot_id]
        digest = bid_log_sha256(bids)
        if terminal.kind != "sold":
            batch.append(settlements.Settlement(outbox.LotResult(
                lot_id=lot_id, outcome=terminal.kind,
                reason=str(terminal.data.get("reason", "")), winner_id=None, paddle=None,
                amount_fen=None, winning_seq=None, closed_at_ms=terminal.at,
                bid_count=len(bids), bid_log_sha256=digest,
            ), None))
            continue
        data = terminal.data
        bidder_id, paddle = int(data["bidder"]), int(data["paddle"])
        amount, winning_seq = int(data["amount"]), int(data["winning_seq"])
        sheet = sheets.get(lot_id)
        if sheet is None:
            out[lot_id] = SettlementError("unknown_lot", lot_id)
            continue
        winner = winners.get(bidder_id)
        if winner is None:
            out[lot_id] = SettlementError("unknown_bidder", lot_id)
            continue
        # the paddle comes from the sold event (the one the room knew); name and code from
        # the bidders row
        winner = dataclasses.replace(winner, paddle=paddle)
        packet = build_packet(
            sheet, winner, amount_fen=amount, winning_seq=winning_seq,
            hammer_at_ms=terminal.at, bid_log_sha256=digest,
        )
        batch.append(settlements.Settlement(outbox.LotResult(
            lot_id=lot_id, outcome="sold", reason="", winner_id=bidder_id, paddle=paddle,
            amount_fen=amount, winning_seq=winning_seq, closed_at_ms=terminal.at,
            bid_count=len(bids), bid_log_sha256=digest,
        ), outbox.OutboxEntry(
            idempotency_key(sheet), packet_body(packet), market_id=sheet.market_id,
        )))
    now = await settlements.record_results(store, batch)
    for item in batch:
        result = item.result
        if result.lot_id in now:
            out[result.lot_id] = Settled.NOW
            log.info("lot %d settled: %s, %d bids, sha256 %s", result.lot_id, result.outcome,
                     result.bid_count, result.bid_log_sha256)
        else:
            out[result.lot_id] = Settled.ALREADY
    return out
