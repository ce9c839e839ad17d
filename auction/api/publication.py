"""Draft and published sessions (issue 12 item 2; docs/http-api.md "Publishing a session").

A session made with ``"draft": true`` is a draft until ``POST /sessions/{id}/publish``
(:func:`publish_session`, who may manage the session's market). While it is a draft:

- no public read shows it: ``GET /sessions`` leaves it out and ``GET /sessions/{id}``,
  ``/sessions/{id}/lots``, ``/lots/{id}`` (and its bids and attachments) answer as for a session
  or lot that does not exist (404), except to the staff whose scope holds its market
  (:func:`may_see_drafts`); the catalogue (``/listing``) and the publicity never show it, to
  anyone (they are the public's pages);
- applying to it, or registering a bidder at the desk, is 409 ``not_published``
  (:func:`require_published`);
- none of its lots may be opened: ``open`` and ``next`` are refused with the rule code
  ``not_published`` (HTTP 409; a websocket ``nack``) by :func:`check_open`;
- watching one of its lots over the websocket (``sub``) is ``error unknown_lot`` for all but
  its staff (:func:`watchable`).

Publishing is one-way (there is no unpublish), so a session known to be published is kept in a
per-process set (:attr:`auction.accounts.cache.AuthCache.published`); a draft is read from
PostgreSQL each time, so a publish made by another process is seen at once.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction.accounts.policy import Action, scope
from auction.api import guard
from auction.api.admin import session_scope
from auction.api.tokens import VIEWER, Principal, TokenError
from auction.domain.errors import Rejection
from auction.services import Services
from auction.store.errors import Conflict, NotFound, StoreError
from auction.store.records import Session

NOT_PUBLISHED = "场次尚未发布"


async def reader(request: Request) -> Principal:
    """Who reads a public route: the token or cookie when valid, else the anonymous viewer
    (a public read never fails on a bad credential: it just shows what the public sees)."""
    try:
        return await guard.principal_of(request, required=False)
    except (TokenError, guard.Denied):
        return VIEWER


async def draft_markets(services: Services, who: Principal) -> list[int] | None:
    """The markets whose drafts ``who`` sees: ``None`` for every market (the platform admin),
    else the staff member's scope (docs/roles.md), empty for bidders and viewers."""
    if guard.is_platform_admin(who):
        return None
    if not who.is_staff:
        return []
    return scope(who.actor, await guard.market_tree(services))


async def may_see_drafts(services: Services, who: Principal, market_id: int) -> bool:
    markets = await draft_markets(services, who)
    return markets is None or market_id in markets


async def visible_session(request: Request, session: Session) -> None:
    """A draft shown to someone who may not see it is refused as a missing session (404)."""
    if session.published:
        return
    who = await reader(request)
    if not await may_see_drafts(guard.services_of(request), who, session.market_id):
        raise NotFound(message="场次不存在", field="session_id")


async def visible_lot(request: Request, session_id: int) -> None:
    """The same for a lot of the session ``session_id``: refused as a missing lot (404)."""
    services = guard.services_of(request)
    if await is_published(services, session_id):
        return
    market = await guard.session_market(services, session_id)
    if not await may_see_drafts(services, await reader(request), market):
        raise NotFound(message="标的不存在", field="lot_id")


async def watchable(services: Services, who: Principal, lot_id: int) -> bool:
    """May ``who`` watch the lot over the websocket? Every lot of a published session; a
    draft's, its staff only. An unknown lot, or PostgreSQL away on a first lookup, is let
    through: the room answers for an unknown lot, and a draft's room is never opened, so
    nothing but its scheduled state could show (watching goes on while PostgreSQL is away)."""
    try:
        terms = await guard.lot_terms(services, lot_id)
        if await is_published(services, terms.session_id):
            return True
        return await may_see_drafts(services, who, terms.market_id)
    except (Rejection, StoreError):
        return True


async def is_published(services: Services, session_id: int) -> bool:
    """Is the session published? (An unknown session is not.)"""
    known = services.tokens.cache.published
    if session_id in known:
        return True
    if await services.store.session_published(session_id):
        known.add(session_id)
        return True
    return False


async def require_published(services: Services, session_id: int) -> None:
    """Registrations are for published sessions: else 409 ``not_published``."""
    if not await is_published(services, session_id):
        raise Conflict(code="not_published", message=NOT_PUBLISHED + ", 不能报名",
                       field="session_id")


async def check_open(services: Services, session_id: int) -> None:
    """A lot of a draft is never opened: the rule code ``not_published``."""
    if not await is_published(services, session_id):
        raise Rejection("not_published")


async def publish_session(request: Request) -> JSONResponse:
    """``POST /sessions/{id}/publish``: the session, published (200; again: unchanged, 200). A
    session without lots: 409 ``no_lots``."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    session_id = await session_scope(request, who, Action.MANAGE_SESSIONS)
    session, _ = await services.store.publish_session(session_id)
    services.tokens.cache.published.add(session_id)
    return JSONResponse(session.to_json())


routes: list[BaseRoute] = [
    Route("/api/v1/sessions/{session_id:int}/publish", publish_session, methods=["POST"]),
]
