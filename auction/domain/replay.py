"""Rebuild a room's state from its event log (invariant 10: replaying a lot's log reproduces its
live state; invariant 11: a room whose Redis history was lost is rebuilt from PostgreSQL).

Pure: takes the room's initial state (its terms, status ``scheduled``, seq 0) and the lot's
events in seq order, returns the state the rules of :mod:`auction.domain.room` would have
produced. Each event kind states its own effect, so the fold needs no command:

==========  =================================================================================
opened      status open, ``opened_at`` = at, ``ends_at`` from the event; a listing lot
            (挂牌, L2) becomes ``english`` (the auction among its buyers, or the immediate
            close that follows)
bid         ``high``/``leader``/``paddle`` from the event, ``bids`` + 1, ``high_seq`` = seq,
            ``warned`` = 0
extended    ``ends_at`` from the event, ``extensions`` + 1
warned      ``warned`` = n from the event
paused      ``paused_at`` = at
resumed     ``paused_at`` = 0, ``ends_at`` from the event
sold        status sold, ``closed_at`` = at
passed      status passed, ``closed_at`` = at
withdrawn   status withdrawn, ``closed_at`` = at, ``paused_at`` = 0
reopened    status open, ``closed_at`` = 0, ``warned`` = 0
bid_retracted
            the previous standing bid (kept by the fold) is the high again, ``bids`` from
            the event, ``warned`` = 0
increment_changed
            ``inc`` from the event; ``inc_override`` = ``inc`` when ``by`` is ``auctioneer``,
            else 0; ``inc0`` kept (when still 0: the ``inc`` before the change)
round_started
            ``round`` = n and ``ends_at`` from the event (a rounds lot, auction/domain/formats.py)
quote_received
            ``quotes`` = count (a sealed lot; the quotes themselves are not in the log)
announced   seq only
(other)     seq only: kinds this fold does not know change nothing else
==========  =================================================================================

``final`` is not in the log (it is the drainer's mark, C9): the fold leaves it as given.

**The secret book.** Proxy maxima (english) and sealed quotes are in no public event (P5, S3);
their journal (``lot_book``, docs/formats.md "The secret book's journal") is the second input,
``book``: each :class:`BookWrite` is applied after event ``after_seq`` and before the next one,
in order ``n`` (1, 2, 3 … without a gap), as the scripts wrote it: the entry replaces its
bidder's (:func:`auction.domain.book.put`), ``book_n`` = n, and ``proxies`` (english) or
``quotes`` (sealed) = the entries in the book. A write after the log's last event, or out of
order, raises :class:`ReplayError`.

A log that is not gapless from seq 1 raises :class:`ReplayError`: a state built from a log with
a hole would be a lie.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from auction.domain import book as books
from auction.domain.lot import LotFormat, LotStatus
from auction.domain.room import LotEvent, RoomState


class ReplayError(ValueError):
    """The log cannot be folded (a gap, or an event the state cannot take)."""


@dataclass(frozen=True, slots=True)
class BookWrite:
    """One write of a room's secret book as journalled: ``n`` its order (the room's
    ``book_n``), ``after_seq`` the room's seq when it was written, ``revision`` a sealed
    quote's (0 for a proxy), ``at`` server ms."""

    n: int
    after_seq: int
    bidder: int
    paddle: int
    amount: int
    revision: int
    at: int


def apply_write(state: RoomState, write: BookWrite) -> RoomState:
    """The state after one book write (P1, S1–S2 as the scripts write it)."""
    if write.n != state.book_n + 1:
        raise ReplayError(f"book write {write.n} follows write {state.book_n}")
    entry = books.Entry(write.bidder, write.paddle, write.amount, write.n, write.revision,
                        write.at)
    entries = books.put(books.parse(state.book), entry)
    state = replace(state, book=books.to_text(entries), book_n=write.n)
    if state.format is LotFormat.SEALED:
        return replace(state, quotes=len(entries))
    return replace(state, proxies=len(entries))


def _int(event: LotEvent, name: str) -> int:
    value = event.data.get(name)
    if type(value) is not int:
        raise ReplayError(f"event {event.seq} ({event.kind}) lacks an integer {name!r}")
    return value


def replay(
    initial: RoomState, events: Iterable[LotEvent], book: Iterable[BookWrite] = ()
) -> RoomState:
    """The state after ``events`` (seq ``initial.seq + 1`` onward, gapless) and the book's
    writes (``n`` from ``initial.book_n + 1``, each at its ``after_seq``) are applied."""
    state = initial
    standing: list[LotEvent] = []  # bids not retracted, oldest first (C6)
    writes = sorted(book, key=lambda w: w.n)
    w = 0
    for event in events:
        if event.seq != state.seq + 1:
            raise ReplayError(f"expected seq {state.seq + 1}, found {event.seq}")
        while w < len(writes) and writes[w].after_seq < event.seq:
            if writes[w].after_seq != state.seq:
                raise ReplayError(f"book write {writes[w].n} after seq {writes[w].after_seq} "
                                  f"is out of order (the room is at seq {state.seq})")
            state = apply_write(state, writes[w])
            w += 1
        kind, at = event.kind, event.at
        if kind == "opened":
            state = replace(state, status=LotStatus.OPEN, opened_at=at,
                            ends_at=_int(event, "ends_at"))
            if state.format is LotFormat.LISTING:  # L2: the listing's end opens the room
                state = replace(state, format=LotFormat.ENGLISH)
            if "max_ext" in event.data or "hard_end" in event.data:  # the caps (R5)
                state = replace(state, max_ext=int(event.data.get("max_ext", -1)),
                                hard_end=int(event.data.get("hard_end", 0)))
        elif kind == "bid":
            state = replace(state, high=_int(event, "amount"), leader=_int(event, "bidder"),
                            paddle=_int(event, "paddle"), bids=state.bids + 1,
                            high_seq=event.seq, warned=0)
            standing.append(event)
        elif kind == "bid_retracted":
            if not standing or standing[-1].seq != _int(event, "bid_seq"):
                raise ReplayError(f"event {event.seq} retracts a bid that is not the high")
            standing.pop()
            prev = standing[-1] if standing else None
            state = replace(
                state, high=0 if prev is None else _int(prev, "amount"),
                leader=0 if prev is None else _int(prev, "bidder"),
                paddle=0 if prev is None else _int(prev, "paddle"),
                high_seq=0 if prev is None else prev.seq, bids=_int(event, "bids"), warned=0)
        elif kind == "reopened":
            state = replace(state, status=LotStatus.OPEN, closed_at=0, warned=0)
        elif kind == "increment_changed":
            inc = _int(event, "inc")
            by_hand = event.data.get("by") == "auctioneer"
            # every change records the lot's own increment first (inc0; before any change
            # it is the room's inc)
            state = replace(state, inc=inc, inc_override=inc if by_hand else 0,
                            inc0=state.inc0 or state.inc)
        elif kind == "extended":
            state = replace(state, ends_at=_int(event, "ends_at"),
                            extensions=state.extensions + 1)
        elif kind == "round_started":
            state = replace(state, round=_int(event, "n"), ends_at=_int(event, "ends_at"))
        elif kind == "quote_received":
            state = replace(state, quotes=_int(event, "count"))
        elif kind == "warned":
            state = replace(state, warned=_int(event, "n"))
        elif kind == "paused":
            state = replace(state, paused_at=at)
        elif kind == "resumed":
            state = replace(state, paused_at=0, ends_at=_int(event, "ends_at"))
        elif kind == "withdrawn":
            state = replace(state, status=LotStatus.WITHDRAWN, closed_at=at, paused_at=0)
        elif kind in ("sold", "passed"):
            state = replace(state, status=LotStatus(kind), closed_at=at)
        state = replace(state, seq=event.seq)
    for write in writes[w:]:
        if write.after_seq != state.seq:
            raise ReplayError(f"book write {write.n} after seq {write.after_seq}: the log "
                              f"ends at seq {state.seq}")
        state = apply_write(state, write)
    return state
