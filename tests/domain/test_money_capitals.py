"""大写金额: :func:`auction.domain.money.chinese_capitals` against amounts written by hand."""

from __future__ import annotations

import pytest

from auction.domain.money import MAX_FEN, chinese_capitals

CASES = [
    (123456789, "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
    (0, "零元整"),
    (1, "壹分"),
    (10, "壹角"),
    (56, "伍角陆分"),
    (100, "壹元整"),
    (150, "壹元伍角"),
    (106, "壹元零陆分"),
    (156, "壹元伍角陆分"),
    (1000, "壹拾元整"),
    (1500, "壹拾伍元整"),
    (10100, "壹佰零壹元整"),
    (100000, "壹仟元整"),
    (100100, "壹仟零壹元整"),
    (101000, "壹仟零壹拾元整"),
    (110000, "壹仟壹佰元整"),
    (168032, "壹仟陆佰捌拾元叁角贰分"),
    (1000000, "壹万元整"),
    (1000100, "壹万零壹元整"),
    (1001000, "壹万零壹拾元整"),
    (1010000, "壹万零壹佰元整"),
    (1100000, "壹万壹仟元整"),
    (10000000, "壹拾万元整"),
    (20030000, "贰拾万零叁佰元整"),
    (100000000, "壹佰万元整"),
    (500000000, "伍佰万元整"),
    (1234500000, "壹仟贰佰叁拾肆万伍仟元整"),
    (10000000000, "壹亿元整"),
    (10000000500, "壹亿零伍元整"),
    (10001000000, "壹亿零壹万元整"),
    (10100000000, "壹亿零壹佰万元整"),
    (11000000000, "壹亿壹仟万元整"),
    (12000000000, "壹亿贰仟万元整"),
    (10000000001, "壹亿元零壹分"),
    (10000000010, "壹亿元壹角"),
    (1000000000000, "壹佰亿元整"),
    (100000000000000, "壹万亿元整"),
    (100000010000000, "壹万亿零壹拾万元整"),
    (MAX_FEN, "壹拾万亿元整"),
    (99999999, "玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
]


@pytest.mark.parametrize(("fen", "words"), CASES)
def test_capitals(fen: int, words: str) -> None:
    """Each amount is written as a cashier writes it: zeros, 万/亿 boundaries, 角/分, 整."""
    assert chinese_capitals(fen) == words


def test_never_two_zeros_and_never_zero_before_a_unit() -> None:
    """No amount in a sweep writes 零零, ends its yuan with 零, or puts 零 before 元 / 万 / 亿."""
    for fen in [*range(1, 30000, 7), *range(10**10 - 5000, 10**10 + 5000, 13)]:
        words = chinese_capitals(fen)
        assert "零零" not in words, fen
        for unit in ("零元", "零万", "零亿", "零整"):
            assert unit not in words, (fen, words)


@pytest.mark.parametrize("bad", [-1, MAX_FEN + 1])
def test_out_of_range(bad: int) -> None:
    """Negative amounts and amounts past the engine's ceiling are refused."""
    with pytest.raises(ValueError):
        chinese_capitals(bad)


@pytest.mark.parametrize("bad", [1.5, "100", True])
def test_only_int_fen(bad: object) -> None:
    """A float, a string or a bool is not an amount in fen."""
    with pytest.raises(TypeError):
        chinese_capitals(bad)  # type: ignore[arg-type]
