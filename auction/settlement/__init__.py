"""Settlement: drain lot events to PostgreSQL, then settle each closed lot exactly once.

- :mod:`auction.settlement.drainer` Redis streams → ``lot_events``; settles closed lots, many
  lots per round trip
- :mod:`auction.settlement.settle`  one transaction per batch: results, bid-log digests, outbox
  rows
- :mod:`auction.settlement.finality` which closed lots are final (C9), one pipeline
- :mod:`auction.settlement.digest`  the canonical bid log and its SHA-256
- :mod:`auction.settlement.lease`   the single-runner lease the drainer holds

Exceptions::

    SettlementError (code: not_terminal | unknown_lot | unknown_bidder)
"""
