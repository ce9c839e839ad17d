"""What a buyer does next after winning a lot (我的竞拍, docs/http-api.md "My auction"). No I/O.

The order after the hammer (DESIGN §6 "After the hammer", issue 13): the 成交确认书 is there at
settlement; the buyer pays the balance (price − deposit applied) by its due date; the market
hands the contract to the registration office (already at settlement; the office answers
已登记 with its number or 未予登记 with a reason, and the market corrects and resends); the
成交公示 runs for its notice period meanwhile. :func:`next_step` reads where a won lot stands
and says, in Chinese and in English, the one thing that comes next:

============================  ===================================================================
``code``                      when
============================  ===================================================================
``defaulted``                 the market declared the default (悔拍): nothing more to do
``overdue``                   balance open after its due date
``pay``                       balance open, due date not passed
``registration_rejected``     paid; the office refused the registration (the market corrects it)
``registration_pending``      paid; no answer from the office yet (待登记; a failed hand-off too:
                              resending it is the market's business)
``done``                      paid and 已登记
============================  ===================================================================

While the notice runs, the text adds its end date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from auction.domain.money import format_yuan
from auction.domain.payment import PaymentStatus


@dataclass(frozen=True, slots=True)
class WonLot:
    """Where a won lot stands, as :func:`next_step` needs it."""

    payment: PaymentStatus
    open_fen: int
    due_on: date
    #: the registration as pages show it (``pending`` / ``registered`` / ``rejected`` /
    #: ``dead``), ``None`` before the hand-off is queued
    registration: str | None = None
    registration_no: str | None = None
    reason: str = ""
    #: the last day of the 成交公示, ``None`` without one
    notice_ends: date | None = None


@dataclass(frozen=True, slots=True)
class NextStep:
    code: str
    zh: str
    en: str


def _en_yuan(fen: int) -> str:
    return format_yuan(fen).replace(" 元", " yuan")


def next_step(lot: WonLot, today: date) -> NextStep:
    """The next step of ``lot`` on the server's day ``today`` (in China)."""
    if lot.payment is PaymentStatus.DEFAULTED:
        return NextStep("defaulted", "市场已宣布悔拍: 保证金已没收, 本次成交不再履行",
                        "The market declared a default: the deposit is forfeited and the sale "
                        "will not go ahead")
    due = lot.due_on.isoformat()
    registered = lot.registration == "registered"
    if lot.open_fen > 0:
        then_zh = "合同已登记" if registered else "之后由市场办理技术合同登记"
        then_en = ("the contract is registered" if registered
                   else "then the market registers the contract")
        if lot.payment is PaymentStatus.OVERDUE:
            step = NextStep(
                "overdue",
                f"尾款 {format_yuan(lot.open_fen)} 已逾期 (付款期限 {due}): 请尽快付清, "
                "否则市场可宣布悔拍并没收保证金",
                f"The balance of {_en_yuan(lot.open_fen)} is overdue (due {due}): pay it at "
                "once, or the market may declare a default and forfeit the deposit")
        else:
            step = NextStep(
                "pay", f"请于 {due} 前付清尾款 {format_yuan(lot.open_fen)}; {then_zh}",
                f"Pay the balance of {_en_yuan(lot.open_fen)} by {due}; {then_en}")
    elif registered:
        step = NextStep("done", f"尾款已付清, 合同已登记 (登记编号 {lot.registration_no}): "
                        "交易完成",
                        f"Balance paid and contract registered (No. {lot.registration_no}): "
                        "the deal is complete")
    elif lot.registration == "rejected":
        step = NextStep("registration_rejected",
                        f"尾款已付清; 合同未予登记 ({lot.reason or '登记机构未说明原因'}), "
                        "市场将更正后重新提交",
                        f"Balance paid; the registration office refused the contract "
                        f"({lot.reason or 'no reason given'}): the market corrects and "
                        "resends it")
    else:
        step = NextStep("registration_pending", "尾款已付清; 等待技术合同登记 (市场已移交登记机构)",
                        "Balance paid; awaiting the contract's registration (the market has "
                        "handed it to the registration office)")
    if lot.notice_ends is not None and today <= lot.notice_ends:
        ends = lot.notice_ends.isoformat()
        return NextStep(step.code, f"{step.zh}; 成交公示至 {ends}",
                        f"{step.en}; the public notice runs until {ends}")
    return step
