"""统一社会信用代码 (GB 32100-2015): check character, validation and generation of valid codes.

Layout: 1 registration department, 2 organisation category, 3–8 division code (GB/T 2260),
9–17 body identifier, 18 check character. The alphabet has 31 characters (no I, O, S, V, Z);
weights are ``3^(i-1) mod 31``; check = ``31 - (Σ value·weight mod 31)``, 31 → 0.
"""

from __future__ import annotations

import hashlib
import re

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")

#: Common prefixes (positions 1–2).
ENTERPRISE = "91"
INDIVIDUAL_BUSINESS = "92"
PUBLIC_INSTITUTION = "12"  # most universities and research institutes
PRIVATE_NON_ENTERPRISE = "52"
SOCIAL_ORGANISATION = "51"


def check_char(first17: str) -> str:
    """The 18th character for the first 17. Raises ``ValueError`` on a bad length or character."""
    if len(first17) != 17:
        raise ValueError("need exactly 17 characters")
    try:
        total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"character not allowed in a USCC: {exc.args[0]!r}") from None
    check = 31 - total % 31
    return ALPHABET[0 if check == 31 else check]


def is_valid(code: str) -> bool:
    """True when ``code`` has the GB 32100-2015 shape and a correct check character."""
    if not _SHAPE.match(code):
        return False
    return check_char(code[:17]) == code[17]


def make(prefix: str, division: str, body: str) -> str:
    """Build a valid code from a 2-char prefix, a 6-digit division code and a 9-char body."""
    if len(prefix) != 2 or len(division) != 6 or not division.isdigit() or len(body) != 9:
        raise ValueError("prefix is 2 chars, division 6 digits, body 9 chars")
    first17 = prefix + division + body
    return first17 + check_char(first17)


def synthetic(prefix: str, division: str, seed: str) -> str:
    """A deterministic, valid, synthetic code for demo and test data, derived from ``seed``.

    The body starts with ``MA`` (the shape of codes issued since 2015) followed by 7 characters
    taken from a hash of ``seed``; the same seed always gives the same code.
    """
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    body = "MA" + "".join(ALPHABET[b % 31] for b in digest[:7])
    return make(prefix, division, body)
