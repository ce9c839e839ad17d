"""Increment tables (加价幅度表) by price band, and the increment guideline checked at creation.

A session has an increment table: bands of the current price, each with its increment, e.g.
below 10万: 2,000 元; 10万 – 100万: 10,000 元; from 100万: 50,000 元 (:data:`DEFAULT_TABLE`, the
defaults of DESIGN §6 when a session is created without one). A lot keeps its own increment
while the price stays in the band of its start price; once the price (the standing high) enters
a higher band, the table's increment for that band applies, until the auctioneer overrides it
(``increment`` op; ``reset`` returns to the table). The rule that uses it lives in
:func:`auction.domain.room.increment_for`; docs/formats.md states it in words.

In Redis (field ``bands`` of the room's state hash) and in the model a table is text:
``"0:200000,10000000:1000000,100000000:5000000"`` (``from_fen:inc_fen`` pairs, ascending, the
first from 0); ``""`` is no table (the lot's increment throughout). Money is integer fen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from auction.domain.money import MAX_FEN

Band = tuple[int, int]  # (from_fen, inc_fen)

#: DESIGN §6 defaults: < 10万元: 2,000 元; 10万–100万: 10,000 元; ≥ 100万: 50,000 元
DEFAULT_TABLE: tuple[Band, ...] = ((0, 200_000), (10_000_000, 1_000_000), (100_000_000, 5_000_000))
#: most bands a table may have
MAX_BANDS = 10


class TableError(ValueError):
    """An increment table that cannot be used; ``str`` is a Chinese message, ``field`` the
    offending field (``increments[1].inc``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def to_text(bands: Sequence[Band]) -> str:
    return ",".join(f"{lo}:{inc}" for lo, inc in bands)


def parse(text: str) -> tuple[Band, ...]:
    """The table written by :func:`to_text` (trusted: it was checked when stored)."""
    if not text:
        return ()
    out = []
    for part in text.split(","):
        lo, inc = part.split(":")
        out.append((int(lo), int(inc)))
    return tuple(out)


def check(raw: Any) -> tuple[Band, ...]:
    """A table from JSON: ``[{"from_fen": 0, "inc_fen": 200000}, …]``, ascending ``from_fen``,
    the first 0, increments 1 … 10^15 fen. ``[]`` means no table. Raises :class:`TableError`."""
    if not isinstance(raw, list):
        raise TableError("increments", "increments 必须是价格区间的列表")
    if len(raw) > MAX_BANDS:
        raise TableError("increments", f"increments 最多 {MAX_BANDS} 个区间")
    bands: list[Band] = []
    for i, item in enumerate(raw):
        where = f"increments[{i}]"
        if not isinstance(item, dict) or set(item) != {"from_fen", "inc_fen"}:
            raise TableError(where, f"{where} 必须是 {{from_fen, inc_fen}}")
        lo, inc = item["from_fen"], item["inc_fen"]
        if type(lo) is not int or not 0 <= lo <= MAX_FEN:
            raise TableError(f"{where}.from_fen", f"{where}.from_fen 必须是 0 … 10^15 的整数 (分)")
        if type(inc) is not int or not 1 <= inc <= MAX_FEN:
            raise TableError(f"{where}.inc_fen", f"{where}.inc_fen 必须是 1 … 10^15 的整数 (分)")
        if i == 0 and lo != 0:
            raise TableError(f"{where}.from_fen", "第一个区间必须从 0 开始")
        if bands and lo <= bands[-1][0]:
            raise TableError(f"{where}.from_fen", "区间的 from_fen 必须递增")
        bands.append((lo, inc))
    return tuple(bands)


def to_json(bands: Sequence[Band]) -> list[dict[str, int]]:
    return [{"from_fen": lo, "inc_fen": inc} for lo, inc in bands]


def band_of(bands: Sequence[Band], price: int) -> int:
    """Index of the band holding ``price`` (the last whose ``from`` ≤ price); 0 for none."""
    index = 0
    for i, (lo, _inc) in enumerate(bands):
        if lo <= price:
            index = i
    return index


def guideline_warning(start_fen: int, inc_fen: int, *, english: bool = False) -> str | None:
    """DESIGN §6 guideline: the increment is ≤ 2 % of the start price up to 10万元, ≤ 1 % up to
    100万元, ≤ 0.5 % above. A lot that breaks it is still created, with this warning (in
    English with ``english``)."""
    if start_fen <= 10_000_000:
        limit_per_mille, label = 20, "2%"
    elif start_fen <= 100_000_000:
        limit_per_mille, label = 10, "1%"
    else:
        limit_per_mille, label = 5, "0.5%"
    if inc_fen * 1000 <= start_fen * limit_per_mille:
        return None
    if english:
        return (f"The increment exceeds the guideline: for a starting price of "
                f"{start_fen / 100:,.2f} yuan it should be at most {label} of it")
    return (f"加价幅度超过指导标准: 起拍价 {start_fen / 100:,.2f} 元的加价幅度"
            f"宜不超过起拍价的 {label}")
