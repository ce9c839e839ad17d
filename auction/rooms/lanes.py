"""Bid lanes: one ordered queue per lot in front of ``bid.lua``, drained by one task per lot
that sends what is queued as one script call carrying the whole batch (one round trip, one
command per batch).

Why (issue 17 items 1 and 2; docs/performance.md "Bid path"):

- **Order.** Bids on one lot reach the script in the order the server received them: a lot has
  at most one batch in flight, and ``bid.lua`` decides a batch's bids one after another, in
  order. Before, each bid took its own pooled connection, so under load later (higher) bids
  overtook earlier ones on the way to Redis and the earlier ones came back ``too_low``.
- **Round trips.** Bids that arrive while a lot's batch is in flight (or in the same event-loop
  tick) share the next round trip, so the Redis cost per bid falls as the load rises; while
  several lots' lanes are busy, their calls of one event-loop turn share one round trip too
  (:mod:`auction.rooms.coalesce`).
- **Overload without collapse.** :meth:`BidLanes.shed` refuses a bid at the door, before any
  work, when its lot's queue or the process's queue is full (:class:`Overloaded`, nack
  ``overloaded`` with ``retry_after_ms``); a bid that still waited longer than
  :attr:`LaneLimits.wait_ms` when its batch is taken is answered the same way and never sent.
  Either way nothing was done (no script call, nothing stored under its idempotency key), so
  every bid is answered within about ``wait_ms`` plus one round trip, whatever is offered.

A batch is first *vetted* (:attr:`BidLanes.vet`, set by the API: the bid credentials' session
and revocation, one ``MGET`` for the whole batch), then sent. Exceptions::

    Overloaded        the lot's or the process's queue is too deep; nothing was done
    Rejection         bid.lua refused the bid (auction/domain/errors.py)
    (vet's own)       the API's refusal of a credential (passed through as the bid's answer)
    RedisError        Redis failed for the whole batch (the caller answers ``unavailable``)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgpack
from redis.exceptions import NoScriptError

from auction.rooms.coalesce import Coalescer
from auction.rooms.door import MAX_CALL, Door, LaneLimits, Overloaded, lane_batch
from auction.rooms.replies import Accepted, decode_reply

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from auction.rooms.keys import Keys
    from auction.rooms.scripts import RoomScript

log = logging.getLogger("auction.rooms.lanes")

_packb = msgpack.packb


#: called with a bid's answer (:class:`Accepted`, or the exception that refused it), once,
#: synchronously in the lane's task (no task or callback hop per bid)
Reply = Callable[[Accepted | BaseException], None]


@dataclass(slots=True)
class QueuedBid:
    """One bid waiting in its lot's lane. ``credential``: what :attr:`BidLanes.vet` checks
    (the API's principal; ``None``: nothing to vet, e.g. a floor bid staff entered). Its answer
    goes to ``future`` (:meth:`BidLanes.submit`) or to ``reply`` (:meth:`BidLanes.enqueue`)."""

    bidder: int
    paddle: int
    amount: int
    idem: str
    source: str
    credential: object
    received: float
    future: asyncio.Future[Accepted] | None = None
    reply: Reply | None = None

    @property
    def abandoned(self) -> bool:
        """Its caller stopped waiting (a cancelled ``await``): nothing to send."""
        return self.future is not None and self.future.done()


#: ``vet(lot, batch)`` → per bid, ``None`` (send it) or the exception that answers it
Vet = Callable[[int, Sequence[QueuedBid]], Awaitable[Sequence[BaseException | None]]]


class _Lane:
    __slots__ = ("busy", "queue", "task")

    def __init__(self) -> None:
        self.queue: deque[QueuedBid] = deque()
        self.busy = False
        #: the task draining the lane while ``busy`` (held: the loop keeps only weak ones)
        self.task: asyncio.Task[None] | None = None


class BidLanes:
    """The lanes of one process (one :class:`auction.rooms.service.Rooms`)."""

    def __init__(self, redis: Redis, keys: Keys, script: RoomScript,
                 limits: LaneLimits | None = None) -> None:
        self.redis = redis
        self.keys = keys
        self.script = script
        self.limits = limits or LaneLimits()
        #: set by the composition root (auction/api/app.py); ``None``: nothing is vetted
        self.vet: Vet | None = None
        self._lanes: dict[int, _Lane] = {}
        self._queued = 0
        #: what the queues may take, from the lanes' measured rates
        self.door = Door(self.limits)
        #: most bids one round trip takes: never more than a lot may queue
        self.batch = min(self.limits.batch, lane_batch(self.limits.deepest))
        #: several lots' calls in one round trip (auction/rooms/coalesce.py)
        self._shared = Coalescer(redis)

    @property
    def queued(self) -> int:
        """Bids waiting in this process (not counting batches in flight)."""
        return self._queued

    def depth(self, lot: int) -> int:
        lane = self._lanes.get(lot)
        return len(lane.queue) if lane is not None else 0

    def shed(self, lot: int) -> Overloaded | None:
        """At the door: :class:`Overloaded` when a bid on ``lot`` would wait too long
        (:meth:`auction.rooms.door.Door.shed`); an answer to hand on, never to raise."""
        return self.door.shed(lot, self.depth(lot), self._queued)

    def submit(self, lot: int, *, bidder: int, paddle: int, amount: int, idem: str,
               source: str = "online", credential: object = None) -> asyncio.Future[Accepted]:
        """Queue a bid behind the lot's earlier ones (synchronous: the order of calls is the
        order the script sees); the future holds :class:`Accepted` or the refusal."""
        future: asyncio.Future[Accepted] = asyncio.get_running_loop().create_future()
        self._queue(lot, QueuedBid(bidder, paddle, amount, idem, source, credential,
                                   time.monotonic(), future=future))
        return future

    def enqueue(self, lot: int, reply: Reply, *, bidder: int, paddle: int, amount: int,
                idem: str, source: str = "online", credential: object = None) -> None:
        """:meth:`submit` for a caller that does not wait: ``reply`` gets the answer."""
        self._queue(lot, QueuedBid(bidder, paddle, amount, idem, source, credential,
                                   time.monotonic(), reply=reply))

    def _queue(self, lot: int, bid: QueuedBid) -> None:
        lane = self._lanes.get(lot)
        if lane is None:
            lane = self._lanes[lot] = _Lane()
        lane.queue.append(bid)
        self._queued += 1
        if not lane.busy:
            lane.busy = True
            lane.task = asyncio.get_running_loop().create_task(self._drain(lot, lane),
                                                               name=f"bid-lane-{lot}")

    async def _drain(self, lot: int, lane: _Lane) -> None:
        """Send the lane's bids, a batch at a time, until it is empty; then forget it.

        Two batches overlap: while one batch's script call is in flight the next one is taken
        and vetted, so a batch's call goes out as soon as the one before it has answered (the
        calls themselves stay one at a time, in order). Under load a batch's vetting and its
        call each wait about one event-loop turn; done one after the other they halved what a
        lot could take (docs/performance.md, "Issue 17, fifth pass")."""
        loop = asyncio.get_running_loop()
        ahead: asyncio.Task[list[QueuedBid]] | None = None
        ahead_batch: list[QueuedBid] = []
        mark = time.monotonic()
        try:
            kept = await self._vetted(lot, self._take(lot, lane))
            while kept or lane.queue:
                if lane.queue:
                    ahead_batch = self._take(lot, lane)
                    ahead = loop.create_task(self._vetted(lot, ahead_batch),
                                             name=f"bid-vet-{lot}")
                if kept:
                    await self._send_answered(lot, kept)
                    now = time.monotonic()
                    self.door.measured(lot, (now - mark) / len(kept))
                    mark = now
                if ahead is not None:
                    kept = await ahead
                    ahead, ahead_batch = None, []
                else:
                    kept = []
        finally:
            lane.busy = False
            lane.task = None
            self.door.idle(lot)
            if ahead is not None:  # cancelled (shutdown) with the next batch taken
                waiting = ahead_batch
                if ahead.done() and not ahead.cancelled() and ahead.exception() is None:
                    waiting = ahead.result()  # the refused ones were answered already
                else:
                    ahead.cancel()
                for bid in waiting:
                    _settle(bid, Overloaded(1000))
            if lane.queue:  # cancelled while bids waited (shutdown): tell them
                for bid in lane.queue:
                    _settle(bid, Overloaded(1000))
                self._queued -= len(lane.queue)
                lane.queue.clear()
            if self._lanes.get(lot) is lane:
                del self._lanes[lot]

    def _take(self, lot: int, lane: _Lane) -> list[QueuedBid]:
        """The next batch, in order; bids that waited too long are answered ``overloaded``."""
        batch: list[QueuedBid] = []
        too_old = time.monotonic() - self.limits.wait_ms / 1000
        queue = lane.queue
        while queue and len(batch) < self.batch:
            bid = queue.popleft()
            self._queued -= 1
            if bid.abandoned:
                continue
            if bid.received < too_old:
                _settle(bid, Overloaded(self.door.retry_after_ms(lot, len(queue) + 1)))
                continue
            batch.append(bid)
        return batch

    async def _vetted(self, lot: int, batch: list[QueuedBid]) -> list[QueuedBid]:
        """The bids of ``batch`` that :attr:`vet` lets through; the others are answered with
        their refusal (all of them with the error, if vetting itself failed)."""
        if self.vet is None or not batch:
            return batch
        try:
            verdicts = await self.vet(lot, batch)
        except Exception as exc:  # Redis away, a bug: every bid of the batch is told
            for bid in batch:
                _settle(bid, exc)
            return []
        kept = []
        for bid, refusal in zip(batch, verdicts, strict=True):
            if refusal is None:
                kept.append(bid)
            else:
                _settle(bid, refusal)
        return kept

    async def _send_answered(self, lot: int, batch: list[QueuedBid]) -> None:
        """:meth:`_send`, every bid told if the call fails as a whole."""
        try:
            await self._send(lot, batch)
        except Exception as exc:  # Redis away, a bug: every bid of the batch is told
            for bid in batch:
                _settle(bid, exc)

    async def _send(self, lot: int, batch: list[QueuedBid]) -> None:
        """One script call for ``batch`` (vetted), each bid answered with its reply."""
        if not batch:
            return
        try:
            replies = await self._call(lot, batch)
        except NoScriptError:
            # Redis lost its scripts (a restart): the fence first, then the batch again (a
            # NOSCRIPT call did nothing)
            await self.script.load()
            replies = await self._call(lot, batch)
        for bid, reply in zip(batch, replies, strict=True):
            _settle(bid, _outcome(reply))

    async def execute(self, *args: Any) -> Any:
        """One Redis command of a lane (a batch's call, its vetting's ``MGET``): while other
        lots' lanes are busy, in the round trip they share (:mod:`auction.rooms.coalesce`)."""
        if len(self._lanes) > 1:
            return await self._shared.execute(*args)
        return await self.redis.execute_command(*args)  # type: ignore[no-untyped-call]

    async def _call(self, lot: int, batch: Sequence[QueuedBid]) -> list[Any]:
        """One round trip: ``bid.lua`` calls carrying the whole batch, in order, each call's
        bids as one msgpack argument (so the client encodes one command of a dozen arguments,
        not one of a dozen per bid): one call, or for more than :data:`MAX_CALL` bids several
        in one pipeline; one reply per bid, an exception for a bid whose decision raised.
        A Redis Cluster client routes them by their keys (one lot's keys: one slot)."""
        keys = self.keys.lot(lot).bid_keys()
        sha = self.script.sha
        if len(batch) <= MAX_CALL:
            replies = await self.execute("EVALSHA", sha, len(keys), *keys, _packed(batch))
            _check(replies, len(batch))
            return replies  # type: ignore[no-any-return]
        calls = [batch[i:i + MAX_CALL] for i in range(0, len(batch), MAX_CALL)]
        async with self.redis.pipeline(transaction=False) as pipe:
            for call in calls:
                # queued by name: a Redis Cluster's pipeline refuses its ``evalsha`` method
                pipe.execute_command("EVALSHA", sha, len(keys), *keys, _packed(call))
            answers = await pipe.execute()  # NOSCRIPT: NoScriptError, as a single call
        replies = []
        for call, answer in zip(calls, answers, strict=True):
            _check(answer, len(call))
            replies.extend(answer)
        return replies


def _packed(bids: Sequence[QueuedBid]) -> bytes:
    """A call's bids as ``bid.lua``'s one msgpack argument."""
    packed: bytes = _packb([[str(b.bidder), str(b.paddle), str(b.amount), b.idem, b.source]
                            for b in bids])
    return packed


def _check(replies: Any, count: int) -> None:
    if not isinstance(replies, list) or len(replies) != count:
        raise RuntimeError(f"bid.lua answered {count} bids with {replies!r:.200}")


def _outcome(reply: Any) -> Accepted | BaseException:
    """A script call's reply as the bid's answer: accepted, refused, or the call's error."""
    if isinstance(reply, Exception):
        return reply
    try:
        return decode_reply(reply)
    except Exception as exc:  # a Rejection (the rule said no), or a reply we cannot read
        return exc


def _settle(bid: QueuedBid, outcome: Accepted | BaseException) -> None:
    """Hand ``outcome`` to whoever waits for the bid (once)."""
    future = bid.future
    if future is not None:
        if future.done():
            return
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
        return
    assert bid.reply is not None
    try:
        bid.reply(outcome)
    except Exception:  # the answer's delivery failed: the lane goes on with the others
        log.exception("a bid's answer could not be delivered")
