"""What a buyer does next after winning (auction/domain/next_step.py): from the payment, the
registration and the 成交公示, in Chinese and in English."""

from __future__ import annotations

from datetime import date

import pytest

from auction.domain.next_step import WonLot, next_step
from auction.domain.payment import PaymentStatus

DUE = date(2026, 12, 7)
TODAY = date(2026, 12, 1)
ENDS = date(2026, 12, 8)


def lot(**changes: object) -> WonLot:
    base: dict[str, object] = {"payment": PaymentStatus.PENDING, "open_fen": 150_000_00,
                               "due_on": DUE, "registration": "pending", "notice_ends": ENDS}
    return WonLot(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(("won", "code", "zh"), [
    (lot(), "pay", "请于 2026-12-07 前付清尾款 150,000.00 元; 之后由市场办理技术合同登记; "
     "成交公示至 2026-12-08"),
    (lot(registration="registered", registration_no="2026370100000001", notice_ends=None),
     "pay", "请于 2026-12-07 前付清尾款 150,000.00 元; 合同已登记"),
    (lot(payment=PaymentStatus.OVERDUE, notice_ends=date(2026, 11, 30)), "overdue",
     "尾款 150,000.00 元 已逾期 (付款期限 2026-12-07): 请尽快付清, 否则市场可宣布悔拍并没收保证金"),
    (lot(payment=PaymentStatus.DEFAULTED), "defaulted",
     "市场已宣布悔拍: 保证金已没收, 本次成交不再履行"),
    (lot(payment=PaymentStatus.PAID, open_fen=0, registration="dead", notice_ends=TODAY),
     "registration_pending",
     "尾款已付清; 等待技术合同登记 (市场已移交登记机构); 成交公示至 2026-12-01"),
    (lot(payment=PaymentStatus.PAID, open_fen=0, registration=None, notice_ends=None),
     "registration_pending", "尾款已付清; 等待技术合同登记 (市场已移交登记机构)"),
    (lot(payment=PaymentStatus.PAID, open_fen=0, registration="rejected", reason="主体性质有误",
         notice_ends=None),
     "registration_rejected", "尾款已付清; 合同未予登记 (主体性质有误), 市场将更正后重新提交"),
    (lot(payment=PaymentStatus.PAID, open_fen=0, registration="registered",
         registration_no="2026370100000001", notice_ends=date(2026, 11, 1)),
     "done", "尾款已付清, 合同已登记 (登记编号 2026370100000001): 交易完成"),
])
def test_the_next_step_follows_the_lots_state(won: WonLot, code: str, zh: str) -> None:
    """Each state gives its code and its Chinese text; the notice's end date is added while it
    runs (its last day included), never after or for a default; English is always there
    (with the office's reason as it gave it)."""
    step = next_step(won, TODAY)
    assert (step.code, step.zh) == (code, zh)
    assert step.en and step.en.replace(won.reason, "").isascii()  # the office's own words
    assert ("2026-12-08" in step.en) == ("成交公示至 2026-12-08" in step.zh)
