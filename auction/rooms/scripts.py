"""Loads the Lua scripts once, with ``register_script`` (house style rule 7).

Each ``<name>.lua`` is one atomic decision; ``_common.lua`` is prepended to each, so the helpers
they share are written once and every script stays self-contained inside Redis.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

SCRIPT_NAMES = ("init", "open", "bid", "close")


def script_source(name: str) -> str:
    """The full text Redis runs for script ``name`` (common helpers + the script)."""
    folder = resources.files("auction.rooms") / "lua"
    common = (folder / "_common.lua").read_text(encoding="utf-8")
    body = (folder / f"{name}.lua").read_text(encoding="utf-8")
    return f"{common}\n-- ---- {name}.lua ----\n{body}"


@dataclass(frozen=True, slots=True)
class Scripts:
    init: AsyncScript
    open: AsyncScript
    bid: AsyncScript
    close: AsyncScript

    @classmethod
    def register(cls, redis: Redis) -> Scripts:
        return cls(**{name: redis.register_script(script_source(name)) for name in SCRIPT_NAMES})
