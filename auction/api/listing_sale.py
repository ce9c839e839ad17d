"""Listings (挂牌) over HTTP (issue 15 item 4; docs/http-api.md "Listings"): the checks a
listing's terms get against its session when it is created or relisted, and what the public
sees of a listing — its period, its price and the number of qualified buyers (意向受让方),
never who they are.

A listing (``format: "listing"``) is a lot of a **timed** session without a registration
deadline (400 ``format`` otherwise: buyers register intent during the period),
without a reserve (400 ``reserve_fen``: the listing price is what the seller accepts). Its
period starts at its opening time (``starts_at`` of the lot, else of the session) and ends at
``listing_ends_at`` — given (after the start), or ``listing_days`` working days later
(:func:`auction.domain.deadlines.listing_ends`) — before the session's hard end if it has one
(400 ``listing_ends_at``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from auction.api.http_errors import BadRequest
from auction.domain import deadlines
from auction.domain.lot import LotMode
from auction.rooms import eligibility
from auction.store import listing_sale as store_listing_sale
from auction.store.records import Lot, Session, rfc3339

if TYPE_CHECKING:
    from auction.api.admin import LotSpec
    from auction.services import Services

#: a listing's end at most this far after its start
MAX_LISTING = timedelta(days=400)
#: why a listing and a registration deadline do not go together (400 ``format``, on creating
#: the listing and on giving its session a deadline)
LISTING_DEADLINE_TEXT = "挂牌标的所在场次不能设报名截止时间: 意向受让方在挂牌期内报名"


def listing_terms(spec: LotSpec, session: Session, own_start: datetime | None) -> LotSpec:
    """``spec`` with its listing's end worked out (unchanged for another format), or
    :class:`BadRequest` naming the field (module docstring)."""
    if spec.format != "listing":
        return spec
    if session.mode != LotMode.TIMED.value:
        raise BadRequest("挂牌标的只能在限时竞价场次中挂出"
                         " (挂牌期满有多个意向受让方时转为限时竞价)", "format")
    if session.registration_deadline is not None:
        # a deadline is never after the session's start (auction/api/admin.py): it would close
        # the registration of intent before the listing period begins
        raise BadRequest(LISTING_DEADLINE_TEXT, "format")
    if spec.reserve_fen:
        raise BadRequest("挂牌标的以挂牌价成交, 不设保留价", "reserve_fen")
    start = own_start or session.starts_at
    end = spec.listing_ends_at
    if spec.listing_days is not None:
        end = deadlines.listing_ends(start, spec.listing_days)
    if end is None or end <= start or end - start > MAX_LISTING:
        raise BadRequest("挂牌截止时间须晚于挂牌开始时间, 且不超过 400 天", "listing_ends_at")
    if session.hard_end_at is not None and end >= session.hard_end_at:
        raise BadRequest("挂牌期须在场次最晚结束时间之前结束", "listing_ends_at")
    return replace(spec, listing_ends_at=end)


async def listing_json(services: Services, lots: list[Lot], session_starts: dict[int, datetime]
                       ) -> dict[int, dict[str, Any]]:
    """The public ``listing`` of each listing among ``lots``: ``starts_at``, ``ends_at``,
    ``working_days`` (or null), ``price_fen``, ``buyers`` (qualified buyers: at the end as
    recorded, before it as they stand) and ``state`` (``listing`` during the period, then
    ``expired``, ``agreement`` or ``auction``)."""
    listed = [lot for lot in lots if lot.format == "listing"]
    ended = await store_listing_sale.ends(services.store, [lot.id for lot in listed])
    # during the period: counted now, for all the page's listings in one query
    now = await eligibility.qualified_counts(
        services.store, [lot.id for lot in listed if lot.id not in ended])
    out: dict[int, dict[str, Any]] = {}
    for lot in listed:
        end = ended.get(lot.id)
        count = end.buyers if end is not None else now[lot.id]
        start = lot.starts_at or session_starts[lot.session_id]
        out[lot.id] = {
            "starts_at": rfc3339(start), "ends_at": rfc3339(lot.listing_ends_at),
            "working_days": lot.listing_days, "price_fen": lot.start_price_fen,
            "buyers": count, "state": "listing" if end is None else end.outcome,
        }
    return out
