"""Console commands (开拍 / 落槌 / 流拍 / 警告 / 公告 / 暂停 / 继续 / 撤拍) and bids, shared by the
websocket and HTTP handlers.

Authorisation lives here, once, through :mod:`auction.api.guard`:

- a bid needs a bid credential within the per-bidder and per-address rate limits (counted in
  this process's memory, at the door), of the lot's session (the session is the room's, read
  from Redis once) and not revoked (checked in Redis for every bid, one ``MGET`` per batch of
  a lot's bids: :func:`vet_bids`); the bid script then checks, atomically with the bid,
  that the bidder is eligible for the lot (a confirmed deposit covering it, pushed from
  PostgreSQL: ``deposit_required`` otherwise). The bid path reads nothing from PostgreSQL, so
  bidding goes on while PostgreSQL is away (issue 8);
- a command needs ``run_console`` on the lot's market (the platform admin, a market admin of
  that market or above, an auctioneer of that market; a session-bound auctioneer token runs its
  session only), then the per-staff rate limit.

A lot that does not exist is refused exactly like one the caller may not touch (docs/roles.md:
guessed ids tell nothing): a bid with ``forbidden`` and :data:`NOT_YOURS_TO_BID`, a command with
``forbidden`` and :data:`NOT_YOURS_TO_RUN`, over the socket and over HTTP alike. Only the
platform admin, who may touch every lot, is told ``unknown_lot``.

A lot of a draft session is never opened (``open``, ``next``: ``not_published``,
:mod:`auction.api.publication`). The rules themselves are in the Lua scripts. Opening a lot
moves the session's confirmed deposits to ``held`` (bidding has started) and pushes the
session's eligibility again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from auction.accounts import limits, revocation
from auction.accounts.policy import Action
from auction.api import guard, publication
from auction.api.guard import Denied
from auction.api.http_errors import BadRequest, read_body
from auction.api.tokens import Principal, TokenError, account_keys, check_revoked
from auction.domain import schedule
from auction.domain.errors import Rejection
from auction.rooms import eligibility
from auction.rooms.lanes import QueuedBid, Reply
from auction.rooms.service import Accepted
from auction.services import Services
from auction.store import ledger, registrations
from auction.store.errors import StoreError
from auction.wire.codec import COMMAND_OPS, MAX_KEY_LEN, ArgError, command_arg

__all__ = ["Denied", "run_command", "submit_bid", "vet_bids"]

log = logging.getLogger("auction.api.console")

#: the refusal of a bid on a lot of another session, or on no lot at all
NOT_YOURS_TO_BID = "您不能对该标的出价 (不是该场次的竞买人)"
#: the refusal of a command on a lot outside the caller's markets, or on no lot at all: the
#: words of :func:`auction.api.guard.require`, so both read the same
NOT_YOURS_TO_RUN = "无权在该技术市场执行此操作"


def submit_bid(
    services: Services, who: Principal, lot: int, amount: int, key: str, reply: Reply
) -> None:
    """Queue ``who``'s bid behind the lot's earlier ones, at once (synchronous: the order of
    calls is the order ``bid.lua`` sees; :mod:`auction.rooms.lanes`); ``reply`` gets the
    answer (:class:`Accepted` or the refusal). Checked here, in memory:
    a bidder's token, the per-bidder and per-address limits (:class:`Denied`). Checked with the
    bid's batch (:func:`vet_bids`): the credential is of the lot's session and not revoked.
    Then ``bid.lua``: Redis only, no PostgreSQL."""
    if who.role == "viewer":
        raise Denied("unauthorized", "请先登录竞买人账号")
    _count_bid(services, who)
    services.rooms.lanes.enqueue(
        lot, reply, bidder=who.bidder_id, paddle=who.paddle, amount=amount,
        idem=f"b{who.bidder_id}:{key}", credential=who,
    )


def _count_bid(services: Services, who: Principal) -> None:
    try:
        services.bid_limits.check((limits.BID_PER_BIDDER, str(who.bidder_id)),
                                  (limits.BID_PER_ADDRESS, who.address))
    except limits.RateLimited as exc:
        raise Denied(exc.code, exc.message, retry_after_ms=exc.retry_after_ms) from exc


async def vet_bids(
    services: Services, lot: int, batch: Sequence[QueuedBid]
) -> list[BaseException | None]:
    """The checks of a batch of bids on ``lot`` before its script calls: each credential is of
    the lot's session (the room's, cached: no PostgreSQL) and not revoked since the socket's
    ``hello`` (one ``MGET`` for the whole batch, in the round trip the busy lanes share). Bids
    without a credential (staff's floor bids, checked before) pass."""
    try:
        session = await services.rooms.session_of(lot)
    except Rejection:
        session = 0
    out: list[BaseException | None] = [None] * len(batch)
    asked: list[int] = []
    names: list[revocation.TokenNames] = []
    for i, bid in enumerate(batch):
        who = bid.credential
        if not isinstance(who, Principal):
            continue
        if not who.may_bid(session):
            out[i] = Denied("forbidden", NOT_YOURS_TO_BID)
        elif who.jti:
            asked.append(i)
            names.append((who.jti, who.accounts, who.registration_id, who.issued_at))
    if names:
        revoked = await revocation.revoked_many(services.redis, account_keys(services),
                                                names, services.rooms.lanes.execute)
        for i, gone in zip(asked, revoked, strict=True):
            if gone:
                out[i] = Denied("unauthorized", "竞买凭证已失效")
    return out


async def _bidder_on(services: Services, who: Principal, lot: int) -> None:
    """The checks of a bid for ``proxy`` and ``accept`` (awaited, one at a time): a bid
    credential of the lot's session, not revoked, within the (in-process) bid limits."""
    if who.role == "viewer":
        raise Denied("unauthorized", "请先登录竞买人账号")
    try:
        session = await services.rooms.session_of(lot)
    except Rejection:
        session = 0
    if not who.may_bid(session):
        raise Denied("forbidden", NOT_YOURS_TO_BID)
    try:
        await check_revoked(services, who)
    except TokenError as exc:
        raise Denied("unauthorized", "竞买凭证已失效") from exc
    _count_bid(services, who)


async def place_proxy(
    services: Services, who: Principal, lot: int, maximum: int, key: str
) -> Accepted:
    """``proxy``: the checks of a bid, then ``proxy.lua`` (P1–P4 of docs/formats.md)."""
    await _bidder_on(services, who, lot)
    return await services.rooms.proxy(
        lot, bidder=who.bidder_id, paddle=who.paddle, maximum=maximum,
        idem=f"p{who.bidder_id}:{key}",
    )


async def accept_price(services: Services, who: Principal, lot: int, key: str) -> Accepted:
    """``accept``: the checks of a bid, then ``accept.lua`` (D3)."""
    await _bidder_on(services, who, lot)
    return await services.rooms.accept(
        lot, bidder=who.bidder_id, paddle=who.paddle, idem=f"a{who.bidder_id}:{key}")


#: ops decided by command.lua (the others: open.lua, close.lua, bid.lua for floor)
ROOM_COMMANDS = frozenset({"warn", "announce", "pause", "resume", "withdraw", "undo",
                           "increment"})


async def run_command(
    services: Services, who: Principal, lot: int, op: str, key: str, arg: str = ""
) -> Accepted:
    """``op`` with its one argument ``arg`` (checked by :func:`auction.wire.codec.command_arg`).
    The key's stored answer is fingerprinted with the op and the argument, so the same key with
    another op or argument is ``idempotency_conflict``."""
    if who.role == "viewer":
        raise Denied("unauthorized", "需要拍卖师或管理员身份")
    try:
        terms = await guard.lot_terms(services, lot)
    except Rejection:  # unknown_lot
        if guard.is_platform_admin(who):
            raise
        raise Denied("forbidden", NOT_YOURS_TO_RUN) from None
    session = terms.session_id
    if who.role != "admin":
        await guard.require(
            services, who, Action.RUN_CONSOLE, market_id=terms.market_id, session_id=session
        )
    await guard.check_command_limits(services, who)
    idem = f"s{who.role}:{who.account_id or who.subject}:{key}"
    if op in ("open", "next"):
        await publication.check_open(services, session)
    if op == "open":
        plan = await _schedule(services, session, lot)
        result = await services.rooms.open(lot, idem=idem, **_plan_args(plan.get(lot)))
        if not result.replay:
            await _opened(services, session, lot)
        return result
    if op == "next":
        # the named lot only says which session; its lots in running order (lots.ordinal)
        lots = [found.id for found in await services.store.list_lots(session)]
        plan = await _schedule(services, session, None)
        opened, result = await services.rooms.open_next(lots, idem=f"{idem}:next", plan=plan)
        if not result.replay:
            await _opened(services, session, opened)
        return dataclasses.replace(result, lot=opened)
    if op == "floor":
        paddle_text, amount_text, source = arg.split(":")
        bidder = await registrations.bidder_of_paddle(services.store, session, int(paddle_text))
        if bidder is None:
            raise Rejection("unknown_paddle", f"本场次没有 {paddle_text} 号竞买号牌")
        return await services.rooms.bid(
            lot, bidder=bidder, paddle=int(paddle_text), amount=int(amount_text), idem=idem,
            source=source,
        )
    if op == "reopen":
        await _require_no_later_lot(services, session, lot)
        window_ms = services.settings.reopen_window_s * 1000
        return await services.rooms.command(lot, op, str(window_ms), idem=idem)
    if op in ROOM_COMMANDS:
        return await services.rooms.command(lot, op, arg, idem=idem)
    return await services.rooms.close(lot, op, idem=idem)


async def _schedule(
    services: Services, session_id: int, lot_id: int | None
) -> dict[int, tuple[int, int, int]]:
    """The opening rule and the plan of the session's timed lots (issue 15): ``not_yet`` before
    the lot's time (:func:`auction.domain.schedule.check_open`: ``lot_id``'s own start, or the
    session's for ``next``); each timed lot's ``(close, cap on extensions, hard end)`` when the
    session has a schedule (its close: its place in the running order), for ``open.lua``."""
    session = await services.store.get_session(session_id)
    lots = await services.store.list_lots(session_id)
    own = next((found.starts_at for found in lots if found.id == lot_id), None)
    schedule.check_open(datetime.now(UTC), mode=session.mode,
                        session_starts_at=session.starts_at, lot_starts_at=own)
    if session.mode != "timed":
        return {}
    cap = -1 if session.max_extensions is None else session.max_extensions
    hard = schedule.ms(session.hard_end_at)
    plan: dict[int, tuple[int, int, int]] = {}
    for rank, found in enumerate(lots):
        closes = 0
        if session.ends_at is not None:
            closes = schedule.close_at(session.ends_at, session.close_gap_s, rank,
                                       session.hard_end_at)
        plan[found.id] = (closes, cap, hard)
    return plan


def _plan_args(planned: tuple[int, int, int] | None) -> dict[str, int]:
    ends_at, max_ext, hard_end = planned or (0, -1, 0)
    return {"ends_at": ends_at, "max_ext": max_ext, "hard_end": hard_end}


async def _require_no_later_lot(services: Services, session: int, lot: int) -> None:
    """C5's cross-lot half: a lot may be reopened only while no other lot of its session was
    opened after it closed (the lots live in other Redis slots: read here, not in the script).
    An open that races this reopen finalizes the lot (:func:`_opened`), which the script sees."""
    mine = await services.rooms.room_state(lot)
    if mine is None or not mine.closed_at:
        return  # not closed: the script answers
    for other in await services.store.list_lots(session):
        if other.id == lot:
            continue
        state = await services.rooms.room_state(other.id)
        if state is not None and state.opened_at >= mine.closed_at:
            raise Rejection("wrong_state", "本场次已开拍下一件标的, 不能重新开拍")


async def _opened(services: Services, session: int, lot: int) -> None:
    """A lot was opened: the session's other closed lots are final (C9: no reopen once the
    sale moved on), and its confirmed deposits become ``held`` (bidding started)."""
    for other in await services.store.list_lots(session):
        if other.id != lot:
            with contextlib.suppress(Rejection):  # not closed, or no room: nothing to do
                await services.rooms.finalize(other.id, 0)
    await _hold(services, session, lot)


async def _hold(services: Services, session: int, lot: int) -> None:
    """The session's confirmed deposits become ``held`` (bidding started)."""
    try:
        await ledger.hold_session(services.store, session, actor=f"open:{lot}")
    except StoreError as exc:
        # the lot is open either way; settling the session holds what is left, and
        # the resync loop pushes the session's eligibility once PostgreSQL answers
        log.warning("could not hold the deposits of session %s (%s)", session, exc.code)
    else:
        # held deposits still cover; this push catches up one that failed earlier
        await eligibility.push_session(services, session)


def accepted_json(lot: int, result: Accepted) -> dict[str, Any]:
    """The HTTP answer; ``lot_id`` is the lot acted on (for ``next``, the lot it opened)."""
    return {
        "lot_id": result.lot or lot, "seq": result.seq, "at": result.at,
        "ends_at_ms": result.ends_at, "outcome": result.outcome, "replay": result.replay,
    }


async def command_endpoint(request: Request) -> JSONResponse:
    """POST /api/v1/lots/{id}/commands {op, args?, key}: the console over HTTP."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    if request.client is not None:
        who = dataclasses.replace(who, address=request.client.host)
    body = await read_body(request)
    op = body.choice("op", COMMAND_OPS)
    key = body.text("key", max_len=MAX_KEY_LEN)
    raw_args = body.raw("args")
    body.done()
    try:
        arg = command_arg(op, raw_args)
    except ArgError as exc:
        raise BadRequest(exc.message, exc.field) from None
    lot = int(request.path_params["lot_id"])
    result = await run_command(services, who, lot, op, key, arg)
    return JSONResponse(accepted_json(lot, result))


routes = [Route("/api/v1/lots/{lot_id:int}/commands", command_endpoint, methods=["POST"])]
