"""The secret book's drain: a lot's private book stream → ``lot_book`` (docs/formats.md "The
secret book's journal").

Called by the drainer (:mod:`auction.settlement.drainer`) for each active lot right after its
events, before the lot may be settled: a write is copied once the events up to its ``seq`` are
in PostgreSQL, so the journal never holds a book write whose place in the event log it lacks
(:func:`auction.domain.replay.replay` refuses one). The cursor is in memory and starts at the
last ``n`` PostgreSQL holds; the copy is idempotent on ``(lot_id, n)``; nothing is removed from
Redis here, so a failure just means the next tick copies the same writes again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import msgpack

from auction.domain.replay import BookWrite
from auction.store import book as book_store

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from auction.rooms.keys import Keys
    from auction.store import Store


def decode_write(blob: bytes) -> BookWrite:
    """A book stream entry (``_book.lua`` ``book_journal``) → :class:`BookWrite`."""
    m: dict[str, Any] = msgpack.unpackb(blob, raw=False, strict_map_key=False)
    return BookWrite(n=int(m["n"]), after_seq=int(m["seq"]), bidder=int(m["bidder"]),
                     paddle=int(m["paddle"]), amount=int(m["amount"]), revision=int(m["rev"]),
                     at=int(m["at"]))


class BookDrain:
    """Copies lots' book streams to PostgreSQL; one per drainer."""

    def __init__(self, store: Store, redis: Redis, keys: Keys, *, batch: int = 1_000) -> None:
        self.store = store
        self.redis = redis
        self.keys = keys
        self.batch = batch
        self._cursors: dict[int, int] = {}  # lot id → last n known to be in PostgreSQL

    async def copy(self, lot_id: int, persisted_seq: int) -> int:
        """Copy the lot's book writes made at or before event ``persisted_seq`` (the events
        PostgreSQL holds); how many were new."""
        return await self.copy_many({lot_id: persisted_seq})

    async def copy_many(self, persisted: dict[int, int]) -> int:
        """:meth:`copy` for many lots (lot id → its persisted seq): the unknown cursors in one
        query, the streams in one pipeline; an insert only for a lot with new writes (a proxy
        or sealed lot)."""
        if not persisted:
            return 0
        # a local copy: a concurrent pass of the same drainer may forget a lot meanwhile
        cursors = {lot: self._cursors[lot] for lot in persisted if lot in self._cursors}
        unknown = [lot for lot in persisted if lot not in cursors]
        if unknown:
            found = await book_store.max_ns(self.store, unknown)
            cursors.update(found)
            self._cursors.update(found)
        lots = list(persisted)
        async with self.redis.pipeline(transaction=False) as pipe:
            for lot_id in lots:
                pipe.xrange(self.keys.lot(lot_id).book, min=f"({cursors[lot_id]}-0",
                            max="+", count=self.batch)
            replies = await pipe.execute()
        written = 0
        for lot_id, raw in zip(lots, replies, strict=True):
            cursor = cursors[lot_id]
            entries = cast("list[tuple[bytes, dict[bytes, bytes]]]", raw)
            writes: list[BookWrite] = []
            for _id, fields in entries:
                write = decode_write(fields[b"e"])
                if write.n != cursor + len(writes) + 1 or write.after_seq > persisted[lot_id]:
                    break  # a later pass (its events are not in PostgreSQL yet)
                writes.append(write)
            if writes:
                written += await book_store.insert_writes(self.store, lot_id, writes)
                self._cursors[lot_id] = writes[-1].n
        return written

    def forget(self, lot_id: int) -> None:
        self._cursors.pop(lot_id, None)
