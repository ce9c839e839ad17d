"""The sale calendar (issue 15; docs/formats.md "Scheduling" and "Relisting"): when a timed
session's lots open and close, whether a lot may be opened yet, and how far a relisted lot's
start price may fall. Pure: the caller passes the time.

- A timed session with an end (``ends_at``) runs itself: each lot opens at its own
  ``starts_at`` or else the session's, and lot n of the running order (n = 1, 2 … by
  ``ordinal``) closes at ``ends_at + (n − 1) × close_gap_s`` (:func:`close_at`), never after the
  session's hard end.
- Nobody opens a lot before its session's day (China Standard Time): ``not_yet``. On the day, a
  live session's auctioneer opens when the sale is ready (the time of day is an announcement);
  a timed lot is not opened before its opening time (:func:`check_open`).
- A relisted lot's start price is at least :data:`RELIST_FLOOR_PERCENT` % of the start price of
  the lot it relists (:func:`relist_floor`), else ``relist_discount_too_large``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from auction.domain.errors import Rejection

#: China Standard Time: a session's day is its date here
CHINA = timezone(timedelta(hours=8), "CST")

#: the lowest start price of a relisted lot, in % of the start price of the lot it relists
RELIST_FLOOR_PERCENT = 80


def ms(at: datetime | None) -> int:
    """Milliseconds since the epoch (0 for ``None``)."""
    return 0 if at is None else int(at.timestamp() * 1000)


def close_at(ends_at: datetime, close_gap_s: int, rank: int,
             hard_end_at: datetime | None = None) -> int:
    """The scheduled close (ms) of the lot at ``rank`` (0 for the first) of the running order:
    the session end plus ``rank`` gaps, never after the hard end."""
    planned = ms(ends_at) + rank * close_gap_s * 1000
    if hard_end_at is not None:
        planned = min(planned, ms(hard_end_at))
    return planned


def opens_at(session_starts_at: datetime, lot_starts_at: datetime | None) -> datetime:
    """When a lot of a timed session opens: its own start, else the session's."""
    return lot_starts_at or session_starts_at


def check_open(now: datetime, *, mode: str, session_starts_at: datetime,
               lot_starts_at: datetime | None = None) -> None:
    """May a lot be opened at ``now``? Before the session's day (China time) no; on the day a
    live lot yes, a timed lot from its opening time. Else ``Rejection('not_yet')`` with
    ``opens_at`` (ISO time)."""
    if mode == "live":
        day = session_starts_at.astimezone(CHINA).date()
        if now.astimezone(CHINA).date() < day:
            start = datetime(day.year, day.month, day.day, tzinfo=CHINA)
            raise Rejection("not_yet", f"场次 {day.isoformat()} 举行, 当天才能开拍",
                            opens_at=start.isoformat())
        return
    start = opens_at(session_starts_at, lot_starts_at)
    if now < start:
        shown = start.astimezone(CHINA).isoformat(timespec="seconds")
        raise Rejection("not_yet", f"标的 {shown} 才能开拍", opens_at=shown)


def relist_floor(previous_start_fen: int) -> int:
    """The lowest start price (fen) of a relisting of a lot that started at
    ``previous_start_fen``: 80 % of it, rounded up to the fen."""
    return -(-previous_start_fen * RELIST_FLOOR_PERCENT // 100)
