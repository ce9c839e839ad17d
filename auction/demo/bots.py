"""Simulated bidders and auctioneer, each one :class:`AuctionClient` like a real user.

- :class:`BidderBot` follows lots and, when it is not leading and the next valid bid is within
  its private maximum (start × 1.1–1.8, drawn per lot), bids after a human-like pause: usually
  the next minimum, sometimes two increments more, and early in a lot (far below its maximum)
  occasionally a bolder round jump. It never exceeds its maximum and stops when the lot closes.
- :func:`run_live_auctioneer` opens a live session's lots one by one, hammers after a quiet
  period (or passes a lot without bids), waits for the outcome, then opens the next.
- :func:`run_timed_session` opens every lot of a timed session at once and waits until the
  server's clock has closed them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Sequence

from auction_client import (
    AuctionClient,
    AuctionClientError,
    BidRejected,
    CommandRejected,
    LotView,
    wan,
)
from auction_client.phrases import PASS_REASONS

from auction.demo.pace import Pace
from auction.demo.seed import SeededLot, SeededSession

Progress = Callable[[str], None]


class BidderBot:
    """One simulated bidder in one session (its token is bound to that session)."""

    def __init__(
        self, name: str, client: AuctionClient, lots: Sequence[SeededLot], pace: Pace, seed: int
    ) -> None:
        self.name = name
        self.client = client
        self.lots = list(lots)
        self.pace = pace
        self.rng = random.Random(seed)
        self.maximum: dict[int, int] = {}
        for lot in self.lots:
            if self.rng.random() < 0.45:  # not every bidder wants every lot
                raw = lot.start_fen * self.rng.uniform(1.1, 1.8)
                self.maximum[lot.id] = int(raw) // lot.increment_fen * lot.increment_fen

    async def run(self) -> None:
        """Bid until every followed lot is closed (or the task is cancelled)."""
        await asyncio.gather(*(self._follow(lot) for lot in self.lots if lot.id in self.maximum))

    def _wants(self, view: LotView, maximum: int) -> bool:
        me = self.client.paddle
        if not view.is_open or (view.bids and view.paddle == me):
            return False
        if view.ends_at and self.client.server_now_ms() >= view.ends_at:
            return False
        return view.next_minimum <= maximum

    def _amount(self, view: LotView, lot: SeededLot, maximum: int) -> int:
        amount = view.next_minimum
        # the room's current increment: past a band of the session's table it is no longer
        # the lot's own, and a bid must stay on the grid of high + n × inc (docs/formats.md)
        inc = view.inc or lot.increment_fen
        room = maximum - amount
        roll = self.rng.random()
        if room > lot.start_fen // 10 and roll < 0.5:
            # early and far below the maximum: a bold, round jump (1–4 % of the start)
            jump = lot.start_fen * self.rng.choice((1, 2, 3, 4)) // 100
            amount += jump // inc * inc
        elif roll < 0.7:
            amount += 2 * inc
        return amount if amount <= maximum else view.next_minimum

    async def _follow(self, lot: SeededLot) -> None:
        with contextlib.suppress(AuctionClientError):
            await self._bid_on(lot)

    async def _bid_on(self, lot: SeededLot) -> None:
        maximum = self.maximum[lot.id]
        client = self.client
        view = await client.subscribe(lot.id)
        think = self.pace.timed_think if view.mode == "timed" else self.pace.think
        while not view.terminal:
            await client.wait_until(lot.id, lambda v: v.terminal or self._wants(v, maximum))
            if view.terminal:
                return
            await asyncio.sleep(self.rng.uniform(*think))
            if not self._wants(view, maximum):
                continue
            try:
                await client.bid(lot.id, self._amount(view, lot, maximum))
            except BidRejected:
                await asyncio.sleep(self.rng.uniform(*think) / 2)  # outbid meanwhile: rethink
            except (AuctionClientError, TimeoutError):
                return


async def start_bidders(
    ws_url: str, session: SeededSession, pace: Pace, seed: int
) -> tuple[list[AuctionClient], list[asyncio.Task[None]]]:
    """Connect every bidder of ``session`` and start its bot."""
    clients: list[AuctionClient] = []
    tasks: list[asyncio.Task[None]] = []
    for i, bidder in enumerate(session.bidders):
        client = AuctionClient(ws_url, bidder.token)
        await client.connect()
        clients.append(client)
        bot = BidderBot(bidder.name, client, session.lots, pace, seed * 1000 + i)
        tasks.append(asyncio.create_task(bot.run(), name=f"bidder-{bidder.paddle}"))
    return clients, tasks


def outcome_line(lot: SeededLot, view: LotView) -> str:
    """``"落槌: 286号 104万元 …"`` or ``"流拍: … （未达保留价）"``."""
    if view.status == "sold":
        return f"落槌: {view.paddle}号 {wan(view.high)}  {lot.title}（{view.bids} 次出价）"
    reason = PASS_REASONS.get(view.reason, view.reason or view.status)
    return f"流拍: {lot.title}（{reason}）"


async def run_live_auctioneer(
    ws_url: str, session: SeededSession, pace: Pace, progress: Progress
) -> None:
    """Run a live session lot by lot (see module docstring)."""
    async with AuctionClient(ws_url, session.staff_token) as client:
        total = len(session.lots)
        for i, lot in enumerate(session.lots, 1):
            view = await client.subscribe(lot.id)
            if view.status == "scheduled":
                await client.command(lot.id, "open")
            progress(
                f"[{i}/{total}] 开拍: {lot.title} 起拍价 {wan(lot.start_fen)}，"
                f"加价幅度 {wan(lot.increment_fen)}"
            )
            await _drive_lot(client, view, pace)
            progress(f"[{i}/{total}] {outcome_line(lot, view)}")
            await asyncio.sleep(pace.between_lots_s)


async def _drive_lot(client: AuctionClient, view: LotView, pace: Pace) -> None:
    opened = time.monotonic()
    last_bids, last_change = view.bids, time.monotonic()
    while not view.terminal:
        await client.changed(timeout=0.2)
        now = time.monotonic()
        if view.bids != last_bids:
            last_bids, last_change = view.bids, now
            continue
        op = None
        if view.bids == 0 and now - opened >= pace.no_bid_s:
            op = "pass"
        elif view.bids > 0 and now - last_change >= pace.quiet_s:
            op = "hammer"
        if op is None or not view.is_open:
            continue
        try:
            await client.command(view.lot, op)
        except CommandRejected:
            continue  # a bid slipped in (no_bids / wrong_state): keep watching
        with contextlib.suppress(TimeoutError):
            await client.wait_until(view.lot, lambda v: v.terminal, timeout=10)


async def run_timed_session(
    ws_url: str, session: SeededSession, pace: Pace, progress: Progress
) -> None:
    """Open every lot of a timed session, then report each outcome as the clock closes it."""
    async with AuctionClient(ws_url, session.staff_token) as client:
        views = {lot.id: await client.subscribe(lot.id) for lot in session.lots}
        for lot in session.lots:
            if views[lot.id].status == "scheduled":
                with contextlib.suppress(CommandRejected):
                    await client.command(lot.id, "open")
        progress(
            f"限时竞价开始: {session.name}，{len(session.lots)} 件标的，"
            f"{pace.timed.duration_s} 秒后截止（最后 {pace.timed.extension_window_s} 秒内出价"
            f"顺延 {pace.timed.extension_s} 秒）"
        )

        async def report(lot: SeededLot) -> None:
            view = await client.wait_until(lot.id, lambda v: v.terminal)
            progress(f"[限时] {outcome_line(lot, view)}")

        await asyncio.gather(*(report(lot) for lot in session.lots))
