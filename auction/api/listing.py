"""The public catalogue and the 成交公示 (docs/http-api.md "Catalogue and 成交公示").

``GET /api/v1/listing`` lists lots across sessions and markets with filters, a search box and
pages; each lot carries its market's name, its session's name and mode, and the price a person
should see under a labelled column (``price_label``: 起拍价 / 当前价 / 成交价 / 流拍 / 撤拍):
the room's standing high while it is open, the hammer price once sold, never the start price
beside a sale. The rooms in Redis are ahead of the catalogue (a lot opened or hammered a moment
ago): a lot's ``status``, price and ``ends_at`` come from its room when there is one. With Redis
away the catalogue answers alone and says so (``rooms: "unavailable"``).

``GET /api/v1/publicity`` is what 成交公示 publishes (:mod:`auction.domain.publicity`): each sold
lot's 受让方 (an enterprise's name; a natural person's masked), paddle, price, hammer time, the
公示期 (opened at settlement, for the market's notice period in working days: its dates and
whether it still runs by the server's clock, :mod:`auction.api.notices`) and the objection
channel; passed and withdrawn lots in lists of their own with reasons. A sold lot names its
``deal``: ``auction``, or ``agreement`` for a listing's one buyer (协议成交), published under
``notice_title`` 协议成交公示. A listing (挂牌) in the catalogue carries ``format: "listing"`` and
``listing`` (:func:`auction.api.listing_sale.listing_json`: its period and the number of
qualified buyers, never who).

Malformed filters are 400 naming the query parameter. ``/api/v1/results`` is unchanged.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime
from typing import Any

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction import outage
from auction.api import guard
from auction.api.http_errors import BadRequest, query_int
from auction.api.listing_sale import listing_json
from auction.api.notices import period
from auction.api.payments import server_day
from auction.domain.deadlines import DEFAULT_NOTICE_WORKING_DAYS
from auction.domain.listing_sale import DEAL_LABELS, NOTICE_TITLES, deal_of
from auction.domain.lot import LotStatus
from auction.domain.publicity import OBJECTION_TEXT, mask_person, pass_reason_text
from auction.services import Services
from auction.store import chain as store_chain
from auction.store import listing as store_listing
from auction.store.listing import MAX_LIMIT, ListingFilter, ListingRow, PublicityRow
from auction.store.notices import Notice
from auction.store.records import rfc3339

SEASONS = ("spring", "autumn", "special")
STATUSES = tuple(status.value for status in LotStatus)
#: the longest search text and technology field accepted
MAX_Q = 100
MAX_FIELD = 64
MAX_PAGE = 10_000
DEFAULT_LIMIT = 20
#: ``bidders.kind`` of a natural person (migration 0007)
PERSON_KINDS = frozenset({"person"})

_CODE = re.compile(r"[0-9]{6}")


def _market(request: Request) -> str | None:
    raw = request.query_params.get("market", "").strip()
    if not raw:
        return None
    if not _CODE.fullmatch(raw):
        raise BadRequest("查询参数 market 应为 6 位行政区划代码", "market")
    return raw


def _choice(request: Request, name: str, allowed: tuple[str, ...]) -> str | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    if raw not in allowed:
        raise BadRequest(f"查询参数 {name} 应为 {' / '.join(allowed)} 之一", name)
    return raw


def _text(request: Request, name: str, limit: int) -> str | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    if len(raw) > limit:
        raise BadRequest(f"查询参数 {name} 不能超过 {limit} 个字符", name)
    return raw


def _bounded(request: Request, name: str, default: int, top: int) -> int:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6 or not 1 <= int(raw) <= top:
        raise BadRequest(f"查询参数 {name} 应为 1 到 {top} 之间的整数", name)
    return int(raw)


def _filters(request: Request) -> ListingFilter:
    limit = _bounded(request, "limit", DEFAULT_LIMIT, MAX_LIMIT)
    page = _bounded(request, "page", 1, MAX_PAGE)
    return ListingFilter(
        market=_market(request), status=_choice(request, "status", STATUSES),
        season=_choice(request, "season", SEASONS), field=_text(request, "field", MAX_FIELD),
        q=_text(request, "q", MAX_Q), session=query_int(request, "session"),
        limit=limit, offset=(page - 1) * limit,
    )


async def _rooms(services: Services, lot_ids: list[int]) -> dict[int, dict[str, Any]] | None:
    """Public room state per lot that has a room; ``None`` when Redis does not answer."""
    try:
        snapshots = await asyncio.gather(*(services.rooms.snapshot(lot) for lot in lot_ids))
    except (RedisError, OSError) as exc:
        outage.REDIS.failed(exc, where="listing")
        return None
    outage.REDIS.ok()
    return {snap.lot_id: snap.state for snap in snapshots if snap is not None}


def _ms(value: Any) -> str | None:
    ms = int(value or 0)
    return rfc3339(datetime.fromtimestamp(ms / 1000, tz=UTC)) if ms > 0 else None


def _price(row: ListingRow, room: dict[str, Any] | None, rooms_read: bool) -> dict[str, Any]:
    """status, the labelled price, the final price and paddle, ``ends_at`` (timed lots)."""
    status = str(room["status"]) if room and room.get("status") in STATUSES else row.status
    current: int | None = None
    final: int | None = None
    paddle: int | None = None
    bids = int(room.get("bids") or 0) if room else None
    if status == "scheduled":
        current, label = row.start_price_fen, "起拍价"
    elif status == "open":
        label = "当前价"
        if room is not None:
            current = int(room.get("high") or 0) if bids else int(room.get("start") or 0)
            if not bids:
                label = "起拍价"
        elif not rooms_read:
            current = None  # the room could not be read: no price is better than a stale one
        else:
            current, label = row.start_price_fen, "起拍价"
    elif status == "sold":
        label = "成交价"
        if room is not None and room.get("status") == "sold":
            final, paddle = int(room.get("high") or 0), int(room.get("paddle") or 0) or None
        else:
            final, paddle = row.result_fen, row.result_paddle
    else:
        label = "流拍" if status == "passed" else "撤拍"
    ends_at: str | None = None
    if row.mode == "timed":
        if room is not None and int(room.get("ends_at") or 0) > 0 and status == "open":
            ends_at = _ms(room["ends_at"])
        elif status in ("sold", "passed", "withdrawn"):
            ends_at = (_ms(room.get("closed_at")) if room is not None else None) or rfc3339(
                row.closed_at)
    reason = None
    if status == "passed" and row.outcome == "passed":
        reason = row.result_reason or None
    return {
        "status": status, "price_label": label, "current_fen": current, "final_fen": final,
        "price_fen": final if status == "sold" else current, "final_paddle": paddle,
        "bids": bids, "ends_at": ends_at, "pass_reason": reason,
        "pass_reason_text": pass_reason_text(reason) if reason else None,
    }


def _lot(row: ListingRow, room: dict[str, Any] | None, rooms_read: bool) -> dict[str, Any]:
    return {
        "id": row.id, "session_id": row.session_id, "ordinal": row.ordinal, "title": row.title,
        "result_type": row.result_type, "ip_type": row.ip_type,
        "technology_field": row.technology_field, "transaction_mode": row.transaction_mode,
        "contract_type": row.contract_type, "holder_name": row.holder_name,
        "start_price_fen": row.start_price_fen, "increment_fen": row.increment_fen,
        "deposit_fen": row.deposit_fen, "duration_s": row.duration_s,
        "market": {"code": row.market_code, "name": row.market_name},
        "session": {"id": row.session_id, "name": row.session_name, "mode": row.mode,
                    "season": row.season, "starts_at": rfc3339(row.starts_at)},
        **_price(row, room, rooms_read),
    }


async def get_listing(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    f = _filters(request)
    rows, total = await store_listing.listing(services.store, f)
    rooms = await _rooms(services, [row.id for row in rows]) if rows else {}
    read = rooms is not None
    listed = await services.store.get_lots([row.id for row in rows if row.format == "listing"])
    listings = await listing_json(services, listed, {r.session_id: r.starts_at for r in rows})
    lots = [_lot(row, (rooms or {}).get(row.id), read) for row in rows]
    for lot in lots:  # a listing (挂牌): its period and number of qualified buyers
        if lot["id"] in listings:
            lot.update(format="listing", listing=listings[lot["id"]])
    return JSONResponse({
        "lots": lots,
        "page": f.offset // f.limit + 1, "limit": f.limit, "total": total,
        "rooms": "ok" if read else "unavailable",
        "fields": await store_listing.technology_fields(services.store),
    })


def _objection(row: PublicityRow) -> dict[str, Any]:
    text = OBJECTION_TEXT.format(market=row.market_name)
    if row.objection_contact:
        text += f"异议联系方式：{row.objection_contact}。"
    elif row.contact_phone:
        text += f"联系电话：{row.contact_phone}。"
    return {"market": row.market_name, "phone": row.contact_phone,
            "contact": row.objection_contact or None, "text": text}


def _buyer(row: PublicityRow) -> dict[str, Any]:
    person = row.buyer_kind in PERSON_KINDS
    name = row.buyer_name or ""
    return {"kind": "person" if person else "enterprise",
            "name": mask_person(name) if person else name}


def _base(row: PublicityRow) -> dict[str, Any]:
    return {
        "lot_id": row.lot_id, "session_id": row.session_id, "session_name": row.session_name,
        "ordinal": row.ordinal, "title": row.title,
        "market": {"code": row.market_code, "name": row.market_name},
    }


def _sold(row: PublicityRow, today: date) -> dict[str, Any]:
    # a lot settled before migration 0014 opened notices: its settlement's hammer time
    notice = Notice(
        lot_id=row.lot_id, session_id=row.session_id, market_id=row.market_id,
        opened_at=row.notice_opened_at or row.closed_at,
        working_days=row.notice_days or DEFAULT_NOTICE_WORKING_DAYS,
    )
    deal = deal_of(row.listing_outcome)
    return {
        **_base(row), "deal": deal, "deal_text": DEAL_LABELS[deal],
        "notice_title": NOTICE_TITLES[deal],
        "buyer": _buyer(row), "paddle": row.paddle, "amount_fen": row.amount_fen,
        "hammer_at": rfc3339(row.closed_at), "bid_count": row.bid_count,
        "publicity": period(notice, today), "defaulted": row.defaulted,
        "objection": _objection(row),
    }


def _closed(row: PublicityRow) -> dict[str, Any]:
    reason = row.reason or ("withdrawn" if row.outcome == "withdrawn" else "")
    text = "撤拍" + (f"：{row.reason}" if row.reason else "") if row.outcome == "withdrawn" \
        else pass_reason_text(reason)
    return {**_base(row), "closed_at": rfc3339(row.closed_at), "bid_count": row.bid_count,
            "reason": reason, "reason_text": text}


async def get_publicity(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    market = _market(request)
    session = query_int(request, "session")
    rows = await store_listing.publicity(services.store, market=market, session=session)
    today = server_day()
    names = {r.session_id: r.session_name for r in rows}
    heads = await store_chain.session_heads(services.store, sorted(names))
    return JSONResponse({
        "today": today.isoformat(),
        "sold": [_sold(r, today) for r in rows if r.outcome == "sold"],
        "passed": [_closed(r) for r in rows if r.outcome == "passed"],
        "withdrawn": [_closed(r) for r in rows if r.outcome == "withdrawn"],
        # the head of each finished session's chained record (docs/formats.md); null until
        # every lot of the session is settled
        "sessions": [{"session_id": sid, "session_name": names[sid],
                      "head_sha256": heads.get(sid)} for sid in sorted(names)],
    })


routes: list[BaseRoute] = [
    Route("/api/v1/listing", get_listing, methods=["GET"]),
    Route("/api/v1/publicity", get_publicity, methods=["GET"]),
]
