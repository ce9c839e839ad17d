"""Rejections of the auction rules, each with a stable code.

Exception tree::

    Rejection                    a command broke a rule; nothing changed
    └── (codes, not subclasses)  see CODES below; clients switch on ``code``

The codes are part of the wire protocol (docs/protocol.md) and never change meaning. The Lua
scripts return the same codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

#: code → Chinese message shown to people (clients may localise by code).
CODES: Mapping[str, str] = MappingProxyType(
    {
        "lot_not_open": "标的尚未开拍",
        "lot_closed": "标的竞价已结束",
        "bad_amount": "出价金额无效(须为正整数分)",
        "below_start": "出价低于起拍价",
        "too_low": "出价低于当前最高价加一个加价幅度",
        "off_increment": "出价须为当前价加整数倍加价幅度",
        "already_leading": "您已是当前最高出价人",
        "no_bids": "尚无有效出价",
        "wrong_mode": "该操作不适用于此竞价方式",
        "wrong_state": "标的当前状态不允许该操作",
        "not_due": "计时尚未结束",
        "idempotency_conflict": "幂等键已用于不同的请求",
        "unknown_lot": "标的不存在",
        "deposit_required": "保证金不足: 须持有经确认且覆盖本标的的保证金",
        "lot_paused": "标的已暂停, 请稍候",
        "unknown_paddle": "本场次没有该竞买号牌",
        "not_published": "场次尚未发布, 不能开拍",
        "not_yet": "未到开拍时间",
        "wrong_format": "该操作不适用于本标的的竞价方式",
        "no_revisions_left": "报价修改次数已用完",
        "listing_period": "挂牌期内不接受出价, 挂牌期满后按意向受让方人数协议成交或竞价",
    }
)


class Rejection(Exception):
    """A command was refused by a rule. ``code`` is stable; ``data`` carries details."""

    def __init__(self, code: str, message: str | None = None, **data: Any) -> None:
        if code not in CODES:
            raise ValueError(f"unknown rejection code {code!r}")
        self.code = code
        self.message = message or CODES[code]
        self.data = data
        super().__init__(f"{code}: {self.message}")
