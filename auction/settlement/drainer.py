"""The drainer: copies every lot event from Redis to PostgreSQL and settles closed lots.

Invariant 1 (an acknowledged bid is in PostgreSQL within a second): every ``interval_s``
(0.2 s) the drainer reads, for each lot in ``keys.active``, the stream entries after its
cursor and writes them to ``lot_events``. The cursor is in memory and starts at the highest
seq PostgreSQL already holds, so a restart re-reads nothing it does not need and skips nothing.
The write is idempotent on ``(lot_id, seq)``; an event is never removed from Redis here, so any
failure (Redis, PostgreSQL, a crash) just means the next tick reads the same entries again.

Once a lot's terminal event (sold / passed / withdrawn) is persisted, the drainer settles the
lot (:func:`auction.settlement.settle.settle`, idempotent) and only then removes it from
``keys.active``; a crash in between settles it again, which is a no-op.

One process drains at a time: :meth:`Drainer.run` works only while it holds the
``keys.lease("drainer")`` lease (:mod:`auction.settlement.lease`); the others idle and take over
when the holder's lease expires. :meth:`Drainer.drain_once` itself is safe to run concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from auction.background import raise_if_stopping
from auction.domain.room import LotEvent
from auction.rooms.service import decode_event
from auction.settlement.lease import Lease
from auction.settlement.settle import TERMINAL_KINDS, settle
from auction.store import journal

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from auction.rooms.keys import Keys
    from auction.store import Store

log = logging.getLogger(__name__)


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
    ) -> None:
        self.store = store
        self.redis = redis
        self.keys = keys
        self.interval_s = interval_s
        self.batch = batch
        self.lease = Lease(redis, keys.lease("drainer"), ttl_ms=lease_ttl_ms)
        # lot id → highest seq known to be in PostgreSQL
        self._cursors: dict[int, int] = {}
        # lot id → its persisted terminal event, until the lot is settled and deactivated
        self._terminal: dict[int, LotEvent] = {}
        self._more = False

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
        written = 0
        for lot_id in lot_ids:
            try:
                written += await self._drain_lot(lot_id)
            except Exception:
                log.exception("draining lot %d failed; retrying next tick", lot_id)
                self._forget(lot_id)
        return written

    async def _drain_lot(self, lot_id: int) -> int:
        cursor = self._cursors.get(lot_id)
        if cursor is None:
            cursor = await self._load_cursor(lot_id)
        written = 0
        if lot_id not in self._terminal:
            written = await self._copy(lot_id, cursor)
        terminal = self._terminal.get(lot_id)
        if terminal is not None:
            outcome = await settle(self.store, lot_id, terminal)
            log.debug("lot %d: %s", lot_id, outcome)
            await self.redis.srem(self.keys.active, str(lot_id))
            self._forget(lot_id)
        return written

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
            pipe.xrange(lot.events, min=f"({cursor}-0", max="+", count=self.batch)
            pipe.hget(lot.state, "epoch")
            entries, epoch_raw = await pipe.execute()
        if not entries:
            return 0
        events = [decode_event(fields[b"e"]) for _entry_id, fields in entries]
        if events[0].seq != cursor + 1:
            # The stream no longer holds what came after the cursor: history was lost in
            # Redis (a new epoch follows). Keep what is there; never invent what is not.
            log.error(
                "lot %d: gap in the stream, persisted up to %d, stream resumes at %d",
                lot_id, cursor, events[0].seq,
            )
        epoch = epoch_raw.decode() if isinstance(epoch_raw, bytes) else str(epoch_raw or "")
        written = await journal.insert_events(self.store, lot_id, epoch, events)
        self._cursors[lot_id] = events[-1].seq
        if len(events) == self.batch:
            self._more = True
        if events[-1].kind in TERMINAL_KINDS:
            self._terminal[lot_id] = events[-1]
        return written

    def _forget(self, lot_id: int) -> None:
        self._cursors.pop(lot_id, None)
        self._terminal.pop(lot_id, None)
