"""The buyer's payment of the balance after the hammer (DESIGN §6 "After the hammer"). No I/O.

- **Balance** (尾款) = hammer price − the winner's deposit applied to the lot. The deposit is the
  ledger's (:mod:`auction.domain.deposits`): a lot deposit counts towards its lot; a band deposit
  counts towards the lots its bidder won in the session in hammer order
  (:func:`auction.domain.confirmation.deposit_applied`). Either counts at most
  the price. Payments of the balance are recorded apart from deposits (``lot_payments``).
- **Due date**: :func:`auction.domain.deadlines.balance_due` of the hammer time (5 working days).
- **Status**: 悔拍 once a default was declared; else 已付清 when nothing is open; else 逾期 when
  the server's day in China is after the due date; else 待付款.
- **Default** (悔拍) may be declared only when the lot is overdue and not paid:
  :func:`check_default` names why not (``paid``, ``not_overdue``, ``defaulted``).

Exception tree::

    PaymentError(code, message, field)   ValueError; codes ``overpayment`` (400),
                                         ``defaulted`` / ``paid`` / ``not_overdue`` (409)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    OVERDUE = "overdue"
    DEFAULTED = "defaulted"


#: the words the market and the buyer read
STATUS_TEXT = {
    PaymentStatus.PENDING: "待付款", PaymentStatus.PAID: "已付清",
    PaymentStatus.OVERDUE: "逾期", PaymentStatus.DEFAULTED: "悔拍",
}


class PaymentError(ValueError):
    """A payment or default the rules refuse; nothing is written."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class Account:
    """Where one sold lot's money stands (integer fen)."""

    price_fen: int
    deposit_applied_fen: int
    paid_fen: int
    due_on: date
    defaulted: bool

    @property
    def balance_fen(self) -> int:
        return self.price_fen - self.deposit_applied_fen

    @property
    def open_fen(self) -> int:
        return max(0, self.balance_fen - self.paid_fen)

    def status(self, today: date) -> PaymentStatus:
        if self.defaulted:
            return PaymentStatus.DEFAULTED
        if self.open_fen == 0:
            return PaymentStatus.PAID
        if today > self.due_on:
            return PaymentStatus.OVERDUE
        return PaymentStatus.PENDING


def deposit_applied(price_fen: int, deposits_fen: int) -> int:
    """The part of the winner's deposits that counts towards the price: at most the price."""
    return max(0, min(price_fen, deposits_fen))


def check_payment(account: Account, amount_fen: int) -> None:
    """A part payment of ``amount_fen`` (> 0, checked by the caller) must fit in what is open."""
    if account.defaulted:
        raise PaymentError("defaulted", "该标的已宣布悔拍, 不能再登记付款", "lot_id")
    if amount_fen > account.open_fen:
        raise PaymentError(
            "overpayment",
            f"付款金额 {amount_fen} 分超过未付余额 {account.open_fen} 分", "amount_fen",
        )


def check_default(account: Account, today: date) -> None:
    """Default may be declared only after the due date passed with the balance unpaid."""
    if account.defaulted:
        raise PaymentError("defaulted", "该标的已宣布悔拍", "lot_id")
    if account.open_fen == 0:
        raise PaymentError("paid", "尾款已付清, 不能宣布悔拍", "lot_id")
    if today <= account.due_on:
        raise PaymentError(
            "not_overdue", f"付款期限 {account.due_on.isoformat()} 尚未届满, 不能宣布悔拍",
            "lot_id",
        )
