"""Loads the Lua scripts (house style rule 7) and fences them behind verification.

Each ``<name>.lua`` is one atomic decision; ``_common.lua`` and the formats' helpers
(:data:`HELPERS`) are prepended to each, so the helpers they share are written once and every
script stays self-contained inside Redis.

The fence (invariant 11: history lost in Redis is detected before anyone builds on it)
-------------------------------------------------------------------------------------
Redis forgets its script cache when it restarts (and on ``SCRIPT FLUSH``), but keeps the rooms it
reloads from its AOF or snapshot, which may have lost a tail. So every room script is called by
its SHA only (``EVALSHA``) and is loaded by :class:`RoomScript` itself, never implicitly: the
first call after a restart gets ``NOSCRIPT`` and, before loading the script again, awaits the
*fence* — :meth:`auction.rooms.recovery.Recovery.ensure`, which returns only once this Redis
instance has been checked against the PostgreSQL journal (rooms that lost history rebuilt with a
new epoch). No bid, open or close can therefore run on an unverified Redis.

Each deployment's scripts carry its Redis namespace in their text, so their SHAs differ per
namespace: two deployments sharing one Redis each meet ``NOSCRIPT`` after a restart and each
verifies its own rooms.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

SCRIPT_NAMES = (
    "init", "open", "bid", "close", "command", "finalize", "terms", "proxy", "accept", "holders",
    "listing",
)
#: helpers prepended to every script, in this order (each may use the ones before it)
HELPERS = ("_common", "_book", "_proxy", "_sealed")
#: scripts of the recovery itself: never fenced (the fence runs them)
RECOVERY_SCRIPT_NAMES = ("restore", "reepoch")

Fence = Callable[[], Awaitable[None]]


def script_source(name: str, namespace: str = "") -> str:
    """The full text Redis runs for script ``name`` (common helpers + the script)."""
    folder = resources.files("auction.rooms") / "lua"
    helpers = "\n".join((folder / f"{h}.lua").read_text(encoding="utf-8") for h in HELPERS)
    body = (folder / f"{name}.lua").read_text(encoding="utf-8")
    return f"-- namespace: {namespace}\n{helpers}\n-- ---- {name}.lua ----\n{body}"


class RoomScript:
    """One script called by SHA; on ``NOSCRIPT`` the fence is awaited before it is loaded."""

    def __init__(self, redis: Redis, source: str, fence: Fence | None) -> None:
        self.redis = redis
        self.source = source
        self.sha = hashlib.sha1(source.encode("utf-8")).hexdigest()
        self.fence = fence

    async def __call__(
        self, keys: Sequence[Any] = (), args: Sequence[Any] = (), client: Any = None
    ) -> Any:
        """Run the script; with ``client`` a pipeline, queue it there (after making sure it is
        loaded, through the fence) and return the pipeline, as redis-py's scripts do."""
        if client is not None:
            await self.loaded()
            return self.queue(client, keys, args)
        try:
            return await self.redis.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            await self.load()
            return await self.redis.evalsha(self.sha, len(keys), *keys, *args)

    async def loaded(self) -> None:
        """Make sure Redis has the script (loading it through the fence if not), before it is
        queued on pipelines with :meth:`queue`."""
        if not (await self.redis.script_exists(self.sha))[0]:
            await self.load()

    def queue(self, client: Any, keys: Sequence[Any] = (), args: Sequence[Any] = ()) -> Any:
        """Queue the script on the pipeline ``client`` by SHA (call :meth:`loaded` first: a
        pipeline's ``NOSCRIPT`` is not retried)."""
        # queued by name: a Redis Cluster's pipeline refuses its ``evalsha`` method, not the
        # command (it routes EVALSHA by its keys like any other)
        return client.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)

    async def load(self) -> None:
        """Load the script, after the fence (a Redis that lost its scripts restarted)."""
        if self.fence is not None:
            await self.fence()
        await self.redis.script_load(self.source)


@dataclass(frozen=True, slots=True)
class Scripts:
    init: RoomScript
    open: RoomScript
    bid: RoomScript
    close: RoomScript
    command: RoomScript
    finalize: RoomScript
    terms: RoomScript
    proxy: RoomScript
    accept: RoomScript
    holders: RoomScript
    listing: RoomScript

    @classmethod
    def register(cls, redis: Redis, namespace: str = "", fence: Fence | None = None) -> Scripts:
        """The room scripts of ``namespace``; ``fence`` (None only in unit tests of the rules)
        is awaited before a script is loaded into a Redis that does not have it."""
        return cls(**{
            name: RoomScript(redis, script_source(name, namespace), fence)
            for name in SCRIPT_NAMES
        })


@dataclass(frozen=True, slots=True)
class RecoveryScripts:
    restore: RoomScript
    reepoch: RoomScript

    @classmethod
    def register(cls, redis: Redis, namespace: str = "") -> RecoveryScripts:
        return cls(**{
            name: RoomScript(redis, script_source(name, namespace), None)
            for name in RECOVERY_SCRIPT_NAMES
        })
