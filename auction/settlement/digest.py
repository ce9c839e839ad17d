"""The bid-log digest stored with every lot result and sent in the registration packet.

Canonical form: one line per accepted bid, in seq order, UTF-8::

    <seq>|<paddle>|<amount_fen>|<at_ms>\\n

each field a base-10 integer without sign or leading zeros (``at_ms`` is the server time the
bid was accepted, ms since the Unix epoch). The digest is the lowercase hex SHA-256 of the
concatenated lines; a lot without bids has the digest of the empty string. Anyone holding the
public bid history can recompute it, so the registration office can check the record it got.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from auction.store.journal import BidRecord


def bid_log_lines(bids: Iterable[BidRecord]) -> bytes:
    """The canonical bid log (see module docstring); ``bids`` must already be in seq order."""
    return "".join(f"{b.seq}|{b.paddle}|{b.amount_fen}|{b.at_ms}\n" for b in bids).encode()


def bid_log_sha256(bids: Iterable[BidRecord]) -> str:
    """Lowercase hex SHA-256 of :func:`bid_log_lines`."""
    return hashlib.sha256(bid_log_lines(bids)).hexdigest()
