"""Division codes of markets (auction/domain/divisions.py): the form gives the level, a child
lies within its parent, and the two stated exceptions (省直辖县级行政单位, 直辖市的区县)."""

from __future__ import annotations

import pytest

from auction.domain.divisions import DivisionError, check_market, level_of


@pytest.mark.parametrize(("code", "level"), [
    ("370000", "province"), ("370100", "city"), ("371400", "city"), ("371425", "county"),
    ("410402", "county"), ("429004", "county"), ("110108", "county"), ("659001", "county"),
    ("000000", None), ("001234", None), ("370001", None), ("37010", None), ("37a100", None),
    ("3701000", None), ("", None),
])
def test_level_of_a_code_is_its_form(code: str, level: str | None) -> None:
    """xx0000 is a province, xxxx00 a city, any other real code a county; the rest is none."""
    assert level_of(code) == level


@pytest.mark.parametrize(("code", "level", "parent"), [
    ("370000", "province", None),
    ("370100", "city", None),  # a deployment may serve one city
    ("371425", "county", None),
    ("370100", "city", ("370000", "province")),
    ("371425", "county", ("371400", "city")),
    ("410402", "county", ("410400", "city")),
    ("429004", "county", ("420000", "province")),  # 仙桃市, 省直辖县级行政单位
    ("419001", "county", ("410000", "province")),  # 济源市
    ("659001", "county", ("650000", "province")),  # 石河子市, 自治区直辖
    ("429004", "county", ("429000", "city")),  # under the table's own grouping code
    ("110108", "county", ("110000", "province")),  # 海淀区, under the municipality
    ("500235", "county", ("500000", "province")),  # 云阳县 (重庆市 县)
    ("110108", "county", ("110100", "city")),  # or under its 市辖区 grouping
])
def test_allowed(code: str, level: str, parent: tuple[str, str] | None) -> None:
    """Codes of their level's form, each within its parent (and the stated exceptions)."""
    check_market(code, level, parent)


@pytest.mark.parametrize(("code", "level", "parent", "field"), [
    ("370000", "city", None, "code"),
    ("370100", "county", None, "code"),
    ("370102", "city", None, "code"),
    ("370102", "province", None, "code"),
    ("370001", "county", None, "code"),
    ("000000", "province", None, "code"),
    ("370102", "county", ("410400", "city"), "parent_code"),  # another city's county
    ("370102", "county", ("370000", "province"), "parent_code"),  # a county under a province
    ("371425", "county", ("370100", "city"), "parent_code"),  # 齐河县 is not 济南's
    ("410400", "city", ("370000", "province"), "parent_code"),  # another province's city
    ("370200", "city", ("370100", "city"), "parent_code"),  # a city under a city
    ("410000", "province", ("370000", "province"), "parent_code"),
    ("370000", "province", ("370100", "city"), "parent_code"),
    ("370102", "county", ("370101", "county"), "parent_code"),  # a county under a county
    ("429004", "county", ("410000", "province"), "parent_code"),  # 90 of another province
    ("370108", "county", ("370000", "province"), "parent_code"),  # 01 outside a 直辖市
    ("110108", "county", ("120000", "province"), "parent_code"),
    ("110300", "city", ("110000", "province"), None),  # allowed: a city form under its province
])
def test_refused_naming_the_field(
    code: str, level: str, parent: tuple[str, str] | None, field: str | None
) -> None:
    """A level that is not the code's form names ``code``; a parent the code is not inside
    names ``parent_code``."""
    if field is None:
        check_market(code, level, parent)
        return
    with pytest.raises(DivisionError) as refused:
        check_market(code, level, parent)
    assert refused.value.field == field
    assert code in refused.value.message
