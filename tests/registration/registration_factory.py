"""Builds what the registration tests need: a sold, settled lot with its outbox row, a real
HTTP receiver (Starlette on uvicorn, on a free 127.0.0.1 port) that plays a script of answers
and dedups packets by ``Idempotency-Key`` the way a registration office should, and deliverers
with millisecond backoff."""

from __future__ import annotations

import asyncio
import random
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from auction.domain.room import LotEvent
from auction.registration.deliverer import Deliverer
from auction.registration.signing import HEADER, verify
from auction.settings import Secret, Settings
from auction.settlement.settle import Settled, settle
from auction.store import Store, journal
from auction.store.records import Market
from tests.codes import new_market

SECRET = Secret("registration-test-secret")


@dataclass(frozen=True, slots=True)
class Answer:
    """One scripted answer. ``applied``: keep the packet before answering (as an office whose
    answer is then lost would); ``delay_s``: wait that long before answering."""

    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    applied: bool = False
    delay_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Received:
    key: str
    signature: str
    content_type: str
    body: bytes


@dataclass
class Receiver:
    """Answers each request with the next scripted :class:`Answer` of its key (then 201).
    A request whose signature does not verify gets 401."""

    url: str = ""
    script: dict[str, list[Answer]] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)
    packets: dict[str, bytes] = field(default_factory=dict)
    secret: Secret = SECRET
    #: the answer body of a request with no scripted answer (an office that answers at once)
    default_body: str = ""

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        key = request.headers.get("idempotency-key", "")
        got = Received(
            key=key, signature=request.headers.get(HEADER, ""),
            content_type=request.headers.get("content-type", ""), body=body,
        )
        self.requests.append(got)
        if not verify(self.secret, body, got.signature):
            return Response("bad signature", status_code=401)
        queued = self.script.get(key)
        if queued:
            answer = queued.pop(0)
            if answer.applied:
                self.packets.setdefault(key, body)
            if answer.delay_s:
                await asyncio.sleep(answer.delay_s)
            return Response(answer.body, status_code=answer.status, headers=answer.headers)
        self.packets.setdefault(key, body)
        return Response(self.default_body, status_code=201)


@asynccontextmanager
async def serve_receiver(secret: Secret = SECRET) -> AsyncIterator[Receiver]:
    """Run a :class:`Receiver` for the duration of the block."""
    receiver = Receiver(secret=secret)
    app = Starlette(routes=[Route("/register", receiver.handle, methods=["POST"])])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    receiver.url = f"http://127.0.0.1:{port}/register"
    config = uvicorn.Config(app, lifespan="off", log_level="warning", ws="none", http="h11")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        yield receiver
    finally:
        server.should_exit = True
        await task
        sock.close()


@dataclass(frozen=True, slots=True)
class SoldLot:
    lot_id: int
    key: str
    amount_fen: int
    market_id: int


async def sold_lot(
    store: Store, *, amount_fen: int = 1_200_000_00, market: Market | None = None
) -> SoldLot:
    """A lot sold to a fresh bidder at ``amount_fen``, journalled and settled (in a new
    market of its own unless ``market`` is given)."""
    tag = secrets.token_hex(4)
    if market is None:
        market = await new_market(store, slug=f"r-{tag}", name=f"测试市场{tag}", level="county")
    session = await store.create_session(
        market_code=market.code, name="产业专场", season="special", mode="live",
        starts_at=datetime.now(UTC),
    )
    lot = await store.create_lot(
        session.id, title="水稻新品种", result_type="植物新品种", ip_type="植物新品种权",
        technology_field="农业", transaction_mode="许可", contract_type="技术许可",
        holder_name="某农业科学院", holder_uscc="12410000MB0000000A",
        start_price_fen=amount_fen, increment_fen=10_000_00, non_tech_fen=0,
    )
    bidder = await store.create_bidder(
        name=f"某种业公司{tag}", uscc=f"914104{tag.upper()}00000000"[:18]
    )
    at = 1_776_000_000_000
    events = [
        LotEvent(1, "opened", at, {"start": amount_fen, "inc": 10_000_00, "ends_at": 0}),
        LotEvent(2, "bid", at + 1, {"bidder": bidder.id, "paddle": 286, "amount": amount_fen}),
        LotEvent(3, "sold", at + 2, {
            "bidder": bidder.id, "paddle": 286, "amount": amount_fen, "winning_seq": 2,
        }),
    ]
    await journal.insert_events(store, lot.id, "e0", events)
    assert await settle(store, lot.id, events[-1]) is Settled.NOW
    key = await store.pool.fetchval(
        "SELECT idempotency_key FROM registration_outbox WHERE lot_id = $1", lot.id
    )
    return SoldLot(lot.id, str(key), amount_fen, market.id)


async def unsold_lot(store: Store) -> int:
    """A scheduled lot (so with no registration row); its id."""
    tag = secrets.token_hex(4)
    market = await new_market(store, slug=f"u-{tag}", name=f"测试市场{tag}", level="county")
    session = await store.create_session(
        market_code=market.code, name="未成交专场", season="special", mode="live",
        starts_at=datetime.now(UTC),
    )
    lot = await store.create_lot(
        session.id, title="待拍标的", result_type="专利", ip_type="发明专利",
        technology_field="农业", transaction_mode="转让", contract_type="技术转让",
        holder_name="某大学", holder_uscc="12410000MB0000000A",
        start_price_fen=100_000_00, increment_fen=10_000_00, non_tech_fen=0,
    )
    return lot.id


# -- deliverers and rows ---------------------------------------------------------------------


def configured(settings: Settings, url: str | None) -> Settings:
    return settings.with_changes(registration_url=url, registration_secret=SECRET)


def fast(store: Store, settings: Settings, **kwargs: Any) -> Deliverer:
    """A deliverer whose backoff is milliseconds, so retries need no long sleeps (a Retry-After
    still pauses it, for at most the 20 ms cap)."""
    options: dict[str, Any] = {"backoff_base_s": 0.005, "backoff_cap_s": 0.02}
    options.update(kwargs)
    return Deliverer(store, settings, rng=random.Random(7), **options)


async def outbox_row(store: Store, lot_id: int) -> dict[str, Any]:
    row = await store.pool.fetchrow(
        "SELECT status, attempts, deferrals, last_error, next_attempt_at, first_attempt_at,"
        " delivered_at, packet::text AS packet, now() AS db_now"
        " FROM registration_outbox WHERE lot_id = $1",
        lot_id,
    )
    return dict(row)


async def deliver_until_settled(deliverer: Deliverer, store: Store, lot_id: int) -> None:
    for _ in range(400):
        await deliverer.deliver_due()
        if (await outbox_row(store, lot_id))["status"] != "pending":
            return
        await asyncio.sleep(0.01)
    raise AssertionError("outbox row still pending")
