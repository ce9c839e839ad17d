"""Settlement: drain lot events to PostgreSQL, then settle each closed lot exactly once.

- :mod:`auction.settlement.drainer` Redis streams → ``lot_events``; settles closed lots
- :mod:`auction.settlement.settle`  one transaction: result, bid-log digest, outbox row
- :mod:`auction.settlement.digest`  the canonical bid log and its SHA-256
- :mod:`auction.settlement.lease`   the single-runner lease the drainer holds

Exceptions::

    SettlementError (code: not_terminal | unknown_lot | unknown_bidder)
"""
