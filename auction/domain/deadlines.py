"""The deadlines after the hammer, in Chinese working days (DESIGN "After the hammer";
../shared/DOMAIN.md "Auction rule numbers"): one place for each number, so the 成交确认书, the
payment desk and the publicity all state the same dates.

Each deadline counts from the hammer's calendar day in China Standard Time (the day the buyer and
the market see), through :func:`auction.domain.workdays.add_working_days`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from auction.domain.workdays import add_working_days

CST = timezone(timedelta(hours=8), "CST")

#: the buyer pays the balance (price − deposit applied) within this many working days
BALANCE_DUE_WORKING_DAYS = 5
#: 成交公示 runs this long unless the market sets its own notice period
DEFAULT_NOTICE_WORKING_DAYS = 5
#: losers' deposits are returned within this many working days after the session
REFUND_WORKING_DAYS = 5
#: a listing (挂牌) runs this many working days unless its lot gives its own period or end
DEFAULT_LISTING_WORKING_DAYS = 20


def day_in_china(at: datetime) -> date:
    """The calendar day of ``at`` (timezone-aware) in China Standard Time."""
    if at.tzinfo is None:
        raise ValueError("a deadline needs an aware datetime")
    return at.astimezone(CST).date()


def balance_due(hammer_at: datetime) -> date:
    """The last day to pay the balance of a lot hammered at ``hammer_at``."""
    return add_working_days(day_in_china(hammer_at), BALANCE_DUE_WORKING_DAYS)


def notice_ends(opened_at: datetime, working_days: int = DEFAULT_NOTICE_WORKING_DAYS) -> date:
    """The last day of a 成交公示 opened at ``opened_at`` running ``working_days``."""
    return add_working_days(day_in_china(opened_at), working_days)


def refund_due(session_closed_at: datetime) -> date:
    """The last day to return a losing bidder's deposit."""
    return add_working_days(day_in_china(session_closed_at), REFUND_WORKING_DAYS)


def listing_ends(starts_at: datetime, working_days: int = DEFAULT_LISTING_WORKING_DAYS
                 ) -> datetime:
    """The end of a listing (挂牌) that starts at ``starts_at`` and runs ``working_days``: the
    end (24:00 China Standard Time) of the ``working_days``-th working day after its first
    day, as 成交公示 counts its last day (docs/formats.md "Listing")."""
    last = add_working_days(day_in_china(starts_at), working_days)
    following = last + timedelta(days=1)
    return datetime(following.year, following.month, following.day, tzinfo=CST)
