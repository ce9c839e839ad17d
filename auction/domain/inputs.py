"""What an id and a text field may be, wherever they come from (a path, a query, a JSON body, a
websocket frame): pure checks, no I/O, shared by the HTTP edge and the wire codec.

- **Ids** are PostgreSQL ``bigint`` serials: integers in ``1 .. 2^63 − 1``. An integer outside
  that range names nothing; the edge turns it into :data:`UNKNOWN_ID`, which no row has, so it
  is answered exactly like any other unknown id (never a database error).
- **Text** is valid Unicode (no lone surrogates, which JSON's ``"\\ud800"`` can smuggle in), has
  no control characters (category Cc: NUL, escapes, DEL, C1) except the line breaks and tabs a
  multi-line field allows, and fits its length limit. PostgreSQL stores no NUL in ``text`` and
  no surrogate in UTF-8; the rest keeps logs, pages and registration packets clean.
"""

from __future__ import annotations

import re

#: the largest id (PostgreSQL ``bigint``)
MAX_ID = 2**63 - 1
#: an id no row has (serials start at 1): what an out-of-range id is looked up as
UNKNOWN_ID = 0
#: digits of :data:`MAX_ID`; a longer digit string is out of range without parsing it
MAX_ID_DIGITS = len(str(MAX_ID))

#: control characters (Unicode category Cc) and lone surrogates (Cs); a multi-line field (a
#: description, a reason) may contain line breaks and tabs
_BAD = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_BAD_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def as_id(value: int) -> int:
    """``value`` when it is a valid id, else :data:`UNKNOWN_ID`."""
    return value if 1 <= value <= MAX_ID else UNKNOWN_ID


def parse_id(digits: str) -> int:
    """An id from an optionally signed ASCII digit string (a path or query value), or
    :data:`UNKNOWN_ID` when it is out of range; ``ValueError`` when it is not an integer."""
    sign, body = (digits[0], digits[1:]) if digits[:1] in ("-", "+") else ("", digits)
    if not body or not body.isascii() or not body.isdigit():
        raise ValueError(f"not an integer: {digits[:32]!r}")
    body = body.lstrip("0") or "0"
    if sign == "-" or len(body) > MAX_ID_DIGITS:
        return UNKNOWN_ID
    return as_id(int(body))


def text_problem(value: str, *, max_len: int, multiline: bool = False) -> str | None:
    """Why ``value`` is not acceptable text (a short Chinese phrase), or ``None`` when it is."""
    found = text_problems(value, max_len=max_len, multiline=multiline)
    return None if found is None else found[0]


def text_problems(
    value: str, *, max_len: int, multiline: bool = False
) -> tuple[str, str] | None:
    """:func:`text_problem` in Chinese and in English, or ``None``."""
    if len(value) > max_len:
        return f"过长 (最多 {max_len} 字)", f"is too long (at most {max_len} characters)"
    bad = (_BAD_MULTILINE if multiline else _BAD).search(value)
    if bad is None:
        return None
    if "\ud800" <= bad.group() <= "\udfff":
        return ("含有无效的 Unicode 字符 (孤立代理项)",
                "holds an invalid Unicode character (a lone surrogate)")
    return (f"含有控制字符 U+{ord(bad.group()):04X}",
            f"holds the control character U+{ord(bad.group()):04X}")


def printable(value: str, limit: int = 64) -> str:
    """``value`` made safe to echo in an answer or a log line: cut to ``limit`` characters, and
    escaped (``ascii()``) when it is not acceptable text."""
    cut = value[:limit]
    return cut if text_problem(cut, max_len=limit) is None else ascii(cut)[:limit]
