"""Load-generator processes of the bench. Each runs in its own (spawned) process, never in the
server's, and talks to the parent over a pipe:

    child → ("ready", info)      connections are open, subscriptions answered
    parent → ("go", start_at)    wall-clock time (time.time()) at which the load starts
    child → ("result", dict)     counts and raw samples

Timestamps are wall-clock milliseconds (``time.time()``) so that they compare with the server's
``at`` (Redis ``TIME`` on the same machine, same clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import random
import time
import traceback
from collections import Counter
from multiprocessing.connection import Connection
from typing import Any

from loadtests.seed import INC_FEN, START_FEN
from loadtests.wsclient import Session, client_address

RETRY_MINIMUM = ("too_low", "below_start", "off_increment")
#: the open-loop generator wakes up at most once per TICK_S (see ``open_loop_bidders``)
TICK_S = 0.001


def now_ms() -> float:
    return time.time() * 1000.0


async def open_sessions(
    url: str, tokens: list[str | None], concurrency: int = 64
) -> list[Session]:
    sem = asyncio.Semaphore(concurrency)

    async def one(token: str | None) -> Session:
        async with sem:
            for attempt in range(5):
                try:
                    return await Session().open(url, token, forwarded_for=client_address())
                except (OSError, ConnectionError, TimeoutError):
                    if attempt == 4:
                        raise
                    await asyncio.sleep(0.2 * (attempt + 1))
            raise AssertionError("unreachable")

    return list(await asyncio.gather(*(one(t) for t in tokens)))


async def subscribe_all(sessions: list[Session], lot: int, on_frame: Any,
                        concurrency: int = 64) -> None:
    """``sub`` every session to ``lot`` with at most ``concurrency`` snapshots outstanding (a
    10,000-socket subscribe storm at once exhausts the server's Redis pool: see
    docs/performance.md), then hand every later frame to ``on_frame``."""
    sem = asyncio.Semaphore(concurrency)
    loop = asyncio.get_running_loop()

    async def one(sess: Session) -> None:
        async with sem:
            fut: asyncio.Future[None] = loop.create_future()

            def on(msg: dict[str, Any]) -> None:
                if msg.get("t") == "snapshot" and not fut.done():
                    fut.set_result(None)
                    sess.handler = on_frame
                elif msg.get("t") == "error" and not fut.done():
                    fut.set_exception(RuntimeError(f"sub refused: {msg}"))

            sess.handler = on
            sess.send({"t": "sub", "lot": lot})
            await asyncio.wait_for(fut, 120)

    await asyncio.gather(*(one(s) for s in sessions))


async def _handshake(pipe: Connection, info: dict[str, Any]) -> float:
    pipe.send(("ready", info))
    loop = asyncio.get_running_loop()
    msg = await loop.run_in_executor(None, pipe.recv)
    assert msg[0] == "go", msg
    start_at = float(msg[1])
    delay = start_at - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
    return start_at


class Ladder:
    """The next amount to offer on one lot: strictly increasing in send order, raised to the
    server's ``minimum`` when a nack says we are behind. A bid is valid when it is start + n×inc
    and ≥ high + inc, so a later, higher bid that overtakes an earlier one on the way to Redis
    only makes the earlier one ``too_low``."""

    __slots__ = ("next",)

    def __init__(self) -> None:
        self.next = START_FEN

    def claim(self) -> int:
        amount = self.next
        self.next = amount + INC_FEN
        return amount

    def behind(self, minimum: int | None) -> None:
        if minimum is not None and minimum > self.next:
            self.next = minimum


# --- closed loop: as many accepted bids as the server takes -------------------------------------

async def ladder_bidders(pipe: Connection, url: str, tokens: list[str], lots: list[int],
                         duration: float, warmup: float, per_conn_rate: float) -> dict[str, Any]:
    """Every connection bids, waits for its answer, and paces itself to ``per_conn_rate`` (the
    server allows 20 requests/s per connection). Connection ``i``'s ``k``-th bid goes to lot
    ``lots[(i + k) % len(lots)]`` so consecutive bids on a lot come from different bidders."""
    sessions = await open_sessions(url, list(tokens))
    ladders = {lot: Ladder() for lot in lots}
    start_at = await _handshake(pipe, {"connections": len(sessions)})
    t_lo, t_hi = (start_at + warmup) * 1000, (start_at + warmup + duration) * 1000
    codes: Counter[str] = Counter()
    acks_in_window = 0
    lat: list[float] = []
    stop = start_at + warmup + duration
    interval = 1.0 / per_conn_rate

    async def run(i: int, sess: Session) -> None:
        nonlocal acks_in_window
        loop = asyncio.get_running_loop()
        box: list[asyncio.Future[dict[str, Any]]] = []

        def on(msg: dict[str, Any]) -> None:
            t = msg.get("t")
            if (t == "ack" or t == "nack") and box and not box[0].done():
                box[0].set_result(msg)

        sess.handler = on
        await asyncio.sleep(random.random() * interval)
        k = 0
        nlots = len(lots)
        while time.time() < stop:
            lot = lots[(i + k) % nlots]
            k += 1
            ladder = ladders[lot]
            fut = loop.create_future()
            box[:] = [fut]
            sent = time.time()
            sess.send({"t": "bid", "lot": lot, "amount": ladder.claim(), "key": f"k{k}"})
            try:
                msg = await asyncio.wait_for(fut, 10)
            except TimeoutError:
                codes["timeout"] += 1
                continue
            got = time.time()
            if msg["t"] == "ack":
                if t_lo <= got * 1000 < t_hi:
                    acks_in_window += 1
                    lat.append((got - sent) * 1000)
                codes["ack"] += 1
            else:
                code = msg.get("code", "?")
                codes[code] += 1
                if code in RETRY_MINIMUM:
                    ladder.behind(msg.get("minimum"))
                elif code in ("rate_limited", "overloaded"):
                    await asyncio.sleep(msg.get("retry_after_ms", 50) / 1000)
            wait = sent + interval - time.time()
            if wait > 0:
                await asyncio.sleep(wait)

    await asyncio.gather(*(run(i, s) for i, s in enumerate(sessions)))
    for s in sessions:
        s.close()
    return {"acks_in_window": acks_in_window, "window_s": duration, "codes": dict(codes),
            "ack_latency_ms": lat}


# --- open loop: a fixed offered rate, latency from the scheduled send time ----------------------

async def open_loop_bidders(pipe: Connection, url: str, tokens: list[str], lots: list[int],
                            rate: float, duration: float, warmup: float) -> dict[str, Any]:
    """Bid ``k`` is due at ``start + k / rate`` on connection ``k % n`` and lot ``k % len(lots)``;
    it is sent when due whatever happened to earlier bids (open loop), and its latency is
    measured from the time it was due, so a stalled generator or server cannot hide latency
    (no coordinated omission)."""
    sessions = await open_sessions(url, list(tokens))
    ladders = {lot: Ladder() for lot in lots}
    due: dict[str, tuple[float, bool]] = {}
    lat: list[float] = []
    codes: Counter[str] = Counter()
    measured_acks = 0

    def handler_for() -> Any:
        def on(msg: dict[str, Any]) -> None:
            nonlocal measured_acks
            t = msg.get("t")
            if t != "ack" and t != "nack":
                return
            entry = due.pop(msg.get("key"), None)
            if entry is None:
                return
            if entry[1]:
                lat.append(now_ms() - entry[0])
            if t == "ack":
                codes["ack"] += 1
                measured_acks += entry[1]
            else:
                code = msg.get("code", "?")
                codes[code] += 1
                if code in RETRY_MINIMUM and msg.get("lot") in ladders:
                    ladders[msg["lot"]].behind(msg.get("minimum"))
        return on

    for s in sessions:
        s.handler = handler_for()
    start_at = await _handshake(pipe, {"connections": len(sessions)})
    total = int(rate * (warmup + duration))
    n, nlots = len(sessions), len(lots)
    warm_n = int(rate * warmup)
    k = 0
    while k < total:
        now = time.time()
        target = start_at + k / rate
        if target > now:
            # at most one wake-up per TICK_S: above 1,000 bids/s the bids due within a tick go
            # out together, up to TICK_S late (counted in their latency). A wake-up per bid
            # cost the generator more CPU than the bids themselves (docs/performance.md).
            await asyncio.sleep(max(target - now, TICK_S))
            now = time.time()
        # send everything that is due (catches up in bursts if the loop was late)
        while k < total and start_at + k / rate <= now:
            lot = lots[k % nlots]
            key = f"o{k}"
            due[key] = ((start_at + k / rate) * 1000, k >= warm_n)
            sessions[k % n].send({"t": "bid", "lot": lot, "amount": ladders[lot].claim(),
                                  "key": key})
            k += 1
    deadline = time.time() + 10
    while due and time.time() < deadline:
        await asyncio.sleep(0.01)
    codes["unanswered"] = len(due)
    for s in sessions:
        s.close()
    return {"latency_ms": lat, "codes": dict(codes), "sent": total,
            "measured": total - warm_n, "measured_acks": measured_acks}


# --- fan-out: viewers and one paced bid driver --------------------------------------------------

async def viewers(pipe: Connection, url: str, n: int, lot: int, duration: float, warmup: float,
                  grace: float = 2.0) -> dict[str, Any]:
    sessions = await open_sessions(url, [None] * n)
    got: dict[int, list[float]] = {}  # seq → [at, last receive ms, count]

    def on(msg: dict[str, Any]) -> None:
        if msg.get("t") == "ev":
            t_recv = now_ms()
            rec = got.get(msg["seq"])
            if rec is None:
                got[msg["seq"]] = [msg["at"], t_recv, 1]
            else:
                if t_recv > rec[1]:
                    rec[1] = t_recv
                rec[2] += 1

    await subscribe_all(sessions, lot, on)
    start_at = await _handshake(pipe, {"connections": n})
    await asyncio.sleep(max(0.0, start_at + warmup + duration + grace - time.time()))
    closes = sum(1 for s in sessions if s.ws is not None and s.ws.closed.done())
    for s in sessions:
        s.close()
    return {"per_seq": {seq: rec for seq, rec in got.items()}, "closed": closes}


async def bid_driver(pipe: Connection, url: str, tokens: list[str], lot: int, rate: float,
                     duration: float, warmup: float) -> dict[str, Any]:
    """Bids on one lot at ``rate`` per second, each after the previous one's answer, rotating
    bidders (so every bid is accepted): the source of events for the fan-out scenario."""
    sessions = await open_sessions(url, list(tokens))
    loop = asyncio.get_running_loop()
    box: list[asyncio.Future[dict[str, Any]]] = []

    def on(msg: dict[str, Any]) -> None:
        if msg.get("t") in ("ack", "nack") and box and not box[0].done():
            box[0].set_result(msg)

    for s in sessions:
        s.handler = on
    ladder = Ladder()
    codes: Counter[str] = Counter()
    window: list[int] = []  # seqs of acks sent inside the measured window
    start_at = await _handshake(pipe, {"connections": len(sessions)})
    total = int(rate * (warmup + duration))
    warm_n = int(rate * warmup)
    for k, sess in zip(range(total), itertools.cycle(sessions), strict=False):
        wait = start_at + k / rate - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        fut = loop.create_future()
        box[:] = [fut]
        sess.send({"t": "bid", "lot": lot, "amount": ladder.claim(), "key": f"d{k}"})
        msg = await asyncio.wait_for(fut, 10)
        if msg["t"] == "ack":
            codes["ack"] += 1
            if k >= warm_n:
                window.append(int(msg["seq"]))
        else:
            codes[msg.get("code", "?")] += 1
            ladder.behind(msg.get("minimum"))
    for s in sessions:
        s.close()
    return {"codes": dict(codes), "window_seqs": window}


# --- idle connections ---------------------------------------------------------------------------

async def idle(pipe: Connection, url: str, n: int, lot: int) -> dict[str, Any]:
    sessions = await open_sessions(url, [None] * n, concurrency=100)  # idle: 2 × 100 < pool
    await subscribe_all(sessions, lot, lambda msg: None)
    await _handshake(pipe, {"connections": n})
    alive = sum(1 for s in sessions if s.ws is not None and not s.ws.closed.done())
    for s in sessions:
        s.close()
    return {"alive": alive}


WORKERS = {
    "ladder": ladder_bidders,
    "open_loop": open_loop_bidders,
    "viewers": viewers,
    "driver": bid_driver,
    "idle": idle,
}


def child_main(kind: str, kwargs: dict[str, Any], pipe: Connection) -> None:
    from loadtests.stack import _raise_nofile

    _raise_nofile()
    # No garbage collection in a generator (a run lasts seconds to minutes): a collection
    # stalls every socket of the process at once, the bids due meanwhile go out as one burst,
    # and the server is measured on a burst no population of clients sends
    # (docs/performance.md, "fourteenth pass")
    gc.disable()
    runner: Any = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        runner = uvloop.run
    try:
        result = runner(WORKERS[kind](pipe, **kwargs))
        pipe.send(("result", result))
    except BaseException as exc:  # report to the parent, which fails the scenario
        pipe.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
