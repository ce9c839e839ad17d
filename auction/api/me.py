"""我的竞拍: ``GET /api/v1/me/auction``, the logged-in bidder's own page (docs/http-api.md
"My auction").

The caller is found as ``GET /registrations/mine`` finds it: a bidder account's own login (its
enterprise, ``bidder_id``); an agent's account sees only the session of the registration it is
bound to. Anything else is 401 / 403.

- ``registrations``: every registration with its status (and in words), paddle, reason.
- ``deposits``: every deposit with its state (``required`` 待交, ``confirmed`` 已到账, ``held``
  冻结, ``released`` 已退还, ``applied`` 转为价款, ``forfeited`` 已没收).
- ``bidding``: each lot of its sessions it bid on (or leads), with its highest standing bid and
  ``leading`` (领先 / 出局): while the lot's room is open, from the room in Redis (the room is
  ahead of the journal); once closed, from the result (the winner leads). With Redis away the
  journal answers alone and ``rooms`` says ``unavailable``.
- ``won``: lots it won, with the amount, the hammer time, its contract ``registration``
  (status, ``status_text`` 待登记 / 已登记 / 未予登记, ``registration_no``, ``reason``) and what
  comes next from the lot's real state — the balance and its due date, the registration, the
  成交公示 (:mod:`auction.domain.next_step`): ``next_step`` (Chinese), ``next_step_en``,
  ``next_step_code``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction import outage
from auction.api import guard
from auction.api.guard import Denied
from auction.domain import deadlines
from auction.domain.lot import LotStatus
from auction.domain.next_step import WonLot, next_step
from auction.domain.room import RoomState
from auction.services import Services
from auction.store import accounts as account_store
from auction.store import answers, deals, notices
from auction.store import mine as mine_store
from auction.store.records import rfc3339
from auction.store.registrations import STATUS_WORDS

DEPOSIT_WORDS = {
    "required": "待交纳", "confirmed": "已到账", "held": "已冻结", "released": "已退还",
    "applied": "已转为价款", "forfeited": "已没收",
}


async def _rooms(services: Services, lot_ids: list[int]) -> dict[int, RoomState] | None:
    """The rooms of the lots (absent: no room), or ``None`` when Redis does not answer."""
    found: dict[int, RoomState] = {}
    try:
        for lot_id in lot_ids:
            state = await services.rooms.room_state(lot_id)
            if state is not None:
                found[lot_id] = state
    except (RedisError, OSError) as exc:
        outage.REDIS.failed(exc, where="me")
        return None
    outage.REDIS.ok()
    return found


def _bid_line(line: mine_store.BidLine, room: RoomState | None, bidder_id: int) -> dict[str, Any]:
    live = room is not None and room.status in (LotStatus.OPEN, LotStatus.SCHEDULED)
    high = line.my_high_fen
    if live and room is not None:
        leading = room.bids > 0 and room.leader == bidder_id
        if leading:  # the room may hold a bid of ours the journal has not drained yet
            high = max(high or 0, room.high)
        status, current = room.status.value, room.high if room.bids > 0 else None
    else:
        leading = line.outcome == "sold" and line.winner_id == bidder_id
        status = line.outcome or (room.status.value if room is not None else line.status)
        current = line.final_fen if line.outcome == "sold" else None
    if live:
        standing = "领先" if leading else "出局"
    elif line.outcome is None:
        standing = "未知"  # not settled and no room to ask (Redis away): say nothing false
    else:
        standing = "成交" if leading else "未得"
    return {
        "lot_id": line.lot_id, "session_id": line.session_id, "ordinal": line.ordinal,
        "title": line.title, "status": status, "my_high_fen": high, "my_bids": line.my_bids,
        "last_bid_at": rfc3339(line.last_bid_at), "current_fen": current, "leading": leading,
        "standing": standing,
    }


async def _with_next_steps(
    services: Services, won: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each won lot with its contract registration (待登记 / 已登记 + number / 未予登记 +
    reason; ``void`` (不予办理) once the buyer defaulted before it was registered; ``null``
    before its hand-off is queued) and its next step."""
    found = await answers.views(services.store, [int(w["lot_id"]) for w in won])
    today = deadlines.day_in_china(datetime.now(UTC))  # as auction.api.payments.server_day
    for w in won:
        lot_id = int(w["lot_id"])
        view = found.get(lot_id)
        w["registration"] = view.to_json() if view is not None else None
        w.update(next_step=None, next_step_en=None, next_step_code=None)
        sale = await deals.sale(services.store, lot_id)
        notice = await notices.notice(services.store, lot_id)
        if sale is None:  # the sold result is what put it in ``won``: not expected
            continue
        shown = w["registration"]["shown"] if view is not None else None
        if sale.account.defaulted and shown in ("pending", "dead"):
            # a contract the buyer defaulted on (悔拍) is not going to be registered: saying
            # 待登记 would be a lie (the office's own answer, if one comes, still shows)
            shown = "void"
            w["registration"] = {**w["registration"], "shown": "void"}
        step = next_step(WonLot(
            payment=sale.account.status(today), open_fen=sale.account.open_fen,
            due_on=sale.account.due_on, registration=shown,
            registration_no=view.registration_no if view is not None else None,
            reason=view.reason if view is not None else "",
            notice_ends=(deadlines.notice_ends(notice.opened_at, notice.working_days)
                         if notice is not None else None),
        ), today)
        w.update(next_step=step.zh, next_step_en=step.en, next_step_code=step.code)
    return won


async def my_auction(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    if who.role != "bidder" or not who.is_own_login:
        raise Denied("forbidden", "只有竞买人本人的登录令牌可以查看")
    account = await account_store.get_account(services.store, who.account_id)
    session_id = None
    if account.registration_id is not None:  # an agent: its one registration's session
        registration = await services.store.get_registration(account.registration_id)
        session_id = registration.session_id
    mine = await mine_store.of_bidder(services.store, who.bidder_id, session_id)
    live_ids = [line.lot_id for line in mine.bids if line.outcome is None]
    rooms = await _rooms(services, live_ids)
    bidding = [
        _bid_line(line, (rooms or {}).get(line.lot_id), who.bidder_id) for line in mine.bids
    ]
    # an open lot of our sessions we neither bid on nor lead is not "ours"
    bidding = [b for b in bidding if b["my_bids"] or b["leading"]]
    return JSONResponse({
        "bidder_id": who.bidder_id,
        "registrations": [
            {**r, "status_text": STATUS_WORDS.get(r["status"], r["status"])}
            for r in mine.registrations
        ],
        "deposits": [
            {**d, "state_text": DEPOSIT_WORDS.get(d["state"], d["state"])} for d in mine.deposits
        ],
        "bidding": bidding,
        "won": await _with_next_steps(services, [
            {**w, "hammer_at": w.pop("closed_at")} for w in mine.won
        ]),
        "rooms": "ok" if rooms is not None else "unavailable",
    })


routes: list[BaseRoute] = [Route("/api/v1/me/auction", my_auction, methods=["GET"])]
