"""Money is integer fen (分) everywhere (invariant 6); this module only formats and parses it.

No float ever touches an amount: parsing goes through :class:`decimal.Decimal` from a string.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

#: Largest amount the engine accepts: 10^15 fen (10 万亿元), well inside 2^53 so the Lua side
#: (whose numbers are IEEE doubles) represents every valid amount exactly.
MAX_FEN = 10**15


def is_fen(value: object) -> bool:
    """True for a Python ``int`` (not ``bool``) in ``1 .. MAX_FEN``."""
    return type(value) is int and 0 < value <= MAX_FEN


def format_yuan(fen: int) -> str:
    """``12345678`` → ``"123,456.78 元"``."""
    if type(fen) is not int:
        raise TypeError(f"amount must be int fen, got {type(fen).__name__}")
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan:,}.{cents:02d} 元"


def parse_yuan(text: str) -> int:
    """``"1,234.5"`` / ``"1234.50元"`` → ``123450`` fen; more than two decimals is an error."""
    cleaned = text.replace(",", "").replace("元", "").replace("¥", "").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"not an amount: {text!r}") from None
    fen = value * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"amount has fractions of a fen: {text!r}")
    return int(fen)
