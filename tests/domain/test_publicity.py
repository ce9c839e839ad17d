"""成交公示 rules: the 公示期 skips weekends; a person's name is masked."""

from __future__ import annotations

from datetime import date

import pytest

from auction.domain.publicity import mask_person, pass_reason_text, publicity_period


@pytest.mark.parametrize(("hammer", "end"), [
    (date(2026, 4, 13), date(2026, 4, 20)),  # Monday → next Monday
    (date(2026, 4, 17), date(2026, 4, 24)),  # Friday → next Friday
    (date(2026, 4, 18), date(2026, 4, 24)),  # Saturday → Friday
    (date(2026, 4, 19), date(2026, 4, 24)),  # Sunday → Friday
    (date(2026, 4, 15), date(2026, 4, 22)),  # Wednesday → next Wednesday
])
def test_period_ends_five_working_days_after_the_hammer_date(hammer: date, end: date) -> None:
    """The period starts on the hammer date and ends on the 5th Monday-to-Friday after it."""
    assert publicity_period(hammer) == (hammer, end)


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
