"""Terminal bidder: ``python -m auction_client.cli bid|watch``.

``bid --url URL --token T --lot N --amount FEN [--key K]`` places one bid and prints the answer;
``watch --url URL --lot N [--token T]`` prints the lot's state and every event in Chinese with
the server clock. Exit status: 0 ok, 1 bid rejected, 2 connection problem.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from auction_client.client import AuctionClient
from auction_client.errors import AuctionClientError, BidRejected
from auction_client.lot_view import LotView
from auction_client.messages import Event
from auction_client.money import parse_yuan, yuan
from auction_client.notice import CLOSED
from auction_client.phrases import STATUS_NAMES, clock, describe, remaining


def _state_line(view: LotView, now_ms: int) -> str:
    parts = [f"{view.lot}号标的 {STATUS_NAMES.get(view.status, view.status)}"]
    parts.append(f"起拍价 {yuan(view.start)} 加价幅度 {yuan(view.inc)}")
    if view.bids:
        parts.append(f"当前最高 {view.paddle}号 {yuan(view.high)}（{view.bids}次出价）")
    if view.is_open:
        parts.append(f"下一口 {yuan(view.next_minimum)}")
        if view.ends_at:
            parts.append(f"剩余 {remaining(view.ends_at - now_ms)}")
    return "，".join(parts)


async def _bid(url: str, token: str, lot: int, amount: int, key: str | None) -> int:
    async with AuctionClient(url, token, reconnect=True) as client:
        view = await client.subscribe(lot)
        print(f"[{clock(client.server_now_ms())}] 号牌 {client.paddle}：{_state_line(view, 0)}")
        try:
            ack = await client.bid(lot, amount, key)
        except BidRejected as rej:
            hint = f"（最低可出 {yuan(rej.minimum)}）" if rej.minimum else ""
            print(f"出价被拒：{rej.code} {rej.message}{hint}")
            return 1
        replay = "（重复请求，沿用原结果）" if ack.replay else ""
        print(f"[{clock(ack.at or client.server_now_ms())}] 出价成功 {yuan(amount)}{replay}")
        return 0


async def _watch(url: str, token: str | None, lot: int) -> int:
    async with AuctionClient(url, token) as client:
        stream = client.events(lot)
        await client.subscribe(lot)
        async for item in stream:
            now = client.server_now_ms()
            if isinstance(item, Event):
                print(f"[{clock(item.at or now)}] {item.lot}号标的 {describe(item)}")
            elif item.kind in ("snapshot", "resync"):
                if item.kind == "resync":
                    print(f"[{clock(now)}] {item.message}")
                print(f"[{clock(now)}] {_state_line(client.view(lot), now)}")
            elif item.kind == CLOSED:
                print(f"[{clock(now)}] 连接已关闭 {item.message}")
                return 2
            elif item.kind in ("disconnected", "resumed", "error"):
                print(f"[{clock(now)}] {item.kind} {item.message}".rstrip())
            if client.view(lot).terminal:
                return 0
    return 0


def _amount(text: str) -> int:
    """``100000000`` (fen) or ``1000000元`` / ``1000000.00元`` (yuan)."""
    if text.endswith("元"):
        return parse_yuan(text)
    return int(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="auction_client.cli", description="科技成果竞价 终端出价器"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_bid = sub.add_parser("bid", help="出价一次")
    p_bid.add_argument("--url", default="ws://127.0.0.1:8000/ws")
    p_bid.add_argument("--token", required=True)
    p_bid.add_argument("--lot", type=int, required=True)
    p_bid.add_argument("--amount", type=_amount, required=True, help="分（或以“元”结尾）")
    p_bid.add_argument("--key", default=None, help="幂等键；重试时沿用同一个")
    p_watch = sub.add_parser("watch", help="观看一个标的")
    p_watch.add_argument("--url", default="ws://127.0.0.1:8000/ws")
    p_watch.add_argument("--token", default=None)
    p_watch.add_argument("--lot", type=int, required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "bid":
            return asyncio.run(_bid(args.url, args.token, args.lot, args.amount, args.key))
        return asyncio.run(_watch(args.url, args.token, args.lot))
    except (AuctionClientError, OSError, TimeoutError) as exc:
        print(f"连接失败：{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
