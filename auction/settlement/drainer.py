"""The drainer: copies every lot event from Redis to PostgreSQL and settles closed lots.

Invariant 1 (an acknowledged bid is in PostgreSQL within a second): every ``interval_s``
(0.2 s) the drainer reads, for each lot in ``keys.active``, the stream entries after its
cursor and writes them to ``lot_events``. The cursor is in memory and starts at the highest
seq PostgreSQL already holds, so a restart re-reads nothing it does not need and skips nothing.
The write is idempotent on ``(lot_id, seq)``; an event is never removed from Redis here, so any
failure (Redis, PostgreSQL, a crash) just means the next tick reads the same entries again.

Once a lot's terminal event (sold / passed / withdrawn) is persisted and the result is final,
the drainer settles the lot (:func:`auction.settlement.settle.settle_many`, idempotent) and only
then removes it from ``keys.active``; a crash in between settles it again, which is a no-op. A
live lot's hammer or pass is final (``finalize.lua``, rule C9) once ``reopen_window_ms`` passed
since the close, or once another lot of its session opened; until then the auctioneer may
reopen it (C5) and nothing of its result is written. A reopened lot's drain simply goes on: its
``reopened`` event and the bids after it are copied like any other.

In bulk (issue 17 item 4): a pass takes the active lots ``lots_per_batch`` (256) at a time, and
for each batch makes one Redis pipeline (every lot's new entries and its epoch and seq), one
PostgreSQL transaction writing every lot's events in one statement
(:func:`auction.store.journal.insert_batch`), one pipeline of ``finalize.lua`` for the lots
that closed, one settlement transaction for all of them
(:func:`auction.store.settlements.record_results`) and one ``SREM``; cursors, comparisons and
what settlement reads are one query each. A batch refused for anything but PostgreSQL or Redis
being away (a lot whose rows PostgreSQL refuses, a deadlock with another writer) is redone lot
by lot, so one lot at fault holds up only itself (logged, retried next tick).

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

import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError

from auction import metrics, outage
from auction.background import pause, raise_if_stopping
from auction.domain.room import LotEvent
from auction.rooms.service import Rooms, decode_event
from auction.settlement import finality
from auction.settlement.book_drain import BookDrain
from auction.settlement.lease import Lease
from auction.settlement.settle import TERMINAL_KINDS, SettlementError, settle_many
from auction.store import journal
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


@dataclass(frozen=True, slots=True)
class _Read:
    """What one pass read of one lot: the entries at and before the cursor (to compare with
    the journal) and the new ones after it, with the room's epoch and seq."""

    lot_id: int
    cursor: int
    epoch: str
    room_seq: int
    known: list[LotEvent]
    events: list[LotEvent]


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
        lots_per_batch: int = 256,
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
        self.lots_per_batch = lots_per_batch
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
                    await pause(self.interval_s)
        finally:
            with contextlib.suppress(Exception):
                await self.lease.release()

    async def drain_once(self) -> int:
        """One pass over the active lots, ``lots_per_batch`` at a time; returns how many events
        this call wrote.

        A failure on one lot is logged and leaves that lot for the next pass (its cursor is
        re-read from PostgreSQL); the other lots carry on. Failure to read the active set, and
        PostgreSQL or Redis going away, raise (the whole pass waits for the dependency).
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
        for start in range(0, len(lot_ids), self.lots_per_batch):
            batch = lot_ids[start:start + self.lots_per_batch]
            try:
                written += await self._drain_batch(batch)
            except (Unavailable, RedisError):
                for lot_id in batch:
                    self._forget(lot_id)
                raise  # one line per outage
        metrics.DRAIN_LAG_EVENTS.set(sum(self._lag.values()))
        oldest = self._oldest_ms
        metrics.DRAIN_LAG_SECONDS.set(
            0.0 if oldest is None else max(0.0, time.time() - oldest / 1000))
        return written

    async def _drain_batch(self, lot_ids: list[int]) -> int:
        """Copy the new events of ``lot_ids`` (one Redis pipeline, one PostgreSQL transaction),
        then settle those whose terminal event is persisted and final (one of each again)."""
        await self._load_cursors([lot for lot in lot_ids if lot not in self._cursors])
        copying = [lot for lot in lot_ids if lot in self._cursors and lot not in self._terminal]
        written = await self._copy(copying) if copying else 0
        # the secret book's writes up to each lot's persisted event, before any lot of the
        # batch may be settled (book_drain.py)
        await self.book.copy_many({lot: self._cursors[lot] for lot in lot_ids
                                   if lot in self._cursors})
        closed = [lot for lot in lot_ids if lot in self._terminal]
        if closed:
            await self._settle(closed)
        return written

    async def _halt(self, exc: JournalMismatch) -> None:
        lot_id = exc.lot_id
        self._forget(lot_id)
        first = lot_id not in self.halted
        self.halted[lot_id] = str(exc)
        if first:
            metrics.HISTORY_LOSS.labels("journal_mismatch").inc()
            log.error("drain of lot %d stopped: %s", lot_id, exc)
        await self._recover(lot_id)

    async def _recover(self, lot_id: int) -> None:
        """Ask the recovery to rebuild the lot's room from the journal (new epoch)."""
        if self.recovery is None:
            return
        outcome = await self.recovery.check_lot(lot_id)
        if outcome == "rebuilt":
            self.halted.pop(lot_id, None)

    async def _load_cursors(self, lot_ids: list[int]) -> None:
        """Start each lot's cursor at the highest seq PostgreSQL holds (one query)."""
        if not lot_ids:
            return
        last = await journal.last_events(self.store, lot_ids)
        for lot_id in lot_ids:
            event = last.get(lot_id)
            self._cursors[lot_id] = 0 if event is None else event.seq
            if event is not None and event.kind in TERMINAL_KINDS:
                # persisted by an earlier run that died before settling
                self._terminal[lot_id] = event

    async def _copy(self, lot_ids: list[int]) -> int:
        """Stream entries after each lot's cursor → ``lot_events``, every lot in one go."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for lot_id in lot_ids:
                cursor = self._cursors[lot_id]
                lot = self.keys.lot(lot_id)
                # from the cursor itself: its entry is compared with what PostgreSQL stored
                pipe.xrange(lot.events, min=f"{cursor}-0" if cursor else "-", max="+",
                            count=self.batch + 1)
                pipe.hmget(lot.state, ["epoch", "seq"])
            replies = await pipe.execute()
        reads: list[_Read] = []
        for lot_id, entries, (epoch_raw, seq_raw) in zip(
                lot_ids, replies[0::2], replies[1::2], strict=True):
            try:
                read = self._read(lot_id, entries, epoch_raw, seq_raw)
            except Exception:
                log.exception("draining lot %d failed; retrying next tick", lot_id)
                self._forget(lot_id)
                continue
            if read is None:
                await self._recover(lot_id)
            else:
                reads.append(read)
        # once per cursor and epoch: a cursor this drainer wrote itself was compared then
        unchecked = [r for r in reads if self._compared.get(r.lot_id) != (r.cursor, r.epoch)]
        bad = await self._compare({r.lot_id: r.known for r in unchecked})
        for r in unchecked:
            if r.lot_id not in bad:
                self._compared[r.lot_id] = (r.cursor, r.epoch)
        batches: list[_Read] = []
        for r in reads:
            if r.lot_id in bad or not r.events:
                continue
            if r.events[0].seq != r.cursor + 1:
                # The stream no longer holds what came after the cursor: history was lost in
                # Redis. Never invent what is not there: the room is rebuilt from the journal.
                log.error("lot %d: gap in the stream, persisted up to %d, stream resumes at %d",
                          r.lot_id, r.cursor, r.events[0].seq)
                self._forget(r.lot_id)
                await self._recover(r.lot_id)
                continue
            oldest = r.events[0].at
            self._oldest_ms = oldest if self._oldest_ms is None else min(self._oldest_ms, oldest)
            batches.append(r)
        counts = await self._insert(batches)
        # another drainer got there first: what it stored must be what we read
        raced = [r for r in batches if r.lot_id in counts and counts[r.lot_id] < len(r.events)]
        bad = await self._compare({r.lot_id: list(r.events) for r in raced})
        written = 0
        for r in batches:
            if r.lot_id not in counts or r.lot_id in bad:
                continue
            written += counts[r.lot_id]
            last = r.events[-1]
            self._cursors[r.lot_id] = last.seq
            self._compared[r.lot_id] = (last.seq, r.epoch)
            self._lag[r.lot_id] = max(0, r.room_seq - last.seq)
            if len(r.events) >= self.batch:
                self._more = True
            if last.kind in TERMINAL_KINDS:
                self._terminal[r.lot_id] = last
        return written

    def _read(self, lot_id: int, entries: Any, epoch_raw: Any, seq_raw: Any) -> _Read | None:
        """One lot's pipeline replies; ``None`` when its room must be rebuilt first."""
        cursor = self._cursors[lot_id]
        if seq_raw is None or int(seq_raw) < cursor:
            # the room is gone, or behind what PostgreSQL already has: history lost in Redis
            log.error("lot %d: the room in Redis is %s, PostgreSQL has up to seq %d",
                      lot_id, "gone" if seq_raw is None else f"at seq {int(seq_raw)}", cursor)
            self._forget(lot_id)
            return None
        events = [decode_event(fields[b"e"]) for _entry_id, fields in entries]
        epoch = epoch_raw.decode() if isinstance(epoch_raw, bytes) else str(epoch_raw or "")
        return _Read(lot_id, cursor, epoch, int(seq_raw),
                     known=[e for e in events if e.seq <= cursor],
                     events=[e for e in events if e.seq > cursor])

    async def _insert(self, reads: list[_Read]) -> dict[int, int]:
        """Write every lot's new events in one transaction; lot id → events that were new, for
        each lot whose events are now in PostgreSQL.

        If the batch is refused for something other than PostgreSQL being away (one lot's rows
        refused, a deadlock with another writer), the lots are written one by one, so a lot at
        fault holds up only itself."""
        if not reads:
            return {}
        batches = [journal.LotBatch(r.lot_id, r.epoch, r.events) for r in reads]
        try:
            counts = await journal.insert_batch(self.store, batches)
        except Unavailable:
            raise
        except Exception:
            if len(batches) == 1:
                log.exception("draining lot %d failed; retrying next tick", reads[0].lot_id)
                self._forget(reads[0].lot_id)
                return {}
            log.warning("writing %d lots' events at once failed; writing them one by one",
                        len(batches), exc_info=True)
        else:
            return {b.lot_id: counts.get(b.lot_id, 0) for b in batches}
        out: dict[int, int] = {}
        for b in batches:
            try:
                out[b.lot_id] = await journal.insert_events(
                    self.store, b.lot_id, b.epoch, b.events)
            except Unavailable:
                raise
            except Exception:
                log.exception("draining lot %d failed; retrying next tick", b.lot_id)
                self._forget(b.lot_id)
        return out

    async def _compare(self, known: dict[int, list[LotEvent]]) -> set[int]:
        """Each lot whose stored events differ from those read from Redis is halted (its drain
        stops, its room is rebuilt); returns those lots. One query for all of them."""
        wanted = {lot: [e.seq for e in events] for lot, events in known.items() if events}
        if not wanted:
            return set()
        stored = await journal.events_at_many(self.store, wanted)
        bad: set[int] = set()
        for lot_id, events in known.items():
            for event in events:
                other = stored.get(lot_id, {}).get(event.seq)
                if other is not None and other != event:
                    bad.add(lot_id)
                    await self._halt(JournalMismatch(lot_id, event, other))
                    break
        return bad

    async def _settle(self, lot_ids: list[int]) -> None:
        """Settle the lots whose close is final (one pipeline of ``finalize.lua``), all in one
        transaction, and only then take them out of ``keys.active``."""
        final, reopened = await finality.final_lots(
            self.redis, self.keys, self.rooms.scripts.finalize, lot_ids, self.reopen_window_ms)
        for lot_id in reopened:
            self._terminal.pop(lot_id, None)  # its persisted close is no longer its end
        terminals = {lot: self._terminal[lot] for lot in final if lot in self._terminal}
        if not terminals:
            return
        try:
            outcomes = await settle_many(self.store, terminals)
        except Unavailable:
            raise
        except Exception:
            if len(terminals) == 1:
                (lot_id,) = terminals
                log.exception("settling lot %d failed; retrying next tick", lot_id)
                self._forget(lot_id)
                return
            log.warning("settling %d lots at once failed; settling them one by one",
                        len(terminals), exc_info=True)
            outcomes = {}
            for lot_id, terminal in terminals.items():
                try:
                    outcomes.update(await settle_many(self.store, {lot_id: terminal}))
                except Unavailable:
                    raise
                except Exception:
                    log.exception("settling lot %d failed; retrying next tick", lot_id)
                    self._forget(lot_id)
        done: list[int] = []
        for lot_id, outcome in outcomes.items():
            if isinstance(outcome, SettlementError):
                log.error("lot %d cannot be settled (%s); retrying next tick", lot_id, outcome)
                self._forget(lot_id)
                continue
            log.debug("lot %d: %s", lot_id, outcome)
            done.append(lot_id)
        if done:
            # a crash before this line settles these lots again next time: a no-op
            await self.redis.srem(self.keys.active, *[str(lot) for lot in done])
            for lot_id in done:
                self._forget(lot_id)

    def _forget(self, lot_id: int) -> None:
        self._cursors.pop(lot_id, None)
        self.book.forget(lot_id)
        self._compared.pop(lot_id, None)
        self._terminal.pop(lot_id, None)
