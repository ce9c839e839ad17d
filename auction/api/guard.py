"""Authorisation at the edge: the principal of a request, and :func:`require`, which asks
:func:`auction.accounts.policy.allows` with the market the target belongs to.

Targets are resolved to their market here (session → market, lot → session → market,
registration → session → market), through the per-process caches of
:class:`auction.accounts.cache.AuthCache`. A target that does not exist is refused the same way
as one of another market would be for everyone but the platform admin (403, not 404), so a
guessed id tells an outsider nothing.

A request is authenticated by its ``Authorization: Bearer`` header or, without one, by the
pages' login cookie (:mod:`auction.api.cookies`); a cookie request that may change state must
carry the login's CSRF value in ``X-CSRF-Token`` (403 ``csrf_failed``), checked here, before any
handler looks at the request. A cookie whose token is expired, revoked or forged makes a
request anonymous where anonymity is allowed (a public sign-up), else 401 as a bad header does.

Exception tree::

    Denied(code, message, **extra)   code unauthorized / forbidden / deposit_required /
                                     rate_limited (extra: retry_after_ms) / csrf_failed

Whether a bidder's deposit covers a lot is not checked here: the bid script does it atomically
from the eligible set pushed into Redis (:mod:`auction.rooms.eligibility`, rule R0).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import HTTPConnection

from auction.accounts import limits
from auction.accounts.cache import LotTerms
from auction.accounts.policy import Action, MarketTree, allows, tree_of
from auction.api import cookies
from auction.api.tokens import (
    VIEWER,
    Principal,
    TokenError,
    account_keys,
    authenticate,
    bearer,
)
from auction.domain.errors import Rejection
from auction.services import Services
from auction.store import accounts as account_store
from auction.store import ledger
from auction.store.errors import NotFound


class Denied(Exception):
    """The principal may not do this. ``code`` is ``unauthorized`` (no valid credential),
    ``forbidden``, ``deposit_required`` or ``rate_limited``; ``extra`` goes into the answer."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


def services_of(conn: HTTPConnection) -> Services:
    services: Services = conn.app.state.services
    return services


async def principal_of(conn: HTTPConnection, *, required: bool = True) -> Principal:
    """The authenticated principal of a request: its bearer token, else its login cookie
    (with the CSRF check for a request that may change state: 403 ``csrf_failed``); 401
    without a valid one. When ``required`` is false, a request with neither header nor valid
    cookie is the anonymous viewer."""
    header = conn.headers.get("authorization", "")
    if header:
        return await authenticate(services_of(conn), bearer(header))
    token = cookies.token_of(conn)
    if token is None:
        if not required:
            return VIEWER
        raise TokenError("missing bearer token")
    services = services_of(conn)
    try:
        who = await authenticate(services, token)
    except TokenError:
        if not required:
            return VIEWER
        raise
    if cookies.changes_state(conn) and not services.tokens.csrf_matches(
        who.jti, conn.headers.get(cookies.CSRF_HEADER)
    ):
        raise Denied("csrf_failed", "缺少或错误的 CSRF 令牌 (X-CSRF-Token), 请刷新页面后重试")
    return dataclasses.replace(who, cookie=True)


async def market_tree(services: Services, *, refresh: bool = False) -> MarketTree:
    cache = services.tokens.cache
    if cache.tree is None or refresh:
        cache.tree = tree_of(await account_store.market_rows(services.store))
    return cache.tree


async def session_market(services: Services, session_id: int) -> int:
    """The market of a session (cached: sessions never move), else ``NotFound``."""
    cache = services.tokens.cache.session_market
    market = cache.get(session_id)
    if market is None:
        market = await account_store.session_market(services.store, session_id)
        if market is None:
            raise NotFound(message="场次不存在", field="session_id")
        cache[session_id] = market
    return market


async def lot_terms(services: Services, lot_id: int) -> LotTerms:
    """Session and market of a lot (cached: neither changes). Reads PostgreSQL on a miss: the
    console's path, not the bid path (which asks the room, :meth:`Rooms.session_of`)."""
    cache = services.tokens.cache.lots
    terms = cache.get(lot_id)
    if terms is None:
        found = await ledger.lot_terms(services.store, lot_id)
        if found is None:
            raise Rejection("unknown_lot")
        terms = LotTerms(*found)
        if len(cache) > 100_000:
            cache.clear()
        cache[lot_id] = terms
    return terms


async def require(
    services: Services, who: Principal, action: Action, *, market_id: int, session_id: int = 0,
    bidder_id: int = 0,
) -> None:
    """Raise :class:`Denied` unless ``who`` may do ``action`` there."""
    if who.role == "viewer":
        raise Denied("unauthorized", "请先登录")
    tree = await market_tree(services)
    if market_id not in tree or (who.market_id and who.market_id not in tree):
        tree = await market_tree(services, refresh=True)
    if not allows(
        who.actor, action, market_id=market_id, tree=tree, session_id=session_id,
        bidder_id=bidder_id,
    ):
        raise Denied("forbidden", "无权在该技术市场执行此操作")


def is_platform_admin(who: Principal) -> bool:
    return who.role == "admin"


async def require_staff(services: Services, who: Principal) -> None:
    """Any staff role at all (used before a target's market is known)."""
    if who.role == "viewer":
        raise Denied("unauthorized", "请先登录")
    if not who.is_staff:
        raise Denied("forbidden", "需要工作人员身份")


async def check_command_limits(services: Services, who: Principal) -> None:
    try:
        await limits.check(
            services.redis, account_keys(services),
            (limits.CMD_PER_STAFF, f"{who.role}:{who.account_id or who.subject}"),
            (limits.BID_PER_ADDRESS, who.address),
        )
    except limits.RateLimited as exc:
        raise Denied(exc.code, exc.message, retry_after_ms=exc.retry_after_ms) from exc
