"""The process's services, created and closed by the Starlette lifespan (house style rule 4).

Handlers reach them as ``request.app.state.services`` / ``websocket.app.state.services``.
Nothing opens a connection at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from auction.accounts.limits import LocalLimits

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from auction.api.tokens import Tokens
    from auction.rooms.fanout import Hub
    from auction.rooms.keys import Keys
    from auction.rooms.service import Rooms
    from auction.settings import Settings
    from auction.store import Store


@dataclass(slots=True)
class Services:
    settings: Settings
    store: Store
    redis: Redis
    keys: Keys
    rooms: Rooms
    tokens: Tokens
    hub: Hub
    #: the per-bidder and per-address bid limits, counted in this process (accounts/limits.py)
    bid_limits: LocalLimits = field(default_factory=LocalLimits)
