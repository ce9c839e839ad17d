"""The composition root: builds the Starlette app and, in its lifespan, every service
(house style rule 4): the asyncpg pool, the Redis client and its registered scripts, the fan-out
hub, and the background loops (closer of timed lots, journal drainer, registration deliverer,
eligibility resync).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, WebSocketRoute
from starlette.staticfiles import StaticFiles

from auction import eventloop
from auction.api import (
    admin,
    audit,
    auth,
    catalogue,
    confirmation,
    console,
    deposits,
    health,
    http_errors,
    inbound,
    listing,
    lot_edits,
    lot_import,
    metrics_route,
    notices,
    openapi,
    payments,
    preemptors,
    progress,
    publication,
    receipts,
    refunds,
    registration_admin,
    registration_answer,
    registration_packet,
    registrations,
    relist,
    report,
    shutdown,
    staff_accounts,
    statistics,
    vocabularies,
)
from auction.api.headers import EdgeApp
from auction.api.tokens import TokenLifetimes, Tokens
from auction.api.ws import ws_endpoint
from auction.registration.deliverer import Deliverer
from auction.rooms import connection, eligibility
from auction.rooms.closer import Closer
from auction.rooms.door import LaneLimits
from auction.rooms.eligibility import EligibilitySync
from auction.rooms.fanout import Hub
from auction.rooms.keys import Keys
from auction.rooms.recovery import Recovery
from auction.rooms.scheduler import Scheduler
from auction.rooms.service import Rooms
from auction.services import Services
from auction.settings import Settings
from auction.settlement.drainer import Drainer
from auction.store import Store

log = logging.getLogger("auction.app")

WEB_ROOT = Path(__file__).resolve().parents[2] / "clients" / "web"


def create_app(settings: Settings, *, background: bool = True, freeze: bool = False) -> Starlette:
    """``background=False`` leaves out the closer, drainer and deliverer (tests drive them);
    ``freeze=True`` (a server process of its own: ``auction serve`` / ``demo``) freezes the
    start-up heap for the garbage collector once the services are up (auction/eventloop.py)."""
    assert settings.database_url and settings.redis_url, "URLs are resolved before the app"

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = await Store.connect(settings.database_url or "")
        # one Redis (a blocking pool) or a Redis Cluster, as REDIS_URL says (rooms/connection.py)
        redis = connection.connect(settings.redis_url or "")
        await connection.ready(redis)
        keys = Keys(settings.redis_namespace)
        # Rooms are checked against the journal before any script runs on a Redis that
        # restarted (the fence); rebuilt rooms get their eligibility pushed again.
        recovery = Recovery(
            redis, keys, store,
            after_rebuild=lambda lots: eligibility.sync_rebuilt(redis, keys, store, lots),
        )
        rooms = Rooms(redis, keys, fence=recovery.fence, lanes=LaneLimits(
            per_lot=settings.bid_queue_lot, most=settings.bid_queue_lot_most,
            total=settings.bid_queue_total, wait_ms=settings.bid_queue_wait_ms,
        ))
        hub = Hub(redis, keys, rooms)
        await hub.start()
        services = Services(
            settings=settings, store=store, redis=redis, keys=keys, rooms=rooms,
            tokens=Tokens(settings.secret, settings.admin_token, TokenLifetimes(
                account=settings.token_ttl_s, bid=settings.bid_token_ttl_s,
                staff=settings.staff_token_ttl_s,
            )),
            hub=hub,
        )
        # a batch of bids is vetted (session, revocation) before its script calls
        rooms.lanes.vet = functools.partial(console.vet_bids, services)
        app.state.services = services
        tasks: list[asyncio.Task[None]] = []
        if background:
            tasks = [
                asyncio.create_task(Closer(redis, keys, rooms).run(), name="closer"),
                asyncio.create_task(
                    Scheduler(services, interval_s=settings.scheduler_interval_ms / 1000).run(),
                    name="scheduler",
                ),
                asyncio.create_task(
                    Drainer(store, redis, keys, recovery=recovery,
                            reopen_window_ms=settings.reopen_window_s * 1000).run(),
                    name="drainer",
                ),
                asyncio.create_task(recovery.run(), name="recovery"),
                asyncio.create_task(Deliverer(store, settings).run(), name="deliverer"),
                asyncio.create_task(
                    EligibilitySync(store, redis, keys).run(), name="eligibility"
                ),
            ]
        if freeze:
            eventloop.freeze_startup()
            tasks.append(asyncio.create_task(eventloop.watch(), name="loop-watch"))
        log.info("ready: redis namespace %r", keys.namespace)
        try:
            yield
        finally:
            # sockets still open (a server without GracefulServer) go away with 1001 while
            # Redis and PostgreSQL are still there for their handlers' clean-up
            await shutdown.close_all(app=app)
            for task in tasks:
                task.cancel()
            if tasks:
                stopped, stuck = await asyncio.wait(tasks, timeout=5)
                for task in stopped:
                    if not task.cancelled() and task.exception() is not None:
                        log.error("background task %s failed", task.get_name(),
                                  exc_info=task.exception())
                for task in stuck:
                    log.error("background task %s did not stop within 5 s", task.get_name())
            await hub.stop()
            await redis.aclose()
            await store.close()

    routes: list[BaseRoute] = [
        *health.routes,
        *metrics_route.routes,
        *openapi.routes,
        *console.routes,
        *admin.routes,
        *progress.routes,
        *registration_admin.routes,
        *auth.routes,
        *registrations.routes,
        *deposits.routes,
        *catalogue.routes,
        *listing.routes,
        *lot_import.routes, *report.routes,  # issue 12: spreadsheet import, session report
        *audit.routes,  # issue 12 item 7: the audit trail's read routes
        *staff_accounts.routes,  # issue 12 item 1: list, reset password, role and market
        *confirmation.routes,  # issue 13 item 1: 成交确认书 (PDF) and its public verification
        *payments.routes, *notices.routes,  # issue 13 items 2, 4: payment, 悔拍, 成交公示
        *lot_edits.routes,  # issue 12 item 3: edit a lot, reorder a session's lots
        *preemptors.routes,  # issue 14 item 5: preemptive rights on a lot
        *refunds.routes,  # issue 12 item 4: the refund list, the bidder's refund account
        *publication.routes,  # issue 12 item 2: publish a draft session
        *relist.routes,  # issue 15 item 3: relist a passed or defaulted lot
        *registration_answer.routes,  # issue 13 item 3: endpoints per market, the answer
        *receipts.routes,  # issue 16 item 5: signed bid receipts
        *vocabularies.routes, *statistics.routes,  # issue 16 items 1-3: vocabularies, statistics
        *registration_packet.routes,  # issue 12 item 6: the hand-off packet to download
        WebSocketRoute("/ws", shutdown.tracked(ws_endpoint)),
    ]
    if WEB_ROOT.is_dir():
        routes.append(Mount("/", StaticFiles(directory=WEB_ROOT, html=True), name="web"))
    # security headers on every answer, X-Forwarded-For only from AUCTION_TRUSTED_PROXIES
    return EdgeApp(
        routes=routes, lifespan=lifespan, exception_handlers=http_errors.exception_handlers(),
        middleware=[
            Middleware(inbound.Inbound),  # request-line checks, 500s that keep the line
            Middleware(audit.Trail),  # issue 12 item 7: successful writes → audit_log
        ],
        trusted_proxies=settings.trusted_proxies,
    )
