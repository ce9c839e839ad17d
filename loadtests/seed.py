"""Seeding through the public HTTP API (docs/http-api.md), with the SDK's ``AuctionHTTP``:
a market, a live session, lots, and bidders with their bid credentials (sign-up → own login →
registration → approve → deposit → the credential taken by the bidder's own login)."""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

sys.path.insert(0, __file__.rsplit("/loadtests/", 1)[0] + "/clients/python")

from auction_client import ApiError, AuctionHTTP, enrol_bidder

T = TypeVar("T")

START_FEN = 1_000_000
INC_FEN = 10_000
BIDDER_PASSWORD = "bench-Bidder-passw0rd-5521"
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc(n: int) -> str:
    """A valid 统一社会信用代码 whose body is derived from ``n`` (GB 32100-2015 check char)."""
    body = f"91370100{n % 10**9:09d}"
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return body + USCC_CHARS[(31 - total % 31) % 31]


async def retrying(call: Callable[[], Awaitable[T]], attempts: int = 50) -> T:
    """``call()``, waiting out ``429 rate_limited`` answers (admin commands are limited) and
    ``503 unavailable`` (a pool wait that timed out on a busy shared machine)."""
    for _ in range(attempts - 1):
        try:
            return await call()
        except ApiError as exc:
            if exc.status not in (429, 503):
                raise
            await asyncio.sleep(0.5 + random.random() * 0.5)
    return await call()


async def bounded(
    items: Iterable[T], fn: Callable[[T], Awaitable[Any]], limit: int = 16
) -> list[Any]:
    sem = asyncio.Semaphore(limit)

    async def one(item: T) -> Any:
        async with sem:
            return await fn(item)

    return list(await asyncio.gather(*(one(i) for i in items)))


@dataclass
class Sale:
    base: str
    admin_token: str
    session_id: int
    tag: int
    tokens: list[str] = field(default_factory=list)
    paddles: list[int] = field(default_factory=list)
    lots_made: int = 0
    #: opens a lot; default: the console command over HTTP (``POST /lots/{id}/commands``)
    opener: Callable[[int], Awaitable[Any]] | None = None

    def http(self) -> AuctionHTTP:
        return AuctionHTTP(self.base, self.admin_token, timeout=60)

    async def add_lots(self, n: int, *, open_them: bool = True, concurrency: int = 16) -> list[int]:
        async with self.http() as http:
            async def make(i: int) -> int:
                # a 503 may come after the lot was made: the retry makes a second one, which
                # nothing opens or bids on
                lot = await retrying(lambda: http.create_lot(self.session_id, {
                    "title": f"一种压测用技术{self.lots_made + i} 发明专利", "result_type": "专利",
                    "ip_type": "发明专利", "technology_field": "电子信息",
                    "transaction_mode": "转让", "contract_type": "技术转让",
                    "holder_name": "山东压测大学", "holder_uscc": uscc(800_000_000 + self.tag),
                    "start_price_fen": START_FEN, "increment_fen": INC_FEN,
                }))
                lot_id = int(lot["id"])
                if open_them and self.opener is not None:
                    await self.opener(lot_id)
                elif open_them:
                    await retrying(lambda: http.lot_command(lot_id, "open", f"open-{lot_id}"))
                return lot_id

            lots = await bounded(range(n), make, concurrency)
        self.lots_made += n
        return lots

    async def add_bidders(self, n: int, *, concurrency: int = 16) -> None:
        """``n`` bidders through the whole registration flow (sign up, log in, apply, approve,
        deposit, the bid credential taken by the bidder's own login), each from an address of
        its own (``X-Forwarded-For``: the stack trusts 127.0.0.1) so that the per-address
        sign-up and login limits see many clients, as in production."""
        base = len(self.tokens)

        async def make(i: int) -> tuple[str, int]:
            b = base + i
            made = await retrying(lambda: enrol_bidder(
                self.base, session_id=self.session_id, name=f"压测科技有限公司{self.tag}-{b}",
                uscc=uscc(self.tag * 10_000 + b), username=f"bench-{self.tag}-{b}",
                password=BIDDER_PASSWORD, deposit_fen=START_FEN // 10,
                approver_token=self.admin_token, finance_token=self.admin_token,
                headers={"X-Forwarded-For": f"10.{b // 62_500 % 250}.{b // 250 % 250}."
                                            f"{b % 250 + 1}"},
                timeout=60,
            ))
            return str(made["token"]), int(made["paddle"])

        made = await bounded(range(n), make, concurrency)
        self.tokens += [t for t, _ in made]
        self.paddles += [p for _, p in made]


async def new_sale(base: str, admin_token: str) -> Sale:
    tag = random.randrange(10_000, 99_999)
    async with AuctionHTTP(base, admin_token, timeout=60) as http:
        code = f"37{10 + tag % 90:02d}00"  # a city's form (auction/domain/divisions.py)
        existing = {m["code"] for m in await http.markets()}
        if code not in existing:
            await http.create_market(code=code, slug=f"bench-{tag}", name=f"压测市场{tag}",
                                     level="city")
        session = await http.create_session(
            market_code=code, name=f"压测场次{tag}", season="spring", mode="live",
            starts_at="2026-11-21T09:00:00+08:00",
            # one increment throughout: the ladders climb by INC_FEN for thousands of bids
            increments=[],
        )
    return Sale(base, admin_token, int(session["id"]), tag)
