"""The scheduler: timed sessions run themselves (issue 15; docs/formats.md "Scheduling").

Every process runs the loop; a Redis lease (:class:`auction.settlement.lease.Lease`, key
``lease:scheduler``) lets one of them work at a time, and every step is idempotent, so a lapse
of the lease (two holders for a moment) or a restart in the middle costs nothing:

- a lot whose opening time has come (:func:`auction.store.calendar.due_lots`) is opened through
  ``open.lua`` under the lot's own idempotency key ``schedule:open``: a second call (the other
  process, the next tick before PostgreSQL saw the opening) gets the stored answer back, and a
  lot the auctioneer already opened answers ``wrong_state``; its close is its place in the
  running order (:func:`auction.domain.schedule.close_at`), with the session's cap on extensions
  and hard end. Then the session's confirmed deposits become ``held`` and its eligibility is
  pushed, as for a lot opened from the console; after a replay too, until PostgreSQL saw the
  opening, so a process that died in between is made good (repeats change nothing);
- a listing (挂牌) whose period is over is ended (:mod:`auction.rooms.listing_end`): expired,
  协议成交 with its one buyer, or opened as an auction among its buyers;
- the closer (:mod:`auction.rooms.closer`) closes the lots; the drainer settles them, and
  moves the session ``scheduled → running`` (its first ``opened`` drained) ``→ finished`` (its
  last lot settled), as for every session.

Nothing is kept in the process: what is due is read from PostgreSQL and the rooms each tick.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from auction import outage
from auction.background import pause, raise_if_stopping
from auction.domain import schedule
from auction.domain.errors import Rejection
from auction.rooms import eligibility, listing_end
from auction.services import Services
from auction.settlement.lease import Lease
from auction.store import calendar, ledger
from auction.store.errors import StoreError

log = logging.getLogger("auction.scheduler")

#: the idempotency field of the scheduler's opening of a lot (one per lot: its own room's hash)
OPEN_KEY = "schedule:open"


class Scheduler:
    def __init__(self, services: Services, *, interval_s: float = 1.0) -> None:
        self.services = services
        self.interval_s = interval_s
        self.lease = Lease(services.redis, services.keys.lease("scheduler"),
                           ttl_ms=max(5_000, int(interval_s * 5_000)))

    async def run(self) -> None:
        try:
            while True:
                raise_if_stopping()
                try:
                    if await self.lease.acquire():
                        await self.tick()
                    outage.REDIS.ok()
                except (RedisError, OSError) as exc:
                    raise_if_stopping()
                    outage.REDIS.failed(exc, where="scheduler")
                except StoreError:
                    raise_if_stopping()  # PostgreSQL away: reported by the store; next tick
                await pause(self.interval_s)
        finally:
            try:
                await self.lease.release()
            except (RedisError, OSError):
                pass

    async def tick(self) -> list[int]:
        """Open the lots that are due and end the listings that are over; the lots this call
        opened or ended."""
        opened: list[int] = []
        held: set[int] = set()
        for due in await calendar.due_lots(self.services.store):
            closes = schedule.close_at(due.ends_at, due.close_gap_s, due.rank, due.hard_end_at)
            try:
                result = await self.services.rooms.open(
                    due.lot_id, idem=OPEN_KEY, ends_at=closes,
                    max_ext=-1 if due.max_extensions is None else due.max_extensions,
                    hard_end=schedule.ms(due.hard_end_at),
                )
            except Rejection as rej:  # opened by hand or withdrawn (wrong_state); no room
                # (unknown_lot: its Redis was lost, and recovery rebuilds it) or a draft's
                log.debug("lot %s not opened by the schedule: %s", due.lot_id, rej.code)
                continue
            # a replay too (PostgreSQL has not seen the opening yet): a process that died
            # between the opening and the hold is made good by the next one (holding twice
            # changes nothing)
            held.add(due.session_id)
            if not result.replay:
                log.info("lot %s opened by the schedule, closes at %s", due.lot_id,
                         result.ends_at)
                opened.append(due.lot_id)
        for session in held:
            await ledger.hold_session(self.services.store, session, actor="schedule")
            await eligibility.push_session(self.services, session)
        opened.extend(await listing_end.end_due(self.services))
        return opened
