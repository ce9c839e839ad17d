"""Staff writes of the HTTP API (docs/http-api.md "Writes"): markets, sessions, lots and staff
tokens. The registration desk (approve, reject, deposit → paddle) is
:mod:`auction.api.registrations`.

Every handler authenticates the bearer token, resolves the target's market and asks
:func:`auction.api.guard.require` (docs/roles.md): the platform admin (``AUCTION_ADMIN_TOKEN`` or a
``platform_admin`` account) may do all of it; a market admin within its market and below.
Creating a lot also creates its Redis room, with the session's mode, anti-sniping window and
increment table (DESIGN §6), and sets its deposit requirement (default 10 % of the start price).
A session's increment table (``increments``, :mod:`auction.domain.increments`) is the DESIGN §6
default unless the body gives one; a session carries the texts its bidders read and agree to
(``announcement`` 拍卖公告, ``terms`` 竞买须知), a ``contact_phone``, an optional
``registration_deadline`` and the deposit payee (``payee_name``, ``payee_bank``,
``payee_account``); a lot may carry its ``appraisal_fen`` (评估价). A lot whose own increment
breaks the guideline is created with a warning in its answer, never refused.

Creating a lot pushes its eligible set into Redis after PostgreSQL committed
(:mod:`auction.rooms.eligibility`); the bid script checks it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction.accounts.cache import LotTerms
from auction.accounts.policy import Action
from auction.api import guard
from auction.api.english import asked as asks_english
from auction.api.guard import Denied
from auction.api.http_errors import MAX_FEN, BadRequest, Body, read_body
from auction.api.listing_sale import LISTING_DEADLINE_TEXT, listing_terms
from auction.api.tokens import Principal
from auction.domain import divisions, increments, lot_vocabularies
from auction.domain.deadlines import CST
from auction.domain.deposits import default_requirement
from auction.domain.errors import Rejection
from auction.domain.identity import IdentityError, validate_uscc
from auction.domain.lot import LotFormat, LotMode
from auction.domain.lot_vocabularies import Vocabularies
from auction.rooms import eligibility
from auction.services import Services
from auction.store import accounts as account_store
from auction.store import ledger
from auction.store import vocabularies as vocabulary_store
from auction.store.catalogue import SessionSchedule, SessionTexts
from auction.store.errors import Conflict, NotFound
from auction.store.records import Lot, Session

_DIVISION_CODE = re.compile(r"^[0-9]{6}$")
_SLUG = re.compile(r"^[a-z0-9-]{2,64}$")
LEVELS = ("province", "city", "county")
SEASONS = ("spring", "autumn", "special")
MODES = tuple(m.value for m in LotMode)
STAFF_ROLES = ("auctioneer",)
#: a day: longer windows or extensions are typos, not rules
MAX_WINDOW_S = 86_400
#: thirty days for one timed lot
MAX_DURATION_S = 30 * 86_400
#: 拍卖公告 and 竞买须知, each (both together stay within the 64 KiB body limit)
MAX_TEXT = 8_000
_PHONE = re.compile(r"^[0-9+()\- 转]{3,40}$")


def _services(request: Request) -> Services:
    return guard.services_of(request)


async def vocabularies_today(services: Services) -> Vocabularies:
    """The vocabularies in force today (China Standard Time), for :func:`check_lot`."""
    return await vocabulary_store.in_force(services.store, datetime.now(CST).date())


def missing(who: Principal, message: str, field: str) -> Exception:
    """A target that does not exist: 404 for the platform admin, 403 for everyone else (a
    guessed id tells nothing)."""
    if guard.is_platform_admin(who):
        return NotFound(message=message, field=field)
    return Denied("forbidden", "无权在该技术市场执行此操作")


async def session_scope(request: Request, who: Principal, action: Action) -> int:
    """Authorise ``action`` on the path's session; its id."""
    services = _services(request)
    session_id = int(request.path_params["session_id"])
    try:
        market = await guard.session_market(services, session_id)
    except NotFound:
        raise missing(who, "场次不存在", "session_id") from None
    await guard.require(services, who, action, market_id=market, session_id=session_id)
    return session_id


async def lot_scope(request: Request, who: Principal, action: Action) -> LotTerms:
    """Authorise ``action`` on the path's lot (staff only); its session and market. An unknown
    lot is refused as another market's (404 to the platform admin)."""
    services = _services(request)
    await guard.require_staff(services, who)
    lot_id = int(request.path_params["lot_id"])
    try:
        terms = await guard.lot_terms(services, lot_id)
    except Rejection:
        raise missing(who, f"标的 {lot_id} 不存在", "lot_id") from None
    await guard.require(services, who, action, market_id=terms.market_id,
                        session_id=terms.session_id)
    return terms


async def registration_scope(
    request: Request, who: Principal, action: Action
) -> tuple[int, int, int, int]:
    """Authorise ``action`` on the path's registration: ``(id, session, market, bidder)``."""
    services = _services(request)
    registration_id = int(request.path_params["registration_id"])
    found = await account_store.registration_scope(services.store, registration_id)
    if found is None:
        raise missing(who, "报名不存在", "registration_id")
    session_id, market_id, bidder_id = found
    await guard.require(
        services, who, action, market_id=market_id, session_id=session_id, bidder_id=bidder_id
    )
    return registration_id, session_id, market_id, bidder_id


def _division_code(value: str, field: str) -> str:
    if not _DIVISION_CODE.match(value):
        raise BadRequest(f"字段 {field} 应为 6 位行政区划代码", field)
    return value


async def create_market(request: Request) -> JSONResponse:
    """A top-level market needs the platform admin; a market below another needs
    ``create_market`` on its parent (a market admin of the parent or above). Once authorised,
    the code must have the level's form and lie within the parent's
    (:mod:`auction.domain.divisions`): else 400 naming ``code`` or ``parent_code``."""
    services = _services(request)
    who = await guard.principal_of(request)
    await guard.require_staff(services, who)
    body = await read_body(request)
    code = _division_code(body.text("code", max_len=6), "code")
    slug = body.text("slug", max_len=64)
    if not _SLUG.match(slug):
        raise BadRequest("字段 slug 应为 2–64 位小写字母、数字或连字符", "slug")
    name = body.text("name")
    level = body.choice("level", LEVELS)
    parent = body.optional_text("parent_code", max_len=6)
    body.done()
    above: tuple[str, str] | None = None
    if parent is None:
        if not guard.is_platform_admin(who):
            raise Denied("forbidden", "只有平台管理员可以创建顶级技术市场")
    else:
        parent = _division_code(parent, "parent_code")
        try:
            parent_market = await services.store.get_market_by_code(parent)
        except NotFound:
            raise missing(who, "上级技术市场不存在", "parent_code") from None
        await guard.require(services, who, Action.CREATE_MARKET, market_id=parent_market.id)
        above = (parent_market.code, parent_market.level)
    try:
        divisions.check_market(code, level, above)
    except divisions.DivisionError as exc:
        raise BadRequest(exc.message, exc.field) from exc
    market = await services.store.create_market(
        code=code, slug=slug, name=name, level=level, parent_code=parent
    )
    services.tokens.cache.forget_tree()
    return JSONResponse(market.to_json(), status_code=201)


def _increment_table(raw: object) -> tuple[increments.Band, ...]:
    """The body's ``increments`` (absent or null: the DESIGN §6 default; ``[]``: none), or 400
    naming the offending field (``increments[1].inc_fen``)."""
    if raw is None:
        return increments.DEFAULT_TABLE
    try:
        return increments.check(raw)
    except increments.TableError as exc:
        raise BadRequest(str(exc), exc.field) from None


def _session_texts(
    body: Body, starts_at: datetime, base: SessionTexts | None = None
) -> SessionTexts:
    """The session's 拍卖公告, 竞买须知, contact phone, registration deadline (optional, not
    after ``starts_at``) and deposit payee; all optional (absent: as in ``base``), each 400
    naming its field."""
    was = base or SessionTexts()
    phone = body.text("contact_phone", default=was.contact_phone, max_len=40, allow_empty=True)
    if phone and not _PHONE.match(phone):
        raise BadRequest("字段 contact_phone 应为电话号码 (数字, 空格, +, -, 括号, 转)",
                         "contact_phone")
    deadline = was.registration_deadline
    if body.raw("registration_deadline") is not None:
        deadline = body.timestamp("registration_deadline")
    if deadline is not None and deadline > starts_at:
        raise BadRequest("报名截止时间不能晚于场次开始时间", "registration_deadline")
    return SessionTexts(
        announcement=body.text("announcement", default=was.announcement, max_len=MAX_TEXT,
                               allow_empty=True),
        terms=body.text("terms", default=was.terms, max_len=MAX_TEXT, allow_empty=True),
        contact_phone=phone, registration_deadline=deadline,
        payee_name=body.text("payee_name", default=was.payee_name, allow_empty=True),
        payee_bank=body.text("payee_bank", default=was.payee_bank, allow_empty=True),
        payee_account=body.text("payee_account", default=was.payee_account, max_len=64,
                                allow_empty=True),
    )


#: a day between two closes at most, and a thousand extensions at most: larger is a typo
MAX_CLOSE_GAP_S = 86_400
MAX_EXTENSIONS = 1_000
#: the schedule fields of a session (docs/formats.md "Scheduling"), timed sessions only
SCHEDULE_FIELDS = ("ends_at", "close_gap_s", "max_extensions", "hard_end_at")


def _session_schedule(body: Body, mode: str, starts_at: datetime) -> SessionSchedule:
    """The timed session's schedule: ``ends_at`` (the first lot's close, after ``starts_at``;
    absent or null: its lots are opened by hand), ``close_gap_s`` (0–86400), ``max_extensions``
    (0–1000 or null: no cap) and ``hard_end_at`` (after ``starts_at`` and not before
    ``ends_at``; null: none). A live session takes none of them (400 naming the field)."""
    ends_at = body.timestamp("ends_at") if body.raw("ends_at") is not None else None
    gap = body.integer("close_gap_s", maximum=MAX_CLOSE_GAP_S, default=0)
    cap = None
    if body.raw("max_extensions") is not None:
        cap = body.integer("max_extensions", maximum=MAX_EXTENSIONS)
    hard = body.timestamp("hard_end_at") if body.raw("hard_end_at") is not None else None
    plan = SessionSchedule(ends_at=ends_at, close_gap_s=gap, max_extensions=cap,
                           hard_end_at=hard)
    if mode != LotMode.TIMED.value:
        for name in SCHEDULE_FIELDS:
            if getattr(plan, name) not in (None, 0):
                raise BadRequest(f"字段 {name} 只适用于限时竞价场次", name)
        return plan
    if ends_at is not None and ends_at <= starts_at:
        raise BadRequest("场次结束时间须晚于开始时间", "ends_at")
    if hard is not None and (hard <= starts_at or (ends_at is not None and hard < ends_at)):
        raise BadRequest("最晚结束时间须晚于开始时间且不早于场次结束时间", "hard_end_at")
    return plan


def _schedule_json(session: Session) -> dict[str, Any]:
    return {name: value for name, value in session.to_json().items()
            if name in (*SCHEDULE_FIELDS, "starts_at")}


async def update_session(request: Request) -> JSONResponse:
    """Change the texts and facts of a session (fields as at creation; absent ones stay) until
    bidding starts: once a lot of it is no longer scheduled, 409 ``bidding_started``. Bidders
    who agreed to earlier texts show ``agreed_to_current: false`` on their registration."""
    services = _services(request)
    who = await guard.principal_of(request)
    session_id = await session_scope(request, who, Action.MANAGE_SESSIONS)
    session = await services.store.get_session(session_id)
    body = await read_body(request)
    # the start and the schedule: a field not given keeps its value, null clears it
    timing = body.over(_schedule_json(session))
    for name in (*SCHEDULE_FIELDS, "starts_at"):
        body.raw(name)
    starts_at = timing.timestamp("starts_at")
    plan = _session_schedule(timing, session.mode, starts_at)
    texts = _session_texts(body, starts_at, SessionTexts(
        announcement=session.announcement, terms=session.terms,
        contact_phone=session.contact_phone, registration_deadline=session.registration_deadline,
        payee_name=session.payee_name, payee_bank=session.payee_bank,
        payee_account=session.payee_account,
    ))
    body.done()
    lots = await services.store.list_lots(session_id)
    for lot in lots:
        state = await services.rooms.room_state(lot.id)
        if lot.status != "scheduled" or (state is not None and state.status.value != "scheduled"):
            raise Conflict("bidding_started", "竞价已开始, 不能再修改场次公告和须知", "session_id")
    if texts.registration_deadline is not None and any(lot.format == "listing" for lot in lots):
        # as when a listing is created in a session with a deadline (listing_terms): buyers
        # register intent during the listing period, which a deadline would cut off
        raise BadRequest(LISTING_DEADLINE_TEXT, "format")
    await services.store.update_session_schedule(session_id, starts_at, plan)
    updated = await services.store.update_session_texts(session_id, texts)
    return JSONResponse(updated.to_json())


async def create_session(request: Request) -> JSONResponse:
    """A session of a market; ``increments`` is its increment table (see the module doc).
    ``"draft": true`` makes it a draft, public only once published
    (:mod:`auction.api.publication`); absent or false: published at once."""
    services = _services(request)
    who = await guard.principal_of(request)
    await guard.require_staff(services, who)
    body = await read_body(request)
    market_code = _division_code(body.text("market_code", max_len=6), "market_code")
    name = body.text("name")
    season = body.choice("season", SEASONS)
    mode = body.choice("mode", MODES)
    starts_at = body.timestamp("starts_at")
    window = body.integer("extension_window_s", maximum=MAX_WINDOW_S, default=300)
    extension = body.integer("extension_s", maximum=MAX_WINDOW_S, default=300)
    table = _increment_table(body.raw("increments"))
    texts = _session_texts(body, starts_at)
    plan = _session_schedule(body, mode, starts_at)
    draft = body.raw("draft")
    if draft is not None and type(draft) is not bool:
        raise BadRequest("字段 draft 应为 true 或 false", "draft")
    body.done()
    try:
        market = await services.store.get_market_by_code(market_code)
    except NotFound:
        raise missing(who, "技术市场不存在", "market_code") from None
    await guard.require(services, who, Action.MANAGE_SESSIONS, market_id=market.id)
    session = await services.store.create_session(
        market_code=market_code, name=name, season=season, mode=mode, starts_at=starts_at,
        extension_window_s=window, extension_s=extension, increments=table, texts=texts,
        draft=draft is True, schedule=plan,
    )
    return JSONResponse(session.to_json(), status_code=201)


@dataclass(frozen=True, slots=True)
class LotSpec:
    """A lot as the body of ``POST /sessions/{id}/lots`` gives it, checked (:func:`check_lot`)."""

    title: str
    result_type: str
    ip_type: str
    technology_field: str
    transaction_mode: str
    contract_type: str
    holder_name: str
    holder_uscc: str
    description: str
    start_price_fen: int
    increment_fen: int
    reserve_fen: int
    non_tech_fen: int
    duration_s: int
    deposit_fen: int
    appraisal_fen: int | None
    format: str = "english"
    revisions: int = 0
    step_fen: int = 0
    interval_s: int = 0
    floor_fen: int = 0
    free_s: int = 0
    round_s: int = 0
    preempt_window_s: int = 0
    listing_days: int | None = None  # a listing's period (auction/api/listing_sale.py) …
    listing_ends_at: datetime | None = None  # … or its end

    def lot_fields(self) -> dict[str, Any]:
        """The columns of the lot row (all but ``deposit_fen``, which the ledger sets)."""
        fields = asdict(self)
        del fields["deposit_fen"]
        return fields


def _term(body: Body, vocabularies: Vocabularies, name: str) -> str:
    """``name``'s value as the label of its vocabulary's term (label, key or alias given), or
    400 ``unknown_term`` naming the field and the value."""
    try:
        return lot_vocabularies.check(vocabularies, name, body.text(name, max_len=50))
    except lot_vocabularies.UnknownTerm as exc:
        raise BadRequest(exc.message, name, code=exc.code) from None


def check_lot(body: Body, mode: LotMode, vocabularies: Vocabularies) -> LotSpec:
    """The lot of ``body`` for a session of ``mode``, or :class:`BadRequest` naming the first
    bad field (the one check of a lot: the API's create, the lot edit and the spreadsheet
    import all use it, so a row is refused with the same message as the same body). The
    classification fields must be terms of ``vocabularies`` (the lists in force today,
    :mod:`auction.store.vocabularies`) and are stored as their Chinese labels."""
    title = body.text("title")
    result_type = _term(body, vocabularies, "result_type")
    ip_type = _term(body, vocabularies, "ip_type")
    technology_field = _term(body, vocabularies, "technology_field")
    transaction_mode = _term(body, vocabularies, "transaction_mode")
    contract_type = _term(body, vocabularies, "contract_type")
    holder_name = body.text("holder_name")
    description = body.text("description", default="", max_len=5000, allow_empty=True)
    raw_uscc = body.text("holder_uscc", max_len=40)
    start = body.integer("start_price_fen", minimum=1)
    inc = body.integer("increment_fen", minimum=1)
    reserve = body.integer("reserve_fen", default=0)
    non_tech = body.integer("non_tech_fen", default=0)
    duration = body.integer("duration_s", maximum=MAX_DURATION_S, default=0)
    deposit = body.integer("deposit_fen", maximum=MAX_FEN, default=default_requirement(start))
    appraisal = None
    if body.raw("appraisal_fen") is not None:
        appraisal = body.integer("appraisal_fen", maximum=MAX_FEN)
    terms = check_format(body, start)
    body.done()
    try:
        holder_uscc = validate_uscc(raw_uscc)
    except IdentityError as exc:
        raise BadRequest(exc.message, "holder_uscc", code=exc.code) from exc
    if mode is LotMode.TIMED and duration <= 0:
        raise BadRequest("限时竞价场次的标的须设置 duration_s (秒)", "duration_s")
    return LotSpec(
        title=title, result_type=result_type, ip_type=ip_type,
        technology_field=technology_field, transaction_mode=transaction_mode,
        contract_type=contract_type, holder_name=holder_name, holder_uscc=holder_uscc,
        description=description, start_price_fen=start, increment_fen=inc,
        reserve_fen=reserve, non_tech_fen=non_tech, duration_s=duration, deposit_fen=deposit,
        appraisal_fen=appraisal, **terms,
    )


def lot_start(body: Body, session: Session) -> datetime | None:
    """A lot's own opening time (``starts_at``, optional): timed sessions only, not before the
    session's start nor (with a schedule) at or after the session's end; 400 naming it, the
    message giving the session's times in China Standard Time (the spreadsheet import reports
    it per row)."""
    if body.raw("starts_at") is None:
        return None
    at = body.timestamp("starts_at")
    if session.mode != LotMode.TIMED.value:
        raise BadRequest("只有限时竞价场次的标的可以设置自己的开始时间", "starts_at")
    if session.ends_at is None and at < session.starts_at:
        raise BadRequest(f"标的开始时间不能早于场次开始时间 {_cst(session.starts_at)}",
                         "starts_at")
    if session.ends_at is not None and not session.starts_at <= at < session.ends_at:
        raise BadRequest(f"标的开始时间须在场次开始 ({_cst(session.starts_at)}) 与场次结束"
                         f" ({_cst(session.ends_at)}) 之间", "starts_at")
    return at


def _cst(at: datetime) -> str:
    """``2026-04-18 09:30`` (China Standard Time), as the admin pages show times."""
    return f"{at.astimezone(CST):%Y-%m-%d %H:%M}"


#: ``format`` of a lot (docs/formats.md)
FORMATS = tuple(f.value for f in LotFormat)
#: the parameters each format takes (the others take none)
_FORMAT_FIELDS = {"sealed": ("revisions",), "dutch": ("step_fen", "interval_s", "floor_fen"),
                  "rounds": ("free_s", "round_s"),
                  "listing": ("listing_days", "listing_ends_at")}
#: every field of a lot's format (fixed at creation: a PATCH refuses them)
FORMAT_FIELDS = ("format", "preempt_window_s",
                 *(n for names in _FORMAT_FIELDS.values() for n in names))
MAX_REVISIONS = 10
#: a listing's period at most, in working days (about a year)
MAX_LISTING_DAYS = 250
MAX_INTERVAL_S = 86_400


def check_format(body: Body, start: int) -> dict[str, Any]:
    """``format`` (default ``english``) and its parameters: ``revisions`` (sealed, 0–10,
    default 0); ``step_fen``, ``interval_s`` (1 s – 1 day) and ``floor_fen`` (1 … the start
    price) for dutch, all three required; ``free_s`` (1 s – 30 days) and ``round_s`` (1 s –
    1 day) for rounds, both required; ``listing_days`` (1–250 working days) or
    ``listing_ends_at`` for listing, one of them (checked against the session by
    :func:`auction.api.listing_sale.listing_terms`). A parameter of another format is refused.
    ``preempt_window_s`` (0 – 1 day, default 0): the preemption window of R10."""
    format = body.choice("format", FORMATS, default="english")
    for other, names in _FORMAT_FIELDS.items():
        for name in names:
            if other != format and body.raw(name) is not None:
                raise BadRequest(f"字段 {name} 只适用于 format: {other} 的标的", name)
    out: dict[str, Any] = {"format": format, "preempt_window_s": body.integer(
        "preempt_window_s", maximum=MAX_INTERVAL_S, default=0)}
    if format == "sealed":
        out["revisions"] = body.integer("revisions", maximum=MAX_REVISIONS, default=0)
    elif format == "dutch":
        out["step_fen"] = body.integer("step_fen", minimum=1)
        out["interval_s"] = body.integer("interval_s", minimum=1, maximum=MAX_INTERVAL_S)
        out["floor_fen"] = body.integer("floor_fen", minimum=1, maximum=start)
    elif format == "rounds":
        out["free_s"] = body.integer("free_s", minimum=1, maximum=MAX_DURATION_S)
        out["round_s"] = body.integer("round_s", minimum=1, maximum=MAX_INTERVAL_S)
    elif format == "listing":
        if body.raw("listing_days") is not None:
            out["listing_days"] = body.integer("listing_days", minimum=1,
                                               maximum=MAX_LISTING_DAYS)
        if body.raw("listing_ends_at") is not None:
            out["listing_ends_at"] = body.timestamp("listing_ends_at")
        if ("listing_days" in out) == ("listing_ends_at" in out):
            raise BadRequest("挂牌标的须给出 listing_days (挂牌期, 工作日) 或 listing_ends_at"
                             " (挂牌截止时间) 之一", "listing_days")
    return out


async def open_room(
    services: Services, session: Session, lot: Lot, deposit: int, *, english: bool = False
) -> dict[str, Any]:
    """After the lot's row committed: its room (``Rooms.init_lot`` is a no-op if it exists)
    with the session's increment table, and its eligible set; the lot's answer, with
    ``deposit_fen`` and ``warnings``."""
    await services.rooms.init_lot(
        lot.id, mode=LotMode(session.mode), start=lot.start_price_fen, inc=lot.increment_fen,
        reserve=lot.reserve_fen, session_id=session.id,
        window_ms=session.extension_window_s * 1000, ext_ms=session.extension_s * 1000,
        duration_ms=lot.duration_s * 1000, deposit_fen=deposit,
        bands=increments.to_text(session.increments), **room_format(lot),
    )
    await eligibility.push_lot(services, lot.id)
    return lot_answer(lot, deposit, english=english)


def room_format(lot: Lot) -> dict[str, Any]:
    """The room's format arguments of :meth:`auction.rooms.service.Rooms.init_lot`."""
    return {"format": LotFormat(lot.format), "revisions": lot.revisions, "step": lot.step_fen,
            "interval_ms": lot.interval_s * 1000, "floor": lot.floor_fen,
            "free_ms": lot.free_s * 1000, "round_ms": lot.round_s * 1000,
            "preempt_ms": lot.preempt_window_s * 1000}


def lot_answer(lot: Lot, deposit: int, *, english: bool = False) -> dict[str, Any]:
    """A lot as staff writes answer it: the admin's view with ``deposit_fen`` and ``warnings``
    (``[{code: "increment_guideline", message}]`` when the increment breaks the guideline; the
    message in English with ``english``: :mod:`auction.api.english`)."""
    warnings = []
    advice = increments.guideline_warning(lot.start_price_fen, lot.increment_fen,
                                          english=english)
    if advice is not None:
        warnings.append({"code": "increment_guideline", "message": advice})
    return {**lot.to_json(), "deposit_fen": deposit, "warnings": warnings}


async def create_lot(request: Request) -> JSONResponse:
    """Insert the lot, then create its room (:func:`open_room`). ``deposit_fen`` (optional) is
    the deposit a bidder must hold to bid on it. The answer carries ``warnings``:
    ``[{code: "increment_guideline", message}]`` when ``increment_fen`` breaks the DESIGN §6
    guideline for ``start_price_fen``, else ``[]``."""
    services = _services(request)
    who = await guard.principal_of(request)
    session_id = await session_scope(request, who, Action.MANAGE_SESSIONS)
    session = await services.store.get_session(session_id)
    body = await read_body(request)
    own_start = lot_start(body, session)
    spec = check_lot(body, LotMode(session.mode), await vocabularies_today(services))
    spec = listing_terms(spec, session, own_start)
    lot = await services.store.create_lot(session.id, **spec.lot_fields(), starts_at=own_start)
    await ledger.set_lot_deposit(services.store, lot.id, spec.deposit_fen)
    return JSONResponse(await open_room(services, session, lot, spec.deposit_fen,
                                        english=asks_english(request)),
                        status_code=201)


async def create_staff_token(request: Request) -> JSONResponse:
    """A token for an auctioneer, bound to this session (and its market), living
    ``AUCTION_STAFF_TOKEN_TTL_S``; disabling the account that minted it revokes it."""
    services = _services(request)
    who = await guard.principal_of(request)
    session_id = await session_scope(request, who, Action.MANAGE_SESSIONS)
    session = await services.store.get_session(session_id)
    body = await read_body(request)
    role = body.choice("role", STAFF_ROLES, default="auctioneer")
    name = body.text("name", max_len=64)
    body.done()
    # minted_by: the token dies with the account that minted it (disabled: revoked)
    token = services.tokens.mint(Principal(
        role=role, subject=name, session_id=session.id, market_id=session.market_id,
        minted_by=who.account_id,
    ))
    return JSONResponse({"token": token, "role": role, "session_id": session.id})


routes: list[BaseRoute] = [
    Route("/api/v1/markets", create_market, methods=["POST"]),
    Route("/api/v1/sessions", create_session, methods=["POST"]),
    Route("/api/v1/sessions/{session_id:int}", update_session, methods=["PATCH"]),
    Route("/api/v1/sessions/{session_id:int}/lots", create_lot, methods=["POST"]),
    Route(
        "/api/v1/sessions/{session_id:int}/staff-tokens", create_staff_token, methods=["POST"]
    ),
]
