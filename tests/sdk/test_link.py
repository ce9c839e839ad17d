"""The link watch of AuctionClient against the fake server: a server that stops answering
without closing (a half-open link) is noticed within ``pong_timeout``, a new socket is opened
with resume at once, and a bid sent before the cut is re-sent with the same key so its real
fate (accepted, applied late, refused) reaches the caller."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from auction_client import AuctionClient, BidRejected, Notice
from auction_client.notice import ClientEvent
from sdk_fake_server import FakeServer


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    async with FakeServer() as fake:
        yield fake


class Seen:
    """Notices with what held when each was emitted: still connected? silenced sockets the
    server still held open?"""

    def __init__(self, client: AuctionClient, server: FakeServer) -> None:
        self.items: list[tuple[str, bool, int, Notice]] = []
        self.client, self.server = client, server
        client.on_event(self.on)

    def on(self, item: ClientEvent) -> None:
        if isinstance(item, Notice):
            self.items.append((item.kind, self.client.connected, self.server.open_muted(), item))

    def kinds(self) -> list[str]:
        return [kind for kind, *_ in self.items]

    async def wait_for(self, kind: str, timeout: float = 3.0) -> Notice:
        async with asyncio.timeout(timeout):
            while True:
                for seen, _, _, notice in self.items:
                    if seen == kind:
                        return notice
                await self.client.changed(0.05)


def fast(server: FakeServer) -> AuctionClient:
    return AuctionClient(server.url, "good", heartbeat_interval=0.1, pong_timeout=0.5,
                         backoff_initial=0.05)


async def test_a_silent_link_is_lost_at_once_and_a_pending_bid_learns_its_fate(
    server: FakeServer,
) -> None:
    """Pongs keep a quiet link up; once the server goes silent (socket open) the client says
    ``link_lost`` within the timeout while the old socket is still open, reconnects with resume
    and the bid sent into the cut is re-sent with the same key: the server applied it once
    and answers ``replay``."""
    client = fast(server)
    seen = Seen(client, server)
    await client.connect()
    try:
        await client.subscribe(1)
        await asyncio.sleep(0.8)  # more than pong_timeout: answered pings keep the link
        assert "link_lost" not in seen.kinds() and client.connected
        server.mute()
        started = asyncio.get_running_loop().time()
        bid = asyncio.create_task(client.bid(1, 100_000_00, key="b-cut", timeout=5))
        lost = await seen.wait_for("link_lost")
        took = asyncio.get_running_loop().time() - started
        assert took < 0.5 + 0.1 + 1.0, took  # timeout + interval + slack for a busy CI
        _, connected, muted_open, _ = next(i for i in seen.items if i[0] == "link_lost")
        assert (connected, muted_open) == (False, 1)  # said before the old socket closed
        assert lost.code == "pong_timeout" and "连接中断" in lost.message
        ack = await bid
        assert ack.replay
        assert [m["key"] for m in server.received if m["t"] == "bid"] == ["b-cut", "b-cut"]
        assert len(server.lots[1].events) == 1
        assert server.hellos()[-1]["resume"] == {1: ["e1", 0]}
        await client.wait_until(1, lambda v: v.seq == 1, timeout=2)
        assert client.last_resume[1] is True and client.view(1).high == 100_000_00
        after = seen.kinds()[seen.kinds().index("link_lost"):]
        assert after[:3] == ["link_lost", "connected", "resumed"]
        assert "disconnected" not in after
    finally:
        await client.close()


async def test_a_bid_lost_in_the_cut_is_applied_on_the_resend(server: FakeServer) -> None:
    """A bid that never reached the server is applied when re-sent after the reconnect."""
    client = fast(server)
    await client.connect()
    try:
        await client.subscribe(1)
        server.mute(apply=False)
        ack = await client.bid(1, 100_000_00, key="b-lost", timeout=5)
        assert not ack.replay and ack.seq == 1
        assert client.stats.reconnects == 1
    finally:
        await client.close()


async def test_a_bid_overtaken_during_the_cut_is_refused_as_such(server: FakeServer) -> None:
    """Another bidder's higher bid came first: the re-sent bid is refused (too_low, with the
    lowest valid amount), never reported as accepted."""
    client = fast(server)
    await client.connect()
    try:
        await client.subscribe(1)
        server.mute(apply=False)
        bid = asyncio.create_task(client.bid(1, 100_000_00, key="b-late", timeout=5))
        lot = server.lots[1]
        lot.high, lot.paddle, lot.bids = 105_000_00, 101, 1
        lot.add("bid", paddle=101, amount=105_000_00)
        with pytest.raises(BidRejected) as info:
            await bid
        assert (info.value.code, info.value.minimum) == ("too_low", 106_000_00)
        view = await client.wait_until(1, lambda v: v.seq == 1, timeout=2)
        assert (view.high, view.paddle) == (105_000_00, 101)
    finally:
        await client.close()


async def test_an_answer_after_the_caller_gave_up_is_a_late_answer_notice(
    server: FakeServer,
) -> None:
    """A caller whose ``bid`` timed out during the cut still learns the outcome: the request
    stays pending, is re-sent after the reconnect, and its answer comes as ``late_answer``."""
    client = fast(server)
    seen = Seen(client, server)
    await client.connect()
    try:
        await client.subscribe(1)
        server.mute(apply=False)
        with pytest.raises(TimeoutError):
            await client.bid(1, 100_000_00, key="b-gave-up", timeout=0.2)
        late = await seen.wait_for("late_answer")
        assert (late.code, late.key, late.lot) == ("ack", "b-gave-up", 1)
        assert "已被接受" in late.message
        assert len(server.lots[1].events) == 1
    finally:
        await client.close()


async def test_a_server_that_cannot_answer_pings_is_still_alive(server: FakeServer) -> None:
    """A ping answered by an ``error`` (the server's Redis away) proves the link: no
    ``link_lost``, no reconnect."""
    client = fast(server)
    seen = Seen(client, server)
    await client.connect()
    try:
        server.ping_errors = True
        await asyncio.sleep(1.2)
        assert client.connected and "link_lost" not in seen.kinds()
        assert client.stats.reconnects == 0
    finally:
        await client.close()


async def test_the_watch_can_be_turned_off(server: FakeServer) -> None:
    """With ``pong_timeout=None`` a silent server is not noticed by the client's own pings."""
    client = AuctionClient(server.url, "good", heartbeat_interval=0.05, pong_timeout=None)
    await client.connect()
    try:
        server.mute()
        await asyncio.sleep(0.3)
        assert client.connected
        assert not [m for m in server.received if m["t"] == "ping" and m.get("id", 0) > 1]
    finally:
        await client.close()
