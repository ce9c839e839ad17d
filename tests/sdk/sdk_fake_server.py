"""A tiny in-process stand-in for the auction websocket endpoint, for SDK tests only.

Speaks enough of docs/protocol.md: hello/welcome, sub (snapshot or resumed + missed events),
unsub, bid (idempotent per key, ``ack`` / ``nack too_low``), ping/pong. Test hooks: ``drop()``
closes every connection (1001), ``subs_unavailable`` answers the next subs ``error
unavailable`` (as when Redis is away), ``drop_after_next_bid`` applies the next bid and then
drops the connection before its ack, ``push_raw`` sends an arbitrary frame to every connection,
``mute()`` makes every open connection half-open: the server keeps it, still reads what comes
(bids are applied or, with ``apply=False``, lost on the way) but answers nothing, not even a
ping, and never closes it — as when the network is cut without a close.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import msgpack
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed


def pack(m: dict[str, Any]) -> bytes:
    out: bytes = msgpack.packb(m, use_bin_type=True)
    return out


class FakeLot:
    def __init__(self, lot: int, start: int, inc: int) -> None:
        self.lot = lot
        self.epoch = "e1"
        self.start = start
        self.inc = inc
        self.high = 0
        self.paddle = 0
        self.bids = 0
        self.events: list[dict[str, Any]] = []

    def state(self) -> dict[str, Any]:
        return {
            "status": "open",
            "mode": "live",
            "start": self.start,
            "inc": self.inc,
            "high": self.high,
            "paddle": self.paddle,
            "bids": self.bids,
            "ends_at": 0,
            "seq": len(self.events),
        }

    def add(self, kind: str, **fields: Any) -> dict[str, Any]:
        ev = {
            "t": "ev",
            "lot": self.lot,
            "epoch": self.epoch,
            "seq": len(self.events) + 1,
            "kind": kind,
            "at": int(time.time() * 1000),
            **fields,
        }
        self.events.append(ev)
        return ev


class FakeServer:
    def __init__(self) -> None:
        self.lots: dict[int, FakeLot] = {1: FakeLot(1, 100_000_00, 1_000_00)}
        self.conns: dict[ServerConnection, set[int]] = {}
        self.received: list[dict[str, Any]] = []
        self.answers: dict[str, dict[str, Any]] = {}
        self.drop_after_next_bid = False
        self.muted: set[ServerConnection] = set()
        self.mute_applies = True
        self.ping_errors = False  # answer pings with ``error unavailable`` (Redis away)
        #: answer this many coming subs (or resumes) with ``error unavailable`` naming the lot
        self.subs_unavailable = 0
        self.valid_token = "good"
        self._server: Server | None = None
        self.url = ""

    async def __aenter__(self) -> FakeServer:
        self._server = await serve(self._handle, "127.0.0.1", 0)
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/ws"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def hellos(self) -> list[dict[str, Any]]:
        return [m for m in self.received if m["t"] == "hello"]

    async def drop(self) -> None:
        for ws in list(self.conns):
            with contextlib.suppress(Exception):
                await ws.close(1001)

    def mute(self, *, apply: bool = True) -> None:
        """Every connection open now goes silent (see the module doc)."""
        self.muted.update(self.conns)
        self.mute_applies = apply

    def open_muted(self) -> int:
        """How many silenced connections the server still holds open."""
        return sum(1 for ws in self.conns if ws in self.muted)

    async def broadcast(self, lot: int, frame: dict[str, Any]) -> None:
        for ws, subs in list(self.conns.items()):
            if lot in subs and ws not in self.muted:
                with contextlib.suppress(ConnectionClosed):
                    await ws.send(pack(frame))

    async def push_raw(self, frame: dict[str, Any]) -> None:
        for ws in list(self.conns):
            with contextlib.suppress(ConnectionClosed):
                await ws.send(pack(frame))

    async def _handle(self, ws: ServerConnection) -> None:
        try:
            hello = msgpack.unpackb(await ws.recv(), strict_map_key=False)
            self.received.append(hello)
            if hello.get("token") not in (None, self.valid_token):
                await ws.close(4401, "invalid token")
                return
            self.conns[ws] = set()
            paddle = 286 if hello.get("token") else None
            await ws.send(
                pack(
                    {
                        "t": "welcome",
                        "server_time": int(time.time() * 1000) + 5000,
                        "role": "bidder" if paddle else "viewer",
                        "paddle": paddle,
                    }
                )
            )
            for lot, (epoch, seq) in (hello.get("resume") or {}).items():
                await self._sub(ws, lot, epoch, seq)
            async for raw in ws:
                m = msgpack.unpackb(raw, strict_map_key=False)
                self.received.append(m)
                if ws in self.muted:
                    if m["t"] == "bid" and self.mute_applies:
                        await self._on(ws, m, answer=False)
                    continue
                await self._on(ws, m)
        except ConnectionClosed:
            pass
        finally:
            self.conns.pop(ws, None)

    async def _sub(
        self, ws: ServerConnection, lot: int, epoch: str | None, seq: int | None
    ) -> None:
        fl = self.lots.get(lot)
        if self.subs_unavailable > 0:
            self.subs_unavailable -= 1
            self.conns[ws].discard(lot)
            await ws.send(pack({"t": "error", "code": "unavailable", "lot": lot,
                                "message": "服务暂时不可用, 请稍后重新订阅"}))
            return
        if fl is None:
            await ws.send(
                pack({"t": "error", "code": "unknown_lot", "message": f"标的 {lot} 不存在"})
            )
            return
        self.conns[ws].add(lot)
        if epoch == fl.epoch and seq is not None and seq <= len(fl.events):
            missed = fl.events[seq:]
            await ws.send(
                pack(
                    {
                        "t": "resumed",
                        "lot": lot,
                        "epoch": fl.epoch,
                        "after": seq,
                        "count": len(missed),
                        "recovered": True,
                    }
                )
            )
            for ev in missed:
                await ws.send(pack(ev))
            return
        snap: dict[str, Any] = {
            "t": "snapshot",
            "lot": lot,
            "epoch": fl.epoch,
            "seq": len(fl.events),
            "state": fl.state(),
        }
        if epoch is not None:
            snap["recovered"] = False
        await ws.send(pack(snap))

    async def _on(self, ws: ServerConnection, m: dict[str, Any], *, answer: bool = True) -> None:
        t = m["t"]
        if t == "sub":
            await self._sub(ws, m["lot"], m.get("epoch"), m.get("seq"))
        elif t == "unsub":
            self.conns[ws].discard(m["lot"])
        elif t == "ping" and self.ping_errors:
            await ws.send(pack({"t": "error", "code": "unavailable", "message": "服务暂不可用"}))
        elif t == "ping":
            await ws.send(
                pack(
                    {"t": "pong", "id": m.get("id"), "server_time": int(time.time() * 1000) + 5000}
                )
            )
        elif t == "bid":
            key = m["key"]
            if key in self.answers:
                await ws.send(pack({**self.answers[key], "replay": True}))
                return
            fl = self.lots[m["lot"]]
            minimum = fl.start if fl.bids == 0 else fl.high + fl.inc
            if m["amount"] < minimum:
                nack = {
                    "t": "nack",
                    "key": key,
                    "code": "too_low",
                    "message": "出价过低",
                    "lot": fl.lot,
                    "minimum": minimum,
                }
                self.answers[key] = nack
                if answer:
                    await ws.send(pack(nack))
                return
            fl.high, fl.paddle, fl.bids = m["amount"], 286, fl.bids + 1
            ev = fl.add("bid", paddle=286, amount=m["amount"])
            ack = {
                "t": "ack",
                "key": key,
                "lot": fl.lot,
                "seq": ev["seq"],
                "at": ev["at"],
                "replay": False,
            }
            self.answers[key] = ack
            if not answer:
                await self.broadcast(fl.lot, ev)
                return
            if self.drop_after_next_bid:
                self.drop_after_next_bid = False
                await ws.close(1001)
                return
            await self.broadcast(fl.lot, ev)
            await ws.send(pack(ack))
