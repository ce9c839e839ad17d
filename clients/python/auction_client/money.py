"""Money formatting for people. Amounts are integer fen (分) everywhere; no float is ever used."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from auction_client.errors import AmountError

#: Largest amount the server accepts (10^15 fen).
MAX_FEN = 10**15


def _require_int(fen: object) -> int:
    if type(fen) is not int:
        raise TypeError(f"amount must be int fen, got {type(fen).__name__}")
    return fen


def yuan(fen: int) -> str:
    """``123456`` → ``"1,234.56 元"``; negative amounts keep their sign. Raises on non-int."""
    value = _require_int(fen)
    sign = "-" if value < 0 else ""
    whole, cents = divmod(abs(value), 100)
    return f"{sign}{whole:,}.{cents:02d} 元"


def wan(fen: int) -> str:
    """Auctioneer's style: ``104000000`` → ``"104万元"``, ``104500000`` → ``"104.5万元"``.

    Amounts below 1万元 fall back to :func:`yuan`. Exact: at most 6 decimals of 万 are shown,
    trailing zeros dropped.
    """
    value = _require_int(fen)
    if abs(value) < 1_000_000:
        return yuan(value)
    sign = "-" if value < 0 else ""
    whole, rest = divmod(abs(value), 1_000_000)
    if rest == 0:
        return f"{sign}{whole:,}万元"
    frac = f"{rest:06d}".rstrip("0")
    return f"{sign}{whole:,}.{frac}万元"


def parse_yuan(text: str) -> int:
    """``"1,234.5"`` / ``"1234.50元"`` → ``123450`` fen. Raises ``ValueError`` on bad input or
    on fractions of a fen."""
    cleaned = text.replace(",", "").replace("元", "").replace("¥", "").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"not an amount: {text!r}") from None
    fen = value * 100
    if not fen.is_finite() or fen != fen.to_integral_value():
        raise ValueError(f"amount has fractions of a fen: {text!r}")
    return int(fen)


#: a number as people write it: thousands separated by commas (or not), up to 8 decimals,
#: then a unit; full-width forms are folded first (NFKC: "２１万" is "21万", "，" is ",")
_AMOUNT = re.compile(
    r"(?P<num>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<frac>[0-9]{1,8}))?"
    r"(?P<unit>万元|万|亿元|亿|元|分)?"
)
_UNITS = {None: 100, "元": 100, "万": 1_000_000, "万元": 1_000_000, "亿": 10_000_000_000,
          "亿元": 10_000_000_000, "分": 1}
_FORMS = "可写作 21万、21.5万、210,000、210000.00 或 210000元"


def parse_amount(text: str) -> int:
    """An amount as a person writes it → integer fen. A bare number is in 元 (yuan).

    Accepted: ``"21万"``, ``"21.5万"``, ``"21万元"``, ``"210,000"``, ``"210000.00"``,
    ``"210000元"``, ``"¥210,000"``, ``"1.2亿"``, ``"21000000分"`` (fen), with spaces and
    full-width characters allowed. Refused with :class:`AmountError` (a ``ValueError``; its
    message is Chinese and says what is accepted): anything else, commas that are not
    thousands separators (``"21,0000"``, ``"1,5万"``: a decimal comma would be misread),
    fractions of a fen, zero, and amounts above :data:`MAX_FEN`.
    """
    if not isinstance(text, str):
        raise AmountError("金额应为文字，例如 21万")
    folded = unicodedata.normalize("NFKC", text)
    cleaned = "".join(folded.split()).removeprefix("¥").removeprefix("RMB")
    if not cleaned:
        raise AmountError(f"请输入金额，{_FORMS}")
    match = _AMOUNT.fullmatch(cleaned)
    if match is None:
        if "," in cleaned and re.fullmatch(r"[0-9,]+(\.[0-9]+)?(万元|万|亿元|亿|元|分)?", cleaned):
            raise AmountError(f"金额“{text.strip()}”中的逗号应为千位分隔符（如 210,000），"
                              f"{_FORMS}")
        if cleaned.startswith("-"):
            raise AmountError("金额必须大于 0")
        raise AmountError(f"无法识别的金额“{text.strip()[:40]}”，{_FORMS}")
    digits = match["num"].replace(",", "") + "." + (match["frac"] or "0")
    fen = Decimal(digits) * _UNITS[match["unit"]]
    if fen != fen.to_integral_value():
        raise AmountError(f"金额“{text.strip()}”精确到分即可（最多两位小数的元）")
    if fen <= 0:
        raise AmountError("金额必须大于 0")
    if fen > MAX_FEN:
        raise AmountError(f"金额超出上限（{wan(MAX_FEN)}）")
    return int(fen)
