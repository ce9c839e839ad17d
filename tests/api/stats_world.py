"""A demo-like statistics world: a fresh province with a city under it and two counties under
the city, each market with a session of lots sold (settled through the real settlement, so
each has its registration packet) to buyers in and out of the province; some contracts
registered by the office (the store's answer path). Used by the statistics HTTP and browser
tests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from auction.domain.room import LotEvent
from auction.settlement.settle import Settled, settle
from auction.store import Store, answers, journal
from auction.store.errors import Conflict
from auction.store.records import Market
from tests.codes import claim

# 2026-03-10 and 2026-05-20, 10:00 CST, in ms
MARCH = int(datetime(2026, 3, 10, 2, tzinfo=UTC).timestamp() * 1000)
MAY = int(datetime(2026, 5, 20, 2, tzinfo=UTC).timestamp() * 1000)


@dataclass
class World:
    province: Market
    city: Market
    counties: list[Market]
    #: lot id → (market code, price, non-technical part, registered?)
    lots: dict[int, tuple[str, int, int, bool]] = field(default_factory=dict)
    sessions: dict[str, list[int]] = field(default_factory=dict)
    buyer_ids: list[int] = field(default_factory=list)


#: the region of the buyers out of the province (45: 广西), never the world's own province
OTHER_REGION = "459900"


async def _markets(store: Store) -> tuple[Market, Market, list[Market]]:
    for _ in range(50):
        pp = f"{secrets.randbelow(80) + 15:02d}"
        if pp == OTHER_REGION[:2]:
            continue  # the buyers "out of the province" come from there
        if await store.pool.fetchval(
                "SELECT count(*) FROM subsidy_rules WHERE market_code LIKE $1", f"{pp}%"):
            continue  # the migrations' own rules (威海, 371000) would change the estimates
        if not claim(*(f"{pp}{rest}" for rest in ("0000", "1000", "1001", "1002"))):
            continue  # a test of this run has one of the four codes
        tag = secrets.token_hex(3)
        # any of the four codes may be taken by another test's markets in the shared
        # database (a city or county code under a province code that was free): try another
        try:
            province = await store.create_market(
                code=f"{pp}0000", slug=f"sp-{tag}", name=f"统计省{tag}", level="province")
            city = await store.create_market(code=f"{pp}1000", slug=f"sc-{tag}",
                                             name=f"统计市{tag}", level="city",
                                             parent_code=province.code)
            counties = [await store.create_market(
                code=f"{pp}10{n:02d}", slug=f"sx{n}-{tag}", name=f"统计县{n}-{tag}",
                level="county", parent_code=city.code) for n in (1, 2)]
        except Conflict:
            continue
        return province, city, counties
    raise AssertionError("no free province code")


def _uscc(prefix: str, region: str) -> str:
    """An 18-character code of the party's nature (``prefix``) and region (store does not
    check the check character)."""
    return f"{prefix}{region}{secrets.token_hex(5).upper()}"[:18]


async def sold(store: Store, world: World, market: Market, session_id: int, *, price: int,
                non_tech: int, at: int, field_: str, contract_type: str, mode: str,
                buyer_region: str, register: bool, seller_prefix: str = "12",
                buyer_id: int | None = None) -> int:
    tag = secrets.token_hex(4)
    lot = await store.create_lot(
        session_id, title=f"成果{tag}", result_type="专利", ip_type="发明专利",
        technology_field=field_, transaction_mode=mode, contract_type=contract_type,
        holder_name=f"持有人{tag}", holder_uscc=_uscc(seller_prefix, market.code),
        start_price_fen=price, increment_fen=10_000_00, non_tech_fen=non_tech,
    )
    if buyer_id is None:
        buyer_id = (await store.create_bidder(name=f"买受人{tag}",
                                              uscc=_uscc("91", buyer_region))).id
    world.buyer_ids.append(buyer_id)
    events = [
        LotEvent(1, "opened", at, {"start": price, "inc": 10_000_00, "ends_at": 0}),
        LotEvent(2, "bid", at + 1, {"bidder": buyer_id, "paddle": 8, "amount": price}),
        LotEvent(3, "sold", at + 2, {"bidder": buyer_id, "paddle": 8, "amount": price,
                                     "winning_seq": 2}),
    ]
    await journal.insert_events(store, lot.id, "e0", events)
    assert await settle(store, lot.id, events[-1]) is Settled.NOW
    if register:
        key = await store.pool.fetchval(
            "SELECT idempotency_key FROM registration_outbox WHERE lot_id = $1", lot.id)
        number = f"{secrets.randbelow(10**16):016d}"
        await answers.mark_answered(store, lot.id, str(key), status="registered",
                                    registration_no=number, reason="")
    world.lots[lot.id] = (market.code, price, non_tech, register)
    world.sessions.setdefault(market.code, []).append(session_id)
    return lot.id


async def build(store: Store) -> World:
    """Three lots per market (province, city, two counties): two in March, one in May; one
    buyer of each market out of the province; the first lot of each market registered."""
    province, city, counties = await _markets(store)
    world = World(province, city, counties)
    other = OTHER_REGION
    plan = [
        (MARCH, "电子信息", "技术转让", "转让", True),
        (MARCH, "农业", "技术许可", "许可", False),
        (MAY, "电子信息", "技术开发", "作价投资", False),
    ]
    for index, market in enumerate([province, city, *counties]):
        session = await store.create_session(
            market_code=market.code, name=f"{market.name}专场", season="special", mode="live",
            starts_at=datetime(2026, 3, 1, tzinfo=UTC))
        for n, (at, field_, contract_type, mode, register) in enumerate(plan):
            buyer_region = other if n == 1 else market.code
            await sold(store, world, market, session.id, price=(index + 1) * 1_000_000_00
                        + n * 100_000_00, non_tech=n * 10_000_00, at=at + index * 60_000,
                        field_=field_, contract_type=contract_type, mode=mode,
                        buyer_region=buyer_region, register=register)
    return world
