"""成交确认书 (deal confirmation) rules: what it states, from the settled records, no I/O.

A confirmation exists for a lot with a ``sold`` result. Every fact on it is final once the lot
is settled (the result row, the lot's terms, the buyer's identity, the deposits the buyer paid
for the session), so building it again from those records gives the same document: it is the
document "generated at settlement", built on request (docs/formats.md "成交确认书").

- **Deposit applied** (保证金抵作价款): the deposits the buyer paid for the lot's session that
  cover the lot — one for that lot, or the session band (``lot_id`` none) — count toward its
  price unless they were refunded (``released``) or never paid (``required``). A lot deposit
  goes to its lot; a band deposit is shared among the buyer's won lots of the session in hammer
  order (earliest first), each lot taking at most its price. A lot hammered later never changes
  what an earlier lot was given, so a confirmation never changes once issued.
- **Balance due** (应付余款) is the price less the deposit applied, due by
  :func:`auction.domain.deadlines.balance_due` of the hammer time.
- **Buyer shown to the public** (the verification answer): an enterprise by name and credit
  code, a natural person as 成交公示 publishes one (:func:`auction.domain.publicity.mask_person`)
  with the resident id masked (:func:`auction.domain.identity.mask_resident_id`); the PDF, held
  by the buyer and the market, names the person in full, the resident id masked all the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from auction.domain.deadlines import CST, balance_due
from auction.domain.identity import mask_resident_id
from auction.domain.listing_sale import DEAL_LABELS
from auction.domain.money import chinese_capitals
from auction.domain.publicity import mask_person

#: deposit states that never counted toward a price: not paid, or refunded
NOT_APPLIED = frozenset({"required", "released"})


@dataclass(frozen=True, slots=True)
class Buyer:
    kind: str  # enterprise | person
    name: str
    uscc: str | None
    resident_id: str | None

    @property
    def is_person(self) -> bool:
        return self.kind == "person"

    @property
    def id_label(self) -> str:
        return "公民身份号码" if self.is_person else "统一社会信用代码"

    @property
    def id_shown(self) -> str:
        """The buyer's code as any document shows it: a credit code whole, a resident id
        masked."""
        if self.is_person:
            return mask_resident_id(self.resident_id or "")
        return self.uscc or ""


@dataclass(frozen=True, slots=True)
class Confirmation:
    """The facts of one lot's 成交确认书."""

    lot_id: int
    market_code: str
    market_name: str
    session_id: int
    session_name: str
    ordinal: int
    title: str
    result_type: str
    ip_type: str
    transaction_mode: str
    holder_name: str
    holder_uscc: str
    buyer: Buyer
    paddle: int | None
    amount_fen: int
    hammer_at: datetime
    deposit_applied_fen: int
    bid_count: int
    bid_log_sha256: str
    payee_name: str = ""
    payee_bank: str = ""
    payee_account: str = ""
    #: how the sale came about: ``auction`` (拍卖) or ``agreement`` (协议成交, a listing's one
    #: buyer at the listing price; auction/domain/listing_sale.py)
    deal: str = "auction"

    @property
    def deal_label(self) -> str:
        return DEAL_LABELS.get(self.deal, self.deal)

    @property
    def balance_fen(self) -> int:
        return self.amount_fen - self.deposit_applied_fen

    @property
    def balance_due_on(self) -> date:
        return balance_due(self.hammer_at)

    @property
    def amount_capitals(self) -> str:
        return chinese_capitals(self.amount_fen)

    @property
    def balance_capitals(self) -> str:
        return chinese_capitals(max(self.balance_fen, 0))

    @property
    def number(self) -> str:
        """The document's number: market code, hammer date, lot id (``370100-20261130-42``)."""
        return f"{self.market_code}-{self.hammer_at.astimezone(CST):%Y%m%d}-{self.lot_id}"

    def facts(self, *, public: bool) -> dict[str, Any]:
        """The JSON of the facts (docs/http-api.md "成交确认书"); ``public`` masks a natural
        person's name as the verification answer does."""
        buyer_name = self.buyer.name
        if public and self.buyer.is_person:
            buyer_name = mask_person(buyer_name)
        return {
            "lot_id": self.lot_id, "number": self.number,
            "market": {"code": self.market_code, "name": self.market_name},
            "session": {"id": self.session_id, "name": self.session_name},
            "lot": {"ordinal": self.ordinal, "title": self.title,
                    "result_type": self.result_type, "ip_type": self.ip_type,
                    "transaction_mode": self.transaction_mode},
            "seller": {"name": self.holder_name, "uscc": self.holder_uscc},
            "buyer": {"kind": self.buyer.kind, "name": buyer_name,
                      "uscc": self.buyer.uscc if not self.buyer.is_person else None,
                      "resident_id": self.buyer.id_shown if self.buyer.is_person else None},
            "paddle": self.paddle, "amount_fen": self.amount_fen,
            "amount_capitals": self.amount_capitals,
            "hammer_at": self.hammer_at.astimezone(CST).isoformat(timespec="seconds"),
            "deposit_applied_fen": self.deposit_applied_fen, "balance_fen": self.balance_fen,
            "balance_due_on": self.balance_due_on.isoformat(), "bid_count": self.bid_count,
            "bid_log_sha256": self.bid_log_sha256,
            "deal": self.deal, "deal_label": self.deal_label,
        }


def deposit_applied(
    lot_id: int, won: Sequence[tuple[int, int]], deposits: Iterable[tuple[int | None, int, str]]
) -> int:
    """Fen of the buyer's deposits applied to ``lot_id``.

    ``won``: ``(lot_id, price_fen)`` of every lot the buyer won in the session, in hammer order;
    ``deposits``: ``(lot_id or None for the band, amount_fen, state)`` of the buyer's deposits
    in the session. Rules in the module docstring.
    """
    counted = [(lot, amount) for lot, amount, state in deposits if state not in NOT_APPLIED]
    band = sum(amount for lot, amount in counted if lot is None)
    for won_lot, price in won:
        own = min(price, sum(amount for lot, amount in counted if lot == won_lot))
        from_band = min(price - own, band)
        band -= from_band
        if won_lot == lot_id:
            return own + from_band
    return 0

