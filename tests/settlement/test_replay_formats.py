"""Replaying a lot's PostgreSQL record into a fresh room reproduces the live room exactly, for
every format (issue 16 item 4, invariants 10 and 11): a random sequence runs on a live Redis
room, the drainer journals it (events in ``lot_events``, the secret book's writes in
``lot_book``), the room is then lost from Redis and rebuilt by the recovery
(:meth:`auction.rooms.recovery.Recovery.rebuild`, the same fold ``auction verify`` uses), and the
rebuilt room must equal the live one field for field — proxy maxima and sealed quotes included —
while no secret reached a public event or the exported bundle."""

from __future__ import annotations

import asyncio
import random
import secrets
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from settlement_factory import Bidder

from auction.audit import cli as audit_cli
from auction.domain.errors import Rejection
from auction.domain.lot import LotFormat, LotMode, LotStatus
from auction.domain.room import RoomState
from auction.rooms.keys import Keys
from auction.rooms.recovery import Recovery
from auction.rooms.service import Rooms
from auction.settings import Settings
from auction.settlement.drainer import Drainer
from auction.store import Store
from auction.store import book as book_store
from auction.store import chain as store_chain
from auction.store import rooms as store_rooms
from tests.codes import new_market

START, INC = 1_000_000_00, 100_000_00


async def make_room(store: Store, rooms: Rooms, *, bidders: int = 3, **lot: Any
                    ) -> tuple[int, list[Bidder]]:
    """A live session's lot of the given format in PostgreSQL and its room, made from the
    terms the recovery reads back (so the two agree), with ``bidders`` eligible."""
    tag = secrets.token_hex(4)
    market = await new_market(store, slug=f"m-{tag}", name=f"回放测试市场{tag}", level="city")
    session = await store.create_session(market_code=market.code, name="回放测试场次",
                                         season="spring", mode="live",
                                         starts_at=datetime.now(UTC))
    row = await store.create_lot(
        session.id, title="一种回放测试方法", result_type="专利", ip_type="发明专利",
        technology_field="环境保护与资源综合利用", transaction_mode="转让",
        contract_type="技术转让", holder_name="山东某大学", holder_uscc="12370000MB1234567X",
        start_price_fen=START, increment_fen=INC, **lot)
    terms = await store_rooms.room_terms(store, row.id)
    assert terms is not None
    await rooms.init_lot(
        row.id, mode=terms.mode, start=terms.start, inc=terms.inc, reserve=terms.reserve,
        session_id=terms.session_id, window_ms=terms.window_ms, ext_ms=terms.ext_ms,
        duration_ms=terms.duration_ms, deposit_fen=terms.deposit, bands=terms.bands,
        format=LotFormat(terms.format), revisions=terms.revisions, step=terms.step,
        interval_ms=terms.interval_ms, floor=terms.floor, free_ms=terms.free_ms,
        round_ms=terms.round_ms, preempt_ms=terms.preempt_ms)
    made = []
    for i in range(bidders):
        b = await store.create_bidder(name=f"回放竞买人{i}-{tag}",
                                      uscc=f"91370100{tag.upper()}{i:02d}"[:18].ljust(18, "0"))
        made.append(Bidder(id=b.id, paddle=200 + i))
    await rooms.redis.hset(rooms.keys.lot(row.id).eligible,
                           mapping={"written": "1", **{str(b.id): "1" for b in made}})
    return row.id, made


async def state(rooms: Rooms, lot: int) -> RoomState:
    found = await rooms.room_state(lot)
    assert found is not None
    return found


async def attempt(call: Any) -> bool:
    """Run one command; a refusal is part of a random sequence."""
    try:
        await call
    except Rejection:
        return False
    return True


async def rebuild_and_compare(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, lot: int, settings: Settings,
    tmp_path: Path,
) -> RoomState:
    """Journal the lot, lose its room, rebuild it from PostgreSQL; the rebuilt room is the live
    one (``final`` is the drainer's mark, not in the record). Returns the live state."""
    drainer = Drainer(store, redis, keys)
    for _ in range(3):
        await drainer.drain_once()
    live = await state(rooms, lot)
    lot_keys = keys.lot(lot)
    await redis.delete(lot_keys.state, lot_keys.events, lot_keys.book)
    assert await Recovery(redis, keys, store).check_lot(lot) == "rebuilt"
    rebuilt = await state(rooms, lot)
    assert rebuilt == replace(live, final=rebuilt.final)
    # the record verifies, and the secret book is in no public place
    (record,) = await store_chain.lot_records(store, [lot])
    assert len(record.book) == live.book_n
    out = tmp_path / f"lot-{lot}.json"
    code = await audit_cli.run(_args(command="export", session=str(record.session_id),
                                     out=str(out)), settings)
    assert code == 0
    exported = out.read_text()
    assert all(entry.nonce not in exported and entry.sha256 not in exported
               for entry in record.book)
    assert await audit_cli.run(_args(lot=str(lot)), settings) == 0
    return live


def _args(**given: Any) -> Any:
    import argparse
    base: dict[str, Any] = {"command": "verify", "lot": None, "session": None, "market": None,
                            "bundle": None, "receipt": None, "out": None}
    return argparse.Namespace(**{**base, **given})


def public_amounts(events: list[Any]) -> set[int]:
    return {int(e.data["amount"]) for e in events if "amount" in e.data}


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_english_with_proxies_and_console_replays(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, settings: Settings, tmp_path: Path,
    seed: int,
) -> None:
    """A live english lot: absentee and live proxies, bids, floor bids, undo, warnings,
    increment changes, pause/resume, hammer, reopen, pass — rebuilt exactly, maxima included."""
    rng = random.Random(seed)
    lot, bidders = await make_room(store, rooms, bidders=4)
    for b in rng.sample(bidders, 2):  # absentee proxies
        await attempt(rooms.proxy(lot, bidder=b.id, paddle=b.paddle,
                                  maximum=START + rng.randrange(0, 8) * INC))
    await rooms.open(lot)
    for _ in range(30):
        s = await state(rooms, lot)
        b = rng.choice(bidders)
        op = rng.choice(["bid", "bid", "proxy", "proxy", "floor", "undo", "undo", "warn",
                         "increment", "pause", "resume", "hammer", "reopen", "pass"])
        if op == "bid":
            await attempt(rooms.bid(lot, bidder=b.id, paddle=b.paddle,
                                    amount=s.next_minimum() + rng.randrange(0, 3) * s.inc))
        elif op == "floor":
            await attempt(rooms.bid(lot, bidder=b.id, paddle=b.paddle,
                                    amount=s.next_minimum(), source="phone"))
        elif op == "proxy":
            await attempt(rooms.proxy(lot, bidder=b.id, paddle=b.paddle,
                                      maximum=s.next_minimum() + rng.randrange(0, 6) * s.inc))
        elif op == "warn":
            await attempt(rooms.command(lot, "warn", str(rng.randint(1, 3))))
        elif op == "increment":
            await attempt(rooms.command(lot, "increment",
                                        rng.choice(["halve", "double", "reset", "set:5000000"])))
        elif op == "reopen":
            await attempt(rooms.command(lot, "reopen", "600000"))
        elif op in ("hammer", "pass"):
            await attempt(rooms.close(lot, op))
        else:
            await attempt(rooms.command(lot, op))
    live = await rebuild_and_compare(store, redis, keys, rooms, lot, settings, tmp_path)
    assert live.book_n >= 2 and live.proxies >= 1
    # a maximum never reached a public event unless a bid was actually made at it
    events = await store_rooms.events(store, lot)
    assert all("book" not in e.data and "max" not in e.data for e in events)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_sealed_with_revisions_replays(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, settings: Settings, tmp_path: Path,
    seed: int,
) -> None:
    """A live sealed lot with revisions: quotes and revisions rebuilt into the same hidden
    book before the close (checked mid-way), and the same revealed result after it."""
    rng = random.Random(seed)
    lot, bidders = await make_room(store, rooms, bidders=4, format="sealed", revisions=2)
    await rooms.open(lot)
    quoted = 0
    for _ in range(12):
        b = rng.choice(bidders)
        op = rng.choice(["quote", "quote", "quote", "announce", "pause", "resume"])
        if op == "quote":
            amount = START + rng.randrange(-1, 10) * INC + rng.randrange(0, 3)
            if await attempt(rooms.bid(lot, bidder=b.id, paddle=b.paddle, amount=amount)):
                quoted += 1
        elif op == "announce":
            await attempt(rooms.command(lot, "announce", "请报价"))
        else:
            await attempt(rooms.command(lot, op))
    live = await rebuild_and_compare(store, redis, keys, rooms, lot, settings, tmp_path)
    assert live.status is LotStatus.OPEN and live.book_n == quoted > 0
    # before the opening no quote is in the public record
    events = await store_rooms.events(store, lot)
    assert not public_amounts(events)
    await attempt(rooms.command(lot, "resume"))
    await attempt(rooms.close(lot, rng.choice(["hammer", "hammer", "pass"])))
    closed = await rebuild_and_compare(store, redis, keys, rooms, lot, settings, tmp_path)
    assert closed.status.terminal


@pytest.mark.parametrize("seed", [1, 2])
async def test_dutch_replays(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, settings: Settings, tmp_path: Path,
    seed: int,
) -> None:
    """A Dutch lot: the price falls each second; an acceptance after a random wait (or none, the
    clock passes the lot) rebuilds exactly."""
    rng = random.Random(seed)
    lot, bidders = await make_room(store, rooms, format="dutch", step_fen=INC, interval_s=1,
                                   floor_fen=START - 2 * INC)
    await rooms.open(lot)
    await attempt(rooms.command(lot, "announce", "减价开始"))
    await asyncio.sleep(rng.uniform(0.0, 2.2))
    if seed % 2:
        for b in rng.sample(bidders, 2):  # the second finds the lot sold
            await attempt(rooms.accept(lot, bidder=b.id, paddle=b.paddle))
    else:  # nobody accepts: the closer passes the lot once its clock ran out (D4)
        for _ in range(40):
            if await attempt(rooms.close(lot, "timed")):
                break
            await asyncio.sleep(0.2)
    live = await rebuild_and_compare(store, redis, keys, rooms, lot, settings, tmp_path)
    assert live.status.terminal


@pytest.mark.parametrize("seed", [1, 2])
async def test_rounds_replays(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, settings: Settings, tmp_path: Path,
    seed: int,
) -> None:
    """A rounds lot: bids in the free phase and in rounds, the closer starting and ending
    rounds — rebuilt exactly, mid-way and after the close."""
    rng = random.Random(seed)
    lot, bidders = await make_room(store, rooms, format="rounds", free_s=1, round_s=1)
    await rooms.open(lot)
    for _ in range(8):
        s = await state(rooms, lot)
        b = rng.choice(bidders)
        if rng.random() < 0.7:
            await attempt(rooms.bid(lot, bidder=b.id, paddle=b.paddle,
                                    amount=s.next_minimum() + rng.randrange(0, 2) * s.inc))
        else:
            await attempt(rooms.close(lot, "timed"))
        await asyncio.sleep(rng.uniform(0.0, 0.4))
    await rebuild_and_compare(store, redis, keys, rooms, lot, settings, tmp_path)
    for _ in range(30):  # let the running round end without a bid: the closer ends the lot
        s = await state(rooms, lot)
        if s.status.terminal:
            break
        await attempt(rooms.close(lot, "timed"))
        await asyncio.sleep(0.3)
    live = await rebuild_and_compare(store, redis, keys, rooms, lot, settings, tmp_path)
    assert live.status.terminal and live.mode is LotMode.LIVE


async def test_the_book_journal_is_private_and_chained(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, settings: Settings, tmp_path: Path,
) -> None:
    """``lot_book`` refuses changes, and a changed row is named by ``auction verify``."""
    import asyncpg  # type: ignore[import-untyped]

    lot, bidders = await make_room(store, rooms, format="sealed", revisions=1)
    await rooms.open(lot)
    a, b = bidders[0], bidders[1]
    await rooms.bid(lot, bidder=a.id, paddle=a.paddle, amount=START + INC)
    await rooms.bid(lot, bidder=b.id, paddle=b.paddle, amount=START + 2 * INC)
    await rooms.bid(lot, bidder=a.id, paddle=a.paddle, amount=START + 3 * INC)
    await Drainer(store, redis, keys).drain_once()
    rows = (await book_store.entries(store, [lot]))[lot]
    assert [(r.n, r.after_seq, r.revision) for r in rows] == [(1, 1, 0), (2, 2, 0), (3, 3, 1)]
    conn = await asyncpg.connect(settings.database_url)
    try:
        with pytest.raises(asyncpg.PostgresError):
            await conn.execute("UPDATE lot_book SET amount_fen = 1 WHERE lot_id = $1", lot)
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("UPDATE lot_book SET amount_fen = amount_fen + 1 "
                           "WHERE lot_id = $1 AND n = 2", lot)
    finally:
        await conn.close()
    code = await audit_cli.run(_args(lot=str(lot)), settings)
    assert code == 1


async def test_an_absentee_proxy_is_journalled_before_the_opening(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, settings: Settings, tmp_path: Path,
) -> None:
    """A maximum set on a scheduled lot (P1) reaches ``lot_book`` without the lot opening, and
    a room lost then comes back with it."""
    lot, bidders = await make_room(store, rooms)
    a = bidders[0]
    await rooms.proxy(lot, bidder=a.id, paddle=a.paddle, maximum=START + 3 * INC)
    await Drainer(store, redis, keys).drain_once()
    assert [(r.n, r.after_seq, r.amount_fen) for r in
            (await book_store.entries(store, [lot]))[lot]] == [(1, 0, START + 3 * INC)]
    live = await rebuild_and_compare(store, redis, keys, rooms, lot, settings, tmp_path)
    assert live.status is LotStatus.SCHEDULED and live.proxies == 1
    assert await rooms.mine(lot, a.id) == {"proxy_max": START + 3 * INC}
