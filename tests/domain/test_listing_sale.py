"""The listing's (挂牌) pure rules: its end in working days (the holiday calendar counts), the
outcome by number of qualified buyers, and how a sale is named."""

from __future__ import annotations

from datetime import datetime

import pytest

from auction.domain.deadlines import CST, DEFAULT_LISTING_WORKING_DAYS, listing_ends
from auction.domain.listing_sale import DEAL_LABELS, NOTICE_TITLES, deal_of, outcome_of


@pytest.mark.parametrize(("starts", "days", "ends"), [
    # a plain week: Monday + 5 working days → the next Monday is the last day
    (datetime(2026, 11, 30, 9, 0, tzinfo=CST), 5, datetime(2026, 12, 8, 0, 0, tzinfo=CST)),
    # 国庆 2026 does not count
    (datetime(2026, 9, 21, 9, 0, tzinfo=CST), 10, datetime(2026, 10, 13, 0, 0, tzinfo=CST)),
    # 20 working days over 元旦 2027
    (datetime(2026, 12, 7, 9, 0, tzinfo=CST), 20, datetime(2027, 1, 6, 0, 0, tzinfo=CST)),
    # a start on a Sunday evening: the Monday after is its one working day
    (datetime(2026, 11, 29, 17, 30, tzinfo=CST), 1,
     datetime(2026, 12, 1, 0, 0, tzinfo=CST)),
])
def test_listing_ends_at_the_end_of_its_last_working_day(
    starts: datetime, days: int, ends: datetime,
) -> None:
    """The end is 24:00 China time of the n-th working day after the first day."""
    assert listing_ends(starts, days) == ends


def test_the_default_period_is_twenty_working_days() -> None:
    """DESIGN: 20 working days unless the lot gives its own."""
    start = datetime(2026, 12, 7, 9, 0, tzinfo=CST)
    assert DEFAULT_LISTING_WORKING_DAYS == 20
    assert listing_ends(start) == listing_ends(start, 20)


def test_outcome_by_number_of_buyers() -> None:
    """0 expired, 1 协议成交, 2 or more an auction."""
    assert [outcome_of(n) for n in (0, 1, 2, 3, 40)] == [
        "expired", "agreement", "auction", "auction", "auction"]


def test_a_sale_is_named_by_its_deal() -> None:
    """Only a listing's one buyer is 协议成交 (its notice 协议成交公示); every other sale, a
    listing's auction included, is 拍卖 with its 成交公示."""
    assert [deal_of(o) for o in (None, "auction", "expired", "agreement")] == [
        "auction", "auction", "auction", "agreement"]
    assert (DEAL_LABELS["agreement"], NOTICE_TITLES["agreement"]) == ("协议成交", "协议成交公示")
    assert (DEAL_LABELS["auction"], NOTICE_TITLES["auction"]) == ("拍卖", "成交公示")
