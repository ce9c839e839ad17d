"""Identity codes of bidders and lot holders: pure checks, no I/O.

- 统一社会信用代码 (unified social credit code, GB 32100-2015): 18 characters from
  ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (values 0–30); position 18 is a check character:
  ``31 − (Σ value·weight mod 31)`` with weights ``3^(i−1) mod 31``, 31 becoming 0.
  Positions 3–8 (division code) are not checked against a list: codes are lifelong.
- 公民身份号码 (resident identity number, GB 11643-1999): 6-digit address, 8-digit birth date
  (a real date not after ``today``), 3-digit sequence, check character ``1 0 X 9 8 7 6 5 4 3 2``
  indexed by ``Σ digit·weight mod 11``; ``x`` is accepted as ``X``. Wherever a resident
  identity number is shown it is masked by :func:`mask_resident_id`: the first 6 (address) and
  last 4 characters stay, the birth date and the rest of the sequence become ``*``.
- A natural person's phone (:func:`validate_phone`): a mainland mobile number (11 digits from
  ``1[3-9]``) or a landline with its area code (``0`` + 2–3 digits, then 7–8 digits, a ``-``
  between them allowed), optionally after ``+86``; spaces and hyphens are dropped.

Exception tree::

    IdentityError(code, message)   ValueError; code ``invalid_uscc``, ``invalid_resident_id``
                                   or ``invalid_phone``
"""

from __future__ import annotations

import re
from datetime import date

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_VALUES = {ch: i for i, ch in enumerate(USCC_CHARSET)}

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


class IdentityError(ValueError):
    """An identity code is malformed or its check character is wrong."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


def uscc_check_char(first17: str) -> str:
    """The check character for the first 17 characters of a credit code."""
    if len(first17) != 17 or any(ch not in _USCC_VALUES for ch in first17):
        raise IdentityError("invalid_uscc", "统一社会信用代码前 17 位含非法字符或长度不符")
    total = sum(_USCC_VALUES[ch] * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(code: str) -> str:
    """``code`` normalised (stripped, upper case) if it is a valid credit code, else raise
    :class:`IdentityError` with code ``invalid_uscc``."""
    norm = code.strip().upper()
    if len(norm) != 18:
        raise IdentityError("invalid_uscc", "统一社会信用代码应为 18 位")
    bad = [ch for ch in norm if ch not in _USCC_VALUES]
    if bad:
        raise IdentityError(
            "invalid_uscc", f"统一社会信用代码含非法字符 {bad[0]!r} (不使用 I、O、S、V、Z)"
        )
    if uscc_check_char(norm[:17]) != norm[17]:
        raise IdentityError("invalid_uscc", "统一社会信用代码校验位不正确")
    return norm


def is_valid_uscc(code: str) -> bool:
    try:
        validate_uscc(code)
    except IdentityError:
        return False
    return True


def resident_id_check_char(first17: str) -> str:
    """The check character for the first 17 digits of a resident identity number."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise IdentityError("invalid_resident_id", "公民身份号码前 17 位应为数字")
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def validate_resident_id(code: str, *, today: date) -> str:
    """``code`` normalised (``x`` → ``X``) if it is a valid 18-character resident identity
    number whose birth date is real and not after ``today``; else raise :class:`IdentityError`
    with code ``invalid_resident_id``."""
    norm = code.strip().upper()
    if len(norm) != 18:
        raise IdentityError("invalid_resident_id", "公民身份号码应为 18 位")
    check = resident_id_check_char(norm[:17])
    try:
        born = date(int(norm[6:10]), int(norm[10:12]), int(norm[12:14]))
    except ValueError as exc:
        raise IdentityError("invalid_resident_id", "公民身份号码中的出生日期无效") from exc
    if born > today:
        raise IdentityError("invalid_resident_id", "公民身份号码中的出生日期晚于今天")
    if check != norm[17]:
        raise IdentityError("invalid_resident_id", "公民身份号码校验位不正确")
    return norm


def mask_resident_id(code: str) -> str:
    """``code`` as it may be shown: the first 6 and the last 4 characters, ``*`` between
    (``110105********002X``); a code too short to mask that way is all ``*``; ``""`` stays."""
    if not code:
        return ""
    if len(code) <= 10:
        return "*" * len(code)
    return code[:6] + "*" * (len(code) - 10) + code[-4:]


_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_LANDLINE = re.compile(r"0[1-9][0-9]{1,2}[0-9]{7,8}")


def validate_phone(phone: str) -> str:
    """``phone`` normalised (no spaces or hyphens, no ``+86``) if it is a mainland mobile or a
    landline with its area code, else raise :class:`IdentityError` with code ``invalid_phone``."""
    norm = re.sub(r"[\s-]", "", phone)
    if norm.startswith("+86"):
        norm = norm[3:]
    if not norm.isascii() or not (_MOBILE.fullmatch(norm) or _LANDLINE.fullmatch(norm)):
        raise IdentityError(
            "invalid_phone", "电话号码应为 11 位手机号, 或带区号的固定电话 (如 0531-88886666)"
        )
    return norm
