"""成交公示 rules: the 公示期 counts Chinese working days; a person's name is masked."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from auction.domain.deadlines import notice_ends
from auction.domain.publicity import mask_person, pass_reason_text


@pytest.mark.parametrize(("opened", "days", "end"), [
    (datetime(2026, 4, 17, 6, 30, tzinfo=UTC), 5, date(2026, 4, 24)),  # Friday → next Friday
    (datetime(2026, 4, 18, 2, 0, tzinfo=UTC), 5, date(2026, 4, 24)),  # Saturday → Friday
    (datetime(2026, 4, 17, 17, 0, tzinfo=UTC), 5, date(2026, 4, 24)),  # 01:00 Saturday CST
    # 国庆节 1–7 October are holidays, Saturday 10 October a working day (调休)
    (datetime(2026, 9, 30, 2, 0, tzinfo=UTC), 5, date(2026, 10, 13)),
    (datetime(2026, 4, 15, 2, 0, tzinfo=UTC), 3, date(2026, 4, 20)),  # a market's 3 days
])
def test_notice_ends_after_the_markets_working_days(opened: datetime, days: int,
                                                     end: date) -> None:
    """The notice ends on the n-th working day after its opening day in China: weekends and
    public holidays skipped, adjusted working weekends counted."""
    assert notice_ends(opened, days) == end


def test_names_are_masked_after_the_first_character() -> None:
    """张三 → 张*, a longer name keeps only its first character, one character becomes *."""
    assert mask_person("张三") == "张*"
    assert mask_person("欧阳娜娜") == "欧***"
    assert mask_person(" 李 ") == "*"


def test_pass_reasons_in_words() -> None:
    """Known codes read as words; an unknown code is shown as given."""
    assert pass_reason_text("no_bids") == "无人出价"
    assert pass_reason_text("other") == "other"
    assert pass_reason_text("") == "未成交"
