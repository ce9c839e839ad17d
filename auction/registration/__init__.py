"""Registration hand-off (技术合同认定登记): deliver each sold lot's packet, at least once.

- :mod:`auction.registration.packet`    the packet and its one serialization
- :mod:`auction.registration.signing`   the ``X-Auction-Signature`` HMAC
- :mod:`auction.registration.deliverer` outbox → HTTP POST (or a file), with retries
- :mod:`auction.registration.routing`   which endpoint (and secret) a market's packets go to
- :mod:`auction.registration.answer`    the office's answer in a delivery's response body
- :mod:`auction.registration.backlog`   pending / dead / oldest age, and the outbox gauges
- :mod:`auction.registration.cli`       ``auction registration retry`` (re-queue dead rows)
"""
