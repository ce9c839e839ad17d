"""A flood of bids on one lot from several sockets, faster than the room takes them (issue 17
items 1 and 2): every bid is answered; bids reach ``bid.lua`` in the order the server received
them, so no good bid turns ``too_low`` by being overtaken; past the queue limit the server
answers ``overloaded`` with ``retry_after_ms``, and a bid refused so changed nothing.

The order the server received the bids is recorded where the websocket queues them
(:meth:`auction.rooms.lanes.BidLanes.enqueue`), and each round trip to Redis is slowed a little
so the lot's queue fills (the room is slower than the flood); storage is real. The outcome of
every bid is then replayed through the reference model (:mod:`auction.domain.room`) in that
order: each answer, each accepted bid's seq and the lot's final state must be what the rules
give for the bids in the order received. (One socket is one bidder, and a leader cannot outbid
itself, so a ladder on one socket is checked at the rooms level: tests/rooms/test_lanes.py.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from auction.domain import room as rules
from auction.domain.errors import Rejection
from auction.rooms.keys import Keys
from auction.rooms.lanes import BidLanes, QueuedBid
from auction.rooms.service import Rooms
from auction.settings import Settings
from tests.e2e.conftest import fresh_server
from tests.e2e.harness import Raw, Server, create_sale, raw_client

START, INC = 1_000_000, 10_000
SOCKETS, ROUNDS = 4, 15  # 60 bids; 15 per bidder stays under its 20/s and the socket's burst
LANE = 6  # bids queued for the lot before the door sheds (AUCTION_BID_QUEUE_LOT and _LOT_MAX)


@pytest.fixture
async def small_queue(settings: Settings, tmp_path: Any) -> AsyncIterator[Server]:
    """A fresh server whose lots queue at most :data:`LANE` bids."""
    async with fresh_server(settings, tmp_path, bid_queue_lot=LANE,
                            bid_queue_lot_most=LANE) as srv:
        yield srv


@contextlib.asynccontextmanager
async def _sockets(server: Server, tokens: list[str]) -> AsyncIterator[list[Raw]]:
    """One socket per bid credential, each from an address of its own."""
    async with contextlib.AsyncExitStack() as stack:
        yield [await stack.enter_async_context(
            raw_client(server, token, address=f"10.77.0.{i + 1}"))
            for i, token in enumerate(tokens)]


async def answers(client: Raw, count: int) -> dict[str, dict[str, Any]]:
    """The next ``count`` bid answers on ``client``, by key."""
    out: dict[str, dict[str, Any]] = {}
    while len(out) < count:
        msg = await client.until(lambda m: m.get("t") in ("ack", "nack"), timeout=20)
        assert msg["key"] not in out, f"two answers for {msg['key']}"
        out[msg["key"]] = msg
    return out


async def test_a_flood_is_answered_in_order_and_sheds_without_changing_anything(
    small_queue: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """60 bids from 4 sockets in bursts on one lot whose queue holds 6: every bid gets one
    answer; the answers, the seqs and the final state are the rules' for the order the server
    received the bids; some are ``overloaded`` with ``retry_after_ms`` and left no trace."""
    server = small_queue
    sale = await create_sale(server, bidders=SOCKETS)
    lot = sale.lots[0]
    received: list[tuple[int, str, int, int, int]] = []  # lot, idem, bidder, paddle, amount
    queue, call = BidLanes._queue, BidLanes._call

    def recording(self: BidLanes, lot_id: int, bid: QueuedBid) -> None:
        received.append((lot_id, bid.idem, bid.bidder, bid.paddle, bid.amount))
        queue(self, lot_id, bid)

    batches: list[tuple[int, int]] = []  # (the lane's batch limit, the batch's size)

    async def slow(self: BidLanes, lot_id: int, batch: Any) -> list[Any]:
        batches.append((self.batch, len(batch)))
        await asyncio.sleep(0.01)  # the room is slower than the flood
        return await call(self, lot_id, batch)

    async with raw_client(server, sale.auctioneer) as console:
        await console.send(t="cmd", lot=lot, op="open", key="open")
        assert (await console.until(lambda m: m.get("key") == "open"))["t"] == "ack"
    redis = Redis.from_url(server.settings.redis_url or "")
    rooms = Rooms(redis, Keys(server.settings.redis_namespace))
    try:
        state = await rooms.room_state(lot)
        assert state is not None
        monkeypatch.setattr(BidLanes, "_queue", recording)
        monkeypatch.setattr(BidLanes, "_call", slow)
        async with _sockets(server, sale.tokens) as clients:
            sent: list[list[str]] = [[] for _ in clients]
            amount = START
            for r in range(ROUNDS):
                for i, client in enumerate(clients):
                    key = f"r{r}"
                    await client.send(t="bid", lot=lot, amount=amount, key=key)
                    sent[i].append(key)
                    amount += INC
                await asyncio.sleep(0.004)  # rounds interleave; the queue still overflows
            got = [await answers(client, ROUNDS) for client in clients]
        monkeypatch.undo()
        # a call carries the lot's whole queue: the batch is the deepest it may get
        assert batches and {limit for limit, _ in batches} == {LANE}, batches
        assert max(size for _, size in batches) <= LANE

        # every bid answered once; per socket, accepted bids in the order it sent them
        by_idem: dict[str, dict[str, Any]] = {}
        for i, client_answers in enumerate(got):
            assert set(client_answers) == set(sent[i])
            seqs = [client_answers[k]["seq"] for k in sent[i] if client_answers[k]["t"] == "ack"]
            assert seqs == sorted(seqs)
            for key, msg in client_answers.items():
                by_idem[f"b{sale.bidder_ids[i]}:{key}"] = msg
        codes = [m.get("code", "ack") for m in by_idem.values()]
        shed = [m for m in by_idem.values() if m.get("code") == "overloaded"]
        assert shed and "ack" in codes, codes
        assert all(m["retry_after_ms"] >= 1 and m["lot"] == lot for m in shed)
        assert set(codes) <= {"ack", "overloaded", "too_low", "already_leading"}, codes
        # what never reached the lane was shed at the door
        queued = {idem for _lot, idem, *_ in received}
        assert all(m.get("code") == "overloaded" for idem, m in by_idem.items()
                   if idem not in queued)

        # the rules, in the order received, give every answer
        for lot_id, idem, bidder, paddle, amount_fen in received:
            assert lot_id == lot
            answer = by_idem[idem]
            if answer.get("code") == "overloaded":
                continue  # waited too long: never sent
            try:
                outcome = rules.place_bid(state, bidder, paddle, amount_fen, answer.get("at", 0),
                                          eligible=True)
            except Rejection as rej:
                assert (answer["t"], answer["code"]) == ("nack", rej.code), (idem, answer)
                continue
            assert (answer["t"], answer["seq"]) == ("ack", outcome.events[0].seq), (idem, answer)
            state = outcome.state
        final = await rooms.room_state(lot)
        assert final is not None
        assert (final.high, final.leader, final.bids, final.seq) == (
            state.high, state.leader, state.bids, state.seq)
        # a shed bid left nothing under its key: the same key may be sent again
        for idem, msg in by_idem.items():
            if msg.get("code") == "overloaded":
                assert not await redis.hexists(rooms.keys.lot(lot).idem, idem), idem
    finally:
        await redis.aclose()
