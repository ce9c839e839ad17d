"""Chinese wording of events and times for people (terminal bidder, demo, logs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from websockets.exceptions import InvalidHandshake, InvalidURI

from auction_client.errors import AmountError, ApiError, NotConnected, Rejected
from auction_client.messages import Event
from auction_client.money import yuan

CST = timezone(timedelta(hours=8), "CST")

PASS_REASONS = {
    "no_bids": "无人出价",
    "reserve_not_met": "未达保留价",
    "auctioneer": "拍卖师宣布流拍",
}
STATUS_NAMES = {
    "scheduled": "待拍",
    "open": "竞价中",
    "sold": "已成交",
    "passed": "流拍",
    "withdrawn": "撤拍",
}


def clock(ms: int) -> str:
    """Server time in ms → ``"14:03:07"`` (China Standard Time)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(CST).strftime("%H:%M:%S")


def remaining(ms: int) -> str:
    """A countdown in ms → ``"4分05秒"`` (``"0秒"`` when past)."""
    seconds = max(0, ms) // 1000
    minutes, sec = divmod(seconds, 60)
    return f"{minutes}分{sec:02d}秒" if minutes else f"{sec}秒"


def describe(ev: Event) -> str:
    """One line for an event, e.g. ``"286号 出价 1,040,000.00 元"``; unknown kinds are named."""
    k = ev.kind
    if k == "opened":
        text = f"开拍 起拍价 {yuan(ev.get_int('start'))}，加价幅度 {yuan(ev.get_int('inc'))}"
        if ev.ends_at:
            text += f"，{clock(ev.ends_at)} 截止"
        return text
    if k == "bid":
        return f"{ev.paddle}号 出价 {yuan(ev.amount)}"
    if k == "extended":
        return f"延时 截止时间顺延至 {clock(ev.ends_at)}"
    if k == "sold":
        return f"落槌 成交 {ev.paddle}号 {yuan(ev.amount)}"
    if k == "passed":
        return f"流拍（{PASS_REASONS.get(ev.reason, ev.reason or '未成交')}）"
    if k == "withdrawn":
        return "撤拍"
    if k == "bid_retracted":
        return f"拍卖师撤销 {ev.get_int('paddle')}号 出价 {yuan(ev.get_int('amount'))}"
    if k == "reopened":
        return "重新开拍（撤销落槌）"
    if k == "increment_changed":
        return f"加价幅度调整为 {yuan(ev.get_int('inc'))}"
    if k == "warned":
        return {1: "第一次警告", 2: "第二次警告", 3: "最后一次警告"}.get(ev.get_int("n"), "警告")
    if k == "announced":
        said = ev.fields.get("text")
        return f"公告：{said}" if isinstance(said, str) else "公告"
    if k == "paused":
        return "暂停"
    if k == "resumed":
        return "继续"
    return f"事件 {k}"


#: why the client stopped (``NotConnected.code``), in words
STOP_REASONS = {
    "unauthorized": "登录已过期，请重新登录",
    "bad_frame": "客户端与服务器的协议不一致，请升级客户端",
    "frame_too_big": "消息过大，服务器断开了连接",
    "bad_url": "服务器地址无效",
    "closed": "连接已关闭",
    "disconnected": "与服务器的连接已断开",
    "link_lost": "与服务器的连接中断",
}
#: refusals a person may see outside a bid's own answer (subscribing, the HTTP API)
REFUSALS = {
    "unknown_lot": "标的不存在",
    "not_found": "请求的对象不存在",
    "forbidden": "无权进行此操作",
    "unauthorized": "登录已过期，请重新登录",
    "rate_limited": "操作过于频繁，请稍后再试",
    "overloaded": "服务器繁忙，请稍后再试",
    "unavailable": "服务器暂时不可用，请稍后再试",
}


def explain(exc: BaseException, *, url: str = "") -> str:
    """One Chinese sentence for a failure a person should understand: an expired or revoked
    token, a server that cannot be reached, a bad address, a refusal, an unreadable amount.
    Never a Python exception's own text."""
    where = f"（{url}）" if url else ""
    if isinstance(exc, AmountError):
        return str(exc)
    if isinstance(exc, NotConnected):
        return STOP_REASONS.get(exc.code, "与服务器的连接已断开")
    if isinstance(exc, Rejected | ApiError):
        said = REFUSALS.get(exc.code) or exc.message or exc.code
        return f"{said}（{exc.code}）" if said != exc.code else said
    if isinstance(exc, InvalidURI):
        return f"服务器地址无效{where}：应形如 ws://主机:端口/ws 或 http://主机:端口"
    if isinstance(exc, InvalidHandshake):
        return f"该地址不是竞价服务的 websocket 入口{where}，请检查 --url / AUCTION_URL"
    if isinstance(exc, TimeoutError):
        return f"连接服务器超时{where}，请检查网络后重试"
    if isinstance(exc, ConnectionRefusedError):
        return (f"无法连接服务器{where}：没有服务在此端口监听，请检查 --url / AUCTION_URL /"
                " AUCTION_PORT")
    if isinstance(exc, OSError):
        return f"无法连接服务器{where}，请检查地址与网络"
    return "发生了意外错误，请重试；若问题持续请联系技术市场"
