"""The tamper-evident record (invariant 10; docs/formats.md "The chained record").

- :mod:`auction.audit.chain` the canonical bytes of an entry and its SHA-256 (pure);
- :mod:`auction.audit.verify` recomputes chains and settled results from a record (pure);
- :mod:`auction.audit.bundle` a session's record as a self-contained JSON bundle;
- :mod:`auction.audit.receipts` signed receipts for accepted bids;
- :mod:`auction.audit.cli` ``auction verify`` and ``auction export``.

The chains themselves are built by PostgreSQL (migrations/0018_record_chain.sql), in the
statement that inserts each entry; :mod:`auction.store.chain` reads them back.
"""
