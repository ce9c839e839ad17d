"""Rows the store returns: frozen dataclasses with the JSON shapes of docs/http-api.md.

Money is integer fen. Timestamps are aware datetimes; :func:`rfc3339` renders them in China
Standard Time (``+08:00``), as the HTTP API promises. The lot's reserve and the holder's credit
code are kept on :class:`Lot` for the admin and settlement, and left out of :meth:`Lot.public`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from auction.domain.increments import Band
from auction.domain.increments import to_json as bands_json
from auction.domain.registration_form import STATUS_SHOWN, STATUS_WORDS

#: China Standard Time; the API renders every timestamp with this offset
CST = timezone(timedelta(hours=8), "CST")

Json = dict[str, Any]


def rfc3339(at: datetime | None) -> str | None:
    """``2026-04-01T09:30:00.000+08:00`` (millisecond precision), or ``None``."""
    if at is None:
        return None
    if at.tzinfo is None:
        raise ValueError("naive datetime: the store only handles aware timestamps")
    return at.astimezone(CST).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class Market:
    id: int
    code: str
    slug: str
    name: str
    level: str
    parent_id: int | None

    def to_json(self) -> Json:
        return {
            "id": self.id, "code": self.code, "slug": self.slug, "name": self.name,
            "level": self.level, "parent_id": self.parent_id,
        }


@dataclass(frozen=True, slots=True)
class Session:
    id: int
    market_id: int
    market_code: str
    name: str
    season: str
    mode: str
    starts_at: datetime
    status: str
    extension_window_s: int
    extension_s: int
    lot_count: int
    #: the session's increment table (auction/domain/increments.py); ``()`` is none
    increments: tuple[Band, ...] = ()
    #: 拍卖公告 and 竞买须知: what a bidder agrees to when applying ('' for older sessions)
    announcement: str = ""
    terms: str = ""
    contact_phone: str = ""
    registration_deadline: datetime | None = None
    #: the account deposits are paid into (保证金收款账户)
    payee_name: str = ""
    payee_bank: str = ""
    payee_account: str = ""
    #: when it was published; ``None``: a draft, seen by its market's staff only
    published_at: datetime | None = None
    #: the schedule of a timed session that runs itself (docs/formats.md "Scheduling"): lot n
    #: closes at ``ends_at`` + (n − 1) × ``close_gap_s``; ``None``: opened by hand
    ends_at: datetime | None = None
    close_gap_s: int = 0
    #: extensions per lot (``None``: no cap) and the time no close may pass (``None``: none)
    max_extensions: int | None = None
    hard_end_at: datetime | None = None

    @property
    def published(self) -> bool:
        return self.published_at is not None

    def to_json(self) -> Json:
        return {
            "id": self.id, "market_id": self.market_id, "market_code": self.market_code,
            "name": self.name, "season": self.season, "mode": self.mode,
            "starts_at": rfc3339(self.starts_at), "status": self.status,
            "extension_window_s": self.extension_window_s, "extension_s": self.extension_s,
            "lot_count": self.lot_count, "increments": bands_json(self.increments),
            "announcement": self.announcement, "terms": self.terms,
            "contact_phone": self.contact_phone,
            "registration_deadline": rfc3339(self.registration_deadline),
            "payee_name": self.payee_name, "payee_bank": self.payee_bank,
            "payee_account": self.payee_account,
            "published": self.published, "published_at": rfc3339(self.published_at),
            "ends_at": rfc3339(self.ends_at), "close_gap_s": self.close_gap_s,
            "max_extensions": self.max_extensions, "hard_end_at": rfc3339(self.hard_end_at),
        }

    @property
    def texts_sha256(self) -> str:
        """SHA-256 of the announcement and the terms as they stand: recorded with a bidder's
        agreement, so what was agreed to can be told later."""
        joined = f"{self.announcement}\x00{self.terms}".encode()
        return hashlib.sha256(joined).hexdigest()


@dataclass(frozen=True, slots=True)
class Lot:
    id: int
    session_id: int
    ordinal: int
    title: str
    description: str
    result_type: str
    ip_type: str
    technology_field: str
    transaction_mode: str
    contract_type: str
    holder_name: str
    holder_uscc: str
    start_price_fen: int
    increment_fen: int
    reserve_fen: int
    non_tech_fen: int
    duration_s: int
    status: str
    #: 评估价, when given
    appraisal_fen: int | None = None
    #: a timed lot's own opening time (``None``: the session's ``starts_at``)
    starts_at: datetime | None = None
    #: the passed or defaulted lot this one relists (docs/formats.md "Relisting")
    relisted_from: int | None = None
    #: how the lot is sold (docs/formats.md) and its parameters
    format: str = "english"
    revisions: int = 0
    step_fen: int = 0
    interval_s: int = 0
    floor_fen: int = 0
    free_s: int = 0
    round_s: int = 0
    #: the preemption window after a timed lot's clock (docs/formats.md R10), seconds
    preempt_window_s: int = 0
    #: a listing's (挂牌) end, and its period in working days when it was given as one
    listing_ends_at: datetime | None = None
    listing_days: int | None = None

    def format_json(self) -> Json:
        """``format`` with its parameters: ``revisions`` (sealed), ``step_fen``,
        ``interval_s`` and ``floor_fen`` (dutch), ``free_s`` and ``round_s`` (rounds)."""
        out: Json = {"format": self.format, "preempt_window_s": self.preempt_window_s}
        if self.format == "sealed":
            out["revisions"] = self.revisions
        elif self.format == "dutch":
            out.update(step_fen=self.step_fen, interval_s=self.interval_s,
                       floor_fen=self.floor_fen)
        elif self.format == "rounds":
            out.update(free_s=self.free_s, round_s=self.round_s)
        elif self.format == "listing":  # as it was given: a period in working days, or an end
            if self.listing_days is not None:
                out["listing_days"] = self.listing_days
            else:
                out["listing_ends_at"] = rfc3339(self.listing_ends_at)
        return out

    def public(self) -> Json:
        """The lot as everyone may see it: no reserve amount (secret; only whether there is
        one, ``has_reserve``: 保留价 有/无), no holder credit code."""
        return {
            "id": self.id, "session_id": self.session_id, "ordinal": self.ordinal,
            "title": self.title, "description": self.description,
            "result_type": self.result_type, "ip_type": self.ip_type,
            "technology_field": self.technology_field,
            "transaction_mode": self.transaction_mode, "contract_type": self.contract_type,
            "holder_name": self.holder_name, "start_price_fen": self.start_price_fen,
            "increment_fen": self.increment_fen, "non_tech_fen": self.non_tech_fen,
            "duration_s": self.duration_s, "status": self.status,
            "appraisal_fen": self.appraisal_fen, "has_reserve": self.reserve_fen > 0,
            "starts_at": rfc3339(self.starts_at), "relisted_from": self.relisted_from,
            **self.format_json(),
            **({"listing_days": self.listing_days,
                "listing_ends_at": rfc3339(self.listing_ends_at)}
               if self.format == "listing" else {}),
        }

    def to_json(self) -> Json:
        """The admin's view: :meth:`public` plus ``reserve_fen`` and ``holder_uscc``."""
        return {**self.public(), "reserve_fen": self.reserve_fen, "holder_uscc": self.holder_uscc}


@dataclass(frozen=True, slots=True)
class Bidder:
    id: int
    name: str
    uscc: str
    contact: str
    created_at: datetime

    def to_json(self) -> Json:
        return {
            "id": self.id, "name": self.name, "uscc": self.uscc, "contact": self.contact,
            "created_at": rfc3339(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class Registration:
    id: int
    session_id: int
    bidder_id: int
    status: str
    paddle: int | None
    deposit_fen: int
    reason: str

    def to_json(self) -> Json:
        return {
            "id": self.id, "session_id": self.session_id, "bidder_id": self.bidder_id,
            "status": self.status, "paddle": self.paddle, "deposit_fen": self.deposit_fen,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class PublicBid:
    """One entry of a lot's public bid history: paddle only, never the bidder's name.
    ``source`` is where the bid came from (``online``, or entered by the auctioneer: ``floor``
    场内 / ``phone`` 电话); ``retracted`` is true once the auctioneer undid it (it stays listed)."""

    seq: int
    paddle: int | None
    amount_fen: int
    at: datetime
    source: str = "online"
    retracted: bool = False
    #: ``preempt`` (优先权, R9), ``auto`` (a proxy's), ``sealed`` (a revealed quote),
    #: ``accepted`` (a Dutch acceptance), ``listing`` (协议成交 at a listing's end), or ``None``
    #: (docs/formats.md)
    mark: str | None = None

    def to_json(self) -> Json:
        return {
            "seq": self.seq, "paddle": self.paddle, "amount_fen": self.amount_fen,
            "at": rfc3339(self.at), "source": self.source, "retracted": self.retracted,
            "mark": self.mark,
        }


@dataclass(frozen=True, slots=True)
class Result:
    """One line of the results publicity (成交公示): a sold lot."""

    lot_id: int
    session_id: int
    title: str
    paddle: int | None
    amount_fen: int
    hammer_at: datetime
    bid_count: int

    def to_json(self) -> Json:
        return {
            "lot_id": self.lot_id, "session_id": self.session_id, "title": self.title,
            "paddle": self.paddle, "amount_fen": self.amount_fen,
            "hammer_at": rfc3339(self.hammer_at), "bid_count": self.bid_count,
        }


@dataclass(frozen=True, slots=True)
class RegistrationStatus:
    """Where a won lot's contract-registration hand-off stands (its outbox row)."""

    lot_id: int
    status: str
    attempts: int
    last_error: str
    idempotency_key: str
    delivered_at: datetime | None
    # the office's answer and the packet's version (issue 13; migration 0013)
    version: int = 1
    registration_no: str | None = None
    reason: str = ""
    answered_at: datetime | None = None
    market_code: str = ""

    def to_json(self) -> Json:
        return {
            "lot_id": self.lot_id, "status": self.status, "attempts": self.attempts,
            "last_error": self.last_error, "idempotency_key": self.idempotency_key,
            "delivered_at": rfc3339(self.delivered_at), "version": self.version,
            "shown": STATUS_SHOWN.get(self.status, self.status),
            "status_text": STATUS_WORDS.get(self.status, self.status),
            "registration_no": self.registration_no, "reason": self.reason,
            "answered_at": rfc3339(self.answered_at), "market_code": self.market_code,
        }


#: why a lot passed (流拍) or was withdrawn, in words (the room's reason codes)
PASS_REASONS = {
    "no_bids": "无人出价", "reserve_not_met": "未达保留价", "auctioneer": "拍卖师宣布流拍",
    "no_buyers": "挂牌期满无意向受让方",
}


@dataclass(frozen=True, slots=True)
class LotOutcome:
    """How a lot ended (its ``lot_results`` row), as its public page shows it: the final price
    and the buyer's paddle (never the buyer's name here), or why it passed or was withdrawn."""

    lot_id: int
    outcome: str
    reason: str
    paddle: int | None
    amount_fen: int | None
    closed_at: datetime
    bid_count: int

    def to_json(self) -> Json:
        text = PASS_REASONS.get(self.reason, self.reason)
        return {
            "outcome": self.outcome, "amount_fen": self.amount_fen, "paddle": self.paddle,
            "closed_at": rfc3339(self.closed_at), "bid_count": self.bid_count,
            "reason": self.reason, "reason_text": text if self.outcome != "sold" else "",
        }
