"""The embedded Valkey the store's tests and the demo fall back to (auction.embedded)."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis

from auction.embedded import EmbeddedServers
from auction.settings import Settings

pytestmark = pytest.mark.slow


async def test_valkey_is_durable_reused_and_stopped_by_its_owner(tmp_path: Path) -> None:
    """Valkey runs with AOF fsync always; a second start reuses it; only the owner stops it."""
    settings = Settings.from_env(
        {"AUCTION_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://unused/x"}
    )
    owner, other = EmbeddedServers(), EmbeddedServers()
    try:
        url = owner.start(settings).redis_url
        assert url is not None and url.startswith("redis://127.0.0.1:")
        assert other.start(settings).redis_url == url
        client = Redis.from_url(url)
        try:
            config = await client.config_get("append*")
            assert (config["appendonly"], config["appendfsync"]) == ("yes", "always")
            other.stop()
            assert await client.ping()
        finally:
            await client.aclose()
    finally:
        owner.stop()
    assert not (tmp_path / "redis" / "valkey.port").exists()
    assert EmbeddedServers._running_valkey(
        tmp_path / "redis" / "valkey.pid", tmp_path / "redis" / "valkey.port"
    ) is None
