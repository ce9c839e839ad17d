"""Catalogue queries against real PostgreSQL: paddles, SQLSTATE translation, JSON shapes."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from auction.store import Conflict, Invalid, NotFound, Store
from auction.store import statistics as stats_store
from auction.store.errors import constraint_field
from auction.store.records import Lot, Session
from tests.codes import market_code

USCC_OK = "91350100M000100Y43"
MakeSession = Callable[..., Awaitable[Session]]
MakeLot = Callable[..., Awaitable[Lot]]


def unique_code() -> str:
    return market_code()


async def _bidders(store: Store, n: int) -> list[int]:
    ids = []
    for i in range(n):
        b = await store.create_bidder(name=f"竞买企业{i}", uscc=f"T{secrets.token_hex(8)}{i:01d}")
        ids.append(b.id)
    return ids


async def test_unique_violation_is_conflict_naming_the_field(store: Store) -> None:
    """A second market with the same code is a Conflict on field ``code``."""
    code = unique_code()
    await store.create_market(code=code, slug=f"a-{code}", name="甲", level="city")
    with pytest.raises(Conflict) as info:
        await store.create_market(code=code, slug=f"b-{code}", name="乙", level="city")
    assert (info.value.code, info.value.field) == ("conflict", "code")


async def test_check_violation_is_invalid(store: Store, make_session: MakeSession) -> None:
    """A zero start price breaks the CHECK and is Invalid on field ``start_price_fen``."""
    session = await make_session()
    with pytest.raises(Invalid) as info:
        await store.create_lot(
            session.id, title="t", result_type="专利", ip_type="发明专利",
            technology_field="农业", transaction_mode="转让", contract_type="技术转让",
            holder_name="h", holder_uscc=USCC_OK, start_price_fen=0, increment_fen=1,
        )
    assert info.value.field == "start_price_fen"


def test_constraint_names_map_to_fields() -> None:
    """PostgreSQL's default constraint names give back the column they guard."""
    assert constraint_field("bidders", "bidders_uscc_key") == "uscc"
    assert constraint_field("registrations", "registrations_bidder_id_fkey") == "bidder_id"
    assert constraint_field("lots", "lots_reserve_fen_check") == "reserve_fen"
    assert constraint_field(None, None) is None


async def test_unknown_rows_are_not_found(store: Store) -> None:
    """Reading a missing session, lot, bidder or market raises NotFound."""
    for read in (store.get_session, store.get_lot, store.get_bidder, store.get_registration):
        with pytest.raises(NotFound):
            await read(999_999_999)
    with pytest.raises(NotFound):
        await store.get_market_by_code("000000")
    with pytest.raises(NotFound) as info:
        await store.create_session(
            market_code="000000", name="x", season="spring", mode="live",
            starts_at=datetime.now(UTC),
        )
    assert info.value.field == "market_code"


async def test_lots_get_ordinals_and_the_session_counts_them(
    store: Store, make_session: MakeSession, make_lot: MakeLot
) -> None:
    """Lots created concurrently get ordinals 1…n and the session's lot_count says n."""
    session = await make_session()
    lots = await asyncio.gather(*(make_lot(session.id) for _ in range(5)))
    assert sorted(lot.ordinal for lot in lots) == [1, 2, 3, 4, 5]
    assert [lot.ordinal for lot in await store.list_lots(session.id)] == [1, 2, 3, 4, 5]
    assert (await store.get_session(session.id)).lot_count == 5


async def test_public_lot_hides_reserve_and_credit_code(make_lot: MakeLot) -> None:
    """Lot.public() omits reserve_fen and holder_uscc; to_json() (admin) has them."""
    lot = await make_lot()
    assert "reserve_fen" not in lot.public() and "holder_uscc" not in lot.public()
    assert lot.to_json()["reserve_fen"] == 1_200_000_00


async def test_session_json_uses_china_time(store: Store, make_session: MakeSession) -> None:
    """Timestamps render as RFC 3339 with the +08:00 offset."""
    session = await make_session()
    assert session.to_json()["starts_at"] == "2026-04-18T09:30:00.000+08:00"
    markets = await store.list_markets()
    assert any(m.code == session.market_code for m in markets)
    listed = await store.list_sessions(session.market_code)
    assert [s.id for s in listed] == [session.id]


async def _sold_with_packet(
    conn: Any, lot_id: int, bidder: int, at: datetime, packet: dict[str, Any]
) -> None:
    """Lot ``lot_id`` sold to ``bidder`` for 110万元 at ``at``, with ``packet`` in its outbox."""
    await conn.execute(
        "INSERT INTO lot_results (lot_id, outcome, winner_id, paddle, amount_fen,"
        " winning_seq, closed_at, bid_count, bid_log_sha256)"
        " VALUES ($1, 'sold', $2, 102, 110000000, 3, $3, 2, repeat('0', 64))",
        lot_id, bidder, at,
    )
    await conn.execute(
        "INSERT INTO registration_outbox (lot_id, idempotency_key, packet) VALUES ($1, $2, $3)",
        lot_id, f"lot-{lot_id}", packet,
    )


async def test_public_bids_results_and_registration_status(
    store: Store, make_lot: MakeLot
) -> None:
    """Bids come from lot_events in seq order, results list sold lots, the outbox row reads."""
    lot = await make_lot()
    (bidder,) = await _bidders(store, 1)
    at = datetime(2026, 4, 18, 2, 0, tzinfo=UTC)
    async with store.pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO lot_events (lot_id, seq, epoch, kind, at, bidder_id, paddle, amount_fen)"
            " VALUES ($1, $2, 'e1', $3, $4, $5, $6, $7)",
            [
                (lot.id, 1, "opened", at, None, None, None),
                (lot.id, 2, "bid", at, bidder, 101, 1_000_000_00),
                (lot.id, 3, "bid", at, bidder, 102, 1_100_000_00),
                (lot.id, 4, "sold", at, bidder, 102, 1_100_000_00),
            ],
        )
        await _sold_with_packet(conn, lot.id, bidder, at, {"lot": lot.id, "名称": "标的"})
        packet = await conn.fetchval(
            "SELECT packet FROM registration_outbox WHERE lot_id = $1", lot.id
        )
    assert packet == {"lot": lot.id, "名称": "标的"}
    bids = await store.public_bids(lot.id)
    assert [(b.seq, b.paddle) for b in bids] == [(2, 101), (3, 102)]
    assert bids[0].to_json()["at"] == "2026-04-18T10:00:00.000+08:00"
    results = await store.results(lot.session_id)
    assert [r.to_json()["amount_fen"] for r in results] == [1_100_000_00]
    assert lot.id in [r.lot_id for r in await store.results()]
    status = await store.registration_status(lot.id)
    assert (status.status, status.attempts, status.delivered_at) == ("pending", 0, None)


async def test_statistics_read_a_packet_of_another_shape_from_the_lots_columns(
    store: Store, make_lot: MakeLot
) -> None:
    """A sold lot whose packet is not of the builder's shape (its ``lot`` a number, its
    ``contract`` a string, its amounts text) is counted from the lot's own columns: the
    statistics of the whole deployment read every sold lot, so one odd packet must not make
    them all fail (a 500 on every statistics page; xdist run, 2026-12-03)."""
    lot = await make_lot()
    (bidder,) = await _bidders(store, 1)
    at = datetime(2026, 4, 18, 2, 0, tzinfo=UTC)
    async with store.pool.acquire() as conn:
        await _sold_with_packet(conn, lot.id, bidder, at, {
            "lot": lot.id, "contract": "技术转让", "seller": [1], "buyer": {"uscc": None}})
        market_id = await conn.fetchval(
            "SELECT market_id FROM sessions WHERE id = $1", lot.session_id)
    (sale,) = await stats_store.sales(store, [market_id], {})
    contract = sale.contract
    assert (contract.lot_id, contract.total_fen, contract.tech_fen) == (
        lot.id, 110_000_000, 110_000_000 - lot.non_tech_fen)
    assert (contract.contract_type, contract.result_type) == (lot.contract_type, lot.result_type)


async def test_ping_and_unreachable_server() -> None:
    """Connecting to a closed port raises Unavailable, not an asyncpg error."""
    from auction.store import Unavailable

    with pytest.raises(Unavailable):
        await Store.connect("postgresql://postgres@127.0.0.1:1/none")
