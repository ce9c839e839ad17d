"""Listings (挂牌, issue 15 item 4; docs/formats.md "Listing"): what a listing's end decides and
how the result is named. Pure.

A lot listed (``format: "listing"``) at its start price runs from its opening time (its own
``starts_at``, else its session's) to its ``listing_ends_at`` — given, or
:func:`auction.domain.deadlines.listing_ends` of a period in working days. Interested buyers
register intent (意向受让) through the session's registration: a **qualified buyer** is a bidder
eligible for the lot (R0: a paid registration and a confirmed deposit covering it). At the end:

- no qualified buyer: the listing **expires** (``expired``; the lot passes, reason
  ``no_buyers``, and may be relisted);
- exactly one: **协议成交** (``agreement``) at the listing price, settled like a sale and
  published as 协议成交公示;
- two or more: an **auction** (``auction``) among them, from the listing price.

The room's side is :func:`auction.domain.formats.end_listing` (L1–L3).
"""

from __future__ import annotations

#: the outcomes of a listing's end
EXPIRED, AGREEMENT, AUCTION = "expired", "agreement", "auction"

#: how a sale came about (``deal``): by auction (拍卖, a listing's auction included) or by
#: agreement with the one buyer of a listing (协议成交)
DEAL_LABELS = {"auction": "拍卖", AGREEMENT: "协议成交"}

#: the title of a sold lot's notice (公示) by its deal
NOTICE_TITLES = {"auction": "成交公示", AGREEMENT: "协议成交公示"}


def outcome_of(buyers: int) -> str:
    """The outcome of a listing that ends with ``buyers`` qualified buyers."""
    if buyers <= 0:
        return EXPIRED
    return AGREEMENT if buyers == 1 else AUCTION


def deal_of(listing_outcome: str | None) -> str:
    """The deal of a sold lot: ``agreement`` when it was a listing's one buyer, else
    ``auction``."""
    return AGREEMENT if listing_outcome == AGREEMENT else "auction"
