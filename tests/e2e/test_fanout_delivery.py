"""Fan-out through the outbox (auction/api/outbox.py; invariant 2): with events framed once and
each socket's queued frames written together, every watcher still gets every event exactly once
and in order; a watcher that stops reading is dropped with 4429 and resumes without loss.

Both ways to the socket are run: ``auction serve``'s uvicorn protocol (direct writes through
the ``auction.direct_write`` extension) and a stock one (the outbox over plain ASGI sends).
Events come from the rooms service itself (``announce``, no rate limit), in bursts, so that many
reach the hub, and a socket, within one event-loop tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgpack
import pytest
from redis.asyncio import Redis
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from auction import metrics
from auction.api import outbox, ws
from auction.rooms.keys import Keys
from auction.rooms.service import Rooms
from auction.settings import Settings
from tests.e2e.conftest import fresh_server
from tests.e2e.harness import Server, create_sale, raw_client
from tests.e2e.test_live_auction import command
from tests.e2e.test_watcher_seam import _wait_final, _watchers

pytestmark = pytest.mark.timeout(300)

#: ``None``: auction serve's protocol (direct writes); a name: a stock uvicorn one (ASGI sends)
PROTOCOLS = [pytest.param(None, id="direct"), pytest.param("websockets-sansio", id="asgi")]


@contextlib.asynccontextmanager
async def sale_room(settings: Settings, tmp_path: Any, ws_protocol: str | None
                    ) -> AsyncIterator[tuple[Server, int, Rooms]]:
    """A fresh server, one open live lot, and the rooms service of the server's namespace."""
    async with fresh_server(settings, tmp_path, ws_protocol=ws_protocol) as srv:
        sale = await create_sale(srv, mode="live", lots=1, bidders=0)
        (lot,) = sale.lots
        async with raw_client(srv, sale.auctioneer) as console:
            assert (await command(console, lot, "open", f"o{lot}"))["t"] == "ack"
        redis = Redis.from_url(srv.settings.redis_url or "")
        try:
            yield srv, lot, Rooms(redis, Keys(srv.settings.redis_namespace))
        finally:
            await redis.aclose()


async def announce(rooms: Rooms, lot: int, count: int, *, burst: int = 25,
                   text: str = "公告") -> int:
    """``count`` announcements, ``burst`` at a time concurrently; the last seq."""
    last = 0
    for start in range(0, count, burst):
        done = await asyncio.gather(*(
            rooms.command(lot, "announce", f"{text}{i}", idem=f"a-{uuid.uuid4().hex}")
            for i in range(start, min(count, start + burst))))
        last = max([last, *(a.seq for a in done)])
    return last


@pytest.mark.parametrize("ws_protocol", PROTOCOLS)
async def test_every_watcher_gets_every_event_once_in_order(
    settings: Settings, tmp_path: Any, ws_protocol: str | None,
) -> None:
    """80 watchers, 400 events in bursts: each watcher's seqs are exactly snapshot+1 … last;
    on the direct path the writes were coalesced (fewer writes than frames), on the ASGI path
    nothing was written directly."""
    async with sale_room(settings, tmp_path, ws_protocol) as (srv, lot, rooms), \
            contextlib.AsyncExitStack() as stack:
        watches = await _watchers([srv], lot, 80, stack)
        await asyncio.gather(*(w.client.send(t="sub", lot=lot) for w in watches))
        for _ in range(200):
            if all(w.start is not None for w in watches):
                break
            await asyncio.sleep(0.05)
        before = (outbox.COUNTS.frames, outbox.COUNTS.writes)
        final = await announce(rooms, lot, 400)
        await _wait_final(watches, final, timeout=30)
        problems = [p for w in watches if (p := w.problem(final)) is not None]
        frames = outbox.COUNTS.frames - before[0]
        writes = outbox.COUNTS.writes - before[1]
    assert not problems, f"{len(problems)} of 80 watchers wrong: {problems[:3]}"
    if ws_protocol is None:
        assert frames >= 80 * 400, (frames, writes)
        assert writes < frames, f"no write carried more than one frame ({writes} writes)"
    else:
        assert frames == writes == 0, (frames, writes)


def _shrink_send_buffer(srv: Server, client_port: int) -> None:
    """Give the server's end of the client at ``client_port`` a small kernel send buffer, so
    that a client that stops reading makes the server's transport full after a few dozen KiB.

    The server's end, not the client's: a client socket with a tiny receive buffer lets the
    kernel's send buffer grow to megabytes first (the old test dropped at its 177th burst of
    200), and, on loopback, can wait out TCP's zero-window probe back-off for many seconds
    once it reads again (a CI run timed out on a read that way)."""
    assert srv.uvicorn_server is not None
    for conn in list(srv.uvicorn_server.server_state.connections):
        transport = getattr(conn, "transport", None)
        sock = transport.get_extra_info("socket") if transport is not None else None
        if sock is not None and sock.getpeername()[1] == client_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            return
    raise AssertionError(f"no server connection from port {client_port}")


def _dropped() -> float:
    return metrics.REGISTRY.get_sample_value("auction_slow_clients_dropped_total") or 0.0


@pytest.mark.parametrize("ws_protocol", PROTOCOLS)
async def test_a_watcher_that_stops_reading_gets_4429_and_resumes_without_loss(
    settings: Settings, tmp_path: Any, ws_protocol: str | None, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A watcher stops reading while events keep coming; once its outbox holds SEND_QUEUE
    frames it is dropped with 4429 (a reading watcher is not). What it read before the close
    is gapless; resuming from its last seq gives exactly the rest, up to the last event."""
    monkeypatch.setattr(ws, "SEND_QUEUE", 64)  # read when each connection is made
    async with sale_room(settings, tmp_path, ws_protocol) as (srv, lot, rooms), \
            contextlib.AsyncExitStack() as stack:
        (fast,) = await _watchers([srv], lot, 1, stack)
        await fast.client.send(t="sub", lot=lot)
        slow = await stack.enter_async_context(connect(
            # no permessage-deflate: the stock protocol would shrink the repeated text to a
            # few bytes a message, and the buffers would take thousands of events to fill
            srv.ws_url, max_queue=1, compression=None,
            additional_headers={"X-Forwarded-For": "10.9.0.1"}))
        _shrink_send_buffer(srv, slow.local_address[1])
        await slow.send(msgpack.packb({"t": "hello"}))
        await slow.send(msgpack.packb({"t": "sub", "lot": lot}))
        got: list[dict[str, Any]] = []
        while not any(m["t"] == "snapshot" for m in got):
            got.append(msgpack.unpackb(await asyncio.wait_for(slow.recv(), 5)))
        snap = next(m for m in got if m["t"] == "snapshot")
        # the slow client reads nothing from here on
        dropped_before = _dropped()
        last = 0
        for _ in range(200):
            last = await announce(rooms, lot, 25, text="很长的公告" * 39)
            if _dropped() > dropped_before:
                break
        assert _dropped() == dropped_before + 1, "the watcher that stopped reading was not dropped"
        final = await announce(rooms, lot, 30)  # after the drop: the resume must bring these
        assert final > last
        # now it reads what reached it, then the close
        seqs: list[int] = []
        with contextlib.suppress(ConnectionClosed):
            while True:
                m = msgpack.unpackb(await asyncio.wait_for(slow.recv(), 10))
                if m.get("t") == "ev":
                    seqs.append(int(m["seq"]))
        assert slow.close_code == 4429, slow.close_code
        assert seqs == list(range(snap["seq"] + 1, snap["seq"] + 1 + len(seqs))), seqs[:10]
        after = seqs[-1] if seqs else snap["seq"]
        async with raw_client(srv, resume={lot: [snap["epoch"], after]},
                              address="10.9.0.2") as again:
            resumed = await again.until(lambda m: m.get("t") in ("resumed", "snapshot"))
            assert resumed["t"] == "resumed" and resumed["recovered"] is True, resumed
            while not again.events(lot) or again.events(lot)[-1]["seq"] < final:
                await again.recv(timeout=10)
            rest = [int(m["seq"]) for m in again.events(lot)]
        assert rest == list(range(after + 1, final + 1)), (after, rest[:5], final)
        await _wait_final([fast], final, timeout=20)
        assert fast.problem(final) is None, fast.problem(final)
