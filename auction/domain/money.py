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


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ((1000, "仟"), (100, "佰"), (10, "拾"), (1, ""))
#: the unit of each 4-digit section of the yuan, lowest first (MAX_FEN is 10 万亿元)
_SECTIONS = ("", "万", "亿", "万亿")


def _section(n: int) -> str:
    """``1 .. 9999`` in capitals without its section unit: a run of zeros inside it is one 零,
    zeros at its end none (``1010`` → 壹仟零壹拾, ``1100`` → 壹仟壹佰)."""
    out = ""
    zero = False
    for place, unit in _PLACES:
        digit = n // place % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[digit] + unit
    return out


def chinese_capitals(fen: int) -> str:
    """The amount in Chinese capitals (大写金额) as written on a 成交确认书, a cheque or a
    contract, after the People's Bank rules for writing amounts (《支付结算办法》附件一):

    - whole yuan end in 整: ``100`` → ``壹元整``; ``0`` → ``零元整``;
    - 角 and 分 follow 元 without 整 (``壹元伍角``, ``壹元伍角陆分``); no jiao but fen writes
      零: ``壹元零陆分``; below one yuan there is no 元: ``伍角陆分``, ``陆分``;
    - zeros inside the yuan are one 零 for each run, also across a 万 / 亿 boundary
      (``壹亿零伍元整``, ``壹拾万零叁佰元整``), none at the end of a section;
    - a leading ten keeps its 壹 (``壹拾元整``, ``壹拾万元整``), as the rules require of
      amounts that must not be altered.

    ``fen`` is a non-negative ``int`` up to :data:`MAX_FEN`.
    """
    if type(fen) is not int:
        raise TypeError(f"amount must be int fen, got {type(fen).__name__}")
    if not 0 <= fen <= MAX_FEN:
        raise ValueError(f"amount out of range: {fen}")
    yuan, cents = divmod(fen, 100)
    jiao, fen_digit = divmod(cents, 10)
    sections = []
    while yuan:
        yuan, section = divmod(yuan, 10000)
        sections.append(section)
    out = ""
    gap = False  # a zero section (or the zeros that open one) lies between two written parts
    for index in range(len(sections) - 1, -1, -1):
        section = sections[index]
        if section == 0:
            gap = bool(out)
            continue
        if out and (gap or section < 1000):
            out += "零"
        out += _section(section) + _SECTIONS[index]
        gap = False
    if not out and not cents:
        return "零元整"
    if out:
        out += "元"
        if not cents:
            return out + "整"
        if jiao == 0:
            return out + "零" + _DIGITS[fen_digit] + "分"
    if jiao:
        out += _DIGITS[jiao] + "角"
    if fen_digit:
        out += _DIGITS[fen_digit] + "分"
    return out
