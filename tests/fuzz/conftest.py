"""Fixtures of the fuzz tests: one real server for the module (uvicorn in the test loop, real
PostgreSQL and Redis, background loops running) with a small sale in it, and the log it writes.

- ``world``: the server and the ids, epochs and tokens that exist in it (a session with two
  lots, two bidders with bid credentials, an auctioneer, the platform admin).
- ``app_log``: every record of the ``auction``, ``uvicorn`` and ``starlette`` loggers at WARNING
  or above while the module runs. :func:`no_tracebacks` fails on any of them: an ERROR or a
  traceback is a crash, and a warning is one too here, since with PostgreSQL and Redis up the
  only warnings hostile input can cause are the store's "PostgreSQL refused a value (an input
  check missed it)" (auction/store/errors.py) and its like.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis

from auction.settings import Settings
from tests.e2e.harness import Sale, Server, create_sale, raw_client, running

ADMIN_TOKEN = "test-admin-token"
LOGGERS = ("auction", "uvicorn", "starlette")


@dataclass
class World:
    server: Server
    sale: Sale
    #: the lots' epochs, so that resumes can match (and reach the stream)
    epochs: tuple[str, ...]

    @property
    def ids(self) -> tuple[int, ...]:
        """Ids that exist: the session, its lots, the bidders."""
        return (self.sale.session_id, *self.sale.lots, *self.sale.bidder_ids)

    @property
    def tokens(self) -> tuple[str, ...]:
        """Valid credentials: the platform admin, the auctioneer, the bidders."""
        return (ADMIN_TOKEN, self.sale.auctioneer, *self.sale.tokens)


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def attach(self) -> None:
        """On :data:`LOGGERS`; after the server started, since uvicorn's ``dictConfig`` drops
        the handlers its loggers had."""
        for name in LOGGERS:
            logging.getLogger(name).addHandler(self)

    def detach(self) -> None:
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(self)


@pytest.fixture(scope="module")
def app_log() -> Iterator[Collect]:
    """WARNING+ records of the app's, uvicorn's and Starlette's loggers while the module runs
    (attached by ``world`` once its server is up)."""
    handler = Collect()
    try:
        yield handler
    finally:
        handler.detach()


def no_tracebacks(log: Collect, what: object = "") -> None:
    """Fail on any record (WARNING or above, a traceback or not), naming the first few."""
    bad = list(log.records)
    if bad:
        shown = "\n".join(
            f"{r.name} {r.levelname}: {r.getMessage()}"
            + (f" [{r.exc_info[0].__name__}: {r.exc_info[1]}]" if r.exc_info and r.exc_info[0]
               else "")
            for r in bad[:5]
        )
        log.records.clear()
        pytest.fail(f"the server logged {len(bad)} warning(s)/error(s) after {what!r}:\n{shown}",
                    pytrace=False)


@pytest.fixture(scope="module")
async def world(
    settings: Settings, app_log: Collect, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    """One server for the module, with a live session of two lots and two bidders."""
    data: Path = tmp_path_factory.mktemp("fuzz")
    own = settings.with_changes(redis_namespace=f"test-fuzz-{uuid.uuid4().hex[:10]}",
                                data_dir=data)
    async with running(own) as server:
        app_log.attach()
        sale = await create_sale(server, mode="live", lots=2, bidders=2)
        epochs = []
        async with raw_client(server) as viewer:
            for lot in sale.lots:
                await viewer.send(t="sub", lot=lot)
                epochs.append((await viewer.until(lambda m: m["t"] == "snapshot"))["epoch"])
        no_tracebacks(app_log, "seeding")
        yield World(server, sale, tuple(epochs))
        redis = Redis.from_url(own.redis_url or "")
        async for key in redis.scan_iter(f"{own.redis_namespace}:*"):
            await redis.delete(key)
        await redis.aclose()

