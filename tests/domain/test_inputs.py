"""Ids and text at the edge (auction/domain/inputs.py): the one rule every parser applies."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auction.domain.inputs import MAX_ID, UNKNOWN_ID, as_id, parse_id, printable, text_problem


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", 1), ("007", 7), ("9223372036854775807", MAX_ID), ("9223372036854775808", UNKNOWN_ID),
     ("18446744073709551616", UNKNOWN_ID), ("0", UNKNOWN_ID), ("-1", UNKNOWN_ID),
     ("-0", UNKNOWN_ID), ("+5", 5), ("9" * 5000, UNKNOWN_ID), ("0" * 5000 + "12", 12)],
)
def test_parse_id_bounds(raw: str, expected: int) -> None:
    """Digit strings in 1..2^63-1 are ids; any other integer, however long, is UNKNOWN_ID."""
    assert parse_id(raw) == expected


@pytest.mark.parametrize("raw", ["", "-", "abc", "1.0", "1e3", "١٢", "²", " 1", "0x10"])
def test_parse_id_refuses_what_is_not_an_integer(raw: str) -> None:
    """Non-integers (non-ASCII digits included) are a ValueError, not an id."""
    with pytest.raises(ValueError):
        parse_id(raw)


@given(st.integers())
def test_as_id_is_the_value_or_unknown(value: int) -> None:
    """as_id keeps valid ids and maps every other integer to UNKNOWN_ID."""
    assert as_id(value) == (value if 1 <= value <= MAX_ID else UNKNOWN_ID)


@pytest.mark.parametrize(
    "value", ["a\x00b", "\ud800", "x\udfff", "\x1b[2J", "\x7f", "\x85", "tab\tin a name", "a\nb"]
)
def test_text_refuses_controls_and_lone_surrogates(value: str) -> None:
    """NUL, escapes, DEL, C1 controls and lone surrogates are refused in one-line text."""
    assert text_problem(value, max_len=100) is not None


def test_multiline_text_allows_line_breaks_and_tabs_only() -> None:
    """A multi-line field may hold CR, LF and TAB, nothing else of the controls."""
    assert text_problem("第一行\r\n\t第二行", max_len=100, multiline=True) is None
    assert text_problem("a\x00", max_len=100, multiline=True) is not None
    assert text_problem("\ud800", max_len=100, multiline=True) is not None


def test_text_limits_and_ordinary_unicode() -> None:
    """Chinese, emoji and other printable Unicode pass; the length limit holds."""
    assert text_problem("山东测试大学 😀 \u202e ﬁ", max_len=20) is None
    assert text_problem("名" * 201, max_len=200) is not None


@given(st.text(st.characters(exclude_categories=())))
def test_printable_is_always_encodable(value: str) -> None:
    """Whatever the caller sent, what is echoed back can be encoded and is short."""
    shown = printable(value)
    shown.encode("utf-8")
    assert len(shown) <= 64
