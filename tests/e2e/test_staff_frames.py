"""Staff frames of issue 10 through real sockets (docs/protocol.md "Staff frames"): ``presence``,
``missed_bid`` and ``reserve`` reach staff sockets of the lot only, across two processes;
everyone else subscribed gets ``viewers``, and never a staff frame."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from auction.rooms.presence import Presence
from tests.e2e.harness import Raw, Server, create_sale, raw_client
from tests.e2e.test_console_ops import bid, cmd, event

STAFF_TYPES = {"presence", "missed_bid", "reserve"}


async def subscribed(client: Raw, lot: int) -> dict[str, Any]:
    await client.send(t="sub", lot=lot)
    return await client.until(lambda m: m["t"] == "snapshot" and m["lot"] == lot)


async def drain(client: Raw, quiet_s: float = 0.3) -> list[dict[str, Any]]:
    """Every frame the client has been sent: what it read plus what is still on its way."""
    with contextlib.suppress(TimeoutError):
        while True:
            await client.recv(quiet_s)
    return client.inbox


def frames(client: Raw, t: str) -> list[dict[str, Any]]:
    return [m for m in client.inbox if m["t"] == t]


async def test_staff_frames_across_two_processes(two_servers: list[Server]) -> None:
    """Console on process A, a viewer and a bidder on B, another bidder on both: the console
    gets the reserve after its snapshot and when a bid meets it, presence with the distinct
    bidders and all sockets, and the late bid from B as missed_bid; the others get viewers
    and never a staff frame."""
    a, b = two_servers
    sale = await create_sale(a, mode="live", bidders=2, reserve_fen=1_020_000)
    lot = sale.lots[0]
    async with (
        raw_client(a, sale.auctioneer) as console,
        raw_client(b) as viewer,
        raw_client(a, sale.tokens[0]) as b1,
        raw_client(b, sale.tokens[0]) as b1_again,
        raw_client(b, sale.tokens[1]) as b2,
    ):
        await subscribed(console, lot)
        reserve = await console.until(lambda m: m["t"] == "reserve")
        assert reserve == {"t": "reserve", "lot": lot, "reserve": "not_met"}
        first = await console.until(lambda m: m["t"] == "presence")
        assert first["lot"] == lot and first["viewers"] >= 1
        for client in (viewer, b1, b2):
            await subscribed(client, lot)
            seen = await client.until(lambda m: m["t"] == "viewers")
            assert seen["lot"] == lot and seen["viewers"] >= 1
        # b1 holds sockets on both processes: one bidder; four sockets subscribed
        settled = await console.until(
            lambda m: m["t"] == "presence" and (m["bidders"], m["viewers"]) == (2, 4))
        assert set(settled) == {"t", "lot", "bidders", "viewers"}
        await viewer.until(lambda m: m["t"] == "viewers" and m["viewers"] == 4)

        assert (await cmd(console, lot, "open", "o"))["t"] == "ack"
        assert (await bid(b1, lot, 1_000_000, "b1-1"))["t"] == "ack"
        assert (await bid(b2, lot, 1_010_000, "b2-1"))["t"] == "ack"
        await event(console, "bid")
        assert (await bid(b1, lot, 1_020_000, "b1-2"))["t"] == "ack"
        met = await console.until(lambda m: m["t"] == "reserve")
        assert met == {"t": "reserve", "lot": lot, "reserve": "met"}
        # the reserve frame comes right after the event that met it
        assert console.inbox[-2]["t"] == "ev" and console.inbox[-2]["amount"] == 1_020_000
        assert [m["reserve"] for m in frames(console, "reserve")] == ["not_met", "met"]

        assert (await cmd(console, lot, "hammer", "h"))["t"] == "ack"
        sold = await event(b2, "sold")
        late = await bid(b2, lot, 1_030_000, "b2-late")
        assert (late["t"], late["code"]) == ("nack", "lot_closed")
        missed = await console.until(lambda m: m["t"] == "missed_bid")
        assert missed["lot"] == lot and missed["paddle"] == sale.paddles[1]
        assert missed["amount"] == 1_030_000 and missed["late_ms"] >= 0
        assert missed["late_ms"] < 30_000, (missed, sold)
        again = await bid(b2, lot, 1_030_000, "b2-late")  # a replayed answer: no new notice
        assert again["code"] == "lot_closed"

        await b1_again.close()  # b1 still has its socket on A: still two bidders
        await asyncio.sleep(2.5)
        await drain(console)
        assert frames(console, "presence")[-1]["bidders"] == 2
        assert len(frames(console, "missed_bid")) == 1
        for client in (viewer, b1, b2):
            kinds = {m["t"] for m in await drain(client)}
            assert not kinds & STAFF_TYPES, (kinds, client.inbox)
            assert "viewers" in kinds


async def test_a_bid_after_a_timed_lot_ran_out_is_a_missed_bid(server: Server) -> None:
    """A timed lot whose clock ran out refuses a bid with lot_closed, and the staff socket
    hears of it with late_ms counted from ends_at."""
    sale = await create_sale(server, mode="timed", bidders=1, duration_s=1)
    lot = sale.lots[0]
    async with raw_client(server, sale.auctioneer) as console, \
            raw_client(server, sale.tokens[0]) as bidder:
        await subscribed(console, lot)
        await subscribed(bidder, lot)
        assert (await cmd(console, lot, "open", "o"))["t"] == "ack"
        opened = await event(bidder, "opened")
        await asyncio.sleep(1.6)
        late = await bid(bidder, lot, 1_000_000, "late")
        assert (late["t"], late["code"]) == ("nack", "lot_closed")
        missed = await console.until(lambda m: m["t"] == "missed_bid")
        assert missed["paddle"] == sale.paddles[0] and missed["amount"] == 1_000_000
        assert 300 <= missed["late_ms"] < 30_000, (missed, opened)
        assert not {m["t"] for m in await drain(bidder)} & STAFF_TYPES


async def test_staff_of_another_session_and_the_admin(server: Server) -> None:
    """An auctioneer token of another session gets viewers, not staff frames, on this lot;
    the platform admin gets them; a lot without a reserve shows ``none``."""
    sale = await create_sale(server, mode="live", bidders=1)
    other = await create_sale(server, mode="live", bidders=0)
    lot = sale.lots[0]
    async with raw_client(server, other.auctioneer) as outsider, \
            raw_client(server, "test-admin-token") as admin:
        await subscribed(admin, lot)
        assert (await admin.until(lambda m: m["t"] == "reserve"))["reserve"] == "none"
        await admin.until(lambda m: m["t"] == "presence")
        await subscribed(outsider, lot)
        await outsider.until(lambda m: m["t"] == "viewers")
        await admin.until(lambda m: m["t"] == "presence" and m["viewers"] == 2)
        assert not {m["t"] for m in await drain(outsider)} & STAFF_TYPES


async def test_presence_follows_bidders_and_viewers_leaving(server: Server) -> None:
    """A bidder that disconnects stops counting within a few seconds, and so does a socket
    that unsubscribes."""
    sale = await create_sale(server, mode="live", bidders=2)
    lot = sale.lots[0]
    async with raw_client(server, sale.auctioneer) as console:
        await subscribed(console, lot)
        async with raw_client(server, sale.tokens[0]), raw_client(server, sale.tokens[1]) as b2:
            await subscribed(b2, lot)
            await console.until(
                lambda m: m["t"] == "presence" and (m["bidders"], m["viewers"]) == (2, 2))
            await b2.send(t="unsub", lot=lot)
            await console.until(
                lambda m: m["t"] == "presence" and (m["bidders"], m["viewers"]) == (2, 1))
        await console.until(
            lambda m: m["t"] == "presence" and (m["bidders"], m["viewers"]) == (0, 1))


async def nth_reserve(client: Raw, n: int) -> str:
    """The ``n``-th reserve frame the client was sent (1-based), waiting for it."""
    if len(frames(client, "reserve")) < n:
        await client.until(lambda m: m["t"] == "reserve" and len(frames(client, "reserve")) >= n)
    return str(frames(client, "reserve")[n - 1]["reserve"])


async def test_reserve_follows_undo_and_reopen(reopenable: Server) -> None:
    """The reserve is met by a bid, not met after the auctioneer's undo of it, met again by a
    new bid, unchanged by a reopen after the hammer (no frame), not met after another undo;
    the bidders never see it."""
    sale = await create_sale(reopenable, mode="live", bidders=2, reserve_fen=1_020_000)
    lot = sale.lots[0]
    async with (
        raw_client(reopenable, sale.auctioneer) as console,
        raw_client(reopenable, sale.tokens[0]) as b1,
        raw_client(reopenable, sale.tokens[1]) as b2,
    ):
        for client in (console, b1, b2):
            await subscribed(client, lot)
        assert (await cmd(console, lot, "open", "o"))["t"] == "ack"
        assert (await bid(b1, lot, 1_000_000, "b1-1"))["t"] == "ack"
        assert (await bid(b2, lot, 1_020_000, "b2-1"))["t"] == "ack"
        assert await nth_reserve(console, 1) == "not_met"  # after the snapshot
        assert await nth_reserve(console, 2) == "met"
        assert (await cmd(console, lot, "undo", "u1"))["t"] == "ack"
        assert await nth_reserve(console, 3) == "not_met"
        third = frames(console, "reserve")[2]
        after = next(i for i, m in enumerate(console.inbox) if m is third)
        assert console.inbox[after - 1]["kind"] == "bid_retracted"  # right after the event
        assert (await bid(b2, lot, 1_020_000, "b2-2"))["t"] == "ack"
        assert await nth_reserve(console, 4) == "met"
        assert (await cmd(console, lot, "hammer", "h"))["t"] == "ack"
        reopened = await cmd(console, lot, "reopen", "r")
        assert reopened["t"] == "ack", reopened
        assert (await cmd(console, lot, "undo", "u2"))["t"] == "ack"
        assert await nth_reserve(console, 5) == "not_met"
        kinds = [m["kind"] for m in console.inbox if m["t"] == "ev"]
        assert kinds[-4:] == ["bid", "sold", "reopened", "bid_retracted"], kinds
        assert [m["reserve"] for m in frames(console, "reserve")] == [
            "not_met", "met", "not_met", "met", "not_met"]
        for client in (b1, b2):
            assert not {m["t"] for m in await drain(client)} & STAFF_TYPES


async def test_a_late_bidder_who_closes_at_once_is_still_reported(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bidder who closes the socket right after a late bid's nack (the usual case) still
    reaches the staff as ``missed_bid``: telling them is not the socket's task, which its
    close cancels. Redis is made slow here (0.3 s before the notice is published), so the
    close always comes first; before, the notice was then lost."""
    real = Presence.missed_bid

    async def slow(self: Presence, lot: int, paddle: int, amount: int, at: int) -> None:
        await asyncio.sleep(0.3)
        await real(self, lot, paddle, amount, at)

    monkeypatch.setattr(Presence, "missed_bid", slow)
    sale = await create_sale(server, mode="timed", bidders=1, duration_s=1)
    lot = sale.lots[0]
    async with raw_client(server, sale.auctioneer) as console:
        await subscribed(console, lot)
        assert (await cmd(console, lot, "open", "o"))["t"] == "ack"
        await asyncio.sleep(1.6)
        async with raw_client(server, sale.tokens[0]) as bidder:
            late = await bid(bidder, lot, 1_000_000, "late")
            assert (late["t"], late["code"]) == ("nack", "lot_closed")
        # the bidder's socket is closed: the notice still comes
        missed = await console.until(lambda m: m["t"] == "missed_bid", timeout=5)
        assert missed["paddle"] == sale.paddles[0] and missed["amount"] == 1_000_000
