"""成交公示 rules: the notice period and what may be published of a buyer.

- **公示期.** It starts on the hammer date (China Standard Time) and ends after 5 working days.
  Working days here are Monday to Friday: weekends are skipped, public holidays and the
  adjusted working weekends (调休) are not known to the engine and count as ordinary days.
- **受让方.** An enterprise (or any organisation) is published by its name; a natural person's
  name keeps its first character and masks the others (``张三`` → ``张*``, ``欧阳娜娜`` →
  ``欧***``), as the judicial auction platforms publish buyers.
- **Pass reasons** are published in words (:data:`PASS_REASONS`).
"""

from __future__ import annotations

from datetime import date, timedelta

#: working days of the notice period after the hammer date
PUBLICITY_WORKING_DAYS = 5

#: the reason codes of a passed lot (auction/domain/room.py R6) in words
PASS_REASONS = {
    "no_bids": "无人出价",
    "reserve_not_met": "未达保留价",
    "auctioneer": "拍卖师宣布流拍",
}

#: the objection text published when the session names no contact of its own
OBJECTION_TEXT = "对公示内容有异议的，请在公示期内以书面形式向{market}提出，并附相关证明材料。"


def publicity_period(hammer_date: date, working_days: int = PUBLICITY_WORKING_DAYS
                     ) -> tuple[date, date]:
    """``(start, end)`` of the 公示期: ``start`` is the hammer date, ``end`` the
    ``working_days``-th Monday-to-Friday day after it (a Friday hammer ends the next Friday)."""
    end = hammer_date
    left = working_days
    while left > 0:
        end += timedelta(days=1)
        if end.weekday() < 5:
            left -= 1
    return hammer_date, end


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
