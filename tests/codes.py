"""Market codes for tests. Markets are unique by code in the session database, and a thousand
random draws from 900,000 codes collide more often than not (the birthday bound: CI failed on
``code 已存在`` twice on 2026-12-02), so every helper that makes a market draws its code here:
never the same code twice in one test run.

Helpers that make markets of a set shape (a province ``PP0000`` with its city and counties, a
city ``XXYY00`` with counties ``…01``, ``…02``) :func:`claim` their codes first and pick another
shape when a code was given; helpers that share a market on purpose (the end-to-end tests'
city ``37XX00``) :func:`reserve` it. Random draws never give a claimed or reserved code (CI,
2026-12-03: a random draw met a fixed-shape city twice in one day)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from auction.store.errors import Conflict

if TYPE_CHECKING:
    from auction.store import Store
    from auction.store.records import Market

_GIVEN: set[str] = set()


def _six_digits() -> str:
    return f"{secrets.randbelow(900_000) + 100_000}"


def market_code(draw: Callable[[], str] = _six_digits) -> str:
    """A code ``draw`` makes (any six digits by default) that no helper gave before in this
    run."""
    while True:
        code = draw()
        if code not in _GIVEN:
            _GIVEN.add(code)
            return code


def claim(*codes: str) -> bool:
    """Take ``codes`` for one helper's markets: True when none of them was given before in this
    run (they are now), False when one was (nothing is taken: pick another shape)."""
    if _GIVEN.intersection(codes):
        return False
    _GIVEN.update(codes)
    return True


def reserve(*codes: str) -> None:
    """Keep ``codes`` out of every later draw: for a market tests share on purpose, made by
    whichever test comes first."""
    _GIVEN.update(codes)


def city_with_counties(*county_suffixes: str) -> tuple[str, list[str]]:
    """A city's code (``XXYY00``) and the codes of counties under it (``XXYY`` + each suffix),
    none given before in this run; all are taken."""
    while True:
        city = f"{secrets.randbelow(89) + 11:02d}{secrets.randbelow(99) + 1:02d}00"
        counties = [city[:4] + suffix for suffix in county_suffixes]
        if claim(city, *counties):
            return city, counties


def city_and_county(county_suffix: str) -> tuple[str, str]:
    """A city's code and one county's under it (:func:`city_with_counties`)."""
    city, (county,) = city_with_counties(county_suffix)
    return city, county


async def new_market(store: Store, *, slug: str, name: str, level: str,
                     parent_code: str | None = None) -> Market:
    """``store.create_market`` with a code from :func:`market_code`, drawn again while the
    code is taken: some modules make markets of set shapes without this helper (a city
    ``XXYY00`` with counties ``…01``, ``…02``; a province ``pp0000``), and a draw can meet
    one of theirs (CI, 2026-12-03: ``code 已存在``)."""
    for _ in range(20):
        try:
            return await store.create_market(code=market_code(), slug=slug, name=name,
                                             level=level, parent_code=parent_code)
        except Conflict as exc:
            if exc.field != "code":
                raise
    raise AssertionError("no free market code in 20 draws")
