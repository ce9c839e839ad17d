"""Money formatting for people. Amounts are integer fen (分) everywhere; no float is ever used."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

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
