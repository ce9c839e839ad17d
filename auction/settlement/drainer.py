"""The drainer: copies every lot event from Redis to PostgreSQL and settles closed lots.

Invariant 1 (an acknowledged bid is in PostgreSQL within a second): every ``interval_s``
(0.2 s) the drainer reads, for each lot in ``keys.active``, the stream entries after its
cursor and writes them to ``lot_events``. The cursor is in memory and starts at the highest
seq PostgreSQL already holds, so a restart re-reads nothing it does not need and skips nothing.
The write is idempotent on ``(lot_id, seq)``; an event is never removed from Redis here, so any
failure (Redis, PostgreSQL, a crash) just means the next tick reads the same entries again.

Once a lot's terminal event (sold / passed / withdrawn) is persisted and the result is final,
the drainer settles the lot (:func:`auction.settlement.settle.settle`, idempotent) and only then
removes it from ``keys.active``; a crash in between settles it again, which is a no-op. A live
lot's hammer or pass is final (``finalize.lua``, rule C9) once ``reopen_window_ms`` passed since
the close, or once another lot of its session opened; until then the auctioneer may reopen it
(C5) and nothing of its result is written. A reopened lot's drain simply goes on: its
``reopened`` event and the bids after it are copied like any other.

Each written event is chained (issue 16, docs/formats.md "The chained record"): PostgreSQL's
insert trigger gives it the SHA-256 of the lot's previous entry and its own, under a per-lot
advisory lock, in the same ``INSERT`` — no extra round trip, and two drainers writing the same
lot cannot fork its chain. After a lot's events, the writes of its secret book (proxy maxima,
sealed quotes) made up to the last persisted event go to the private ``lot_book``
(:mod:`auction.settlement.book_drain`), before the lot may be settled. An event whose
predecessor is not yet in the journal is refused (the drainer writes in seq order, from its
cursor, so this only means "retry next tick").

One process drains at a time: :meth:`Drainer.run` works only while it holds the
``keys.lease("drainer")`` lease (:mod:`auction.settlement.lease`); the others idle and take over
when the holder's lease expires. :meth:`Drainer.drain_once` itself is safe to run concurrently.

No (lot, seq) ever carries two different events (invariant 11). Each pass re-reads the stream
entry at the cursor with the new ones, and every entry whose seq PostgreSQL already holds (the
cursor's, or one another drainer wrote first) is compared with the stored event. A difference is
a :class:`JournalMismatch`: logged with both versions, counted in
``auction_history_loss_total{kind="journal_mismatch"}``, and the lot's drain **stops** (nothing
of it is written or settled) until the room is rebuilt from the journal (``Recovery.check_lot``
is asked to; a rebuilt room carries a new epoch and continues after the journal's last seq).
A room that is gone, or whose seq is behind the journal, is handed to the recovery the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from auction import metrics, outage
from auction.background import raise_if_stopping
from auction.domain.errors import Rejection
from auction.domain.room import LotEvent
from auction.rooms.service import Rooms, decode_event
from auction.settlement.book_drain import BookDrain
from auction.settlement.lease import Lease
from auction.settlement.settle import TERMINAL_KINDS, settle
from auction.store import journal
from auction.store import rooms as store_rooms
from auction.store.errors import Unavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from auction.rooms.keys import Keys
    from auction.rooms.recovery import Recovery
    from auction.store import Store

log = logging.getLogger(__name__)


class JournalMismatch(Exception):
    """Redis' event differs from the one PostgreSQL stored under the same (lot, seq)."""

    def __init__(self, lot_id: int, redis_event: LotEvent, stored: LotEvent) -> None:
        super().__init__(
            f"lot {lot_id} seq {stored.seq}: Redis has {redis_event.to_map()}, "
            f"PostgreSQL has {stored.to_map()}"
        )
        self.lot_id = lot_id


class Drainer:
    """Redis lot streams → ``lot_events``, then settlement. One instance per process."""

    def __init__(
        self,
        store: Store,
        redis: Redis,
        keys: Keys,
        *,
        interval_s: float = 0.2,
        batch: int = 1_000,
        lease_ttl_ms: int = 5_000,
        recovery: Recovery | None = None,
        reopen_window_ms: int = 0,
    ) -> None:
        self.store = store
        self.reopen_window_ms = reopen_window_ms
        self.recovery = recovery
        self.redis = redis
        self.keys = keys
        self.interval_s = interval_s
        self.batch = batch
        self.lease = Lease(redis, keys.lease("drainer"), ttl_ms=lease_ttl_ms)
        self.rooms = Rooms(redis, keys)
        self.book = BookDrain(store, redis, keys, batch=batch)
        # lot id → highest seq known to be in PostgreSQL
        self._cursors: dict[int, int] = {}
        # lot id → its persisted terminal event, until the lot is settled and deactivated
        self._terminal: dict[int, LotEvent] = {}
        self._more = False
        #: lots whose drain stopped on a mismatch (until their room is rebuilt)
        self.halted: dict[int, str] = {}
        # lot id → events in Redis not yet in PostgreSQL after the last pass (the lag gauges)
        self._lag: dict[int, int] = {}
        self._oldest_ms: int | None = None
        # lot id → (cursor, epoch) whose stream entry was last found equal to the journal's
        self._compared: dict[int, tuple[int, str]] = {}

    async def run(self) -> None:
        """Drain every ``interval_s`` while holding the lease, until cancelled. Errors are
        logged and the work is retried on the next tick."""
        try:
            while True:
                raise_if_stopping()
                self._more = False
                try:
                    if await self.lease.acquire():
                        await self.drain_once()
                        outage.POSTGRES.ok()
                except Unavailable as exc:
                    raise_if_stopping()
                    outage.POSTGRES.failed(exc, where="drainer")
                except (RedisError, OSError) as exc:
                    raise_if_stopping()
                    outage.REDIS.failed(exc, where="drainer")
                except Exception:
                    raise_if_stopping()
                    log.exception("drain tick failed; retrying next tick")
                if not self._more:
                    await asyncio.sleep(self.interval_s)
        finally:
            with contextlib.suppress(Exception):
                await self.lease.release()

    async def drain_once(self) -> int:
        """One pass over the active lots; returns how many events this call wrote.

        A failure on one lot is logged and leaves that lot for the next pass (its cursor is
        re-read from PostgreSQL); the other lots carry on. Failure to read the active set raises.
        """
        members = await self.redis.smembers(self.keys.active)
        lot_ids = sorted(int(m) for m in members)
        active = set(lot_ids)
        for gone in [lot for lot in self._cursors if lot not in active]:
            self._forget(gone)
        for gone in [lot for lot in self._lag if lot not in active]:
            del self._lag[gone]
        self._oldest_ms = None
        written = 0
        for lot_id in lot_ids:
            try:
                written += await self._drain_lot(lot_id)
            except JournalMismatch as exc:
                self._forget(lot_id)
                first = lot_id not in self.halted
                self.halted[lot_id] = str(exc)
                if first:
                    metrics.HISTORY_LOSS.labels("journal_mismatch").inc()
                    log.error("drain of lot %d stopped: %s", lot_id, exc)
                await self._recover(lot_id)
            except (Unavailable, RedisError):
                self._forget(lot_id)
                raise  # the whole pass waits for the dependency (one line per outage)
            except Exception:
                log.exception("draining lot %d failed; retrying next tick", lot_id)
                self._forget(lot_id)
        metrics.DRAIN_LAG_EVENTS.set(sum(self._lag.values()))
        oldest = self._oldest_ms
        metrics.DRAIN_LAG_SECONDS.set(
            0.0 if oldest is None else max(0.0, time.time() - oldest / 1000))
        return written

    async def _recover(self, lot_id: int) -> None:
        """Ask the recovery to rebuild the lot's room from the journal (new epoch)."""
        if self.recovery is None:
            return
        outcome = await self.recovery.check_lot(lot_id)
        if outcome == "rebuilt":
            self.halted.pop(lot_id, None)

    async def _drain_lot(self, lot_id: int) -> int:
        cursor = self._cursors.get(lot_id)
        if cursor is None:
            cursor = await self._load_cursor(lot_id)
        written = 0
        if lot_id not in self._terminal:
            written = await self._copy(lot_id, cursor)
        persisted = self._cursors.get(lot_id)
        if persisted is not None:  # the secret book's writes up to there (book_drain.py)
            await self.book.copy(lot_id, persisted)
        terminal = self._terminal.get(lot_id)
        if terminal is not None:
            if not await self._final(lot_id):
                return written
            outcome = await settle(self.store, lot_id, terminal)
            log.debug("lot %d: %s", lot_id, outcome)
            await self.redis.srem(self.keys.active, str(lot_id))
            self._forget(lot_id)
        return written

    async def _final(self, lot_id: int) -> bool:
        """Whether the lot's close is final (C9) and may be settled. A lot reopened since is
        drained on (its persisted close is no longer its end)."""
        try:
            return await self.rooms.finalize(lot_id, self.reopen_window_ms)
        except Rejection as exc:
            if exc.code == "unknown_lot":
                return True  # no room (lost; the recovery rebuilds it): the journal decides
            self._terminal.pop(lot_id, None)  # wrong_state: reopened
            return False

    async def _load_cursor(self, lot_id: int) -> int:
        last = await journal.last_event(self.store, lot_id)
        cursor = 0 if last is None else last.seq
        self._cursors[lot_id] = cursor
        if last is not None and last.kind in TERMINAL_KINDS:
            # persisted by an earlier run that died before settling
            self._terminal[lot_id] = last
        return cursor

    async def _copy(self, lot_id: int, cursor: int) -> int:
        lot = self.keys.lot(lot_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            # from the cursor itself: its entry is compared with what PostgreSQL stored
            pipe.xrange(lot.events, min=f"{cursor}-0" if cursor else "-", max="+",
                        count=self.batch + 1)
            pipe.hmget(lot.state, ["epoch", "seq"])
            entries, (epoch_raw, seq_raw) = await pipe.execute()
        if seq_raw is None or int(seq_raw) < cursor:
            # the room is gone, or behind what PostgreSQL already has: history lost in Redis
            log.error("lot %d: the room in Redis is %s, PostgreSQL has up to seq %d",
                      lot_id, "gone" if seq_raw is None else f"at seq {int(seq_raw)}", cursor)
            self._forget(lot_id)
            await self._recover(lot_id)
            return 0
        events = [decode_event(fields[b"e"]) for _entry_id, fields in entries]
        known = [e for e in events if e.seq <= cursor]
        events = [e for e in events if e.seq > cursor]
        epoch = epoch_raw.decode() if isinstance(epoch_raw, bytes) else str(epoch_raw or "")
        if self._compared.get(lot_id) != (cursor, epoch):
            # once per cursor and epoch: a cursor this drainer wrote itself was compared then
            await self._compare(lot_id, known)
            self._compared[lot_id] = (cursor, epoch)
        if not events:
            return 0
        if events[0].seq != cursor + 1:
            # The stream no longer holds what came after the cursor: history was lost in
            # Redis. Never invent what is not there: the room is rebuilt from the journal.
            log.error(
                "lot %d: gap in the stream, persisted up to %d, stream resumes at %d",
                lot_id, cursor, events[0].seq,
            )
            self._forget(lot_id)
            await self._recover(lot_id)
            return 0
        oldest = events[0].at
        self._oldest_ms = oldest if self._oldest_ms is None else min(self._oldest_ms, oldest)
        written = await journal.insert_events(self.store, lot_id, epoch, events)
        if written < len(events):
            # another drainer got there first: what it stored must be what we read
            await self._compare(lot_id, events)
        self._cursors[lot_id] = events[-1].seq
        self._compared[lot_id] = (events[-1].seq, epoch)
        self._lag[lot_id] = max(0, int(seq_raw) - events[-1].seq)
        if len(events) >= self.batch:
            self._more = True
        if events[-1].kind in TERMINAL_KINDS:
            self._terminal[lot_id] = events[-1]
        return written

    async def _compare(self, lot_id: int, events: list[LotEvent]) -> None:
        """Raise :class:`JournalMismatch` unless every stored event among ``events`` is the
        same as the one read from Redis."""
        if not events:
            return
        stored = await store_rooms.events_at(self.store, lot_id, [e.seq for e in events])
        for event in events:
            other = stored.get(event.seq)
            if other is not None and other != event:
                raise JournalMismatch(lot_id, event, other)

    def _forget(self, lot_id: int) -> None:
        self._cursors.pop(lot_id, None)
        self.book.forget(lot_id)
        self._compared.pop(lot_id, None)
        self._terminal.pop(lot_id, None)
