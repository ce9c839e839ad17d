"""The load of a fault case: bidders and watchers speaking the raw protocol (docs/protocol.md:
msgpack maps over binary websocket frames), recording everything the checker needs.

- :class:`BidderClient` bids on a few lots with an idempotency key per bid. ``unavailable``,
  ``rate_limited``, a timeout or a disconnect is retried **with the same key and amount**, on
  the next server of the list when its own is gone; every ``ack`` is recorded (lot, seq,
  amount, paddle, at, key, replay).
- :class:`Watcher` subscribes to every lot and records every ``snapshot`` / ``resumed`` / ``ev``
  per lot. After a disconnect it resumes as the protocol says, with ``hello {resume}`` or with
  ``sub {lot, epoch, seq}`` (every other watcher), and records what each resume was answered.
  A ``sub`` answered ``error unavailable`` (with the lot) is sent again after
  :data:`RESUB_AFTER_S`, as the protocol says. With ``churn`` it also reconnects on its own
  every few seconds (subscribes under load); :meth:`Watcher.go_offline` keeps it away (a client
  that misses what happens meanwhile) until :meth:`Watcher.come_back`.

Every client sends its own ``X-Forwarded-For`` (the servers trust it from 127.0.0.1:
``AUCTION_TRUSTED_PROXIES`` in tests/faults/cluster.py), so the
per-address connect and bid limits see many addresses, as in a real hall.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import msgpack
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from tests.faults.seed import Bidder, Sale

#: kind, paddle, amount, at: what makes two events at one (lot, seq) the same event
Content = tuple[str, int | None, int | None, int]

ANSWER_TIMEOUT_S = 5.0
#: a ``sub`` answered ``error unavailable`` is sent again after this long (docs/protocol.md)
RESUB_AFTER_S = 0.3
NETWORK_ERRORS = (OSError, TimeoutError, WebSocketException)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def pack(**m: Any) -> bytes:
    data: bytes = msgpack.packb(m, use_bin_type=True)
    return data


def unpack(data: bytes | str) -> dict[str, Any]:
    assert isinstance(data, bytes), f"server sent a text frame: {data!r}"
    msg: dict[str, Any] = msgpack.unpackb(data, raw=False, strict_map_key=False)
    return msg


def content_of(ev: dict[str, Any]) -> Content:
    return (str(ev["kind"]), ev.get("paddle"), ev.get("amount"), int(ev["at"]))


async def open_ws(url: str, xff: str) -> ClientConnection:
    return await connect(url, max_size=2**20, open_timeout=5, close_timeout=2,
                         additional_headers={"X-Forwarded-For": xff})


class Disconnected(Exception):
    """The socket is gone or did not answer in time."""


async def hello(ws: ClientConnection, token: str | None,
                resume: dict[int, list[Any]] | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {"t": "hello"}
    if token:
        m["token"] = token
    if resume:
        m["resume"] = resume
    await ws.send(pack(**m))
    msg = unpack(await asyncio.wait_for(ws.recv(), ANSWER_TIMEOUT_S))
    if msg.get("t") != "welcome":
        raise Disconnected(f"no welcome: {msg}")
    return msg


@dataclass(frozen=True)
class Ack:
    key: str
    lot: int
    seq: int
    amount: int
    paddle: int
    at: int
    replay: bool
    wall_ms: int

    @property
    def content(self) -> Content:
        return ("bid", self.paddle, self.amount, self.at)


class Prices:
    """The next minimum bid per lot as the bidders of this process last learnt it."""

    def __init__(self, lots: list[int], start: int) -> None:
        self.next = dict.fromkeys(lots, start)


class BidderClient:
    def __init__(self, idx: int, bidder: Bidder, urls: list[str], lots: list[int], sale: Sale,
                 prices: Prices, *, pace_s: tuple[float, float] = (0.05, 0.25),
                 seed: int = 0) -> None:
        self.idx = idx
        self.bidder = bidder
        self.urls = urls
        self.lots = list(lots)
        self.inc = sale.inc
        self.prices = prices
        self.pace_s = pace_s
        self.rng = random.Random(seed * 1000 + idx)
        self.xff = f"10.1.{idx // 200}.{idx % 200 + 1}"
        self.url_i = idx % len(urls)
        self.acks: list[Ack] = []
        self.nacks: Counter[str] = Counter()
        self.sent = 0
        self.retries = 0
        self.disconnects = 0
        self.unexpected: list[str] = []
        self._n = 0
        self._ws: ClientConnection | None = None
        self.state = "idle"  # what the client is doing now (shown when a case times out)

    async def _connect(self, stop: asyncio.Event) -> ClientConnection | None:
        delay = 0.05
        while not stop.is_set():
            url = self.urls[self.url_i % len(self.urls)]
            try:
                self.state = f"connecting to {url}"
                ws = await open_ws(url, self.xff)
            except NETWORK_ERRORS as exc:
                self.state = f"connect to {url} failed: {exc!r}"
                self.url_i += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            try:
                self.state = f"hello on {url}"
                await hello(ws, self.bidder.token)
            except (*NETWORK_ERRORS, Disconnected) as exc:
                self.state = f"hello on {url} failed: {exc!r}"
                await ws.close()
                self.url_i += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            return ws
        return None

    async def _answer(self, ws: ClientConnection, key: str) -> dict[str, Any]:
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer to {key}")
            msg = unpack(await asyncio.wait_for(ws.recv(), left))
            if msg.get("key") == key and msg.get("t") in ("ack", "nack"):
                return msg

    async def run(self, stop: asyncio.Event) -> None:
        """Bid until ``stop`` is set; a bid sent when it is set is still answered (or given up
        after a timeout), so stopping leaves no request without an answer on a live server."""
        pending: tuple[int, int, str] | None = None
        try:
            while not stop.is_set() and self.lots:
                if self._ws is None:
                    self._ws = await self._connect(stop)
                    if self._ws is None:
                        return
                if pending is None:
                    lot = self.rng.choice(self.lots)
                    self._n += 1
                    amount = self.prices.next[lot] + self.inc * self.rng.choice((0, 0, 0, 1, 2))
                    pending = (lot, amount, f"k{self.idx}-{self._n}")
                else:
                    self.retries += 1
                lot, amount, key = pending
                try:
                    self.state = f"bid {key} lot {lot} amount {amount}"
                    await self._ws.send(pack(t="bid", lot=lot, amount=amount, key=key))
                    self.sent += 1
                    msg = await self._answer(self._ws, key)
                except NETWORK_ERRORS as exc:
                    self.state = f"bid {key}: {exc!r}"
                    self.disconnects += 1
                    await self._drop()
                    continue
                if msg["t"] == "ack":
                    self.acks.append(Ack(key, lot, int(msg["seq"]), amount, self.bidder.paddle,
                                         int(msg["at"]), bool(msg.get("replay")), now_ms()))
                    self.prices.next[lot] = max(self.prices.next[lot], amount + self.inc)
                    pending = None
                    await asyncio.sleep(self.rng.uniform(*self.pace_s))
                    continue
                code = str(msg.get("code"))
                self.nacks[code] += 1
                self.state = f"bid {key}: nack {code}"
                if code in ("unavailable", "rate_limited", "internal_error"):
                    wait = int(msg.get("retry_after_ms") or 200) / 1000
                    await asyncio.sleep(min(wait, 2.0))
                    continue  # same key, same amount
                pending = None
                if code in ("too_low", "below_start", "off_increment") and msg.get("minimum"):
                    self.prices.next[lot] = int(msg["minimum"])
                elif code == "already_leading":
                    await asyncio.sleep(self.rng.uniform(*self.pace_s))
                elif code in ("lot_closed", "lot_not_open", "unknown_lot"):
                    self.lots.remove(lot)
                else:
                    self.unexpected.append(f"{key}: {msg}")
                    await asyncio.sleep(0.2)
        finally:
            await self._drop()

    async def _drop(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()


@dataclass(frozen=True)
class Rec:
    """One frame a watcher got on one lot."""

    t: str  # snapshot | resumed | ev | connect
    epoch: str = ""
    seq: int = 0  # snapshot: its seq; resumed: ``after``; ev: its seq
    recovered: bool | None = None
    content: Content | None = None
    wall_ms: int = 0
    count: int = 0
    backfill: bool = False  # ev: one of the ``count`` events that follow a ``resumed``


@dataclass(frozen=True)
class Resume:
    """A resume this watcher asked for, and the answer."""

    lot: int
    epoch: str
    seq: int
    answer: str  # resumed | snapshot
    answer_epoch: str
    recovered: bool | None
    wall_ms: int


class Watcher:
    def __init__(self, idx: int, urls: list[str], lots: list[int], *,
                 churn_s: tuple[float, float] | None = None, via_sub: bool = False,
                 seed: int = 0) -> None:
        self.idx = idx
        self.urls = urls
        self.lots = list(lots)
        self.churn_s = churn_s
        self.via_sub = via_sub
        self.rng = random.Random(seed * 1000 + 500 + idx)
        self.xff = f"10.2.{idx // 200}.{idx % 200 + 1}"
        self.url_i = idx % len(urls)
        self.pos: dict[int, tuple[str, int]] = {}
        self.records: dict[int, list[Rec]] = {lot: [] for lot in lots}
        self.resumes: list[Resume] = []
        self.errors: list[dict[str, Any]] = []
        self.connects = 0
        self.disconnects = 0
        self.kick = asyncio.Event()
        self.online = asyncio.Event()
        self.online.set()
        #: set while the watcher is offline with its socket closed
        self.away = asyncio.Event()
        self.churning = churn_s is not None
        self._burst: dict[int, int] = {}
        #: lots whose ``sub`` was answered ``error unavailable``: when to send it again
        self._resub: dict[int, float] = {}

    @property
    def ready(self) -> bool:
        return all(lot in self.pos for lot in self.lots)

    def move_to(self, url_index: int) -> None:
        """Reconnect now, to ``urls[url_index]`` (as a load balancer sending clients to a
        process that just came up), resuming every lot."""
        self.url_i = url_index
        self.kick.set()

    def last_seq(self, lot: int) -> tuple[str, int] | None:
        return self.pos.get(lot)

    def go_offline(self) -> None:
        """Close the socket and stay away until :meth:`come_back`."""
        self.online.clear()
        self.kick.set()

    def come_back(self) -> None:
        """Reconnect now, resuming every lot from where the watcher was."""
        self.online.set()

    async def run(self, stop: asyncio.Event) -> None:
        delay = 0.05
        while not stop.is_set():
            if not self.online.is_set():
                self.away.set()
                back = asyncio.ensure_future(self.online.wait())
                stopped = asyncio.ensure_future(stop.wait())
                await asyncio.wait([back, stopped], return_when=asyncio.FIRST_COMPLETED)
                back.cancel()
                stopped.cancel()
                self.away.clear()
                continue
            url = self.urls[self.url_i % len(self.urls)]
            try:
                ws = await open_ws(url, self.xff)
            except NETWORK_ERRORS:
                self.url_i += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            try:
                self.connects += 1
                await self._session(ws, stop)
                delay = 0.05
            except (*NETWORK_ERRORS, Disconnected):
                self.disconnects += 1
                self.url_i += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
            finally:
                with contextlib.suppress(Exception):
                    await ws.close()

    async def _session(self, ws: ClientConnection, stop: asyncio.Event) -> None:
        asked: dict[int, tuple[str, int] | None] = {}
        for lot in self.lots:
            self.records[lot].append(Rec("connect", wall_ms=now_ms()))
        resume: dict[int, list[Any]] = {}
        if not self.via_sub:
            resume = {lot: [e, s] for lot, (e, s) in self.pos.items()}
            asked.update({lot: (e, s) for lot, (e, s) in self.pos.items()})
        await hello(ws, None, resume)
        for lot in self.lots:
            if lot not in asked:
                await self._sub(ws, lot, asked)
        if self.online.is_set():
            self.kick.clear()
        self._resub.clear()
        until = (time.monotonic() + self.rng.uniform(*self.churn_s)) if self.churn_s else None
        while not stop.is_set() and not self.kick.is_set():
            if until is not None and self.churning and time.monotonic() > until:
                return  # reconnect on our own: resume under load
            await self._send_resubs(ws, asked)
            try:
                data = await asyncio.wait_for(ws.recv(), 0.2)
            except TimeoutError:
                continue
            self._on(unpack(data), asked)

    async def _send_resubs(self, ws: ClientConnection,
                           asked: dict[int, tuple[str, int] | None]) -> None:
        """Subscribe again the lots whose ``sub`` was answered ``unavailable``, once due."""
        due = [lot for lot, at in self._resub.items() if at <= time.monotonic()]
        for lot in due:
            del self._resub[lot]
            await self._sub(ws, lot, asked)

    async def _sub(self, ws: ClientConnection, lot: int,
                   asked: dict[int, tuple[str, int] | None]) -> None:
        """``sub`` the lot, resuming from where the watcher is when it holds a position."""
        at = self.pos.get(lot)
        if at is not None:
            await ws.send(pack(t="sub", lot=lot, epoch=at[0], seq=at[1]))
        else:
            await ws.send(pack(t="sub", lot=lot))
        asked[lot] = at

    def _on(self, msg: dict[str, Any], asked: dict[int, tuple[str, int] | None]) -> None:
        t = msg.get("t")
        wall = now_ms()
        if t == "snapshot":
            lot = int(msg["lot"])
            rec = Rec("snapshot", str(msg["epoch"]), int(msg["seq"]), msg.get("recovered"),
                      wall_ms=wall)
            if lot in asked:
                a = asked.pop(lot)
                if a is not None:
                    self.resumes.append(Resume(lot, a[0], a[1], "snapshot", rec.epoch,
                                               rec.recovered, wall))
            self.records[lot].append(rec)
            self.pos[lot] = (rec.epoch, rec.seq)
            self._burst[lot] = 0
        elif t == "resumed":
            lot = int(msg["lot"])
            rec = Rec("resumed", str(msg["epoch"]), int(msg["after"]), msg.get("recovered"),
                      wall_ms=wall, count=int(msg.get("count", 0)))
            a = asked.pop(lot, None)
            if a is not None:
                self.resumes.append(Resume(lot, a[0], a[1], "resumed", rec.epoch,
                                           rec.recovered, wall))
            self.records[lot].append(rec)
            self.pos[lot] = (rec.epoch, rec.seq)
            self._burst[lot] = rec.count
        elif t == "ev":
            lot = int(msg["lot"])
            backfill = self._burst.get(lot, 0) > 0
            if backfill:
                self._burst[lot] -= 1
            rec = Rec("ev", str(msg["epoch"]), int(msg["seq"]), content=content_of(msg),
                      wall_ms=wall, backfill=backfill)
            self.records[lot].append(rec)
            self.pos[lot] = (rec.epoch, rec.seq)
        elif t == "error":
            self.errors.append(msg)
            lot = msg.get("lot")
            if msg.get("code") == "unavailable" and isinstance(lot, int) and lot in self.records:
                asked.pop(lot, None)
                self._resub[lot] = time.monotonic() + RESUB_AFTER_S


@dataclass
class Load:
    """Bidders and watchers of one case, their tasks, and a way to stop them cleanly."""

    bidders: list[BidderClient]
    watchers: list[Watcher]
    stop_bids: asyncio.Event = field(default_factory=asyncio.Event)
    stop_watch: asyncio.Event = field(default_factory=asyncio.Event)
    bid_tasks: list[asyncio.Task[None]] = field(default_factory=list)
    watch_tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def make(cls, urls: list[str], sale: Sale, *, bidders: int, watchers: int,
             churn_s: tuple[float, float] | None = None, seed: int = 0,
             pace_s: tuple[float, float] = (0.05, 0.25),
             bid_lots: list[int] | None = None) -> Load:
        prices = Prices(sale.lots, sale.start)
        made = [BidderClient(i, sale.bidders[i % len(sale.bidders)], urls,
                             bid_lots or sale.lots, sale, prices, pace_s=pace_s, seed=seed)
                for i in range(bidders)]
        seen = [Watcher(i, urls, sale.lots, churn_s=churn_s, via_sub=bool(i % 2), seed=seed)
                for i in range(watchers)]
        return cls(made, seen)

    async def start_watchers(self, timeout_s: float = 20.0) -> None:
        self.watch_tasks = [asyncio.create_task(w.run(self.stop_watch), name=f"watcher-{w.idx}")
                            for w in self.watchers]
        deadline = time.monotonic() + timeout_s
        while not all(w.ready for w in self.watchers):
            self._raise_failed()
            assert time.monotonic() < deadline, "watchers did not get their snapshots"
            await asyncio.sleep(0.05)

    def start_bidders(self) -> None:
        self.stop_bids = asyncio.Event()
        self.bid_tasks = [asyncio.create_task(b.run(self.stop_bids), name=f"bidder-{b.idx}")
                          for b in self.bidders]

    async def stop_bidders(self) -> None:
        """Stop bidding and wait until every bid sent has been answered (or timed out)."""
        self.stop_bids.set()
        await self._finish(self.bid_tasks, 2 * ANSWER_TIMEOUT_S + 5)
        self.bid_tasks = []

    def stop_churn(self) -> None:
        for w in self.watchers:
            w.churning = False

    async def close(self) -> None:
        self.stop_bids.set()
        self.stop_watch.set()
        await self._finish(self.bid_tasks + self.watch_tasks, 15)

    def _raise_failed(self) -> None:
        for task in self.bid_tasks + self.watch_tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise AssertionError(f"client {task.get_name()} failed") from task.exception()

    async def _finish(self, tasks: list[asyncio.Task[None]], timeout_s: float) -> None:
        if not tasks:
            return
        _, stuck = await asyncio.wait(tasks, timeout=timeout_s)
        for task in stuck:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        failed = [r for r in results
                  if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)]
        if failed:
            raise AssertionError(f"{len(failed)} client(s) failed: {failed[0]!r}") from failed[0]
        assert not stuck, f"{len(stuck)} client(s) did not stop within {timeout_s} s"

    @property
    def acks(self) -> list[Ack]:
        return [a for b in self.bidders for a in b.acks]

    def states(self) -> str:
        return "\n".join(f"bidder {b.idx}: {b.state}" for b in self.bidders)

    def summary(self) -> str:
        nacks: Counter[str] = Counter()
        for b in self.bidders:
            nacks.update(b.nacks)
        return (f"bids sent {sum(b.sent for b in self.bidders)}, "
                f"retries {sum(b.retries for b in self.bidders)}, "
                f"bidder disconnects {sum(b.disconnects for b in self.bidders)}, "
                f"nacks {dict(nacks)}, unexpected answers "
                f"{sum(len(b.unexpected) for b in self.bidders)}; watcher connects "
                f"{sum(w.connects for w in self.watchers)}, "
                f"disconnects {sum(w.disconnects for w in self.watchers)}, error frames "
                f"{dict(Counter(str(e.get('code')) for w in self.watchers for e in w.errors))}")
