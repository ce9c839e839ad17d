"""Money formatting and the USCC (GB 32100-2015) generator."""

from __future__ import annotations

import pytest
from auction_client import uscc
from auction_client.messages import Event
from auction_client.money import parse_yuan, wan, yuan
from auction_client.phrases import describe, remaining


def test_yuan() -> None:
    assert yuan(123456) == "1,234.56 元"
    assert yuan(104000000) == "1,040,000.00 元"
    assert yuan(5) == "0.05 元"
    assert yuan(-150) == "-1.50 元"
    with pytest.raises(TypeError):
        yuan(1.5)  # type: ignore[arg-type]


def test_wan_and_parse() -> None:
    assert wan(104000000) == "104万元"
    assert wan(104500000) == "104.5万元"
    assert wan(2_000_000_000) == "2,000万元"
    assert wan(99_999) == "999.99 元"
    assert parse_yuan("1,234.5元") == 123450
    with pytest.raises(ValueError):
        parse_yuan("1.234")


def test_uscc_worked_example() -> None:
    assert uscc.check_char("91350100M000100Y4") == "3"
    assert uscc.is_valid("91350100M000100Y43")
    assert not uscc.is_valid("91350100M000100Y44")
    assert not uscc.is_valid("91350100M000100Y4")
    assert not uscc.is_valid("91350100M0001O0Y43")  # O is not in the alphabet


@pytest.mark.parametrize("prefix", ["91", "12", "52"])
def test_synthetic_codes_are_valid_and_stable(prefix: str) -> None:
    codes = {uscc.synthetic(prefix, "370100", f"seed-{i}") for i in range(200)}
    assert len(codes) == 200
    assert all(uscc.is_valid(c) and c.startswith(prefix + "370100") for c in codes)
    assert uscc.synthetic(prefix, "370100", "seed-1") == uscc.synthetic(prefix, "370100", "seed-1")


def test_any_single_change_invalidates_a_code() -> None:
    code = uscc.synthetic("91", "371425", "x")
    for i in range(17):
        for ch in uscc.ALPHABET:
            if ch == code[i] or (2 <= i < 8 and not ch.isdigit()):
                continue
            assert not uscc.is_valid(code[:i] + ch + code[i + 1 :])


def test_phrases() -> None:
    bid = Event(3, "e", 1, "bid", 0, {"paddle": 286, "amount": 104000000})
    assert describe(bid) == "286号 出价 1,040,000.00 元"
    assert "未达保留价" in describe(Event(3, "e", 2, "passed", 0, {"reason": "reserve_not_met"}))
    assert remaining(65_000) == "1分05秒" and remaining(-5) == "0秒"
