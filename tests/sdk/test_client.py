"""AuctionClient against an in-process fake server: subscribe, bid, reconnect with resume,
re-send with the same key, duplicate drop, gap detection, clock offset, fatal 4401."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from auction_client import AuctionClient, BidRejected, Event, NotConnected, Notice
from sdk_fake_server import FakeServer


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    async with FakeServer() as fake:
        yield fake


async def test_subscribe_bid_and_events(server: FakeServer) -> None:
    async with AuctionClient(server.url, "good") as client:
        assert client.connected and client.paddle == 286
        stream = client.events(lot=1)
        view = await client.subscribe(1)
        assert view.ready and view.next_minimum == 100_000_00
        ack = await client.bid(1, 100_000_00)
        assert ack.seq == 1 and not ack.replay
        items = [await stream.get(2) for _ in range(2)]
        assert isinstance(items[0], Notice) and items[0].kind == "snapshot"
        assert isinstance(items[1], Event) and items[1].amount == 100_000_00
        assert view.high == 100_000_00 and view.paddle == 286
        with pytest.raises(BidRejected) as info:
            await client.bid(1, 100_000_00)
        assert info.value.code == "too_low" and info.value.minimum == 101_000_00


async def test_clock_offset_from_welcome_and_ping(server: FakeServer) -> None:
    async with AuctionClient(server.url) as client:
        assert 4000 < client.server_offset_ms < 6000
        await client.ping()
        assert 4000 < client.server_offset_ms < 6000
        assert client.rtt_ms is not None


async def test_reconnect_resumes_and_resends_bid_with_same_key(server: FakeServer) -> None:
    client = AuctionClient(server.url, "good", backoff_initial=0.05)
    await client.connect()
    try:
        await client.subscribe(1)
        server.drop_after_next_bid = True
        ack = await client.bid(1, 100_000_00, key="b-same", timeout=5)
        assert ack.replay  # applied once before the drop, answered on the re-send
        bids = [m for m in server.received if m["t"] == "bid"]
        assert [m["key"] for m in bids] == ["b-same", "b-same"]
        assert len(server.lots[1].events) == 1
        last_hello = server.hellos()[-1]
        assert last_hello["resume"] == {1: ["e1", 0]}
        await client.wait_until(1, lambda v: v.seq == 1, timeout=2)
        assert client.last_resume[1] is True
        assert client.view(1).high == 100_000_00
    finally:
        await client.close()


async def test_resume_impossible_gives_resync_notice(server: FakeServer) -> None:
    client = AuctionClient(server.url, backoff_initial=0.05)
    await client.connect()
    try:
        stream = client.events()
        await client.subscribe(1)
        server.lots[1].epoch = "e2"  # history lost on the server side
        await server.drop()
        kinds = []
        while "resync" not in kinds:
            item = await stream.get(3)
            if isinstance(item, Notice):
                kinds.append(item.kind)
        assert kinds[-3:] == ["disconnected", "connected", "resync"]
        assert client.last_resume[1] is False and client.view(1).epoch == "e2"
    finally:
        await client.close()


async def test_duplicates_dropped_and_gap_resubscribes(server: FakeServer) -> None:
    async with AuctionClient(server.url, "good") as client:
        await client.subscribe(1)
        await client.bid(1, 100_000_00)
        await client.wait_until(1, lambda v: v.seq == 1, timeout=2)
        await server.push_raw(server.lots[1].events[0])  # duplicate
        # the server "skips" an event: seq 2 exists but seq 3 is sent first
        fl = server.lots[1]
        fl.add("bid", paddle=101, amount=101_000_00)
        gap = fl.add("bid", paddle=102, amount=102_000_00)
        await server.push_raw(gap)
        view = await client.wait_until(1, lambda v: v.seq == 3, timeout=3)
        assert client.stats.duplicates == 1 and client.stats.gaps == 1
        assert (view.high, view.paddle, view.bids) == (102_000_00, 102, 3)
        subs = [m for m in server.received if m["t"] == "sub"]
        assert subs[-1] == {"t": "sub", "lot": 1, "epoch": "e1", "seq": 1}


async def test_a_sub_the_server_could_not_serve_is_sent_again(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("auction_client.client.RESUBSCRIBE_AFTER_S", 0.05)
    server.subs_unavailable = 2
    async with AuctionClient(server.url) as client:
        view = await client.subscribe(1, timeout=5)  # waits through both refusals
        assert view.ready and view.epoch == "e1"
        assert [m["lot"] for m in server.received if m["t"] == "sub"] == [1, 1, 1]
        assert client.stats.resubscribes == 2


async def test_a_resume_the_server_could_not_serve_is_asked_again_and_misses_nothing(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("auction_client.client.RESUBSCRIBE_AFTER_S", 0.05)
    client = AuctionClient(server.url, "good", backoff_initial=0.05)
    await client.connect()
    try:
        await client.subscribe(1)
        await client.bid(1, 100_000_00, timeout=5)
        await client.wait_until(1, lambda v: v.seq == 1, timeout=2)
        server.lots[1].add("bid", paddle=7, amount=101_000_00)  # the client will miss it
        server.subs_unavailable = 1  # the resume in the next hello is refused
        await server.drop()
        view = await client.wait_until(1, lambda v: v.seq == 2, timeout=5)
        assert view.high == 101_000_00
        again = [m for m in server.received if m["t"] == "sub"]
        assert again and again[-1] == {"t": "sub", "lot": 1, "epoch": "e1", "seq": 1}
        assert client.last_resume[1] is True  # resumed, nothing replaced
    finally:
        await client.close()


async def test_unknown_lot_raises(server: FakeServer) -> None:
    async with AuctionClient(server.url) as client:
        with pytest.raises(Exception) as info:
            await client.subscribe(99, timeout=2)
        assert getattr(info.value, "code", "") == "unknown_lot"
        assert 99 not in client.views


async def test_bad_token_is_fatal(server: FakeServer) -> None:
    client = AuctionClient(server.url, "bad")
    with pytest.raises(NotConnected) as info:
        await client.connect()
    assert info.value.code == "unauthorized"


async def test_close_ends_iterators_and_fails_requests(server: FakeServer) -> None:
    client = AuctionClient(server.url, "good")
    await client.connect()
    stream = client.events()
    await client.close()
    items = [item async for item in stream]
    assert isinstance(items[-1], Notice) and items[-1].kind == "closed"
    with pytest.raises(NotConnected):
        await client.bid(1, 100)
    await asyncio.sleep(0)
