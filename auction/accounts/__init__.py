"""Accounts, roles and their scope over the market tree; revocation; rate limits.

- :mod:`~auction.accounts.passwords`: argon2id hashing of passwords.
- :mod:`~auction.accounts.policy`: who may do what on which market (pure: no I/O).
- :mod:`~auction.accounts.cache`: per-process caches the checks read (market tree, lot deposit
  requirements, bidders' deposit cover), with short lifetimes.
- :mod:`~auction.accounts.revocation`: revoked token ids and accounts in Redis, and the registry
  that closes open websockets of a revoked token (4401).
- :mod:`~auction.accounts.limits`: Redis counters per bidder and per address.

Exception tree::

    RateLimited(code="rate_limited", retry_after_ms)   a limit was hit; nothing was done
"""
