"""The canonical bid log and its SHA-256."""

from __future__ import annotations

import hashlib

from auction.settlement.digest import bid_log_lines, bid_log_sha256
from auction.store.journal import BidRecord


def test_lines_follow_the_documented_format() -> None:
    """One ``seq|paddle|amount_fen|at_ms`` line per bid, newline-terminated, in the given order."""
    bids = [
        BidRecord(2, 7, 11, 1_000_000_00, 1_750_000_000_000),
        BidRecord(3, 8, 12, 1_100_000_00, 1_750_000_000_500),
    ]
    assert bid_log_lines(bids) == b"2|11|100000000|1750000000000\n3|12|110000000|1750000000500\n"


def test_digest_is_sha256_hex_of_the_lines() -> None:
    """The digest is the lowercase hex SHA-256 of the canonical lines."""
    bids = [BidRecord(1, 5, 286, 2_000_000_00, 1)]
    assert bid_log_sha256(bids) == hashlib.sha256(b"1|286|200000000|1\n").hexdigest()


def test_empty_log_has_the_digest_of_nothing() -> None:
    """A lot without bids digests the empty string."""
    assert bid_log_sha256([]) == hashlib.sha256(b"").hexdigest()
