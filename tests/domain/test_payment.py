"""The balance after the hammer (auction/domain/payment.py): status, part payments, default."""

from __future__ import annotations

from datetime import date

import pytest

from auction.domain.payment import (
    Account,
    PaymentError,
    PaymentStatus,
    check_default,
    check_payment,
    deposit_applied,
)

DUE = date(2026, 4, 24)


def account(paid: int = 0, *, defaulted: bool = False) -> Account:
    return Account(price_fen=230_000_000, deposit_applied_fen=25_000_000, paid_fen=paid,
                   due_on=DUE, defaulted=defaulted)


@pytest.mark.parametrize(("paid", "today", "defaulted", "status"), [
    (0, DUE, False, PaymentStatus.PENDING),  # the due date itself is still in time
    (0, date(2026, 4, 25), False, PaymentStatus.OVERDUE),
    (100_000_000, date(2026, 4, 25), False, PaymentStatus.OVERDUE),
    (205_000_000, date(2026, 4, 25), False, PaymentStatus.PAID),
    (0, date(2026, 4, 25), True, PaymentStatus.DEFAULTED),
])
def test_status(paid: int, today: date, defaulted: bool, status: PaymentStatus) -> None:
    """待付款 through the due date, then 逾期; 已付清 when nothing is open; 悔拍 above all."""
    assert account(paid, defaulted=defaulted).status(today) is status


def test_balance_is_the_price_less_the_deposit_applied() -> None:
    """Balance and open amount in fen; the deposit counts at most the price."""
    assert (account(5).balance_fen, account(5).open_fen) == (205_000_000, 204_999_995)
    assert deposit_applied(100, 250) == 100 and deposit_applied(100, 30) == 30


def test_a_payment_must_fit_in_what_is_open() -> None:
    """The whole open amount is accepted, one fen more is ``overpayment``; none after 悔拍."""
    check_payment(account(5_000_000), 200_000_000)
    with pytest.raises(PaymentError) as exc:
        check_payment(account(5_000_000), 200_000_001)
    assert (exc.value.code, exc.value.field) == ("overpayment", "amount_fen")
    with pytest.raises(PaymentError) as exc:
        check_payment(account(defaulted=True), 1)
    assert exc.value.code == "defaulted"


@pytest.mark.parametrize(("paid", "today", "defaulted", "code"), [
    (0, DUE, False, "not_overdue"),
    (205_000_000, date(2026, 5, 6), False, "paid"),
    (0, date(2026, 5, 6), True, "defaulted"),
])
def test_default_is_refused_unless_overdue_and_unpaid(
    paid: int, today: date, defaulted: bool, code: str
) -> None:
    """Not before the due date has passed, not when paid, not twice."""
    with pytest.raises(PaymentError) as exc:
        check_default(account(paid, defaulted=defaulted), today)
    assert exc.value.code == code


def test_default_after_the_due_date() -> None:
    """The day after the due date with money open, a default may be declared."""
    check_default(account(100_000_000), date(2026, 4, 25))
