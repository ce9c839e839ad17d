"""Identity codes: GB 32100-2015 credit codes and GB 11643-1999 resident numbers."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auction.domain.identity import (
    USCC_CHARSET,
    IdentityError,
    is_valid_uscc,
    uscc_check_char,
    validate_resident_id,
    validate_uscc,
)

TODAY = date(2026, 4, 1)


def test_uscc_worked_example() -> None:
    """The standard's worked example 91350100M000100Y4 has check character 3."""
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert validate_uscc("91350100M000100Y43") == "91350100M000100Y43"


def test_uscc_lower_case_and_spaces_are_normalised() -> None:
    """A code typed in lower case with surrounding spaces is accepted and normalised."""
    assert validate_uscc(" 91350100m000100y43 ") == "91350100M000100Y43"


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y44",  # wrong check character
        "91350100M000100Y4",  # 17 characters
        "91350100M000100Y433",  # 19 characters
        "91350100I000100Y43",  # I is not in the character set
        "91350100M000100YS3",  # S is not in the character set
        "",
    ],
)
def test_uscc_rejects_malformed_codes(code: str) -> None:
    """Wrong length, a forbidden character or a wrong check character is invalid_uscc."""
    with pytest.raises(IdentityError) as info:
        validate_uscc(code)
    assert info.value.code == "invalid_uscc"
    assert not is_valid_uscc(code)


@given(st.text(alphabet=USCC_CHARSET, min_size=17, max_size=17))
def test_uscc_every_body_has_exactly_one_check_character(body: str) -> None:
    """For any 17-character body exactly one of the 31 check characters validates."""
    valid = [ch for ch in USCC_CHARSET if is_valid_uscc(body + ch)]
    assert valid == [uscc_check_char(body)]


@given(st.text(alphabet=USCC_CHARSET, min_size=17, max_size=17), st.integers(0, 16))
def test_uscc_detects_any_single_character_change(body: str, pos: int) -> None:
    """Changing any one of the first 17 characters breaks the check (weights are units mod 31)."""
    code = body + uscc_check_char(body)
    other = USCC_CHARSET[(USCC_CHARSET.index(code[pos]) + 1) % 31]
    changed = code[:pos] + other + code[pos + 1 :]
    assert not is_valid_uscc(changed)


@pytest.mark.parametrize("code", ["11010519491231002X", "11010519491231002x", "440524188001010014"])
def test_resident_id_samples_are_valid(code: str) -> None:
    """The standard's samples validate, with x accepted as X."""
    assert validate_resident_id(code, today=TODAY) == code.upper()


@pytest.mark.parametrize(
    "code",
    [
        "110105194912310021",  # wrong check character
        "110105194902300021",  # 30 February
        "110105203001010011",  # born in the future
        "11010519491231002",  # too short
        "1101051949123100AX",  # letters in the body
    ],
)
def test_resident_id_rejects_bad_numbers(code: str) -> None:
    """A wrong check character, an impossible or future birth date or bad length is refused."""
    with pytest.raises(IdentityError) as info:
        validate_resident_id(code, today=TODAY)
    assert info.value.code == "invalid_resident_id"
