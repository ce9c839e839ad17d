"""The websocket endpoint ``/ws`` (docs/protocol.md): thin: decode → call → encode.

One :class:`Connection` per socket: a reader (this handler's loop), a writer task draining a
bounded queue, and per-lot subscription state. Ordering per lot is guaranteed by the hub (gapless
seq); this module only makes a subscription's start seamless: while a snapshot or a resume is
being read, events the hub offers are parked, then the ones newer than what the client got are
released in order (so no gap and no duplicate at the seam).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from redis.exceptions import RedisError
from starlette.websockets import WebSocket, WebSocketDisconnect

from auction.api import ws_auth
from auction.api.console import Denied, place_bid, run_command
from auction.api.tokens import VIEWER, Principal, TokenError
from auction.domain.errors import Rejection
from auction.services import Services
from auction.wire import codec
from auction.wire.codec import Bid, Cmd, Hello, Ping, Sub, Unsub, WireError

log = logging.getLogger("auction.ws")

SEND_QUEUE = 2048  # frames; a client this far behind is dropped with 4429 and resumes by seq
MAX_SUBSCRIPTIONS = 64
HELLO_TIMEOUT_S = 10.0
RATE_PER_S = 20.0  # bids + commands per connection
RATE_BURST = 40.0


@dataclass(slots=True)
class LotSub:
    sent: int = 0  # last seq handed to the writer
    pending: list[tuple[int, bytes]] | None = field(default_factory=list)


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()

    def take(self) -> float:
        """0 when allowed, else the seconds to wait."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


async def server_time_ms(services: Services) -> int:
    sec, usec = await services.redis.time()
    return int(sec) * 1000 + int(usec) // 1000


class Connection:
    def __init__(self, ws: WebSocket, services: Services) -> None:
        self.ws = ws
        self.services = services
        self.who: Principal = VIEWER
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(SEND_QUEUE)
        self.lots: dict[int, LotSub] = {}
        self.bucket = TokenBucket(RATE_PER_S, RATE_BURST)
        self.dropped = False

    # --- hub side (synchronous, never blocks) ---------------------------------------------------

    def offer(self, lot: int, seq: int, frame: bytes) -> None:
        sub = self.lots.get(lot)
        if sub is None:
            return
        if sub.pending is not None:
            sub.pending.append((seq, frame))
        elif seq == sub.sent + 1:
            sub.sent = seq
            self._put(frame)
        elif seq > sub.sent + 1:
            # cannot happen while the hub is gapless; never let it pass silently
            log.error("lot %s: gap %s → %s on a connection; resyncing", lot, sub.sent, seq)
            sub.pending = []
            asyncio.get_running_loop().create_task(self._resync(lot))

    def _put(self, frame: bytes) -> None:
        if self.dropped:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.dropped = True
            log.info("dropping a slow client (%s frames queued)", self.queue.qsize())
            asyncio.get_running_loop().create_task(self._close(codec.CLOSE_TOO_SLOW, "too slow"))

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close(code, reason)

    # --- subscriptions ---------------------------------------------------------------------------

    def _release(self, lot: int, sub: LotSub) -> None:
        parked, sub.pending = sub.pending or [], None
        for seq, frame in parked:
            self.offer(lot, seq, frame)

    async def subscribe(self, lot: int, epoch: str | None, seq: int | None) -> None:
        if lot not in self.lots and len(self.lots) >= MAX_SUBSCRIPTIONS:
            self._put(codec.encode_error("too_many_subscriptions", "订阅的标的过多"))
            return
        sub = self.lots.setdefault(lot, LotSub())
        sub.pending = []
        await self.services.hub.watch(lot, self)
        snap = await self.services.rooms.snapshot(lot)
        if snap is None:
            self.unsubscribe(lot)
            self._put(codec.encode_error("unknown_lot", f"标的 {lot} 不存在"))
            return
        if epoch is not None and seq is not None and epoch == snap.epoch and seq <= snap.seq:
            missed = await self.services.rooms.events_after(lot, seq)
            if missed is not None:
                self._put(codec.pack({
                    "t": "resumed", "lot": lot, "epoch": snap.epoch, "after": seq,
                    "count": len(missed), "recovered": True,
                }))
                for ev in missed:
                    self._put(codec.encode_event(lot, snap.epoch, ev.to_map()))
                sub.sent = missed[-1].seq if missed else seq
                self._release(lot, sub)
                return
        message: dict[str, object] = {
            "t": "snapshot", "lot": lot, "epoch": snap.epoch, "seq": snap.seq, "state": snap.state,
        }
        if epoch is not None:
            message["recovered"] = False
        self._put(codec.pack(message))
        sub.sent = snap.seq
        self._release(lot, sub)

    async def _resync(self, lot: int) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self.subscribe(lot, None, None)

    def unsubscribe(self, lot: int) -> None:
        if self.lots.pop(lot, None) is not None:
            self.services.hub.unwatch(lot, self)

    # --- requests ---------------------------------------------------------------------------------

    async def handle(self, msg: codec.ClientMessage) -> None:
        if isinstance(msg, Bid | Cmd):
            wait = self.bucket.take()
            if wait:
                self._put(codec.encode_nack(
                    msg.key, "rate_limited", "请求过于频繁", lot=msg.lot,
                    retry_after_ms=int(wait * 1000) + 1,
                ))
                return
            try:
                if isinstance(msg, Bid):
                    result = await place_bid(self.services, self.who, msg.lot, msg.amount, msg.key)
                else:
                    result = await run_command(self.services, self.who, msg.lot, msg.op, msg.key)
            except Rejection as rej:
                extra = {k: v for k, v in rej.data.items() if k in ("minimum", "ends_at")}
                self._put(codec.encode_nack(msg.key, rej.code, rej.message, lot=msg.lot, **extra))
            except Denied as denied:
                self._put(codec.encode_nack(msg.key, denied.code, denied.message, lot=msg.lot,
                                            **denied.extra))
            except (RedisError, OSError):
                log.exception("redis unavailable while handling %s", type(msg).__name__)
                self._put(codec.encode_nack(
                    msg.key, "unavailable", "服务暂时不可用, 请用同一 key 重试", lot=msg.lot
                ))
            else:
                self._put(codec.encode_ack(msg.key, msg.lot, result.seq, result.at, result.replay))
        elif isinstance(msg, Sub):
            await self.subscribe(msg.lot, msg.epoch, msg.seq)
        elif isinstance(msg, Unsub):
            self.unsubscribe(msg.lot)
        elif isinstance(msg, Ping):
            now = await server_time_ms(self.services)
            self._put(codec.pack({"t": "pong", "id": msg.id, "server_time": now}))
        elif isinstance(msg, Hello):
            self._put(codec.encode_error("bad_request", "hello 只能发送一次"))

    async def _receive(self) -> bytes | None:
        """The next binary frame, ``None`` on disconnect; a text frame is a bad frame."""
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            return None
        data = message.get("bytes")
        if data is None:
            raise codec.FrameError("bad_frame", "只接受二进制帧")
        return bytes(data)

    async def _writer(self) -> None:
        while True:
            frame = await self.queue.get()
            await self.ws.send_bytes(frame)

    async def serve(self) -> None:
        writer: asyncio.Task[None] | None = None
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
            if hello.token:
                try:
                    self.who = await ws_auth.on_hello(self.services, hello.token, self.ws)
                except TokenError:
                    await self._close(codec.CLOSE_UNAUTHORIZED, "invalid token")
                    return
            writer = asyncio.create_task(self._writer())
            self._put(codec.pack({
                "t": "welcome", "server_time": await server_time_ms(self.services),
                "role": self.who.role, "paddle": self.who.paddle or None,
                "session": self.who.session_id or None, "max_frame": codec.MAX_FRAME,
            }))
            for lot, (epoch, seq) in list(hello.resume.items())[:MAX_SUBSCRIPTIONS]:
                await self.subscribe(lot, epoch, seq)
            while not self.dropped:
                frame = await self._receive()
                if frame is None:
                    return
                try:
                    msg = codec.decode(frame)
                except codec.FrameError:
                    raise
                except WireError as err:
                    if err.key is not None:
                        self._put(codec.encode_nack(err.key, err.code, err.message))
                    else:
                        self._put(codec.encode_error(err.code, err.message))
                    continue
                await self.handle(msg)
        except codec.FrameError as err:
            log.info("closing on a bad frame: %s", err.message)
            await self._drain(writer)
            await self._close(codec.CLOSE_BAD_FRAME, err.code)
        except WireError as err:
            await self._close(codec.CLOSE_BAD_FRAME, err.code)
        except WebSocketDisconnect:
            pass
        finally:
            for lot in list(self.lots):
                self.unsubscribe(lot)
            await ws_auth.on_close(self.services, self.ws)
            if writer is not None:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await writer

    async def _drain(self, writer: asyncio.Task[None] | None) -> None:
        """Give the writer a moment to flush what was queued before a close."""
        if writer is None:
            return
        for _ in range(20):
            if self.queue.empty():
                return
            await asyncio.sleep(0.005)


async def ws_endpoint(websocket: WebSocket) -> None:
    if not await ws_auth.admit(websocket):
        return
    await Connection(websocket, websocket.app.state.services).serve()
