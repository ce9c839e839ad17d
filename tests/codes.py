"""Market codes for tests. Markets are unique by code in the session database, and a thousand
random draws from 900,000 codes collide more often than not (the birthday bound: CI failed on
``code 已存在`` twice on 2026-12-02), so every helper that makes a market draws its code here:
never the same code twice in one test run."""

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


def city_and_county(county_suffix: str) -> tuple[str, str]:
    """A city's code (``XXYY00``) and the code of a county under it (``XXYY`` +
    ``county_suffix``), neither given before in this run; both are taken."""
    while True:
        city = f"{secrets.randbelow(89) + 11:02d}{secrets.randbelow(99) + 1:02d}00"
        county = city[:4] + county_suffix
        if city not in _GIVEN and county not in _GIVEN:
            _GIVEN.update((city, county))
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
