"""Settlement test fixtures on top of the shared harness (tests/conftest.py)."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from settlement_factory import MakeLot, MakeSession, lot_maker, session_maker

from auction.rooms.keys import Keys
from auction.rooms.service import Rooms
from auction.store import Store


@pytest.fixture
def rooms(redis: Redis, keys: Keys) -> Rooms:
    """The rooms service in the test's key namespace."""
    return Rooms(redis, keys)


@pytest.fixture
def make_lot(store: Store, rooms: Rooms) -> MakeLot:
    """Factory: catalogue rows for one live lot (start 100万, 10万一加) plus its Redis room."""
    return lot_maker(store, rooms)


@pytest.fixture
def make_session(store: Store, rooms: Rooms) -> MakeSession:
    """Factory: one session with many live lots and their Redis rooms."""
    return session_maker(store, rooms)
