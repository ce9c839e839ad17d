"""History lost in Redis is detected and told, never hidden (invariant 11).

Redis holds the live rooms; PostgreSQL holds the journal the drainer copied (``lot_events``) and
clients hold what they were sent. Redis can come back with less than they saw: a torn AOF tail
(``aof-load-truncated``), a restore from an old snapshot, a flushed room. Building on such a room
would hand out a seq a second time with another event. So:

**Which Redis is this?** Each Redis instance has a ``run_id`` (``INFO server``) that changes when
it restarts (a Redis Cluster: the run ids of all its primaries together, so a restart of any shard
counts; :func:`auction.rooms.connection.run_id`). Table ``redis_verifications`` (PostgreSQL)
records, per namespace, the run id last checked. :meth:`Recovery.ensure` returns at once when the
current run id is the recorded one; otherwise it checks every lot (below) under an advisory lock
(one process checks, the others wait for it), then records the run id. A namespace never recorded
before is new: nothing to check.

**The fence.** The room scripts are loaded by :mod:`auction.rooms.scripts` only after
:meth:`Recovery.ensure` returns, and a restarted Redis has an empty script cache, so no bid, open
or close runs on a restarted Redis before it is checked. Every process also polls the run id
every :data:`POLL_S` (:meth:`Recovery.run`), so rooms nobody bids on are checked and their
watchers told within about a second.

**Checking a lot** (:meth:`Recovery.check_batch`, :data:`BATCH` lots in a fixed number of round
trips, since the first bid after a restart waits for all of them), with ``r`` the room's seq in
Redis and ``p`` the highest journalled seq:

- no room, or ``r < p`` (Redis lost events PostgreSQL has), or the stream's event ``p`` differs
  from the journal's: the room is **rebuilt** from the journal (:mod:`auction.domain.replay`:
  the events and the secret book's writes, ``lot_book``, so proxy maxima and sealed quotes come
  back too), stream included, under a new epoch (``restore.lua``);
- otherwise, an open or scheduled room with events gets a **new epoch** (``reepoch.lua``): the
  restart may have cut a tail that no one but clients saw, and a client resuming with the old
  epoch must get ``recovered: false`` rather than a seq that could now mean another event.

Both scripts publish a control message on the lot's channel; every hub then compares epochs and
sends its watchers a fresh snapshot with ``recovered: false`` (:mod:`auction.rooms.fanout`).
A rebuilt room's eligible set is pushed from PostgreSQL afterwards; the room is recorded in
Redis as owed that push before it is rebuilt, so a failed push or a dead process leaves it owed
for the next check or any process's poll (:meth:`Recovery.push_owed`).
The drainer calls :meth:`Recovery.check_lot` too when it finds a room behind the journal or gone.

Guarantees and limits (docs/operations.md "Failure modes"): with ``appendfsync always`` Redis
loses no acknowledged write on a crash, so a rebuild only happens after damage from outside (a
truncated file, an old snapshot, a flush); what PostgreSQL had is then restored, and events that
only clients saw are announced as lost by the new epoch. While PostgreSQL is down, a restarted
Redis cannot be checked: bids are answered ``unavailable`` until it is back.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, cast

import msgpack
from redis.asyncio import Redis
from redis.exceptions import RedisError

from auction import metrics, outage
from auction.background import pause, raise_if_stopping
from auction.domain.lot import LotFormat, LotStatus
from auction.domain.replay import ReplayError, replay
from auction.domain.room import LotEvent, RoomState
from auction.rooms import connection
from auction.rooms.keys import Keys
from auction.rooms.scripts import RecoveryScripts
from auction.rooms.service import decode_event
from auction.store import book as book_store
from auction.store import journal
from auction.store import rooms as store_rooms
from auction.store.errors import StoreError

log = logging.getLogger("auction.recovery")

#: how often every process compares Redis' run id with the verified one
POLL_S = 0.5
#: lots per pipelined read while checking
BATCH = 500
#: about how many ``restore.lua`` arguments one pipeline of rebuilds carries
RESTORE_ARGS = 20_000

#: called after rooms were rebuilt, with their lots by session (the eligibility push:
#: auction/rooms/eligibility.py :func:`~auction.rooms.eligibility.sync_rebuilt`)
AfterRebuild = Callable[[dict[int, list[int]]], Awaitable[None]]


#: a room as the check reads it: (seq, epoch, status)
Room = tuple[int, str, str]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _damage(max_seq: int, room: Room | None, mismatch: str | None) -> str | None:
    """Why the room must be rebuilt from the journal (highest journalled seq ``max_seq``;
    ``mismatch``: how the stream's event at that seq differs from the journal's), or ``None``
    when it is whole."""
    if room is None:
        return "the room is gone from Redis"
    if room[0] < max_seq:
        return f"Redis is at seq {room[0]}, PostgreSQL has up to {max_seq}"
    return mismatch


def state_fields(state: RoomState, session_id: int) -> list[str]:
    """The state hash of ``state`` as ``field, value`` pairs (epoch excepted), as init.lua and
    the other scripts write it."""
    values: dict[str, Any] = {
        "mode": state.mode.value, "start": state.start, "inc": state.inc,
        "reserve": state.reserve, "window_ms": state.window_ms, "ext_ms": state.ext_ms,
        "duration_ms": state.duration_ms, "session": session_id, "status": state.status.value,
        "seq": state.seq, "high": state.high, "leader": state.leader, "paddle": state.paddle,
        "high_seq": state.high_seq, "bids": state.bids, "ends_at": state.ends_at,
        "extensions": state.extensions, "opened_at": state.opened_at,
        "closed_at": state.closed_at, "deposit": state.deposit,
        "warned": state.warned, "paused_at": state.paused_at, "inc0": state.inc0,
        "bands": state.bands, "inc_override": state.inc_override, "final": state.final,
        "max_ext": state.max_ext, "hard_end": state.hard_end,
        "format": state.format.value, "revisions": state.revisions, "quotes": state.quotes,
        "step": state.step, "interval_ms": state.interval_ms, "floor": state.floor,
        "book": state.book, "book_n": state.book_n, "proxies": state.proxies,
        "free_ms": state.free_ms, "round_ms": state.round_ms, "round": state.round,
        "holders": state.holders, "preempt_ms": state.preempt_ms,
    }
    out: list[str] = []
    for name, value in values.items():
        out += [name, str(value)]
    return out


class Recovery:
    """Checks Redis against the PostgreSQL journal; one per process, made in the lifespan."""

    def __init__(
        self, redis: Redis, keys: Keys, store: Any, *, after_rebuild: AfterRebuild | None = None,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.store = store
        self.after_rebuild = after_rebuild
        self.scripts = RecoveryScripts.register(redis, keys.namespace)
        self._verified: str | None = None
        self._lock = asyncio.Lock()

    async def run_id(self) -> str:
        return await connection.run_id(self.redis)

    async def fence(self) -> None:
        """The scripts' fence (rooms/scripts.py): Redis lost its script cache, so it may have
        restarted; ask PostgreSQL, not this process's memory, which instance was checked."""
        await self.ensure(fresh=True)

    async def ensure(self, *, fresh: bool = False) -> None:
        """Return once the Redis instance in use has been checked against PostgreSQL for this
        namespace (``fresh``: even if this process checked this run id already). Raises
        ``StoreError`` (PostgreSQL away) or ``RedisError``."""
        run_id = await self.run_id()
        if run_id == self._verified and not fresh:
            return
        async with self._lock:
            run_id = await self.run_id()
            async with store_rooms.verification(self.store, self.keys.namespace) as last:
                if last is None:
                    log.info("Redis %s: first use by namespace %r; nothing to check",
                             run_id[:8], self.keys.namespace)
                    checked = rebuilt = reepoched = 0
                elif last != run_id:
                    log.warning("Redis restarted or replaced (run id %s → %s): checking every "
                                "room against the journal before any bid", last[:8], run_id[:8])
                    checked, rebuilt, reepoched = await self.check_all()
                    log.warning("rooms checked: %d, rebuilt from PostgreSQL: %d, new epoch: %d",
                                checked, rebuilt, reepoched)
                if last != run_id:
                    await store_rooms.record_verification(
                        self.store, self.keys.namespace, run_id,
                        checked=checked, rebuilt=rebuilt, reepoched=reepoched,
                    )
            self._verified = run_id

    async def run(self) -> None:
        """Poll the run id every :data:`POLL_S` and check a new instance, and push what a
        rebuild's eligibility push left owed (:meth:`push_owed`: a push that failed, a process
        that died), until cancelled."""
        while True:
            raise_if_stopping()
            try:
                await self.ensure()
                await self.push_owed()
            except (RedisError, OSError) as exc:
                raise_if_stopping()
                outage.REDIS.failed(exc, where="recovery")
            except StoreError as exc:
                raise_if_stopping()
                outage.POSTGRES.failed(exc, where="recovery")
            await pause(POLL_S)

    async def check_all(self) -> tuple[int, int, int]:
        """Check every lot PostgreSQL knows, :data:`BATCH` at a time (:meth:`check_batch`);
        returns (checked, rebuilt, new epoch)."""
        lots = await store_rooms.positions(self.store)
        rebuilt = reepoched = 0
        for start in range(0, len(lots), BATCH):
            outcomes = await self.check_batch(lots[start : start + BATCH], push=False)
            rebuilt += outcomes.count("rebuilt")
            reepoched += outcomes.count("reepoched")
        await self.push_owed()  # the rebuilt lots' eligibility, once per session at the end
        return len(lots), rebuilt, reepoched

    async def check_lot(self, lot_id: int) -> str:
        """Check one lot now (the drainer found its room behind the journal, or gone); returns
        ``rebuilt`` or ``ok``."""
        max_seq = await journal.max_seq(self.store, lot_id)
        position = store_rooms.Position(lot_id, "", max_seq)
        return (await self.check_batch([position], restart=False))[0]

    async def check_batch(
        self, batch: Sequence[store_rooms.Position], *, restart: bool = True, push: bool = True,
    ) -> list[str]:
        """Check these lots together, each against its highest journalled seq; returns each
        one's outcome (``rebuilt``, ``reepoched`` or ``ok``), in order. ``restart``: an open or
        scheduled room that is whole gets a new epoch. ``push``: push the owed eligibility now
        (:meth:`push_owed`); else the caller does, once after many batches.

        The whole batch costs a fixed number of round trips, not a few per lot (the first bid
        after a restart waits for every batch): one pipelined read of the rooms, one of the
        stream entries at the journal's last seqs with one PostgreSQL query for the journal's
        side, one pipeline of new epochs. The damaged rooms of the batch are rebuilt together
        (:meth:`rebuild_many`)."""
        rooms = await self._rooms([pos.lot_id for pos in batch])
        compare = {pos.lot_id: pos.max_seq for pos, room in zip(batch, rooms, strict=True)
                   if room is not None and pos.max_seq > 0 and room[0] >= pos.max_seq}
        mismatches = await self._compare(compare)
        damaged: dict[int, str] = {}  # lot → why it is rebuilt
        fresh: list[tuple[int, str, int]] = []  # (lot, epoch seen, seq): whole, given new epochs
        for pos, room in zip(batch, rooms, strict=True):
            why = _damage(pos.max_seq, room, mismatches.get(pos.lot_id))
            if why is not None:
                if why is mismatches.get(pos.lot_id):
                    metrics.HISTORY_LOSS.labels("journal_mismatch").inc()
                damaged[pos.lot_id] = why
                continue
            assert room is not None
            seq, epoch, status = room
            if restart and seq > 0 and status in (LotStatus.OPEN.value, LotStatus.SCHEDULED.value):
                fresh.append((pos.lot_id, epoch, seq))
        rebuilt = await self.rebuild_many(damaged, push=push)
        changed = await self._reepoch(fresh)
        return [rebuilt[pos.lot_id] if pos.lot_id in rebuilt
                else "reepoched" if pos.lot_id in changed else "ok" for pos in batch]

    async def _rooms(self, lot_ids: Sequence[int]) -> list[Room | None]:
        """Each lot's room as (seq, epoch, status), ``None`` when Redis has none."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for lot_id in lot_ids:
                pipe.hmget(self.keys.lot(lot_id).state, ["seq", "epoch", "status"])
            rows = await pipe.execute()
        return [None if raw_seq is None else (int(raw_seq), _text(raw_epoch), _text(raw_status))
                for raw_seq, raw_epoch, raw_status in rows]

    async def _compare(self, wanted: dict[int, int]) -> dict[int, str]:
        """For each lot → seq of ``wanted``: what differs between the stream's event at that
        seq and the journal's, for the lots where something does."""
        if not wanted:
            return {}
        async with self.redis.pipeline(transaction=False) as pipe:
            for lot_id, seq in wanted.items():
                pipe.xrange(self.keys.lot(lot_id).events, min=f"{seq}-0", max=f"{seq}-0")
            found = cast("list[list[tuple[bytes, dict[bytes, bytes]]]]", await pipe.execute())
        stored = await journal.events_at_many(
            self.store, {lot_id: [seq] for lot_id, seq in wanted.items()})
        out: dict[int, str] = {}
        for (lot_id, seq), entries in zip(wanted.items(), found, strict=True):
            if not entries:
                out[lot_id] = f"the stream no longer holds seq {seq}"
                continue
            event = decode_event(entries[0][1][b"e"])
            journalled = stored[lot_id].get(seq)
            if journalled is not None and event != journalled:
                out[lot_id] = (f"seq {seq} differs: Redis {event.to_map()} / "
                               f"PostgreSQL {journalled.to_map()}")
        return out

    async def _reepoch(self, rooms: Sequence[tuple[int, str, int]]) -> set[int]:
        """Give each (lot, epoch seen, seq) room a new epoch, in one pipeline; returns the lots
        changed (a room whose epoch moved meanwhile is left to whoever moved it)."""
        if not rooms:
            return set()
        script = self.scripts.reepoch
        await script.loaded()
        news = [secrets.token_hex(4) for _ in rooms]
        async with self.redis.pipeline(transaction=False) as pipe:
            for (lot_id, seen, _), new in zip(rooms, news, strict=True):
                script.queue(pipe, self.keys.lot(lot_id).script_keys(), [seen, new])
            replies = await pipe.execute()
        changed: set[int] = set()
        for (lot_id, _, seq), new, reply in zip(rooms, news, replies, strict=True):
            if int(reply):
                changed.add(lot_id)
                metrics.HISTORY_LOSS.labels("epoch_bumped").inc()
                log.info("lot %d: new epoch %s after the Redis restart (seq %d)", lot_id, new, seq)
        return changed

    async def rebuild(self, lot_id: int, why: str) -> str:
        """Replace the room with the one the journal describes, under a new epoch; returns
        ``rebuilt`` (``ok``: a lot PostgreSQL does not know, or whose journal cannot be
        replayed, is left as it is)."""
        return (await self.rebuild_many({lot_id: why}))[lot_id]

    async def rebuild_many(
        self, damaged: dict[int, str], *, push: bool = True,
    ) -> dict[int, str]:
        """:meth:`rebuild` of several lots (lot → why) in a fixed number of round trips: three
        PostgreSQL queries (terms, journal, secret book) and pipelines of ``restore.lua`` calls
        of about :data:`RESTORE_ARGS` arguments each, not a few round trips a lot (a Redis that
        lost every room rebuilds every lot of every past session before the first bid).
        ``push``: as in :meth:`check_batch`; the rebuilt rooms are recorded as owed their
        eligibility push before they are rebuilt (:meth:`push_owed`)."""
        if not damaged:
            if push:
                await self.push_owed()  # what an earlier push that failed still owes
            return {}
        ids = list(damaged)
        terms_of = await store_rooms.room_terms_many(self.store, ids)
        journals = await store_rooms.events_many(self.store, ids)
        books = await book_store.entries(self.store, ids)
        outcomes = dict.fromkeys(ids, "ok")  # a lot not of this database stays as it is
        restores: list[tuple[int, RoomState, str, list[Any]]] = []
        owed: list[str] = []
        for lot_id, why in damaged.items():
            terms = terms_of.get(lot_id)
            if terms is None:
                continue
            journal = journals.get(lot_id, [])
            try:
                state = replay(_initial(terms), journal,
                               book_store.writes_of(books.get(lot_id, [])))
            except ReplayError as exc:
                log.error("lot %d: cannot rebuild the room (%s): %s; left as it is",
                          lot_id, why, exc)
                continue
            if state.status.terminal:
                # a rebuilt room's close is final (C9): it may have been settled already
                state = replace(state, final=1)
            epoch = secrets.token_hex(4)
            fields = state_fields(state, terms.session_id)
            args: list[Any] = [epoch, len(fields) // 2, *fields]
            for event in journal:
                args += [event.seq, _blob(event)]
            restores.append((lot_id, state, epoch, args))
            owed.append(f"{terms.session_id}:{lot_id}")
        if not restores:
            return outcomes
        if self.after_rebuild is not None:  # before the rooms: owed even if this process dies
            await self.redis.sadd(self.keys.eligibility_owed, *owed)
        script = self.scripts.restore
        await script.loaded()
        for chunk in _chunks(restores):
            async with self.redis.pipeline(transaction=False) as pipe:
                for lot_id, _, _, args in chunk:
                    lot_keys = self.keys.lot(lot_id)
                    script.queue(pipe, [*lot_keys.script_keys(), lot_keys.book], args)
                await pipe.execute()
        running = [(lot_id, state) for lot_id, state, _, _ in restores
                   if state.status is LotStatus.OPEN]
        if running:  # after their rooms (the closer and the scheduler read these)
            async with self.redis.pipeline(transaction=False) as pipe:
                for lot_id, state in running:
                    pipe.sadd(self.keys.active, str(lot_id))
                    if state.ends_at:
                        pipe.zadd(self.keys.timed, {str(lot_id): state.ends_at})
                await pipe.execute()
        for lot_id, state, epoch, _ in restores:
            outcomes[lot_id] = "rebuilt"
            metrics.HISTORY_LOSS.labels("rebuilt").inc()
            log.error("lot %d: history lost in Redis (%s); room rebuilt from PostgreSQL at seq "
                      "%d, new epoch %s: clients get recovered: false",
                      lot_id, damaged[lot_id], state.seq, epoch)
        if push:
            await self.push_owed()
        return outcomes

    async def push_owed(self) -> None:
        """Push the eligible sets of the rebuilt rooms still owed one (closed rooms too: a bid
        on one is told ``lot_closed``, and staff ``missed_bid``, only when its bidder is in the
        lot's eligible set, since R0 comes first), once per session, and strike them off.

        The owed rooms live in Redis (``keys.eligibility_owed``), written before each rebuild:
        a push that failed (PostgreSQL away) or a process that died between its rebuild and its
        push leaves them there, and the next check or any process's poll (:meth:`run`) pushes
        them. When this push fails they stay owed and the exception goes on. Pushing twice is
        harmless (each push replaces the set with what PostgreSQL says)."""
        if self.after_rebuild is None:
            return
        owed = self.keys.eligibility_owed
        members = [_text(member) for member in await self.redis.smembers(owed)]
        if not members:
            return
        by_session: dict[int, list[int]] = {}
        for member in members:
            session_id, _, lot_id = member.partition(":")
            by_session.setdefault(int(session_id), []).append(int(lot_id))
        await self.after_rebuild({session_id: sorted(lots)
                                  for session_id, lots in sorted(by_session.items())})
        await self.redis.srem(owed, *members)


def _initial(terms: store_rooms.RoomTerms) -> RoomState:
    """The room a lot of these terms starts as (what the journal is replayed onto)."""
    return RoomState(
        mode=terms.mode, start=terms.start, inc=terms.inc, reserve=terms.reserve,
        window_ms=terms.window_ms, ext_ms=terms.ext_ms, duration_ms=terms.duration_ms,
        deposit=terms.deposit, inc0=terms.inc, bands=terms.bands,
        format=LotFormat(terms.format), revisions=terms.revisions, step=terms.step,
        interval_ms=terms.interval_ms, floor=terms.floor, free_ms=terms.free_ms,
        round_ms=terms.round_ms, holders=terms.holders, preempt_ms=terms.preempt_ms,
    )


def _chunks(restores: Sequence[tuple[int, RoomState, str, list[Any]]],
            ) -> list[Sequence[tuple[int, RoomState, str, list[Any]]]]:
    """``restores`` cut into pipelines of about :data:`RESTORE_ARGS` script arguments (a lot
    with a long journal gets a pipeline of its own)."""
    out: list[Sequence[tuple[int, RoomState, str, list[Any]]]] = []
    first = size = 0
    for i, restore in enumerate(restores):
        if size and size + len(restore[3]) > RESTORE_ARGS:
            out.append(restores[first:i])
            first, size = i, 0
        size += len(restore[3])
    out.append(restores[first:])
    return out


def _blob(event: LotEvent) -> bytes:
    """The stream entry of ``event``, as the Lua scripts pack it."""
    packed: bytes = msgpack.packb(event.to_map())
    return packed
