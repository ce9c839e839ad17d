"""Seeding through the HTTP API with the admin token (like any client; no server imports).

Contract of :func:`seed`:

- markets 370000 / 370100 / 371400 / 371425 are created, or reused when the code exists (409
  conflict → looked up with ``GET /api/v1/markets``);
- every call creates **new** sessions (names suffixed with the run time) with their lots, so a
  rerun bids again;
- bidders are created once, each with its own account, at the platform admin's desk, and reused:
  the accounts' usernames and random passwords are remembered in a small file per server in the
  temp directory (:class:`Credentials`, mode 0600), so a rerun logs in again; if a credit code
  is taken by a bidder whose password is not in that file, a per-run bidder with the same name
  and a fresh valid credit code is signed up instead;
- every bidder applies to each session with its own login, is approved, its deposit (10 % of
  the session's highest start price) is confirmed, and its own login takes its bid credential
  (the paddle and a token bound to the session) — as a real bidder does;
- each session gets an auctioneer staff token.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from auction_client import ApiError, AuctionHTTP, uscc, wan

from auction.demo.catalogue import (
    BIDDERS,
    HANDS_ON_NAME,
    MARKETS,
    PROVINCE,
    QIHE_LOTS,
    QIHE_NAME,
    SPRING_LOTS,
    SPRING_NAME,
    BidderSpec,
    LotSpec,
    MarketSpec,
)

CST = timezone(timedelta(hours=8))
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class SeededLot:
    id: int
    ordinal: int
    title: str
    start_fen: int
    increment_fen: int


@dataclass(frozen=True, slots=True)
class SeededBidder:
    bidder_id: int
    name: str
    paddle: int
    token: str


@dataclass(frozen=True, slots=True)
class SeededSession:
    id: int
    name: str
    mode: str
    lots: tuple[SeededLot, ...]
    bidders: tuple[SeededBidder, ...]
    staff_token: str


@dataclass(frozen=True, slots=True)
class SeededDemo:
    live: SeededSession
    timed: SeededSession
    hands_on: SeededSession | None = None  # run by a person from the browser console


@dataclass(frozen=True, slots=True)
class TimedRules:
    """Timed-session timings in seconds."""

    duration_s: int
    extension_window_s: int
    extension_s: int


async def ensure_markets(http: AuctionHTTP, markets: Sequence[MarketSpec] = MARKETS) -> None:
    """Create the market tree, reusing markets whose code exists (idempotent)."""
    for m in markets:
        try:
            await http.create_market(m.code, m.slug, m.name, m.level, m.parent_code)
        except ApiError as exc:
            if exc.status != 409:
                raise
            existing = {str(x["code"]) for x in await http.markets()}
            if m.code not in existing:
                raise  # the slug (not the code) clashed: a real conflict


@dataclass(frozen=True, slots=True)
class DemoBidder:
    """A demo bidder with its own login (the bid credentials come from it)."""

    bidder_id: int
    spec: BidderSpec
    account_token: str


class Credentials:
    """``spec credit code → [username, password]`` of the demo bidders' accounts, remembered per
    server in the temp directory (mode 0600), so a rerun logs in again."""

    def __init__(self, base_url: str) -> None:
        safe = "".join(c if c.isalnum() else "_" for c in base_url)
        self.path = Path(tempfile.gettempdir()) / f"auction-demo-accounts-{safe}.json"
        try:
            loaded = json.loads(self.path.read_text("utf-8"))
            self.known: dict[str, list[str]] = {
                str(k): [str(v[0]), str(v[1])] for k, v in loaded.items()
            }
        except (OSError, ValueError, AttributeError, IndexError, TypeError, KeyError):
            self.known = {}

    def save(self) -> None:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.known, handle)
        except OSError:
            pass


async def _log_in(http: AuctionHTTP, username: str, password: str) -> str | None:
    try:
        return str((await http.login(username, password))["token"])
    except ApiError as exc:
        if exc.status != 401:
            raise
        return None


async def _sign_up(http: AuctionHTTP, spec: BidderSpec, run_label: str) -> tuple[str, str]:
    """A bidder with an account, signed up at the platform admin's desk (``http`` carries the
    admin token: told the outcome, not limited per address); when the credit code is taken
    (by a bidder whose password this machine does not know), a per-run bidder with the same
    name and a fresh valid credit code. Returns its ``(username, password)``."""
    password = secrets.token_urlsafe(18)
    code = spec.uscc
    for attempt in range(2):
        username = f"demo-{code.lower()}-{secrets.token_hex(3)}"
        try:
            await http.register_bidder(spec.name, code, spec.contact, username=username,
                                       password=password)
            return username, password
        except ApiError as exc:
            if exc.status != 409 or attempt:
                raise
            code = uscc.synthetic(uscc.ENTERPRISE, spec.uscc[2:8], f"{spec.name}:{run_label}")
    raise AssertionError("unreachable")


async def ensure_bidders(
    http: AuctionHTTP, run_label: str, specs: Sequence[BidderSpec] = BIDDERS
) -> list[DemoBidder]:
    """The demo bidders, each logged in with its own account (see module docstring)."""
    known = Credentials(http.base_url)
    out: list[DemoBidder] = []
    async with AuctionHTTP(http.base_url, timeout=http.timeout) as anyone:
        for spec in specs:
            remembered = known.known.get(spec.uscc)
            token = await _log_in(anyone, *remembered) if remembered else None
            if token is None:
                username, password = await _sign_up(http, spec, run_label)
                known.known[spec.uscc] = [username, password]
                token = await _log_in(anyone, username, password)
                if token is None:
                    raise ApiError(401, "bad_credentials", f"演示竞买人 {spec.name} 无法登录")
            async with anyone.with_token(token) as own:
                me = await own.request("GET", "/api/v1/auth/me")
            out.append(DemoBidder(int(me["bidder_id"]), spec, token))
    known.save()
    return out


def _lot_body(spec: LotSpec, duration_s: int) -> dict[str, object]:
    body: dict[str, object] = {
        "title": spec.title,
        "description": spec.description,
        "result_type": spec.result_type,
        "ip_type": spec.ip_type,
        "technology_field": spec.technology_field,
        "transaction_mode": spec.transaction_mode,
        "contract_type": spec.contract_type,
        "holder_name": spec.holder.name,
        "holder_uscc": spec.holder.uscc,
        "start_price_fen": spec.start_fen,
        "increment_fen": spec.increment_fen,
    }
    if spec.reserve_fen:
        body["reserve_fen"] = spec.reserve_fen
    if spec.non_tech_fen:
        body["non_tech_fen"] = spec.non_tech_fen
    if duration_s:
        body["duration_s"] = duration_s
    return body


def session_texts(name: str, mode: str) -> dict[str, str]:
    """The demo session's 拍卖公告, 竞买须知, contact phone and deposit payee (illustrative)."""
    how = "现场举牌与网络同步竞价" if mode == "live" else "网络限时竞价 (延时规则见标的页)"
    return {
        "announcement": (
            f"{name}定于公告之日起举行, 采用{how}方式。参拍标的为高校、科研院所及企业的"
            "专利、技术秘密、软件著作权等科技成果。有意竞买者请于规定时间内报名并交纳保证金, "
            "经审核确认后取得竞买号牌。本公告所列标的以现状为准。"
        ),
        "terms": (
            "一、竞买人应具备相应民事行为能力, 企业须提交营业执照副本复印件。\n"
            "二、保证金须以竞买人名义转账至指定账户, 并在附言中注明转账参考号。\n"
            "三、出价一经确认不得撤回; 成交后竞买人应于5个工作日内签署成交确认书并付清余款, "
            "逾期视为悔拍, 保证金不予退还。\n"
            "四、未成交竞买人的保证金于本场结束后原路退还。"
        ),
        "contact_phone": "0531-8888 6666",
        "payee_name": "山东省技术市场演示中心",
        "payee_bank": "演示银行济南分行",
        "payee_account": "6222 0000 1234 5678",
    }


async def _register(
    http: AuctionHTTP, session_id: int, bidder: DemoBidder, deposit_fen: int
) -> SeededBidder:
    """The registration flow: the bidder applies with its own login, the market approves,
    finance confirms the deposit (both with the admin token ``http`` carries), and the bidder's
    own login takes its bid credential."""
    async with http.with_token(bidder.account_token) as own:
        reg = await own.register_for_session(session_id, bidder.bidder_id, agreed=True)
        await http.approve(int(reg["id"]))
        await http.confirm_deposit(int(reg["id"]), deposit_fen)
        credential = await own.bid_credential(int(reg["id"]))
    return SeededBidder(bidder.bidder_id, bidder.spec.name, int(credential["paddle"]),
                        str(credential["token"]))


async def create_session(
    http: AuctionHTTP,
    *,
    market_code: str,
    name: str,
    season: str,
    mode: str,
    lots: Sequence[LotSpec],
    bidders: Sequence[DemoBidder],
    timed: TimedRules | None = None,
) -> SeededSession:
    """One session with its lots, registered bidders (deposit paid) and an auctioneer token."""
    starts_at = datetime.now(CST).replace(microsecond=0).isoformat()
    session = await http.create_session(
        market_code,
        name,
        season,
        mode,
        starts_at,
        extension_window_s=timed.extension_window_s if timed else None,
        extension_s=timed.extension_s if timed else None,
        texts=session_texts(name, mode),
    )
    sid = int(session["id"])
    seeded_lots: list[SeededLot] = []
    for i, spec in enumerate(lots, 1):
        lot = await http.create_lot(sid, _lot_body(spec, timed.duration_s if timed else 0))
        ordinal = int(lot.get("ordinal", i))
        seeded_lots.append(
            SeededLot(int(lot["id"]), ordinal, spec.title, spec.start_fen, spec.increment_fen)
        )
    deposit = max(spec.start_fen for spec in lots) // 10
    registered = await asyncio.gather(
        *(_register(http, sid, bidder, deposit) for bidder in bidders)
    )
    staff = await http.staff_token(sid, "演示拍卖师")
    return SeededSession(
        sid, str(session.get("name", name)), mode, tuple(seeded_lots), tuple(registered), staff
    )


async def seed(
    http: AuctionHTTP,
    *,
    timed: TimedRules,
    progress: Progress,
    run_label: str | None = None,
    with_hands_on: bool = False,
) -> SeededDemo:
    """Seed one demo round (see module docstring). ``http`` carries the admin token."""
    label = run_label or datetime.now(CST).strftime("%m-%d %H:%M:%S")
    await ensure_markets(http)
    bidders = await ensure_bidders(http, label)
    live = await create_session(
        http,
        market_code=PROVINCE.code,
        name=f"{SPRING_NAME}（{label}）",
        season="spring",
        mode="live",
        lots=SPRING_LOTS,
        bidders=bidders,
    )
    qihe = await create_session(
        http,
        market_code="371425",
        name=f"{QIHE_NAME}（{label}）",
        season="special",
        mode="timed",
        lots=QIHE_LOTS,
        bidders=bidders,
        timed=timed,
    )
    hands_on = None
    if with_hands_on:
        # A small live session nobody's bot runs: the printed console link drives it, and the
        # first registered bidder is left to the person holding the printed bidder link.
        hands_on = await create_session(
            http,
            market_code="370100",
            name=f"{HANDS_ON_NAME}（{label}）",
            season="special",
            mode="live",
            lots=SPRING_LOTS[-2:],
            bidders=bidders,
        )
    deposit = wan(max(s.start_fen for s in SPRING_LOTS) // 10)
    progress(
        f"已准备: {live.name} {len(live.lots)} 件标的; {qihe.name} {len(qihe.lots)} 件标的; "
        f"{len(bidders)} 家竞买人已交保证金（{deposit}）"
    )
    return SeededDemo(live, qihe, hands_on)
