"""The bid limits counted in process memory (auction/accounts/limits.py ``LocalLimits``): the
documented numbers (20 bids/s per bidder, 200/s per address), each identity on its own."""

from __future__ import annotations

import pytest

from auction.accounts.limits import BID_PER_ADDRESS, BID_PER_BIDDER, LocalLimits, RateLimited


def test_the_21st_bid_of_a_bidder_in_a_second_is_refused_with_a_wait() -> None:
    """20 bids pass; the 21st is ``rate_limited`` with a wait of at most the window; another
    bidder at the same address is not held back by it."""
    limits = LocalLimits()
    for _ in range(BID_PER_BIDDER.count):
        limits.check((BID_PER_BIDDER, "1"), (BID_PER_ADDRESS, "10.0.0.1"))
    with pytest.raises(RateLimited) as refused:
        limits.check((BID_PER_BIDDER, "1"), (BID_PER_ADDRESS, "10.0.0.1"))
    assert refused.value.code == "rate_limited" and refused.value.scope == "bid-bidder"
    assert 1 <= refused.value.retry_after_ms <= BID_PER_BIDDER.window_ms + 1
    limits.check((BID_PER_BIDDER, "2"), (BID_PER_ADDRESS, "10.0.0.1"))


def test_an_address_is_limited_across_its_bidders() -> None:
    """200 bids from one address pass whoever sends them; the 201st is refused; an empty
    identity is not counted."""
    limits = LocalLimits()
    for i in range(BID_PER_ADDRESS.count):
        limits.check((BID_PER_BIDDER, str(i)), (BID_PER_ADDRESS, "10.0.0.2"))
    with pytest.raises(RateLimited) as refused:
        limits.check((BID_PER_BIDDER, "x"), (BID_PER_ADDRESS, "10.0.0.2"))
    assert refused.value.scope == "bid-addr"
    for _ in range(BID_PER_ADDRESS.count + 5):
        limits.check((BID_PER_ADDRESS, ""))
