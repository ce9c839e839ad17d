"""Periods and breakdowns of auction/domain/statistics.py."""

from __future__ import annotations

from datetime import date

import pytest

from auction.domain.statistics import PeriodError, parse_bound, parse_by, period


@pytest.mark.parametrize(("text", "first", "last"), [
    ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
    ("2026-q4", date(2026, 10, 1), date(2026, 12, 31)),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
    ("2026-05-20", date(2026, 5, 20), date(2026, 5, 20)),
])
def test_bounds(text: str, first: date, last: date) -> None:
    """A year, a quarter, a month (leap February) and a day give their first and last days."""
    assert parse_bound(text, end=False) == first
    assert parse_bound(text, end=True) == last


@pytest.mark.parametrize("text", ["26", "2026-Q0", "2026-13", "2026-02-30", "2026/05", "", "Q1"])
def test_bad_bounds(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_bound(text, end=False)


def test_inverted_period_is_refused_and_open_ends_hold() -> None:
    with pytest.raises(PeriodError):
        period("2026-05", "2026-04")
    span = period("", "2026-Q1")
    assert span.holds(date(1999, 1, 1)) and not span.holds(date(2026, 4, 1))


def test_by() -> None:
    """Empty: every breakdown; duplicates once; an unknown name raises naming it."""
    assert "session" in parse_by("")
    assert parse_by("session, session,contract_type") == ["session", "contract_type"]
    with pytest.raises(ValueError, match="price"):
        parse_by("session,price")
