"""Technology-transaction statistics (技术合同成交统计) of a market and a period. Pure: no I/O.

A :class:`Contract` is one sold lot (its registration packet's figures: the contract type,
合同交易总额 = the price, 技术交易额 = price − non-technical part, the parties' division codes
and natures, corrections the market sent to the office included). It counts

- as **settled** (成交) in the period holding the day its lot closed (China Standard Time), and
- as **registered** (已登记) in the period holding the day the office registered it.

:func:`figures` sums ``count``, ``total_fen``, ``tech_fen`` (and the subsidy estimates of
registered contracts, ``subsidy_fen``) over a set of contracts and breaks them down by each of
:data:`DIMENSIONS`; every breakdown's rows sum to the totals (each contract has exactly one value
per dimension). A market's figures are those of the contracts of every session of its subtree:
the API adds the figures of each child market's subtree and of each of the market's own
sessions, whose sums are the market's totals.

Periods (:func:`parse_bound`): ``YYYY`` (a year), ``YYYY-Qn`` (a quarter), ``YYYY-MM`` (a
month) or ``YYYY-MM-DD`` (a day); ``from`` takes the first day of its period, ``to`` the last.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

#: breakdown name → its Chinese heading
DIMENSIONS: dict[str, str] = {
    "contract_type": "合同类型",
    "technology_field": "技术领域",
    "transaction_mode": "交易方式",
    "result_type": "成果类型",
    "seller_region": "输出方地区",
    "buyer_region": "吸纳方地区",
    "seller_nature": "输出方主体性质",
    "buyer_nature": "吸纳方主体性质",
    "seller_scope": "输出方 (省内/省外)",
    "buyer_scope": "吸纳方 (省内/省外)",
    "session": "场次",
}
SCOPE_LABELS = {"in": "省内", "out": "省外"}
KINDS = ("settled", "registered")
KIND_LABELS = {"settled": "成交", "registered": "已登记"}

_YEAR = re.compile(r"^([0-9]{4})$")
_QUARTER = re.compile(r"^([0-9]{4})-[Qq]([1-4])$")
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


class PeriodError(ValueError):
    """A bound that is none of the forms, or a period that ends before it starts."""


def parse_bound(text: str, *, end: bool) -> date:
    """The first (``end=False``) or last day of the period ``text`` names (module docstring)."""
    try:
        if m := _YEAR.match(text):
            year = int(m[1])
            return date(year, 12, 31) if end else date(year, 1, 1)
        if m := _QUARTER.match(text):
            year, quarter = int(m[1]), int(m[2])
            first = 3 * quarter - 2
            if not end:
                return date(year, first, 1)
            last = first + 2
            return date(year, last, calendar.monthrange(year, last)[1])
        if m := _MONTH.match(text):
            year, month = int(m[1]), int(m[2])
            if end:
                return date(year, month, calendar.monthrange(year, month)[1])
            return date(year, month, 1)
        if len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise PeriodError(text)


@dataclass(frozen=True, slots=True)
class Period:
    start: date | None
    end: date | None

    def holds(self, day: date | None) -> bool:
        return day is not None and (self.start is None or self.start <= day) and (
            self.end is None or day <= self.end)

    def to_json(self) -> dict[str, Any]:
        return {"from": self.start.isoformat() if self.start else None,
                "to": self.end.isoformat() if self.end else None}


def period(start: str, end: str) -> Period:
    """The period from ``start`` to ``end`` (either may be empty: open), or
    :class:`PeriodError`."""
    first = parse_bound(start, end=False) if start else None
    last = parse_bound(end, end=True) if end else None
    if first is not None and last is not None and last < first:
        raise PeriodError(f"{start}..{end}")
    return Period(first, last)


@dataclass(frozen=True, slots=True)
class Contract:
    lot_id: int
    session_id: int
    session_name: str
    market_id: int
    settled_on: date
    registered_on: date | None
    registration_no: str | None
    contract_type: str
    technology_field: str
    transaction_mode: str
    result_type: str
    total_fen: int
    tech_fen: int
    seller_region: str
    seller_nature: str
    buyer_region: str
    buyer_nature: str
    subsidy_fen: int = 0

    def value(self, dimension: str, province: str) -> str:
        """The contract's key in ``dimension`` (``province``: the two digits of in-province)."""
        if dimension == "session":
            return str(self.session_id)
        if dimension == "seller_scope":
            return "in" if self.seller_region[:2] == province else "out"
        if dimension == "buyer_scope":
            return "in" if self.buyer_region[:2] == province else "out"
        return str(getattr(self, dimension))


@dataclass(slots=True)
class Sums:
    count: int = 0
    total_fen: int = 0
    tech_fen: int = 0
    subsidy_fen: int = 0

    def add(self, c: Contract, kind: str) -> None:
        self.count += 1
        self.total_fen += c.total_fen
        self.tech_fen += c.tech_fen
        if kind == "registered":
            self.subsidy_fen += c.subsidy_fen

    def to_json(self, kind: str) -> dict[str, int]:
        out = {"count": self.count, "total_fen": self.total_fen, "tech_fen": self.tech_fen}
        if kind == "registered":
            out["subsidy_estimate_fen"] = self.subsidy_fen
        return out


@dataclass(slots=True)
class Figures:
    settled: Sums = field(default_factory=Sums)
    registered: Sums = field(default_factory=Sums)

    def to_json(self) -> dict[str, Any]:
        return {"settled": self.settled.to_json("settled"),
                "registered": self.registered.to_json("registered")}


def _kinds(c: Contract, span: Period) -> list[str]:
    kinds = []
    if span.holds(c.settled_on):
        kinds.append("settled")
    if c.registration_no is not None and span.holds(c.registered_on):
        kinds.append("registered")
    return kinds


def totals(contracts: Iterable[Contract], span: Period) -> Figures:
    out = Figures()
    for c in contracts:
        for kind in _kinds(c, span):
            getattr(out, kind).add(c, kind)
    return out


def breakdown(
    contracts: Iterable[Contract], span: Period, dimension: str, province: str,
    label: Callable[[str], str],
) -> list[dict[str, Any]]:
    """One row per value of ``dimension`` among the contracts counted in ``span``, largest
    settled total first: ``{key, label, settled, registered}``."""
    rows: dict[str, Figures] = {}
    for c in contracts:
        kinds = _kinds(c, span)
        if not kinds:
            continue
        row = rows.setdefault(c.value(dimension, province), Figures())
        for kind in kinds:
            getattr(row, kind).add(c, kind)
    ordered = sorted(rows.items(), key=lambda kv: (-kv[1].settled.total_fen,
                                                   -kv[1].registered.total_fen, kv[0]))
    return [{"key": key, "label": label(key), **figures.to_json()} for key, figures in ordered]


def parse_by(text: str) -> list[str]:
    """The breakdowns a ``by`` parameter names (comma-separated; empty: all of them), or
    :class:`ValueError` naming the first unknown one."""
    if not text.strip():
        return list(DIMENSIONS)
    names = [part.strip() for part in text.split(",") if part.strip()]
    for name in names:
        if name not in DIMENSIONS:
            raise ValueError(name)
    return list(dict.fromkeys(names))


def labeller(
    dimension: str, region_names: Mapping[str, str], session_names: Mapping[str, str]
) -> Callable[[str], str]:
    """How a breakdown's keys read: regions by market name where a market has that code,
    sessions by name, 省内 / 省外; the vocabulary dimensions' keys are their Chinese labels."""
    if dimension.endswith("_region"):
        return lambda key: region_names.get(key, key)
    if dimension.endswith("_scope"):
        return lambda key: SCOPE_LABELS[key]
    if dimension == "session":
        return lambda key: session_names.get(key, key)
    return lambda key: key
