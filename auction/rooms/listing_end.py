"""The end of listings (挂牌, issue 15 item 4; docs/formats.md "Listing"), run by the scheduler
(:mod:`auction.rooms.scheduler`) on every tick, under its Redis lease.

For each listing whose period is over (:func:`auction.store.listing_sale.due`):

1. the decision (only while the room is there and still scheduled): the buyers qualified now
   (:func:`auction.rooms.eligibility.qualified`, R0) are recorded with the outcome in one
   transaction, **once** — a second process or the next tick after a restart finds the first
   decision and uses it, so the count never changes;
2. for an auction, the session's eligibility is pushed first, so the room's eligible set is
   the recorded buyers before it opens (L3);
3. the room ends the listing (``listing.lua`` under the lot's idempotency key
   ``schedule:listing``: a repeat gets the stored answer) — passed, sold at the listing price,
   or opened as a timed auction on the session's schedule (its place in the running order,
   the cap on extensions and the hard end, as :mod:`auction.rooms.scheduler` opens a lot);
4. as for an opening, the session's confirmed deposits become ``held`` and its eligibility is
   pushed (repeats change nothing).

The drainer then journals the events and settles the lot like any other: a listing's one
buyer's sale becomes a ``sold`` result with its 成交确认书, registration packet and publicity,
named 协议成交 (:mod:`auction.domain.listing_sale`).
"""

from __future__ import annotations

import logging

from auction.domain import schedule
from auction.domain.errors import Rejection
from auction.domain.listing_sale import AUCTION
from auction.domain.lot import LotStatus
from auction.rooms import eligibility
from auction.services import Services
from auction.store import ledger
from auction.store import listing_sale as store_listing_sale

log = logging.getLogger("auction.scheduler")

#: the idempotency field of the end of a listing (one per lot: its own room's hash)
LISTING_KEY = "schedule:listing"


async def end_due(services: Services) -> list[int]:
    """End every listing whose period is over; the lots this call ended."""
    ended: list[int] = []
    store = services.store
    for due in await store_listing_sale.due(store):
        decision = await store_listing_sale.decision(store, due.lot_id)
        if decision is None:
            # nothing is decided for a room that is not there to end (recovery rebuilds it)
            # or that was withdrawn a moment ago (PostgreSQL has not caught up)
            room = await services.rooms.snapshot(due.lot_id)
            if room is None or room.status is not LotStatus.SCHEDULED:
                continue
            qualified = await eligibility.qualified(store, due.session_id, due.lot_id)
            buyers = await store_listing_sale.paddles(store, due.session_id, qualified)
            decision = await store_listing_sale.decide(store, due.lot_id, buyers)
        if decision.outcome == AUCTION:  # L3 before the room opens (raises: next tick)
            await eligibility.sync_session(services.redis, services.keys, store,
                                           due.session_id)
        closes = 0
        if due.ends_at is not None:
            closes = schedule.close_at(due.ends_at, due.close_gap_s, due.rank, due.hard_end_at)
        one = decision.buyers[0] if len(decision.buyers) == 1 else (0, 0)
        try:
            result = await services.rooms.end_listing(
                due.lot_id, buyers=len(decision.buyers), buyer=one[0], paddle=one[1],
                idem=LISTING_KEY, ends_at=closes,
                max_ext=-1 if due.max_extensions is None else due.max_extensions,
                hard_end=schedule.ms(due.hard_end_at),
            )
        except Rejection as rej:  # withdrawn meanwhile (lot_closed), or no room (unknown_lot:
            # recovery rebuilds it)
            log.debug("listing %s not ended: %s", due.lot_id, rej.code)
            continue
        if decision.buyers:
            await ledger.hold_session(store, due.session_id, actor="schedule")
            await eligibility.push_session(services, due.session_id)
        if not result.replay:
            log.info("listing %s ended with %d qualified buyers: %s", due.lot_id,
                     len(decision.buyers), decision.outcome)
            ended.append(due.lot_id)
    return ended
