"""Locust users for the auction engine, built on the Python SDK (``auction_client``).

    AUCTION_ADMIN_TOKEN=… locust -f loadtests/locustfile.py --headless -H http://127.0.0.1:8000 \
        -u 100 -r 20 -t 60s

On test start one market, one live session with ``LOCUST_LOTS`` open lots and
``LOCUST_BIDDERS`` bidders (registration → approve → deposit → token) are created through the
HTTP API with the admin token (``LOCUST_SESSION`` is not needed). Users:

- ``RealisticBidder`` (websocket): watches one lot, bids its next minimum every 2–6 s.
- ``AggressiveBidder`` (websocket): bids its next minimum every 0.1–0.3 s on one lot.
- ``Viewer`` (websocket only): subscribes to a lot and counts the events it receives.
- ``CatalogueBrowser`` (HTTP): sessions, lots, one lot, its bids, results.

Every round trip is reported to locust: ``WS connect``, ``WS subscribe``, ``WS bid`` (an
``ack``), ``WS bid/<code>`` for an expected rule refusal (``too_low``, ``already_leading`` …:
bidders race, these are normal outcomes, reported as successes under their own name),
``WS events`` (each received event, response time = server ``at`` → local receipt) and
``HTTP <route>``. A failure is a transport error, a timeout, a dropped connection or an
unexpected refusal (``unauthorized``, ``unavailable`` …).

The SDK is asyncio; locust is gevent. One asyncio event loop (uvloop, which does its own I/O
and so ignores gevent's patches) runs in a native thread for the whole process; a user submits
a coroutine with ``call_soon_threadsafe`` and waits on a gevent ``AsyncResult`` that the loop's
thread sets (thread-safe in gevent ≥ 20.12), so a waiting user yields to the other greenlets.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import gevent.event
from gevent import monkey
from locust import User, between, events, task
from locust.env import Environment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "clients" / "python"))
sys.path.insert(0, str(ROOT))

from auction_client import AuctionClient, AuctionHTTP, BidRejected, Event, local_ms  # noqa: E402

from loadtests.seed import Sale, new_sale  # noqa: E402

T = TypeVar("T")

#: Refusals that are the normal outcome of racing bidders, not failures.
EXPECTED_REFUSALS = {"too_low", "already_leading", "below_start", "off_increment",
                     "rate_limited", "lot_closed"}


class Shared:
    sale: Sale | None = None
    lots: ClassVar[list[int]] = []
    next_token = 0


class Bridge:
    """The process's asyncio loop in a native thread, and the way greenlets wait on it."""

    loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def run(cls, coro: Awaitable[T], timeout: float | None = 60.0) -> T:
        if cls.loop is None:
            import uvloop

            cls.loop = uvloop.new_event_loop()
            start_native_thread = monkey.get_original("_thread", "start_new_thread")
            start_native_thread(cls.loop.run_forever, ())
        loop = cls.loop
        result: gevent.event.AsyncResult = gevent.event.AsyncResult()

        def done(task: asyncio.Future[T]) -> None:
            if task.cancelled():
                result.set_exception(asyncio.CancelledError())
            elif task.exception() is not None:
                result.set_exception(task.exception())
            else:
                result.set(task.result())

        def start() -> None:
            task = asyncio.ensure_future(asyncio.wait_for(coro, timeout), loop=loop)
            task.add_done_callback(done)

        loop.call_soon_threadsafe(start)
        return result.get()  # type: ignore[no-any-return]


def _run(coro: Awaitable[T]) -> T:
    return Bridge.run(coro, timeout=600)


@events.test_start.add_listener
def seed(environment: Environment, **_: Any) -> None:
    host = environment.host or "http://127.0.0.1:8000"
    admin = os.environ.get("AUCTION_ADMIN_TOKEN", "")
    if not admin:
        raise SystemExit("AUCTION_ADMIN_TOKEN must be set (the users seed their own sale)")

    async def go() -> None:
        sale = await new_sale(host, admin)
        Shared.lots = await sale.add_lots(int(os.environ.get("LOCUST_LOTS", "10")))
        await sale.add_bidders(int(os.environ.get("LOCUST_BIDDERS", "60")))
        Shared.sale = sale

    _run(go())


def fire(environment: Environment, name: str, started: float, exc: BaseException | None = None,
         length: int = 0, request_type: str = "WS") -> None:
    environment.events.request.fire(
        request_type=request_type, name=name, response_time=(time.perf_counter() - started) * 1000,
        response_length=length, exception=exc, context={},
    )


class SdkUser(User):
    """Base: one asyncio loop per user, SDK calls timed and reported."""

    abstract = True
    token_needed = False

    def on_start(self) -> None:
        self.client: AuctionClient | None = None
        self.lot = random.choice(Shared.lots)

    def on_stop(self) -> None:
        if self.client is not None:
            Bridge.run(self.client.close())

    def timed(self, name: str, coro: Awaitable[T]) -> T | None:
        started = time.perf_counter()
        try:
            result = Bridge.run(coro)
        except Exception as exc:
            fire(self.environment, name, started, exc)
            return None
        fire(self.environment, name, started)
        return result

    def connect(self, token: str | None) -> None:
        url = self.host.replace("http://", "ws://").replace("https://", "wss://") + "/ws"
        client = AuctionClient(url, token, request_timeout=10)
        if self.timed("connect", client.connect()) is None and not client.connected:
            raise RuntimeError("connect failed")
        self.client = client
        self.timed("subscribe", client.subscribe(self.lot))


class Bidder(SdkUser):
    abstract = True

    def on_start(self) -> None:
        super().on_start()
        assert Shared.sale is not None
        token = Shared.sale.tokens[Shared.next_token % len(Shared.sale.tokens)]
        Shared.next_token += 1
        self.connect(token)

    @task
    def bid(self) -> None:
        assert self.client is not None
        view = self.client.view(self.lot)
        if not view.ready or not view.is_open:
            return
        started = time.perf_counter()
        try:
            Bridge.run(self.client.bid(self.lot, view.next_minimum))
        except BidRejected as rej:
            if rej.code in EXPECTED_REFUSALS:
                fire(self.environment, f"bid/{rej.code}", started)
            else:
                fire(self.environment, "bid", started, rej)
        except Exception as exc:
            fire(self.environment, "bid", started, exc)
        else:
            fire(self.environment, "bid", started)


class RealisticBidder(Bidder):
    weight = 20
    wait_time = between(2.0, 6.0)


class AggressiveBidder(Bidder):
    weight = 5
    wait_time = between(0.1, 0.3)


class Viewer(SdkUser):
    weight = 60

    def on_start(self) -> None:
        super().on_start()
        self.connect(None)
        assert self.client is not None
        self.seen: list[int] = []  # appended on the loop's thread, drained by the greenlet

        def on_item(item: Any) -> None:
            if isinstance(item, Event):
                self.seen.append(max(0, local_ms() - item.at))

        self.client.on_event(on_item)

    @task
    def watch(self) -> None:
        """Report the events received since the last call (response time: server ``at`` →
        receipt), and a failure if the connection is gone for good."""
        assert self.client is not None
        seen, self.seen = self.seen, []
        for ms in seen:
            self.environment.events.request.fire(
                request_type="WS", name="events", response_time=ms, response_length=0,
                exception=None, context={},
            )
        if self.client.closed:
            fire(self.environment, "connection", time.perf_counter(),
                 RuntimeError("connection closed"))

    wait_time = between(1.0, 2.0)


async def _make_http(host: str) -> AuctionHTTP:
    return AuctionHTTP(host)  # made on the loop's thread: httpx binds to the running loop


class CatalogueBrowser(SdkUser):
    weight = 15
    wait_time = between(1.0, 3.0)

    def on_start(self) -> None:
        super().on_start()
        self.http: AuctionHTTP = Bridge.run(_make_http(self.host))

    def on_stop(self) -> None:
        Bridge.run(self.http.aclose())
        super().on_stop()

    def get(self, name: str, coro: Awaitable[Any]) -> Any:
        started = time.perf_counter()
        try:
            result = Bridge.run(coro)
        except Exception as exc:
            fire(self.environment, name, started, exc, request_type="HTTP")
            return None
        fire(self.environment, name, started, request_type="HTTP")
        return result

    @task
    def browse(self) -> None:
        assert Shared.sale is not None
        session = Shared.sale.session_id
        self.get("/api/v1/sessions", self.http.sessions())
        self.get("/api/v1/sessions/{id}/lots", self.http.lots(session))
        lot = random.choice(Shared.lots)
        self.get("/api/v1/lots/{id}", self.http.lot(lot))
        self.get("/api/v1/lots/{id}/bids", self.http.bids(lot))
        self.get("/api/v1/results", self.http.results(session))
