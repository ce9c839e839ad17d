"""The working-day calendar (auction.domain.workdays): holidays, 调休 weekends, deadlines."""

from __future__ import annotations

from datetime import date

import pytest

from auction.domain import workdays


def test_plain_week_counts_monday_to_friday() -> None:
    # 2026-03-06 is a Friday; five working days later is the next Friday
    assert workdays.add_working_days(date(2026, 3, 6), 5) == date(2026, 3, 13)
    assert workdays.add_working_days(date(2026, 3, 6), 0) == date(2026, 3, 6)


def test_national_day_week_is_skipped_and_the_adjusted_saturday_counts() -> None:
    # 30 Sep 2026 (Wed): 1–7 Oct are holidays, Thu 8 and Fri 9 work, Sat 10 Oct is a working day
    assert not workdays.is_working_day(date(2026, 10, 5))
    assert workdays.is_working_day(date(2026, 10, 10))
    assert workdays.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert workdays.add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)


def test_spring_festival_and_its_working_saturdays() -> None:
    assert workdays.is_working_day(date(2026, 2, 14))  # Saturday, worked
    assert not workdays.is_working_day(date(2026, 2, 16))  # Monday, 春节
    assert workdays.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert workdays.add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)


def test_between_is_the_inverse_of_add() -> None:
    start = date(2026, 12, 25)
    for n in range(0, 30):
        assert workdays.working_days_between(start, workdays.add_working_days(start, n)) == n


def test_years_shipped_and_a_year_without_a_file() -> None:
    versions = workdays.calendar_versions()
    assert {2026, 2027} <= set(versions)
    assert not workdays.is_working_day(date(2027, 2, 8))  # 春节 (statutory day)
    assert workdays.is_working_day(date(2031, 1, 1))  # no file: Monday–Friday only (a Wed)


def test_a_broken_file_is_refused() -> None:
    with pytest.raises(workdays.CalendarError):
        workdays.parse_year({"year": 2026, "holidays": [], "working_weekends": ["2026-03-04"]})
    with pytest.raises(workdays.CalendarError):
        workdays.parse_year({"year": 2026, "holidays": [
            {"name": "x", "from": "2026-03-05", "to": "2026-03-04"}]})


def test_deadlines_count_from_the_hammer_day_in_china() -> None:
    from datetime import UTC, datetime

    from auction.domain import deadlines

    # 2026-09-30 17:00 UTC is already 1 October in China: the count starts from the holiday
    hammer = datetime(2026, 9, 30, 17, 0, tzinfo=UTC)
    assert deadlines.day_in_china(hammer) == date(2026, 10, 1)
    assert deadlines.balance_due(hammer) == date(2026, 10, 13)  # 8, 9, 10 (Sat), 12, 13
    assert deadlines.notice_ends(hammer, 1) == date(2026, 10, 8)
    with pytest.raises(ValueError):
        deadlines.balance_due(datetime(2026, 9, 30))
