"""Terminal bidder: ``python -m auction_client.cli bid|watch``.

``bid --token T --lot N --amount 21万 [--key K] [--yes]`` shows the amount as read, asks for a
confirmation on a terminal (not with ``--yes`` or when input is not a terminal), places one bid
and prints its answer; ``watch --lot N [--token T]`` prints the lot's state and every event in
Chinese with the server clock.

The server: ``--url``, else ``AUCTION_URL``, else ``ws://AUCTION_HOST:AUCTION_PORT/ws``
(``127.0.0.1`` and ``8000`` by default); an ``http://`` address is turned into its websocket
(``ws://…/ws``). The token: ``--token``, else ``AUCTION_TOKEN``.

Amounts are read as people write them (:func:`auction_client.money.parse_amount`: ``21万``,
``210,000``, ``210000.00``, ``210000元``; a bare number is in 元; ``…分`` is fen). Failures are
told in words (:func:`auction_client.phrases.explain`), never as a Python exception.

Exit status: 0 accepted (``watch``: the lot closed), 1 bid refused, 2 cannot proceed (a bad
amount or option, the server unreachable, the login expired), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit

from websockets.exceptions import InvalidHandshake, InvalidURI

from auction_client.client import AuctionClient, new_key
from auction_client.errors import AmountError, AuctionClientError, BidRejected
from auction_client.lot_view import LotView
from auction_client.messages import Event
from auction_client.money import parse_amount, wan, yuan
from auction_client.notice import CLOSED, LATE_ANSWER, LINK_LOST
from auction_client.phrases import (
    STATUS_NAMES,
    STOP_REASONS,
    clock,
    describe,
    explain,
    remaining,
)

#: what may go wrong on the way to the server, told in words by :func:`explain`
FAILURES = (AuctionClientError, OSError, TimeoutError, InvalidHandshake, InvalidURI)


def server_url(option: str | None, env: Mapping[str, str]) -> str:
    """The websocket URL: the option, ``AUCTION_URL``, or ``AUCTION_HOST``/``AUCTION_PORT``.
    ``http(s)://host:port`` becomes ``ws(s)://host:port/ws``; a URL without a path gets
    ``/ws``."""
    raw = (option or env.get("AUCTION_URL") or "").strip()
    if not raw:
        host = env.get("AUCTION_HOST", "").strip() or "127.0.0.1"
        if host in ("0.0.0.0", "::"):  # a listen-everywhere address: talk to this machine
            host = "127.0.0.1"
        port = env.get("AUCTION_PORT", "").strip() or "8000"
        return f"ws://{host}:{port}/ws"
    if "://" not in raw:
        raw = "ws://" + raw
    parts = urlsplit(raw)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path if parts.path not in ("", "/") else "/ws"
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


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


def _confirm(amount: int, ask: Callable[[str], str]) -> bool:
    answer = ask(f"确认出价 {yuan(amount)}（{wan(amount)}）？输入 y 确认：")
    return answer.strip().lower() in ("y", "yes", "是", "确认")


async def _bid(url: str, token: str, lot: int, amount: int, key: str) -> int:
    async with AuctionClient(url, token, reconnect=True) as client:
        client.on_event(lambda item: _say_link(client, item))
        view = await client.subscribe(lot)
        print(f"[{clock(client.server_now_ms())}] 号牌 {client.paddle}："
              f"{_state_line(view, client.server_now_ms())}")
        try:
            ack = await client.bid(lot, amount, key)
        except BidRejected as rej:
            hint = f"（最低可出 {yuan(rej.minimum)}）" if rej.minimum else ""
            print(f"出价被拒：{rej.message or rej.code}{hint}")
            return 1
        except TimeoutError:
            print(f"未收到服务器对出价的应答。可用同一幂等键重试，不会重复出价：--key {key}")
            return 2
        replay = "（重复请求，沿用原结果）" if ack.replay else ""
        print(f"[{clock(ack.at or client.server_now_ms())}] 出价成功 {yuan(amount)}{replay}")
        return 0


def _say_link(client: AuctionClient, item: object) -> None:
    kind = getattr(item, "kind", "")
    if kind in (LINK_LOST, "disconnected", LATE_ANSWER) and not isinstance(item, Event):
        print(f"[{clock(client.server_now_ms())}] {getattr(item, 'message', '')}")


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
                print(f"[{clock(now)}] 连接已关闭：{explain_code(item.code)}")
                return 2
            elif item.kind in ("disconnected", LINK_LOST):
                print(f"[{clock(now)}] {item.message}")
            elif item.kind == "resumed":
                print(f"[{clock(now)}] 已重新连接，断线期间的事件已补齐（{item.message}）")
            elif item.kind == "error":
                print(f"[{clock(now)}] 服务器提示：{item.message}")
            if client.view(lot).terminal:
                return 0
    return 0


def explain_code(code: str) -> str:
    """The words for a ``closed`` notice's code (``unauthorized`` → 登录已过期…)."""
    return STOP_REASONS.get(code, "连接已关闭")


def _parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="auction_client.cli", description="科技成果竞价 终端出价器",
        epilog="服务器地址：--url，或环境变量 AUCTION_URL，或 AUCTION_HOST / AUCTION_PORT；"
               "凭证：--token 或 AUCTION_TOKEN。",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_bid = sub.add_parser("bid", help="出价一次")
    p_bid.add_argument("--url", default=None, help="ws://主机:端口/ws 或 http://主机:端口")
    p_bid.add_argument("--token", default=env.get("AUCTION_TOKEN"))
    p_bid.add_argument("--lot", type=int, required=True)
    p_bid.add_argument("--amount", required=True,
                       help="金额：21万、21.5万、210,000、210000.00、210000元（不带单位即为元）")
    p_bid.add_argument("--key", default=None, help="幂等键；重试时沿用同一个")
    p_bid.add_argument("--yes", action="store_true", help="不再询问确认")
    p_watch = sub.add_parser("watch", help="观看一个标的")
    p_watch.add_argument("--url", default=None, help="ws://主机:端口/ws 或 http://主机:端口")
    p_watch.add_argument("--token", default=env.get("AUCTION_TOKEN"))
    p_watch.add_argument("--lot", type=int, required=True)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    ask: Callable[[str], str] | None = None,
) -> int:
    """Run the CLI. ``env`` (default ``os.environ``) and ``ask`` (default ``input`` when
    standard input is a terminal, else no confirmation) are for tests."""
    env = os.environ if env is None else env
    args = _parser(env).parse_args(argv)
    url = server_url(args.url, env)
    try:
        if args.command == "bid":
            if not args.token:
                print("缺少凭证：请用 --token 或环境变量 AUCTION_TOKEN 提供出价凭证",
                      file=sys.stderr)
                return 2
            try:
                amount = parse_amount(args.amount)
            except AmountError as exc:
                print(f"金额有误：{exc}", file=sys.stderr)
                return 2
            print(f"出价金额：{yuan(amount)}（{wan(amount)}），{args.lot}号标的")
            if ask is None and not args.yes and sys.stdin.isatty():
                ask = input
            if ask is not None and not args.yes and not _confirm(amount, ask):
                print("已取消，未出价")
                return 2
            key = args.key or new_key("b")
            return asyncio.run(_bid(url, args.token, args.lot, amount, key))
        return asyncio.run(_watch(url, args.token, args.lot))
    except FAILURES as exc:
        print(explain(exc, url=url), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
