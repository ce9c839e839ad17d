"""The subscription seam (invariant 2): every watcher gets every event after its snapshot,
however many subscribe at once, on two server processes, while bids arrive.

Regression: ``Hub.watch`` returned for the second and later watchers of a lot before the first
had set the lot's last seq; an event arriving in that window was dropped for all of them
(issue 8: 36 of 50 watchers skipped events; 2–9 of 10 never saw a bid made right after they
subscribed). Each test loops several rounds so that a regression cannot hide behind timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

import pytest

from tests.e2e.harness import Raw, Server, create_sale, raw_client
from tests.e2e.test_live_auction import command

pytestmark = pytest.mark.timeout(300)


class Watch:
    """A watcher connection that records its snapshot seq and every event of one lot."""

    def __init__(self, client: Raw, lot: int) -> None:
        self.client, self.lot = client, lot
        self.start: int | None = None
        self.seqs: list[int] = []
        self.snapshots = 0
        self.reader: asyncio.Task[None] | None = None

    async def read(self) -> None:
        while True:
            msg = await self.client.recv(timeout=60)
            if msg.get("lot") != self.lot:
                continue
            if msg["t"] == "snapshot":
                self.snapshots += 1
                if self.start is None:
                    self.start = int(msg["seq"])
            elif msg["t"] == "ev":
                self.seqs.append(int(msg["seq"]))

    def problem(self, final: int) -> str | None:
        if self.snapshots != 1 or self.start is None:
            return f"{self.snapshots} snapshots"
        expected = list(range(self.start + 1, final + 1))
        if self.seqs != expected:
            return f"start {self.start}: got {self.seqs[:8]}… ({len(self.seqs)}), want to {final}"
        return None


async def _watchers(
    servers: list[Server], lot: int, count: int, stack: contextlib.AsyncExitStack
) -> list[Watch]:
    """``count`` connected watchers (not yet subscribed), their readers running; everything is
    closed and cancelled when ``stack`` unwinds."""
    watches = []
    for i in range(count):
        client = await stack.enter_async_context(raw_client(
            servers[i % len(servers)], address=f"10.8.{lot % 250}.{i % 250 + 1}"))
        watch = Watch(client, lot)
        watch.reader = asyncio.create_task(watch.read())
        stack.push_async_callback(_stop, watch.reader)
        watches.append(watch)
    return watches


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


async def _wait_final(watches: list[Watch], final: int, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if all((w.seqs and w.seqs[-1] >= final) or w.start == final for w in watches):
            return
        await asyncio.sleep(0.05)


async def _bid_until(
    stop: asyncio.Event, bidders: tuple[Raw, Raw], lot: int, amount: int, acked: list[int]
) -> int:
    """Two bidders take turns bidding the next amount until ``stop``; returns the next amount."""
    i = 0
    while not stop.is_set():
        client = bidders[i % 2]
        key = f"r{lot}-{i}"
        await client.send(t="bid", lot=lot, amount=amount, key=key)
        reply = await client.until(lambda m, k=key: m.get("key") == k)
        assert reply["t"] == "ack", reply
        acked.append(int(reply["seq"]))
        amount += 10_000
        i += 1
        await asyncio.sleep(0.06)  # under the per-bidder rate limit (20/s)
    return amount


async def test_200_watchers_subscribing_at_once_while_bids_arrive(
    two_servers: list[Server],
) -> None:
    """200 watchers over two processes subscribe concurrently while two bidders keep bidding;
    every watcher's seqs are exactly start+1 … final, with one snapshot each (3 rounds)."""
    rounds = 3
    sale = await create_sale(two_servers[0], mode="live", lots=rounds, bidders=2)
    async with raw_client(two_servers[0], sale.auctioneer) as console, \
            raw_client(two_servers[0], sale.tokens[0]) as b1, \
            raw_client(two_servers[1], sale.tokens[1]) as b2:
        amount = 1_000_000
        for lot in sale.lots:
            assert (await command(console, lot, "open", f"o{lot}"))["t"] == "ack"
            acked: list[int] = []
            stop = asyncio.Event()
            bidder = asyncio.create_task(_bid_until(stop, (b1, b2), lot, amount, acked))
            async with contextlib.AsyncExitStack() as stack:
                watches = await _watchers(two_servers, lot, 200, stack)
                await asyncio.sleep(0.05)
                await asyncio.gather(*(w.client.send(t="sub", lot=lot) for w in watches))
                await asyncio.sleep(0.5)
                stop.set()
                amount = await bidder
                final = acked[-1]
                await _wait_final(watches, final)
                problems = [p for w in watches if (p := w.problem(final)) is not None]
            assert acked == sorted(acked) and len(acked) > 3
            assert not problems, f"{len(problems)} of 200 watchers wrong: {problems[:3]}"
            await command(console, lot, "hammer", f"h{lot}")


async def test_quiet_lot_one_bid_right_after_the_subscribes(two_servers: list[Server]) -> None:
    """Ten watchers subscribe at once and one bid follows 0–30 ms later: every watcher gets it
    (20 rounds, a fresh lot each)."""
    rounds = 20
    sale = await create_sale(two_servers[0], mode="live", lots=rounds, bidders=1)
    rng = random.Random(8)
    async with raw_client(two_servers[0], sale.auctioneer) as console, \
            raw_client(two_servers[1], sale.tokens[0]) as bidder:
        for lot in sale.lots:
            assert (await command(console, lot, "open", f"o{lot}"))["t"] == "ack"
            async with contextlib.AsyncExitStack() as stack:
                watches = await _watchers(two_servers, lot, 10, stack)
                await asyncio.gather(*(w.client.send(t="sub", lot=lot) for w in watches))
                await asyncio.sleep(rng.uniform(0, 0.03))
                await bidder.send(t="bid", lot=lot, amount=1_000_000, key=f"q{lot}")
                reply = await bidder.until(lambda m, k=f"q{lot}": m.get("key") == k)
                assert reply["t"] == "ack", reply
                final = int(reply["seq"])
                await _wait_final(watches, final, timeout=3.0)
                problems = [p for w in watches if (p := w.problem(final)) is not None]
            assert not problems, f"lot {lot}: {problems}"
