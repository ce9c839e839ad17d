"""Pure checks of a natural person's identity fields (auction/domain/identity.py): the masked
resident id shown everywhere, and the phone."""

from __future__ import annotations

import pytest

from auction.domain.identity import IdentityError, mask_resident_id, validate_phone


@pytest.mark.parametrize(("code", "shown"), [
    ("11010519491231002X", "110105********002X"),
    ("440524188001010014", "440524********0014"),
    ("", ""),
    ("1234567890", "**********"),
])
def test_mask_keeps_first_six_and_last_four(code: str, shown: str) -> None:
    """Only the address code and the last four characters stay; nothing short leaks."""
    assert mask_resident_id(code) == shown


@pytest.mark.parametrize(("raw", "norm"), [
    ("13800138000", "13800138000"), ("+86 138-0013-8000", "13800138000"),
    ("0531-88886666", "053188886666"), ("010 12345678", "01012345678"),
    ("0543-1234567", "05431234567"),
])
def test_phone_accepts_mobiles_and_landlines(raw: str, norm: str) -> None:
    """Mobiles and landlines with area codes, normalised without spaces, hyphens or +86."""
    assert validate_phone(raw) == norm


@pytest.mark.parametrize("raw", [
    "", "12345", "1380013800", "23800138000", "138001380001", "88886666", "１３８００１３８０００",
    "1380013800x", "+1 415 555 0100", "0531-8888", "\u0000",
])
def test_phone_refuses_anything_else(raw: str) -> None:
    """Anything that is not a mainland mobile or a landline with area code: invalid_phone."""
    with pytest.raises(IdentityError) as caught:
        validate_phone(raw)
    assert caught.value.code == "invalid_phone"
