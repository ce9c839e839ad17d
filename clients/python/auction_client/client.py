"""``AuctionClient``: the asyncio websocket client of the auction protocol (docs/protocol.md).

Contracts:

- **Connect.** :meth:`AuctionClient.connect` opens the socket, sends ``hello`` and returns once
  ``welcome`` arrived (or raises). A 4401 close (bad token) raises :class:`NotConnected` with
  ``code == "unauthorized"``.
- **Link watch.** While connected the client sends a ``ping`` every ``heartbeat_interval`` s;
  when its ``pong`` has not come within ``pong_timeout`` s (5 s) the link is taken as lost at
  once, even though no close arrived (a half-open link: the network cut, the socket still
  "open"): ``connected`` turns false, a ``link_lost`` :class:`Notice` is emitted, the old
  socket is aborted without waiting for its closing handshake, and a new one is opened with
  resume right away.
- **Reconnect.** When the connection drops (anything but :meth:`close`, 4400, 4401, 1009) the
  client reconnects with exponential backoff and jitter, sends ``hello {token, resume}`` with
  ``[epoch, seq]`` of every subscribed lot it holds a snapshot for, ``sub`` for the others, and
  re-sends every request still waiting for its answer **with the same idempotency key**, so a
  bid sent before the drop is applied at most once (the server answers ``ack replay: true``)
  and its real fate is known: the caller's ``bid`` returns the ``Ack`` or raises
  :class:`BidRejected`. A request whose caller stopped waiting (``TimeoutError``) is still
  re-sent and its answer reported as a ``late_answer`` :class:`Notice`; calling ``bid`` again
  with the same key joins it.
- **Order.** Per lot, events are delivered in ``seq`` order, never twice: duplicates
  (``seq <= last``) are dropped; a gap (``seq > last + 1``) or a foreign epoch makes the client
  resubscribe with resume from the last seq it holds and drop events until the server answers.
- **Unserved subscriptions.** A ``sub`` (or a resume in ``hello``) the server could not serve
  for the moment (``error unavailable`` naming the lot: Redis was unreachable) is sent again,
  with resume, after :data:`RESUBSCRIBE_AFTER_S` (with jitter) until served; a caller waiting
  in :meth:`subscribe` keeps waiting (its ``timeout`` bounds it) instead of being refused.
- **Recovered.** ``last_resume[lot]`` is ``True`` after a successful resume and ``False`` after a
  snapshot that replaced the history (``recovered: false``); a ``resync`` :class:`Notice` is
  emitted then.
- **Requests.** :meth:`bid` and :meth:`command` return the :class:`Ack` or raise
  :class:`BidRejected` / :class:`CommandRejected`; ``unavailable``, ``rate_limited`` and
  ``overloaded`` nacks are retried with the same key (after ``retry_after_ms``) up to
  ``max_retries`` times.
- **Time.** ``server_offset_ms`` = server clock − local clock, from ``welcome`` and refined by
  every :meth:`ping` (half the round trip); :meth:`server_now_ms` is the server's "now".

Everything runs on one event loop; the client is not thread-safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import logging
import random
import re
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from auction_client import notice as N
from auction_client.codec import decode, encode
from auction_client.errors import (
    AuctionClientError,
    BidRejected,
    CommandRejected,
    NotConnected,
    ProtocolError,
    Rejected,
)
from auction_client.event_stream import EventStream
from auction_client.lot_view import LotView, Verdict
from auction_client.messages import (
    Ack,
    ErrorMsg,
    Event,
    Nack,
    Pong,
    Resumed,
    ServerMessage,
    Snapshot,
    Welcome,
    parse,
)
from auction_client.notice import ClientEvent, Notice

log = logging.getLogger("auction_client")

#: Close codes after which reconnecting cannot help.
FATAL_CLOSE_CODES = {1009: "frame_too_big", 4400: "bad_frame", 4401: "unauthorized"}
#: Nack codes retried automatically with the same key.
RETRYABLE_CODES = frozenset({"unavailable", "rate_limited", "overloaded"})
#: a ``sub`` answered ``error unavailable`` is sent again after about this long (s)
RESUBSCRIBE_AFTER_S = 1.0

Callback = Callable[[ClientEvent], Awaitable[None] | None]


def local_ms() -> int:
    """The local wall clock in integer milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def new_key(prefix: str = "k") -> str:
    """A fresh idempotency key (``prefix-`` + 32 hex digits; ≤ 64 chars)."""
    return f"{prefix}-{uuid.uuid4().hex}"


@dataclass(slots=True)
class _Pending:
    frame: dict[str, Any]
    future: asyncio.Future[Ack]
    error: type[Rejected]
    attempts: int = 0
    #: the caller stopped waiting (timeout): the answer is reported as a ``late_answer`` notice
    orphan: bool = False


@dataclass(slots=True)
class _Stats:
    duplicates: int = 0
    gaps: int = 0
    reconnects: int = 0
    bad_frames: int = 0
    resends: int = 0
    retries: int = 0
    resubscribes: int = 0  # ``sub`` sent again after ``error unavailable``
    extra: dict[str, int] = field(default_factory=dict)


class AuctionClient:
    """One websocket connection (re-established as needed) for one token (or anonymous).

    ``url`` is ``ws://host:port/ws``; ``token`` a bidder / staff token, or ``None`` to watch.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        reconnect: bool = True,
        backoff_initial: float = 0.2,
        backoff_max: float = 5.0,
        open_timeout: float = 10.0,
        request_timeout: float = 15.0,
        max_retries: int = 5,
        heartbeat_interval: float = 1.0,
        pong_timeout: float | None = 5.0,
    ) -> None:
        self.url = url
        self.token = token
        self.reconnect = reconnect
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.open_timeout = open_timeout
        self.request_timeout = request_timeout
        self.max_retries = max_retries
        self.heartbeat_interval = heartbeat_interval
        #: ``None`` turns the link watch off (only the websocket library's keepalive remains)
        self.pong_timeout = pong_timeout

        self.welcome: Welcome | None = None
        self.server_offset_ms: int = 0
        self.rtt_ms: int | None = None
        self.last_resume: dict[int, bool] = {}
        self.stats = _Stats()

        self._ws: ClientConnection | None = None
        self._views: dict[int, LotView] = {}
        self._subscribed: dict[int, None] = {}  # ordered set
        self._sub_waiters: dict[int, asyncio.Future[LotView]] = {}
        self._resume_asked: set[int] = set()
        self._pending: dict[str, _Pending] = {}
        self._pings: dict[int, asyncio.Future[Pong]] = {}
        self._ping_ids = itertools.count(1)
        self._streams: weakref.WeakSet[EventStream] = weakref.WeakSet()
        self._callbacks: list[Callback] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._supervisor: asyncio.Task[None] | None = None
        self._change = asyncio.Event()
        self._connected = asyncio.Event()
        self._closing = False
        self._fatal: NotConnected | None = None
        self._lost: ClientConnection | None = None  # the socket the link watch gave up on
        self._frame_at = 0.0  # loop time of the last frame received

    # ------------------------------------------------------------------ properties

    @property
    def connected(self) -> bool:
        """True while a welcomed connection is up."""
        return self._ws is not None and self._connected.is_set()

    @property
    def closed(self) -> bool:
        """True after :meth:`close` or a fatal close code."""
        return self._closing or self._fatal is not None

    @property
    def role(self) -> str:
        """``viewer`` / ``bidder`` / ``auctioneer`` / ``admin`` (from the last welcome)."""
        return self.welcome.role if self.welcome else "viewer"

    @property
    def paddle(self) -> int | None:
        """The bidder's paddle number (竞买号牌), from the welcome."""
        return self.welcome.paddle if self.welcome else None

    @property
    def session_id(self) -> int | None:
        """The session a bidder or auctioneer token is bound to."""
        return self.welcome.session if self.welcome else None

    @property
    def views(self) -> dict[int, LotView]:
        """Local state of every subscribed lot (live objects; do not mutate)."""
        return dict(self._views)

    def view(self, lot_id: int) -> LotView:
        """Local state of a subscribed lot. Raises ``KeyError`` when not subscribed."""
        return self._views[lot_id]

    def server_now_ms(self) -> int:
        """The server's clock now, estimated from the local clock and ``server_offset_ms``."""
        return local_ms() + self.server_offset_ms

    # ------------------------------------------------------------------ lifecycle

    async def connect(self) -> Welcome:
        """Open the connection and wait for ``welcome``. Idempotent while connected."""
        if self._fatal is not None:
            raise self._fatal
        if self._closing:
            raise NotConnected("client is closed")
        if self.connected and self.welcome is not None:
            return self.welcome
        await self._open()
        self._supervisor = asyncio.create_task(self._supervise(), name="auction-client")
        assert self.welcome is not None
        return self.welcome

    async def close(self) -> None:
        """Close for good: pending requests fail with :class:`NotConnected`, iterators end."""
        if self._closing:
            return
        self._closing = True
        ws, self._ws = self._ws, None
        self._connected.clear()
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close(1000)
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(BaseException):
                await self._supervisor
        for task in list(self._tasks):
            task.cancel()
        self._shutdown(NotConnected("client closed", code="closed"), N.Notice(N.CLOSED))

    async def __aenter__(self) -> AuctionClient:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until a (re)connection is welcomed. Raises if the client closed or gave up."""
        async with asyncio.timeout(timeout):
            while not self.connected:
                if self._fatal is not None:
                    raise self._fatal
                if self._closing:
                    raise NotConnected("client is closed")
                waiter = asyncio.ensure_future(self._connected.wait())
                change = asyncio.ensure_future(self._change.wait())
                try:
                    await asyncio.wait({waiter, change}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waiter.cancel()
                    change.cancel()

    # ------------------------------------------------------------------ subscriptions

    async def subscribe(
        self, lot_id: int, *, wait: bool = True, timeout: float | None = 10.0
    ) -> LotView:
        """Follow a lot. With ``wait`` returns once its snapshot (or resume) arrived.

        Raises :class:`Rejected` when the server answers with an ``error`` for this lot
        (e.g. ``unknown_lot``); the lot is then unsubscribed again.
        """
        self._require_open()
        view = self._views.get(lot_id)
        if view is None:
            view = LotView(lot_id)
            self._views[lot_id] = view
        already = lot_id in self._subscribed
        self._subscribed[lot_id] = None
        if not wait:
            if not already and self.connected:
                await self._send({"t": "sub", "lot": lot_id})
            return view
        if view.ready and already:
            return view
        loop = asyncio.get_running_loop()
        waiter = self._sub_waiters.get(lot_id)
        if waiter is None or waiter.done():
            waiter = loop.create_future()
            self._sub_waiters[lot_id] = waiter
        if not already and self.connected:
            await self._send({"t": "sub", "lot": lot_id})
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), timeout)
        except Rejected:
            self._drop_lot(lot_id)
            raise

    async def unsubscribe(self, lot_id: int) -> None:
        """Stop following a lot and forget its local state."""
        self._drop_lot(lot_id)
        if self.connected:
            await self._send({"t": "unsub", "lot": lot_id})

    def _drop_lot(self, lot_id: int) -> None:
        self._subscribed.pop(lot_id, None)
        self._views.pop(lot_id, None)
        self.last_resume.pop(lot_id, None)
        self._resume_asked.discard(lot_id)
        waiter = self._sub_waiters.pop(lot_id, None)
        if waiter is not None and not waiter.done():
            waiter.cancel()

    # ------------------------------------------------------------------ requests

    async def bid(
        self, lot_id: int, amount_fen: int, key: str | None = None, *, timeout: float | None = None
    ) -> Ack:
        """Bid ``amount_fen`` on a lot. Returns the ``ack``; raises :class:`BidRejected` on
        ``nack`` (``minimum`` = lowest valid bid when given), ``TimeoutError`` when no answer
        came in ``timeout`` s (default ``request_timeout``; retrying with the same ``key`` is
        safe). ``key`` defaults to a fresh uuid; it is reused on every automatic re-send.
        """
        if type(amount_fen) is not int or amount_fen <= 0:
            raise ValueError("amount_fen must be a positive int (fen)")
        frame = {"t": "bid", "lot": lot_id, "amount": amount_fen, "key": key or new_key("b")}
        return await self._request(frame, BidRejected, timeout)

    async def proxy(
        self, lot_id: int, max_fen: int, key: str | None = None, *,
        timeout: float | None = None,
    ) -> Ack:
        """Set or change this bidder's secret maximum on an english lot (``proxy``,
        docs/formats.md P1–P6): the room then bids for it. Raises :class:`BidRejected` on
        ``nack`` (``wrong_format`` on other formats)."""
        if type(max_fen) is not int or max_fen <= 0:
            raise ValueError("max_fen must be a positive int (fen)")
        frame = {"t": "proxy", "lot": lot_id, "max": max_fen, "key": key or new_key("p")}
        return await self._request(frame, BidRejected, timeout)

    async def accept(
        self, lot_id: int, key: str | None = None, *, timeout: float | None = None
    ) -> Ack:
        """Take a Dutch lot at its current price (``accept``, docs/formats.md D3); the first
        acceptance wins, a later one raises :class:`BidRejected` (``lot_closed``)."""
        frame = {"t": "accept", "lot": lot_id, "key": key or new_key("a")}
        return await self._request(frame, BidRejected, timeout)

    async def command(
        self, lot_id: int, op: str, key: str | None = None, *, timeout: float | None = None
    ) -> Ack:
        """Console command (``open`` / ``hammer`` / ``pass``) for staff tokens. Returns the
        ``ack``; raises :class:`CommandRejected` on ``nack``."""
        frame = {"t": "cmd", "lot": lot_id, "op": op, "key": key or new_key("c")}
        return await self._request(frame, CommandRejected, timeout)

    async def ping(self, timeout: float = 5.0) -> int:
        """Round trip to the server; updates ``server_offset_ms`` and ``rtt_ms``. Returns the
        server time (ms) of the ``pong``."""
        self._require_open()
        if not self.connected:
            await self.wait_connected(timeout)
        ping_id = next(self._ping_ids)
        fut: asyncio.Future[Pong] = asyncio.get_running_loop().create_future()
        self._pings[ping_id] = fut
        t0 = local_ms()
        try:
            await self._send({"t": "ping", "id": ping_id})
            pong = await asyncio.wait_for(fut, timeout)
        finally:
            self._pings.pop(ping_id, None)
        t1 = local_ms()
        self.rtt_ms = t1 - t0
        self.server_offset_ms = pong.server_time - (t0 + t1) // 2
        return pong.server_time

    async def _request(
        self, frame: dict[str, Any], error: type[Rejected], timeout: float | None
    ) -> Ack:
        self._require_open()
        key = str(frame["key"])
        if not 1 <= len(key) <= 64:
            raise ValueError("key must be 1–64 characters")
        existing = self._pending.get(key)
        if existing is not None:
            if existing.frame != frame:
                raise ValueError(f"key {key!r} is in use by another request")
            existing.orphan = False
            fut = existing.future
        else:
            fut = asyncio.get_running_loop().create_future()
            self._pending[key] = _Pending(frame, fut, error)
            if self.connected:
                await self._send(frame)  # if this fails, the reconnect re-sends it
        try:
            return await asyncio.wait_for(asyncio.shield(fut), timeout or self.request_timeout)
        except TimeoutError:
            # Kept: it is re-sent after a reconnect and its answer told as ``late_answer``.
            pending = self._pending.get(key)
            if pending is not None and pending.future is fut:
                pending.orphan = True
            raise

    # ------------------------------------------------------------------ events

    def events(self, lot: int | None = None) -> EventStream:
        """An async iterator of :class:`Event` and :class:`Notice` items from now on (only one
        lot's items plus connection notices when ``lot`` is given). See :class:`EventStream`."""
        stream = EventStream(lot)
        if self.closed:
            stream.offer(N.Notice(N.CLOSED))
        else:
            self._streams.add(stream)
        return stream

    def on_event(self, callback: Callback) -> Callable[[], None]:
        """Call ``callback(item)`` for every event and notice (coroutines are scheduled as
        tasks). Returns a function that removes the callback."""
        self._callbacks.append(callback)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._callbacks.remove(callback)

        return remove

    async def wait_until(
        self, lot_id: int, predicate: Callable[[LotView], bool], timeout: float | None = None
    ) -> LotView:
        """Wait until ``predicate(view)`` holds for a subscribed lot; ``TimeoutError`` after
        ``timeout`` s; :class:`NotConnected` if the client closes meanwhile."""
        async with asyncio.timeout(timeout):
            while True:
                view = self._views.get(lot_id)
                if view is None:
                    raise KeyError(f"lot {lot_id} is not subscribed")
                if predicate(view):
                    return view
                self._require_open()
                await self._change.wait()

    async def changed(self, timeout: float | None = None) -> bool:
        """Wait for any state change (event, snapshot, connection); ``False`` on timeout."""
        try:
            async with asyncio.timeout(timeout):
                await self._change.wait()
        except TimeoutError:
            return False
        return True

    # ------------------------------------------------------------------ internals: connection

    def _require_open(self) -> None:
        if self._fatal is not None:
            raise self._fatal
        if self._closing:
            raise NotConnected("client is closed")
        if self._supervisor is None:
            raise NotConnected("call connect() first", code="not_connected")

    async def _open(self) -> None:
        """Connect, hello, welcome; then sub / resend. Raises on any failure."""
        ws = await connect(
            self.url,
            open_timeout=self.open_timeout,
            max_size=1 << 20,
            compression=None,
            ping_interval=20,
            ping_timeout=20,
            close_timeout=2,
        )
        resume = {
            lot: [view.epoch, view.seq]
            for lot in self._subscribed
            if (view := self._views.get(lot)) is not None and view.ready
        }
        try:
            hello: dict[str, Any] = {"t": "hello"}
            if self.token:
                hello["token"] = self.token
            if resume:
                hello["resume"] = resume
            await ws.send(encode(hello))
            raw = await asyncio.wait_for(ws.recv(), self.open_timeout)
            received = local_ms()
            msg = parse(decode(raw))
            if isinstance(msg, ErrorMsg):
                raise NotConnected(f"server refused hello: {msg.message}", code=msg.code)
            if not isinstance(msg, Welcome):
                raise ProtocolError(f"expected welcome, got {type(msg).__name__}")
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else 1006
            if code in FATAL_CLOSE_CODES:
                raise NotConnected(
                    f"server closed the connection ({code})", code=FATAL_CLOSE_CODES[code]
                ) from None
            raise
        except BaseException:
            with contextlib.suppress(Exception):
                await ws.close()
            raise
        self.welcome = msg
        self.server_offset_ms = msg.server_time - received
        self._ws = ws
        self._resume_asked = set(resume)
        for lot in self._subscribed:
            view = self._views.get(lot)
            if view is not None:
                view.resyncing = False
        self._connected.set()
        pending = list(self._pending.values())  # taken before any await: see _request
        for lot in list(self._subscribed):
            if lot not in resume:
                await self._send({"t": "sub", "lot": lot})
        for p in pending:
            if not p.future.done():
                self.stats.resends += 1
                await self._send(p.frame)
        self._emit(N.Notice(N.CONNECTED, message=f"role={msg.role}"))
        self._spawn(self._refine_clock())
        if self.pong_timeout is not None:
            self._spawn(self._watch_link(ws))

    async def _refine_clock(self) -> None:
        with contextlib.suppress(Exception):
            await self.ping(timeout=5.0)

    async def _watch_link(self, ws: ClientConnection) -> None:
        """Ping ``ws`` every ``heartbeat_interval`` s; no pong and no other frame for
        ``pong_timeout`` s means the link is lost (see the module doc), whether or not the
        socket says so. A server that answers the ping with an ``error`` (Redis away) is
        alive."""
        assert self.pong_timeout is not None
        loop = asyncio.get_running_loop()
        while self._ws is ws and not self._closing:
            await asyncio.sleep(self.heartbeat_interval)
            if self._ws is not ws:
                return
            ping_id = next(self._ping_ids)
            fut: asyncio.Future[Pong] = loop.create_future()
            self._pings[ping_id] = fut
            sent = loop.time()
            try:
                async with asyncio.timeout(self.pong_timeout):
                    await ws.send(encode({"t": "ping", "id": ping_id}))
                    await fut
            except TimeoutError:
                if self._frame_at > sent:
                    continue  # no pong, but the server spoke (a ping it could not answer)
                if self._ws is ws and not self._closing:
                    self._link_lost(ws)
                return
            except (ConnectionClosed, NotConnected):
                return  # the supervisor sees the close
            finally:
                self._pings.pop(ping_id, None)

    def _link_lost(self, ws: ClientConnection) -> None:
        """Give up on ``ws`` at once: state and notice now, the socket aborted (no closing
        handshake to wait for on a dead link); the supervisor then reconnects with resume."""
        self._lost = ws
        self._ws = None
        self._connected.clear()
        self._fail_pings(NotConnected("link lost", code="link_lost"))
        self._emit(N.Notice(
            N.LINK_LOST, message=f"连接中断：{self.pong_timeout:g} 秒未收到服务器应答，正在重连",
            code="pong_timeout",
        ))
        self._notify()
        transport = ws.transport
        if transport is not None:
            transport.abort()

    async def _supervise(self) -> None:
        while not self._closing:
            ws = self._ws
            if ws is None:
                return
            try:
                async for raw in ws:
                    self._on_frame(raw)
            except ConnectionClosed:
                pass
            except Exception:  # a bug in a handler must not kill the connection silently
                log.exception("auction_client: reader failed; reconnecting")
                with contextlib.suppress(Exception):
                    await ws.close(1011)
            if self._closing:
                return
            code = ws.close_code if ws.close_code is not None else 1006
            lost, self._lost = self._lost is ws, None
            self._ws = None
            self._connected.clear()
            self._fail_pings(NotConnected("disconnected", code="disconnected"))
            if code in FATAL_CLOSE_CODES:
                self._give_up(NotConnected(f"server closed ({code})", FATAL_CLOSE_CODES[code]))
                return
            if not self.reconnect:
                self._give_up(NotConnected(f"connection lost ({code})", code="disconnected"))
                return
            if not lost:  # else link_lost was said already
                self._emit(
                    N.Notice(N.DISCONNECTED, message=f"连接断开 ({code})，正在重连",
                             code=str(code))
                )
                self._notify()
            if not await self._reconnect_loop(immediate=lost):
                return

    async def _reconnect_loop(self, *, immediate: bool = False) -> bool:
        delay = self.backoff_initial
        while not self._closing:
            if immediate:
                immediate = False  # a lost link is left by the client, not by the server
            else:
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))
            if self._closing:
                return False
            try:
                await self._open()
            except NotConnected as exc:
                self._give_up(exc)
                return False
            except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed, ProtocolError) as e:
                log.info("auction_client: reconnect failed: %s", e)
                delay = min(delay * 2, self.backoff_max)
                continue
            except InvalidURI as exc:
                self._give_up(NotConnected(str(exc), code="bad_url"))
                return False
            self.stats.reconnects += 1
            return True
        return False

    def _give_up(self, error: NotConnected) -> None:
        self._fatal = error
        self._shutdown(error, N.Notice(N.CLOSED, message=str(error), code=error.code))

    def _shutdown(self, error: NotConnected, last: Notice) -> None:
        for p in self._pending.values():
            if not p.future.done():
                p.future.set_exception(error)
                p.future.exception()  # mark retrieved: nobody may be waiting any more
        self._pending.clear()
        self._fail_pings(error)
        for waiter in self._sub_waiters.values():
            if not waiter.done():
                waiter.set_exception(error)
                waiter.exception()
        self._sub_waiters.clear()
        self._emit(last)
        self._notify()

    def _fail_pings(self, error: NotConnected) -> None:
        for fut in self._pings.values():
            if not fut.done():
                fut.set_exception(error)
                fut.exception()
        self._pings.clear()

    async def _send(self, frame: dict[str, Any]) -> bool:
        """Send one frame if connected; ``False`` when not (the caller relies on re-sends)."""
        ws = self._ws
        if ws is None:
            return False
        try:
            await ws.send(encode(frame))
        except ConnectionClosed:
            return False
        return True

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _notify(self) -> None:
        self._change.set()
        self._change = asyncio.Event()

    def _emit(self, item: ClientEvent) -> None:
        for stream in list(self._streams):
            stream.offer(item)
        for cb in list(self._callbacks):
            try:
                result = cb(item)
                if inspect.isawaitable(result):
                    self._spawn(_await(result))
            except Exception:
                log.exception("auction_client: event callback failed")

    # ------------------------------------------------------------------ internals: frames

    def _on_frame(self, raw: bytes | bytearray | memoryview | str) -> None:
        self._frame_at = asyncio.get_running_loop().time()
        try:
            msg = parse(decode(raw))
        except ProtocolError as exc:
            self.stats.bad_frames += 1
            log.warning("auction_client: unreadable frame dropped: %s", exc)
            return
        self.dispatch(msg)

    def dispatch(self, msg: ServerMessage) -> None:
        """Apply one server message to the client's state (public for tests and tools)."""
        if isinstance(msg, Event):
            self._on_event(msg)
        elif isinstance(msg, Ack):
            pending = self._pending.pop(msg.key, None)
            if pending is not None and not pending.future.done():
                pending.future.set_result(msg)
                if pending.orphan:
                    self._late(pending, f"迟到的应答：请求已被接受（事件 {msg.seq}）", "ack")
        elif isinstance(msg, Nack):
            self._on_nack(msg)
        elif isinstance(msg, Snapshot):
            self._on_snapshot(msg)
        elif isinstance(msg, Resumed):
            self._on_resumed(msg)
        elif isinstance(msg, Pong):
            fut = self._pings.get(msg.id) if msg.id is not None else None
            if fut is not None and not fut.done():
                fut.set_result(msg)
        elif isinstance(msg, ErrorMsg):
            self._on_error(msg)
        elif isinstance(msg, Welcome):
            self.welcome = msg
            self.server_offset_ms = msg.server_time - local_ms()

    def _on_event(self, ev: Event) -> None:
        view = self._views.get(ev.lot)
        if view is None or ev.lot not in self._subscribed:
            return
        verdict = view.apply_event(ev)
        if verdict is Verdict.APPLIED:
            self._emit(ev)
            self._notify()
        elif verdict is Verdict.DUPLICATE:
            self.stats.duplicates += 1
        elif verdict in (Verdict.GAP, Verdict.EPOCH_CHANGED):
            self.stats.gaps += 1
            log.warning(
                "auction_client: lot %s %s (have %s/%s, got %s/%s); resubscribing",
                ev.lot,
                verdict.value,
                view.epoch,
                view.seq,
                ev.epoch,
                ev.seq,
            )
            self._resume_asked.add(ev.lot)
            self._spawn(self._resubscribe(ev.lot, view.epoch, view.seq))

    async def _subscribe_again(self, lot: int, ws: ClientConnection | None) -> None:
        """Send ``lot``'s ``sub`` again (with resume when its view holds a snapshot) after
        :data:`RESUBSCRIBE_AFTER_S` with jitter, on the same socket (a new one subscribes every
        lot itself)."""
        await asyncio.sleep(RESUBSCRIBE_AFTER_S * random.uniform(0.5, 1.5))
        if lot not in self._subscribed or ws is None or self._ws is not ws:
            return
        frame: dict[str, Any] = {"t": "sub", "lot": lot}
        view = self._views.get(lot)
        if view is not None and view.ready:
            frame |= {"epoch": view.epoch, "seq": view.seq}
            self._resume_asked.add(lot)
        await self._send(frame)

    async def _resubscribe(self, lot: int, epoch: str, seq: int) -> None:
        if await self._send({"t": "unsub", "lot": lot}):
            await self._send({"t": "sub", "lot": lot, "epoch": epoch, "seq": seq})

    def _on_snapshot(self, snap: Snapshot) -> None:
        view = self._views.get(snap.lot)
        if view is None or snap.lot not in self._subscribed:
            return
        asked = snap.lot in self._resume_asked
        self._resume_asked.discard(snap.lot)
        view.apply_snapshot(snap)
        if snap.recovered is False or asked:
            self.last_resume[snap.lot] = False
            self._emit(
                N.Notice(
                    N.RESYNC,
                    lot=snap.lot,
                    message="断线期间的事件无法补齐，已按最新状态恢复",
                    recovered=False,
                )
            )
        else:
            self._emit(N.Notice(N.SNAPSHOT, lot=snap.lot))
        self._resolve_sub(snap.lot, view)
        self._notify()

    def _on_resumed(self, msg: Resumed) -> None:
        view = self._views.get(msg.lot)
        if view is None or msg.lot not in self._subscribed:
            return
        self._resume_asked.discard(msg.lot)
        view.apply_resumed(msg)
        self.last_resume[msg.lot] = True
        self._emit(N.Notice(N.RESUMED, lot=msg.lot, message=f"补发 {msg.count} 条", recovered=True))
        self._resolve_sub(msg.lot, view)
        self._notify()

    def _resolve_sub(self, lot: int, view: LotView) -> None:
        waiter = self._sub_waiters.pop(lot, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(view)

    def _on_nack(self, msg: Nack) -> None:
        pending = self._pending.get(msg.key)
        if pending is None or pending.future.done():
            self._pending.pop(msg.key, None)
            return
        if msg.code in RETRYABLE_CODES and pending.attempts < self.max_retries:
            pending.attempts += 1
            self.stats.retries += 1
            delay_ms = msg.retry_after_ms or 100 * 2**pending.attempts
            self._spawn(self._resend_later(msg.key, pending, delay_ms / 1000))
            return
        del self._pending[msg.key]
        pending.future.set_exception(
            pending.error(
                msg.code,
                msg.message,
                minimum=msg.minimum,
                retry_after_ms=msg.retry_after_ms,
                lot=msg.lot if msg.lot is not None else int(pending.frame.get("lot", 0)),
            )
        )
        if pending.orphan:
            pending.future.exception()  # nobody awaits it: the notice tells
            self._late(pending, f"迟到的应答：请求被拒绝（{msg.code}）{msg.message}", msg.code)

    def _late(self, pending: _Pending, message: str, code: str) -> None:
        """Tell the answer to a request whose caller stopped waiting for it."""
        lot = pending.frame.get("lot")
        self._emit(N.Notice(N.LATE_ANSWER, lot=lot if isinstance(lot, int) else 0,
                            message=message, code=code, key=str(pending.frame["key"])))
        self._notify()

    async def _resend_later(self, key: str, pending: _Pending, delay: float) -> None:
        await asyncio.sleep(delay)
        if self._pending.get(key) is pending and not pending.future.done():
            await self._send(pending.frame)

    def _on_error(self, msg: ErrorMsg) -> None:
        log.warning("auction_client: server error %s: %s", msg.code, msg.message)
        self._emit(N.Notice(N.ERROR, lot=msg.lot or 0, message=msg.message, code=msg.code))
        if msg.code == "unavailable" and msg.lot is not None and msg.lot in self._subscribed:
            # the server could not serve this lot's sub for now and dropped it: ask again
            # (a caller waiting in subscribe keeps waiting; the answer will resolve it)
            self.stats.resubscribes += 1
            self._spawn(self._subscribe_again(msg.lot, self._ws))
            return
        target = msg.lot
        if target is None and msg.code == "unknown_lot":
            # the server's error frame may not name the lot: find it in the message
            named = [int(n) for n in re.findall(r"\d+", msg.message)]
            target = next((lot for lot in named if lot in self._sub_waiters), None)
        if target is None and len(self._sub_waiters) == 1:
            target = next(iter(self._sub_waiters))
        if target is not None:
            waiter = self._sub_waiters.pop(target, None)
            if waiter is not None and not waiter.done():
                waiter.set_exception(Rejected(msg.code, msg.message, lot=target))


async def _await(awaitable: Awaitable[None]) -> None:
    try:
        await awaitable
    except Exception:
        log.exception("auction_client: event callback failed")


__all__ = ["AuctionClient", "AuctionClientError", "local_ms", "new_key"]
