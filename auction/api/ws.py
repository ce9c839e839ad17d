"""The websocket endpoint ``/ws`` (docs/protocol.md): thin: decode → call → encode.

One :class:`Connection` per socket: a reader (this handler's loop), a bounded outbox written
without a task wake-up per frame (auction/api/outbox.py), and per-lot subscriptions
(auction/api/ws_subscriptions.py: the hub's side, and a seamless start from a snapshot or a
resume).

Whatever a client sends, the socket ends with a documented close code and no traceback in the
log (docs/protocol.md "Close codes"): a text frame or a frame that is not a msgpack map closes
4400; a ``hello`` that cannot be parsed (a field of the wrong type, a negative resume seq) gets
``error bad_request`` and closes 4400; a frame over 8 KiB closes 1009 and a text frame that is
not UTF-8 closes 1007 (both in uvicorn, before a frame reaches this module; see
:class:`QuietInvalidUtf8` for the traceback uvicorn would log).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Coroutine
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.websockets import WebSocket, WebSocketDisconnect

from auction import eventloop, metrics, outage
from auction.api import audit, staff_view, ws_auth
from auction.api.bucket import TokenBucket
from auction.api.console import Denied, accept_price, place_proxy, run_command, submit_bid
from auction.api.direct_read import DIRECT_READ, DirectReader
from auction.api.outbox import Outbox, Outgoing, drained
from auction.api.tokens import VIEWER, Principal, TokenError
from auction.api.ws_subscriptions import MAX_SUBSCRIPTIONS, LotSub, Subscriptions
from auction.domain.errors import Rejection
from auction.rooms.door import Overloaded
from auction.rooms.replies import Accepted
from auction.services import Services
from auction.store.errors import Unavailable
from auction.wire import codec
from auction.wire.codec import Accept, Bid, Cmd, Hello, Ping, Proxy, Sub, Unsub, WireError

log = logging.getLogger("auction.ws")


class QuietInvalidUtf8(logging.Filter):
    """uvicorn's websockets protocol closes a text frame that is not UTF-8 with 1007 (right),
    but logs it as an error with a traceback (``logger.exception``), so any client could fill
    the log with them: the record is dropped and an INFO line of ours says it instead."""

    MESSAGE = "Invalid UTF-8 sequence received from client."

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != self.MESSAGE:
            return True
        log.info("closed 1007: a text frame that is not UTF-8")
        return False


#: installed on import, wherever the app runs (``auction serve``, tests, an embedding server)
_QUIET_UTF8 = QuietInvalidUtf8()
logging.getLogger("uvicorn.error").addFilter(_QUIET_UTF8)

SEND_QUEUE = 2048  # frames; a client this far behind is dropped with 4429 and resumes by seq
HELLO_TIMEOUT_S = 10.0
CLOSE_INTERNAL = 1011  # an unexpected error outside any request (after an `error` frame)
CLOSE_TRY_AGAIN = 1013  # a dependency is away before the welcome (after `error unavailable`)
RATE_PER_S = 20.0  # bids + commands per connection
RATE_BURST = 40.0


async def server_time_ms(services: Services) -> int:
    sec, usec = await services.redis.time()
    return int(sec) * 1000 + int(usec) // 1000


#: the data a rule refusal may carry into its nack (docs/protocol.md)
_NACK_DATA = ("minimum", "ends_at", "required_fen")

#: kinds of unexpected error already logged with a traceback in this process: each kind is
#: logged once, so a bug hit by every request does not write a traceback per request
_UNEXPECTED: set[tuple[str, str]] = set()


def _failure(exc: Exception, what: str) -> tuple[str, str]:
    """``(code, message)`` of a request that failed unexpectedly, reported once: ``unavailable``
    for a dependency that is away (PostgreSQL: reported by the store; Redis connection errors
    and timeouts, and other OSErrors: :data:`auction.outage.REDIS`), ``internal_error`` for
    anything else (a Redis error reply, such as a script error, included)."""
    if isinstance(exc, Unavailable):
        return "unavailable", "服务暂时不可用, 请用同一 key 重试"
    if isinstance(exc, RedisConnectionError | RedisTimeoutError | OSError):
        outage.REDIS.failed(exc, where="websocket")
        return "unavailable", "服务暂时不可用, 请用同一 key 重试"
    kind = (what, type(exc).__qualname__)
    if kind in _UNEXPECTED:
        log.debug("unexpected error handling %s again: %r", what, exc)
    else:
        _UNEXPECTED.add(kind)
        log.error("unexpected error handling %s (logged once per kind); answered internal_error",
                  what, exc_info=exc)
    return "internal_error", "服务器内部错误"


class Connection(Subscriptions):
    def __init__(self, ws: WebSocket, services: Services) -> None:
        self.ws = ws
        self.services = services
        self.who: Principal = VIEWER
        self.outbox = Outbox(ws, SEND_QUEUE)
        self.lots: dict[int, LotSub] = {}
        self.bucket = TokenBucket(RATE_PER_S, RATE_BURST)
        self.dropped = False
        self._tasks: set[asyncio.Task[None]] = set()
        #: bids queued and not answered yet; a ``ping`` waits for them (docs/protocol.md)
        self._bids_out = 0
        self._bids_done: asyncio.Event | None = None
        #: the receive loop waits for the next frame with nothing in hand (direct_read.py)
        self._idle = False

    def push(self, frame: bytes | None) -> None:
        """Queue a frame that is not a lot event (presence, viewers, staff frames)."""
        if frame is not None:
            self._put(frame)

    def _put(self, frame: Outgoing, *, urgent: bool = False) -> None:
        """Queue ``frame``; ``urgent``: an answer the client waits for (``ack``, ``nack``,
        ``pong``, a request's ``error``), written this tick, not at the next paced flush
        (auction/api/outbox.py)."""
        if self.dropped:
            return
        if not self.outbox.put(frame, urgent=urgent):
            self.dropped = True
            metrics.SLOW_CLIENTS_DROPPED.inc()
            log.info("dropping a slow client (%s frames queued)", len(self.outbox))
            self.outbox.discard()  # it resumes by seq: what waits is not worth sending first
            asyncio.get_running_loop().create_task(self._close(codec.CLOSE_TOO_SLOW, "too slow"))

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close(code, reason)

    # --- requests ---------------------------------------------------------------------------------

    async def handle(self, msg: codec.ClientMessage) -> None:
        """Answer one request. Whatever goes wrong, the client gets an answer and the socket
        stays open (invariant 8): a refused bid or command is a ``nack`` with its code; Redis or
        PostgreSQL away (or any OSError) is ``nack unavailable`` (retry with the same key); any
        other error is ``nack internal_error``; a failed ``sub``/``ping`` gets an ``error``
        frame with the same codes. Logging: one line per outage (:mod:`auction.outage`), one
        traceback per kind of unexpected error (:data:`_UNEXPECTED`)."""
        if isinstance(msg, Bid):
            self._bid(msg)
            return
        if isinstance(msg, Proxy | Accept | Cmd):
            await self._request(msg)
            return
        try:
            if isinstance(msg, Sub):
                await self.subscribe(msg.lot, msg.epoch, msg.seq)
            elif isinstance(msg, Unsub):
                self.unsubscribe(msg.lot)
            elif isinstance(msg, Ping):
                await self._bids_answered()
                now = await server_time_ms(self.services)
                self._put(codec.pack({"t": "pong", "id": msg.id, "server_time": now}),
                          urgent=True)
            elif isinstance(msg, Hello):
                self._put(codec.encode_error("bad_request", "hello 只能发送一次"), urgent=True)
        except Exception as exc:
            if isinstance(msg, Sub):
                self.unsubscribe(msg.lot)  # nothing half-subscribed is left parking events
            code, message = _failure(exc, type(msg).__name__)
            self._put(codec.encode_error(code, message), urgent=True)

    def _bid(self, msg: Bid) -> None:
        """``bid`` → ``ack`` or ``nack``, without holding up the socket's next frame: the bid
        is queued behind its lot's earlier bids at once, in the order received (rooms/lanes.py),
        and answered when its batch comes back. Refused at the door, before any work: the
        server's queue too deep (``overloaded``), this socket's rate (``rate_limited``), then
        :func:`auction.api.console.submit_bid`'s checks."""
        started = time.perf_counter()
        shed = self.services.rooms.lanes.shed(msg.lot)
        if shed is not None:  # past capacity most bids end here: the shortest way out
            self._put(codec.encode_overloaded(msg.key, msg.lot, shed.retry_after_ms,
                                              shed.message), urgent=True)
            metrics.bid_refused(shed.code)
            metrics.ack_latency(time.perf_counter() - started)
            return
        wait = self.bucket.take()
        if wait:
            self._bid_answered(msg, started, False, Denied(
                "rate_limited", "请求过于频繁", retry_after_ms=int(wait * 1000) + 1))
            return
        try:
            submit_bid(self.services, self.who, msg.lot, msg.amount, msg.key,
                       functools.partial(self._bid_answered, msg, started, True))
        except Exception as exc:
            self._bid_answered(msg, started, False, exc)
            return
        self._bids_out += 1

    async def _bids_answered(self) -> None:
        """Until every bid this socket sent so far is answered (``ping`` is a barrier)."""
        while self._bids_out:
            self._bids_done = asyncio.Event()
            await self._bids_done.wait()

    def _bid_answered(self, msg: Bid, started: float, queued: bool,
                      outcome: Accepted | BaseException) -> None:
        """Encode a bid's one answer (once) and queue it for this socket; ``queued``: it came
        back from its lot's lane (called there, synchronously)."""
        if queued:
            self._bids_out -= 1
            if not self._bids_out and self._bids_done is not None:
                self._bids_done.set()
        if isinstance(outcome, Accepted):
            result = outcome
            outage.REDIS.ok()
            if not result.replay:
                metrics.bid_accepted()
            self._put(codec.encode_ack(msg.key, msg.lot, result.seq, result.at, result.replay),
                      urgent=True)
        else:
            code = self._nack(msg, outcome)
            metrics.bid_refused(code)
            if isinstance(outcome, Rejection) and outcome.code == "lot_closed":
                # not the socket's task: a bidder who closes at once (the usual case after a
                # refusal) would cancel it before the staff are told
                eventloop.detach(staff_view.report_missed(self.services, self.who, msg.lot,
                                                          msg.amount, outcome))
        metrics.ack_latency(time.perf_counter() - started)

    def _nack(self, msg: Bid | Proxy | Accept | Cmd, refusal: BaseException) -> str:
        """Queue the ``nack`` of a refused or failed request; its code."""
        if isinstance(refusal, Rejection):
            extra = {k: v for k, v in refusal.data.items() if k in _NACK_DATA}
            self._put(codec.encode_nack(msg.key, refusal.code, refusal.message, lot=msg.lot,
                                        **extra), urgent=True)
            return refusal.code
        if isinstance(refusal, Denied):
            self._put(codec.encode_nack(msg.key, refusal.code, refusal.message, lot=msg.lot,
                                        **refusal.extra), urgent=True)
            return refusal.code
        if isinstance(refusal, Overloaded):
            self._put(codec.encode_nack(msg.key, refusal.code, refusal.message, lot=msg.lot,
                                        retry_after_ms=refusal.retry_after_ms), urgent=True)
            return refusal.code
        if not isinstance(refusal, Exception):  # CancelledError and the like: not ours
            refusal = RuntimeError(repr(refusal))
        code, message = _failure(refusal, type(msg).__name__)
        self._put(codec.encode_nack(msg.key, code, message, lot=msg.lot), urgent=True)
        return code

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _request(self, msg: Proxy | Accept | Cmd) -> None:
        """``proxy`` / ``accept`` / ``cmd`` → ``ack`` or ``nack``, one at a time."""
        wait = self.bucket.take()
        if wait:
            self._put(codec.encode_nack(
                msg.key, "rate_limited", "请求过于频繁", lot=msg.lot,
                retry_after_ms=int(wait * 1000) + 1,
            ), urgent=True)
            return
        try:
            if isinstance(msg, Proxy):
                result = await place_proxy(self.services, self.who, msg.lot, msg.max, msg.key)
            elif isinstance(msg, Accept):
                result = await accept_price(self.services, self.who, msg.lot, msg.key)
            else:
                result = await run_command(
                    self.services, self.who, msg.lot, msg.op, msg.key, msg.arg
                )
        except Exception as exc:
            self._nack(msg, exc)
            return
        outage.REDIS.ok()
        mine = {"max": msg.max} if isinstance(msg, Proxy) else {}  # P5: its owner only
        self._put(codec.encode_ack(
            msg.key, result.lot or msg.lot, result.seq, result.at, result.replay, **mine
        ), urgent=True)
        if isinstance(msg, Proxy) and not result.replay:  # P5: staff see the count
            await staff_view.proxies_changed(self.services, msg.lot)
        if isinstance(msg, Cmd):  # issue 12 item 7: acked commands → audit_log
            audit.command_acked(self.services, self.who, msg, result)

    async def _receive(self, *, idle: bool = False) -> bytes | None:
        """The next binary frame, ``None`` on disconnect; a text frame is a bad frame.
        ``idle``: while waiting, a ``bid`` may be taken straight from the socket
        (:meth:`_direct`)."""
        self._idle = idle
        try:
            message = await self.ws.receive()
        finally:
            self._idle = False
        if message["type"] == "websocket.disconnect":
            return None
        data = message.get("bytes")
        if data is None:
            raise codec.FrameError("bad_frame", "只接受二进制帧")
        return bytes(data)

    def _direct(self, data: bytes) -> bool:
        """A binary message straight from the protocol (auction/api/direct_read.py): a
        well-formed ``bid`` is handled here, as the receive loop would handle it next (the loop
        is idle, the protocol's queue empty); ``False`` hands anything else to the loop."""
        if not self._idle or self.dropped:
            return False
        try:
            msg = codec.decode(data if type(data) is bytes else bytes(data))
        except Exception:  # the loop decodes it again and answers or closes as it does
            return False
        if not isinstance(msg, Bid):
            return False
        metrics.bid_direct()
        try:
            self._bid(msg)
        except Exception as exc:  # never into the protocol's data_received
            code, message = _failure(exc, "bid")
            self._put(codec.encode_nack(msg.key, code, message, lot=msg.lot), urgent=True)
        return True

    async def _writer(self) -> None:
        await self.outbox.run()

    async def serve(self) -> None:
        writer: asyncio.Task[None] | None = None
        reading: DirectReader | None = None
        presence = self.services.hub.presence
        try:
            try:
                first = await asyncio.wait_for(self._receive(), HELLO_TIMEOUT_S)
            except TimeoutError:
                await self._close(codec.CLOSE_HELLO_TIMEOUT, "hello timeout")
                return
            if first is None:
                return
            hello = codec.decode(first)
            if not isinstance(hello, Hello):
                raise codec.FrameError("bad_frame", "第一帧必须是 hello")
            # no token in hello: the pages' login cookie, if any (ws_auth.hello_token)
            token = await ws_auth.hello_token(self.services, hello.token, self.ws)
            if token is not None:  # "" is a bad token too (4401), not no token
                try:
                    self.who = await ws_auth.on_hello(self.services, token, self.ws)
                except TokenError:
                    await self._close(codec.CLOSE_UNAUTHORIZED, "invalid token")
                    return
            welcome_time = await server_time_ms(self.services)
            writer = asyncio.create_task(self._writer())
            self._put(codec.pack({
                "t": "welcome", "server_time": welcome_time,
                "role": self.who.role, "paddle": self.who.paddle or None,
                "session": self.who.session_id or None, "max_frame": codec.MAX_FRAME,
            }))
            if self.who.may_bid(self.who.session_id):  # counted in the session's presence
                await presence.bidder_connected(self.who.session_id, self.who.bidder_id)
            for lot, (epoch, seq) in list(hello.resume.items())[:MAX_SUBSCRIPTIONS]:
                await self.handle(Sub(lot, epoch, seq))
            direct: DirectReader | None = self.ws.scope.get("extensions", {}).get(DIRECT_READ)
            if direct is not None:
                direct.read_with(self._direct)
                reading = direct
            while not self.dropped:
                frame = await self._receive(idle=True)
                if frame is None:
                    return
                try:
                    msg = codec.decode(frame)
                except codec.FrameError:
                    raise
                except WireError as err:
                    if err.key is not None:
                        self._put(codec.encode_nack(err.key, err.code, err.message), urgent=True)
                    else:
                        self._put(codec.encode_error(err.code, err.message), urgent=True)
                    continue
                await self.handle(msg)
        except codec.FrameError as err:
            log.info("closing on a bad frame: %s", err.message)
            await self._drain(writer)
            await self._close(codec.CLOSE_BAD_FRAME, err.code)
        except WireError as err:
            # a hello that cannot be parsed: say which field, then close
            with contextlib.suppress(Exception):
                await self.ws.send_bytes(codec.encode_error(err.code, err.message))
            await self._close(codec.CLOSE_BAD_FRAME, err.code)
        except WebSocketDisconnect:
            pass
        except Exception as exc:
            # before the welcome (the token's revocation check, the server time) or outside any
            # request: say why and close properly, never drop the socket without a close frame
            code, message = _failure(exc, "connection")
            if writer is None:
                with contextlib.suppress(Exception):
                    await self.ws.send_bytes(codec.encode_error(code, message))
            else:
                self._put(codec.encode_error(code, message), urgent=True)
                await self._drain(writer)
            await self._close(CLOSE_TRY_AGAIN if code == "unavailable" else CLOSE_INTERNAL, code)
        finally:
            if reading is not None:
                reading.read_with(None)
            for lot in list(self.lots):
                self.unsubscribe(lot)
            if writer is not None and self.who.may_bid(self.who.session_id):
                presence.bidder_left(self.who.session_id, self.who.bidder_id)
            for task in list(self._tasks):
                task.cancel()
            await ws_auth.on_close(self.services, self.ws)
            if writer is not None:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await writer

    async def _drain(self, writer: asyncio.Task[None] | None) -> None:
        """Give the writer a moment to flush what was queued before a close."""
        if writer is None:
            return
        await drained(self.outbox, 0.1)


async def ws_endpoint(websocket: WebSocket) -> None:
    if not await ws_auth.admit(websocket):
        return
    await Connection(websocket, websocket.app.state.services).serve()
