"""A room's secret book and the Dutch clock: plain arithmetic shared by the format rules.

The **book** is one field of the room state (``book``, never in a snapshot): on an ``english``
lot the bidders' proxy maxima (rule P1), on a ``sealed`` lot their quotes (S1). Each entry is
``bidder:paddle:amount:order:n:at`` (``amount`` the maximum or the quote; ``order`` the room's
``book_n`` when it was set, so a lower order was set earlier; ``n`` the revisions used; ``at``
server ms), entries joined by ``,`` in ascending bidder id. ``auction/rooms/lua/_book.lua``
reads and writes the same text.

The **Dutch clock** (D2): the price falls by ``step`` every ``interval_ms`` from the opening,
never below ``floor``; it is computed from the server time, nothing is written per step.
"""

from __future__ import annotations

from typing import NamedTuple


class Entry(NamedTuple):
    bidder: int
    paddle: int
    amount: int
    order: int
    n: int
    at: int


def parse(text: str) -> list[Entry]:
    """The entries of a book's text, in ascending bidder id."""
    out: list[Entry] = []
    for part in text.split(","):
        if part:
            b, p, a, o, n, at = (int(x) for x in part.split(":"))
            out.append(Entry(b, p, a, o, n, at))
    return out


def to_text(entries: list[Entry]) -> str:
    return ",".join(
        f"{e.bidder}:{e.paddle}:{e.amount}:{e.order}:{e.n}:{e.at}"
        for e in sorted(entries, key=lambda e: e.bidder)
    )


def put(entries: list[Entry], entry: Entry) -> list[Entry]:
    """``entries`` with ``entry`` replacing the one of its bidder (or added)."""
    return [e for e in entries if e.bidder != entry.bidder] + [entry]


def find(entries: list[Entry], bidder: int) -> Entry | None:
    return next((e for e in entries if e.bidder == bidder), None)


def holders(text: str) -> dict[int, int]:
    """A lot's preemptive-right holders (优先购买权, room field ``holders``): ``bidder:order``
    joined by ``,``; order 1 is the first. ``auction/rooms/lua/_book.lua`` reads the same."""
    out: dict[int, int] = {}
    for part in text.split(","):
        if part:
            bidder, order = part.split(":")
            out[int(bidder)] = int(order)
    return out


def holders_text(pairs: dict[int, int]) -> str:
    return ",".join(f"{b}:{o}" for b, o in sorted(pairs.items()))


def dutch_drops(start: int, step: int, floor: int) -> int:
    """How many steps until the price reaches the floor (the last one may be partial)."""
    return -(-(start - floor) // step)


def dutch_span(start: int, step: int, interval_ms: int, floor: int) -> int:
    """D4: how long a Dutch lot runs from its opening: every drop, then the floor held for one
    interval. The lot passes at ``opened_at + span`` without an acceptance."""
    return (dutch_drops(start, step, floor) + 1) * interval_ms


def dutch_price(start: int, step: int, interval_ms: int, floor: int, elapsed_ms: int) -> int:
    """D2: the price ``elapsed_ms`` after the opening."""
    return max(floor, start - step * (max(0, elapsed_ms) // interval_ms))
