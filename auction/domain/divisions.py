"""Administrative division codes (GB/T 2260) of markets: the form of a code gives its level, and
a market's code lies within its parent's (../shared/DOMAIN.md "Administrative division codes").

A code is 6 digits ``PPCCXX``: ``PP`` the province, ``CC`` the prefecture (city), ``XX`` the
county. Its form gives its level:

- province ``PP0000``; city ``PPCC00`` (``CC`` ≠ 00); county ``PPCCXX`` (``CC``, ``XX`` ≠ 00);
- ``PP`` = 00, or ``PP00XX`` with ``XX`` ≠ 00, is no division at all.

A market's level must be the level of its code's form. Below a parent:

- a city sits under a province with the same ``PP``; a county under a city with the same
  ``PPCC``; a province under nothing;
- exception 1, 省直辖县级行政单位: a county-level code whose ``CC`` is ``90`` (the table's grouping
  of county-level units the province administers directly: 429004 仙桃市, 419001 济源市,
  469001 五指山市, 659001 石河子市) may sit directly under its province (same ``PP``);
- exception 2, 直辖市 (``PP`` 11 北京, 12 天津, 31 上海, 50 重庆): their districts and counties
  (``CC`` 01 市辖区 or 02 县, e.g. 110108 海淀区) may sit directly under the municipality
  ``PP0000``, since ``PP0100`` / ``PP0200`` are groupings of the table, not cities.

Anything else, for instance a county under a province (370102 under 370000) or under a city of
another prefix (370102 under 410400), is refused. A top-level market (no parent) may be of any
level: a deployment may serve one city. Codes are never reused (DOMAIN.md), so none is refused
for having been abolished.
"""

from __future__ import annotations

import re

LEVELS = ("province", "city", "county")
LABELS = {"province": "省级", "city": "市级", "county": "县级"}
#: direct-controlled municipalities (直辖市), by province digits
MUNICIPALITIES = frozenset({"11", "12", "31", "50"})
#: ``CC`` of the table's grouping of county-level units a province administers directly
PROVINCE_ADMINISTERED = "90"

_SIX_DIGITS = re.compile(r"^[0-9]{6}$")


class DivisionError(Exception):
    """A market's code, level or parent do not fit together; ``field`` is ``code`` or
    ``parent_code``."""

    code = "bad_request"

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def level_of(code: str) -> str | None:
    """``province``, ``city`` or ``county`` by the form of ``code``; ``None`` for a string that
    is no division code."""
    if not _SIX_DIGITS.match(code) or code[:2] == "00":
        return None
    if code[2:] == "0000":
        return "province"
    if code[4:] == "00":
        return "city"
    return None if code[2:4] == "00" else "county"


def may_sit_under(code: str, level: str, parent_code: str, parent_level: str) -> bool:
    """Whether a market ``code`` of ``level`` may have the parent market given."""
    if level == "city":
        return parent_level == "province" and code[:2] == parent_code[:2]
    if level != "county":
        return False
    if parent_level == "city":
        return code[:4] == parent_code[:4]
    if parent_level != "province" or code[:2] != parent_code[:2]:
        return False
    return code[2:4] == PROVINCE_ADMINISTERED or (
        code[:2] in MUNICIPALITIES and code[2:4] in ("01", "02"))


def check_market(code: str, level: str, parent: tuple[str, str] | None = None) -> None:
    """Raise :class:`DivisionError` unless a market ``code`` of ``level`` may exist, under
    ``parent`` = ``(parent_code, parent_level)`` when given."""
    form = level_of(code)
    if form is None:
        raise DivisionError(
            f"{code} 不是有效的行政区划代码: 省级为 xx0000, 市级为 xxxx00, 县级为其余 "
            "(第 1–2 位不为 00, 县级第 3–4 位不为 00)", "code")
    if form != level:
        raise DivisionError(
            f"{code} 是{LABELS[form]}行政区划代码, 与 level={level} ({LABELS.get(level, level)})"
            " 不符", "code")
    if parent is None:
        return
    parent_code, parent_level = parent
    if not may_sit_under(code, level, parent_code, parent_level):
        where = {"province": "省级市场不能有上级市场",
                 "city": "市级市场的上级应为同省 (代码前 2 位相同) 的省级市场",
                 "county": "县级市场的上级应为同市 (代码前 4 位相同) 的市级市场; 省直辖县级单位"
                           " (第 3–4 位为 90) 与直辖市的区县可直属省级市场"}[level]
        raise DivisionError(
            f"{code} 不能在 {parent_code} ({LABELS.get(parent_level, parent_level)}) 之下: "
            f"{where}", "parent_code")
