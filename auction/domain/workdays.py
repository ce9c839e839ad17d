"""Chinese working days: every deadline of the engine counts them (DESIGN "After the hammer":
balance due in 5 working days, 成交公示 for the market's notice period, deposit refunds).

The calendar is versioned data, one file per year in ``auction/domain/holidays/``
(``cn-YYYY.json``: ``version``, ``status`` official | provisional, ``source``, the public
holidays as date ranges and the weekend days that are working days, 调休). A day is a working day
when it is a listed working weekend, or a Monday–Friday outside every holiday. A year without a
file counts Monday–Friday only (:func:`calendar_versions` says which years the data covers, so
an operator can see when next year's file is missing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources


class CalendarError(ValueError):
    """A holiday file that does not hold a calendar (a broken release, not a user's input)."""


@dataclass(frozen=True, slots=True)
class YearCalendar:
    year: int
    version: str
    status: str
    source: str
    holidays: frozenset[date]
    working_weekends: frozenset[date]


def _day(text: object, where: str) -> date:
    if not isinstance(text, str):
        raise CalendarError(f"{where}: not a date")
    return date.fromisoformat(text)


def parse_year(raw: dict[str, object]) -> YearCalendar:
    """One year's file, checked: every date lies in the year, a working weekend is a Saturday
    or Sunday, a holiday range runs forwards."""
    year = raw.get("year")
    if not isinstance(year, int):
        raise CalendarError("year missing")
    holidays: set[date] = set()
    ranges = raw.get("holidays")
    if not isinstance(ranges, list):
        raise CalendarError(f"{year}: holidays missing")
    for item in ranges:
        if not isinstance(item, dict):
            raise CalendarError(f"{year}: a holiday is not an object")
        first, last = _day(item.get("from"), f"{year}"), _day(item.get("to"), f"{year}")
        if last < first:
            raise CalendarError(f"{year}: {item.get('name')} ends before it starts")
        day = first
        while day <= last:
            holidays.add(day)
            day += timedelta(days=1)
    listed = raw.get("working_weekends") or []
    if not isinstance(listed, list):
        raise CalendarError(f"{year}: working_weekends is not a list")
    weekends = frozenset(_day(d, f"{year}") for d in listed)
    for day in weekends:
        if day.weekday() < 5:
            raise CalendarError(f"{year}: working weekend {day} is a weekday")
    if any(d.year != year for d in holidays | weekends):
        raise CalendarError(f"{year}: a date outside the year")
    return YearCalendar(
        year=year, version=str(raw.get("version", "")), status=str(raw.get("status", "")),
        source=str(raw.get("source", "")), holidays=frozenset(holidays),
        working_weekends=weekends,
    )


@cache
def _years() -> dict[int, YearCalendar]:
    found: dict[int, YearCalendar] = {}
    folder = resources.files("auction.domain") / "holidays"
    for entry in folder.iterdir():
        if entry.name.startswith("cn-") and entry.name.endswith(".json"):
            calendar = parse_year(json.loads(entry.read_text(encoding="utf-8")))
            found[calendar.year] = calendar
    return found


def calendar_versions() -> dict[int, str]:
    """``{year: version}`` of the calendar files shipped (e.g. ``{2026: "2026.1"}``)."""
    return {year: cal.version for year, cal in sorted(_years().items())}


def is_working_day(day: date) -> bool:
    calendar = _years().get(day.year)
    if calendar is not None:
        if day in calendar.working_weekends:
            return True
        if day in calendar.holidays:
            return False
    return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself does not count): a
    deadline of "5 working days" from a Friday settlement is the next Friday in a plain week.
    ``days`` = 0 is ``start``."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    left = days
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """How many working days lie after ``start`` up to and including ``end`` (0 if ``end`` is
    not after ``start``): the inverse of :func:`add_working_days`."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
