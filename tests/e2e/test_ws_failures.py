"""No socket is dropped by an error (invariant 8, issue 8): a request that fails unexpectedly gets
a ``nack`` (``unavailable`` or ``internal_error``) or, for ``sub``, an ``error`` frame; the
connection stays open and keeps working; a kind of unexpected error is logged with its
traceback once, not once per request.

The faults are injected where the handler calls the bid path and the room read (a bug, Redis or
PostgreSQL away); storage itself is real.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from auction.api import ws
from auction.rooms.service import Rooms
from auction.store.errors import Unavailable
from tests.e2e.harness import Server, create_sale, raw_client


class InjectedBug(Exception):
    """An error no handler knows."""


async def test_failing_requests_get_answers_and_the_socket_stays_open(
    server: Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug → nack internal_error (traceback logged once for two hits); Redis or PostgreSQL
    away → nack unavailable; a failing sub → error frame; then the same socket still bids."""
    sale = await create_sale(server, lots=1, bidders=1)
    lot = sale.lots[0]
    failure: list[BaseException] = []
    real_submit_bid = ws.submit_bid

    def submit_bid(*args: Any, **kwargs: Any) -> None:
        # the bid's batch fails: the lane hands the error to the bid's reply, later
        if failure:
            reply = args[-1]
            asyncio.get_running_loop().call_soon(reply, failure[0])
            return
        real_submit_bid(*args, **kwargs)

    monkeypatch.setattr(ws, "submit_bid", submit_bid)
    async with raw_client(server, sale.auctioneer) as console, \
            raw_client(server, sale.tokens[0]) as bidder:
        await console.send(t="cmd", lot=lot, op="open", key="o")
        assert (await console.until(lambda m: m.get("key") == "o"))["t"] == "ack"

        answers = {}
        for key, exc in (("k1", InjectedBug("boom")), ("k2", InjectedBug("boom again")),
                         ("k3", RedisConnectionError("gone")), ("k4", Unavailable())):
            failure[:] = [exc]
            with caplog.at_level(logging.DEBUG, logger="auction.ws"):
                await bidder.send(t="bid", lot=lot, amount=1_000_000, key=key)
                answers[key] = await bidder.until(lambda m, k=key: m.get("key") == k)
        assert {k: (a["t"], a["code"]) for k, a in answers.items()} == {
            "k1": ("nack", "internal_error"), "k2": ("nack", "internal_error"),
            "k3": ("nack", "unavailable"), "k4": ("nack", "unavailable"),
        }
        tracebacks = [r for r in caplog.records
                      if r.name == "auction.ws" and r.exc_info is not None]
        assert len(tracebacks) == 1, [r.getMessage() for r in tracebacks]

        async def snapshot(self: Rooms, lot_id: int) -> Any:
            raise InjectedBug("snapshot")

        monkeypatch.setattr(Rooms, "snapshot", snapshot)
        await bidder.send(t="sub", lot=lot)
        error = await bidder.until(lambda m: m.get("t") == "error")
        assert error["code"] == "internal_error"
        monkeypatch.undo()

        failure.clear()
        await bidder.send(t="ping", id=7)
        assert (await bidder.until(lambda m: m.get("t") == "pong"))["id"] == 7
        await bidder.send(t="bid", lot=lot, amount=1_000_000, key="k1")  # the same key, retried
        ack = await bidder.until(lambda m: m.get("key") == "k1")
        assert (ack["t"], ack["seq"]) == ("ack", 2)
