"""Values PostgreSQL cannot take become ``Invalid`` (400), never a 500 (auction/store/errors.py).

The API refuses such values first, naming the field; this is the safety net behind it, checked
against the real server's answers (and asyncpg's own refusals while encoding a query)."""

from __future__ import annotations

import logging

import pytest

from auction.store import Store
from auction.store.errors import Invalid, translated


@pytest.mark.parametrize(
    ("sql", "value"),
    [("SELECT $1::bigint", 2**63), ("SELECT $1::int", 2**40), ("SELECT $1::text", "a\x00b"),
     ("SELECT $1::text", "\ud800"), ("SELECT $1::bigint + 9223372036854775807", 1),
     ("SELECT $1::text::int", "abc")],
    ids=["bigint-range", "int-range", "nul", "lone-surrogate", "overflow", "not-a-number"],
)
async def test_values_postgres_refuses_are_invalid(
    store: Store, sql: str, value: object, caplog: pytest.LogCaptureFixture
) -> None:
    """Out-of-range integers, NUL, lone surrogates and bad casts are Invalid, logged as one
    warning line without a traceback."""
    caplog.set_level(logging.WARNING, logger="auction.store")
    with pytest.raises(Invalid) as info, translated():
        await store.pool.fetchval(sql, value)
    assert info.value.code == "bad_request" and info.value.message
    records = [r for r in caplog.records if r.name == "auction.store"]
    assert len(records) == 1 and records[0].levelno == logging.WARNING
    assert not records[0].exc_info
