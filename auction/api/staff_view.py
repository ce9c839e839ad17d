"""The websocket's staff frames at the edge (docs/protocol.md "Staff frames"): who sees them,
and the missed bid a refusal reports. The counting and sending is :mod:`auction.rooms.presence`.

A socket gets a lot's staff frames (``presence``, ``missed_bid``, ``reserve``) when its role is
staff *and* the lot is within its scope (docs/roles.md): the platform admin anywhere; whoever may
run the lot's console (a market admin of its market or above, an auctioneer of its market, a
session-bound auctioneer token of its session) or read its market's ledger (finance of its
market). Any other socket — a viewer, a bidder, staff of another market — gets ``viewers``.
When the lot's market cannot be looked up (PostgreSQL away on a first lookup), the socket is
treated as not staff for that subscription: a staff frame is never sent on a guess.
"""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import RedisError

from auction import outage
from auction.accounts.policy import Action, allows
from auction.api import guard
from auction.api.tokens import Principal
from auction.domain.errors import Rejection
from auction.services import Services
from auction.store.errors import StoreError

log = logging.getLogger("auction.staff")

#: reporting a missed bid failed unexpectedly once already (one traceback per process)
_LOGGED: set[bool] = set()

#: either of these on the lot's market makes a staff role see its staff frames
STAFF_ACTIONS = (Action.RUN_CONSOLE, Action.VIEW_LEDGER)


async def sees_staff_frames(services: Services, who: Principal, lot: int) -> bool:
    """Does ``who`` get ``lot``'s staff frames? (See the module docstring.)"""
    if not who.is_staff:
        return False
    if guard.is_platform_admin(who):
        return True
    try:
        terms = await guard.lot_terms(services, lot)
        tree = await guard.market_tree(services)
        if terms.market_id not in tree or (who.market_id and who.market_id not in tree):
            tree = await guard.market_tree(services, refresh=True)
    except (Rejection, StoreError):
        return False
    return any(
        allows(who.actor, action, market_id=terms.market_id, tree=tree,
               session_id=terms.session_id)
        for action in STAFF_ACTIONS
    )


async def proxies_changed(services: Services, lot: int) -> None:
    """A proxy was set on ``lot``: tell its staff sockets how many are active (``proxies``).
    Best effort, like :func:`report_missed`."""
    try:
        await services.hub.presence.proxies_changed(lot)
    except (RedisError, OSError) as exc:
        outage.REDIS.failed(exc, where="proxies")


async def report_missed(
    services: Services, who: Principal, lot: int, amount: int, refusal: Rejection
) -> None:
    """A bid of ``who`` was refused: when the lot was closed (not a replayed answer), tell the
    lot's staff sockets (``missed_bid``). Best effort: Redis away only loses the notice."""
    data: dict[str, Any] = refusal.data
    if refusal.code != "lot_closed" or data.get("replay"):
        return
    at = data.get("at")
    if not isinstance(at, int):
        return
    try:
        await services.hub.presence.missed_bid(lot, who.paddle, amount, at)
    except (RedisError, OSError) as exc:
        outage.REDIS.failed(exc, where="missed bid")
    except Exception:  # the bid's answer is out; a bug here must not end the socket
        if not _LOGGED:
            log.exception("could not report a missed bid (logged once)")
        _LOGGED.add(True)
