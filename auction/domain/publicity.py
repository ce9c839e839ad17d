"""成交公示 rules: the notice period and what may be published of a buyer.

- **公示期.** It opens at settlement and runs for the market's notice period in Chinese working
  days (holidays and 调休 from the calendar): :func:`auction.domain.deadlines.notice_ends`.
- **受让方.** An enterprise (or any organisation) is published by its name; a natural person's
  name keeps its first character and masks the others (``张三`` → ``张*``, ``欧阳娜娜`` →
  ``欧***``), as the judicial auction platforms publish buyers.
- **Pass reasons** are published in words (:data:`PASS_REASONS`).
"""

from __future__ import annotations

#: the reason codes of a passed lot (auction/domain/room.py R6) in words
PASS_REASONS = {
    "no_bids": "无人出价",
    "reserve_not_met": "未达保留价",
    "auctioneer": "拍卖师宣布流拍",
    "no_buyers": "挂牌期满无意向受让方",
}

#: the objection text published when the session names no contact of its own
OBJECTION_TEXT = "对公示内容有异议的，请在公示期内以书面形式向{market}提出，并附相关证明材料。"


def mask_person(name: str) -> str:
    """A natural person's name as published: the first character, then one ``*`` for each
    other character (``张三`` → ``张*``); a one-character name becomes ``*``."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    return name[0] + "*" * (len(name) - 1)


def pass_reason_text(code: str) -> str:
    """The words for a pass reason code; an unknown non-empty code is shown as given."""
    return PASS_REASONS.get(code, code or "未成交")
