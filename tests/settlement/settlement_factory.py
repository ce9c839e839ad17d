"""Builds lots for the settlement tests: a market, a session, a live lot with its Redis room,
and bidders with distinct paddles, through the store's catalogue."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from auction.domain.lot import LotMode
from auction.rooms.service import Rooms
from auction.store import Store
from tests.codes import new_market


@dataclass(frozen=True, slots=True)
class Bidder:
    id: int
    paddle: int


@dataclass(frozen=True, slots=True)
class LotFixture:
    """A lot ready to open in ``rooms``; ``bidders`` have distinct paddles."""

    lot_id: int
    session_id: int
    market_code: str
    start: int
    inc: int
    non_tech_fen: int
    bidders: tuple[Bidder, ...]


MakeLot = Callable[..., Awaitable[LotFixture]]


def lot_maker(store: Store, rooms: Rooms) -> MakeLot:
    """Factory: catalogue rows for one live lot (start 100万, 10万一加) plus its Redis room."""

    async def make(
        *, reserve_fen: int = 0, non_tech_fen: int = 50_000_00, bidders: int = 2
    ) -> LotFixture:
        tag = secrets.token_hex(4)
        market = await new_market(store, slug=f"m-{tag}", name=f"测试技术市场{tag}", level="city")
        session = await store.create_session(
            market_code=market.code, name="2026年春季科技成果竞价活动", season="spring",
            mode="live", starts_at=datetime.now(UTC),
        )
        start, inc = 1_000_000_00, 100_000_00
        lot = await store.create_lot(
            session.id, title="一种高效固废资源化处理方法", result_type="专利", ip_type="发明专利",
            technology_field="环境保护与资源综合利用", transaction_mode="转让",
            contract_type="技术转让", holder_name="山东某大学", holder_uscc="12370000MB1234567X",
            start_price_fen=start, increment_fen=inc, reserve_fen=reserve_fen,
            non_tech_fen=non_tech_fen,
        )
        made = []
        for i in range(bidders):
            b = await store.create_bidder(
                name=f"竞买企业{i}-{tag}", uscc=f"91370100{tag.upper()}{i:02d}"[:18].ljust(18, "0")
            )
            made.append(Bidder(id=b.id, paddle=100 + i))
        await rooms.init_lot(
            lot.id, mode=LotMode.LIVE, start=start, inc=inc, reserve=reserve_fen,
            session_id=session.id,
        )
        # the bidders may bid (R0): what the eligibility push writes for paid registrations
        await rooms.redis.hset(rooms.keys.lot(lot.id).eligible,
                               mapping={"written": "1", **{str(b.id): "1" for b in made}})
        return LotFixture(lot.id, session.id, market.code, start, inc, non_tech_fen, tuple(made))

    return make


@dataclass(frozen=True, slots=True)
class SessionFixture:
    """Many live lots of one session, each with its Redis room; ``bidders`` may bid on all."""

    session_id: int
    lot_ids: tuple[int, ...]
    start: int
    inc: int
    bidders: tuple[Bidder, ...]


MakeSession = Callable[..., Awaitable[SessionFixture]]


def session_maker(store: Store, rooms: Rooms) -> MakeSession:
    """Factory: one market and session with ``lots`` live lots (start 100万, 10万一加; lots whose
    index is in ``high_reserve`` have a reserve no bid here meets) and their rooms."""

    async def make(*, lots: int, bidders: int = 3,
                   high_reserve: frozenset[int] = frozenset()) -> SessionFixture:
        tag = secrets.token_hex(4)
        market = await new_market(store, slug=f"m-{tag}", name=f"测试技术市场{tag}", level="city")
        session = await store.create_session(
            market_code=market.code, name="2026年秋季科技成果竞价活动", season="autumn",
            mode="live", starts_at=datetime.now(UTC),
        )
        start, inc = 1_000_000_00, 100_000_00
        made = []
        for i in range(bidders):
            b = await store.create_bidder(
                name=f"竞买企业{i}-{tag}", uscc=f"91370200{tag.upper()}{i:02d}"[:18].ljust(18, "0")
            )
            made.append(Bidder(id=b.id, paddle=200 + i))
        lot_ids = []
        for i in range(lots):
            reserve = 100 * start if i in high_reserve else 0
            lot = await store.create_lot(
                session.id, title=f"一种批量结算测试技术{i}", result_type="专利",
                ip_type="发明专利", technology_field="电子信息", transaction_mode="转让",
                contract_type="技术转让", holder_name="山东某大学",
                holder_uscc="12370000MB1234567X", start_price_fen=start, increment_fen=inc,
                reserve_fen=reserve, non_tech_fen=0,
            )
            await rooms.init_lot(lot.id, mode=LotMode.LIVE, start=start, inc=inc,
                                 reserve=reserve, session_id=session.id)
            await rooms.redis.hset(rooms.keys.lot(lot.id).eligible,
                                   mapping={"written": "1", **{str(b.id): "1" for b in made}})
            lot_ids.append(lot.id)
        return SessionFixture(session.id, tuple(lot_ids), start, inc, tuple(made))

    return make
