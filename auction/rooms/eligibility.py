"""Who may bid on a lot, pushed from PostgreSQL into Redis, so the bid path reads nothing from
PostgreSQL (DESIGN §7; issue 8: a PostgreSQL outage must not stop bidding).

A bidder is eligible for a lot when its registration in the lot's session is paid
(``deposit_paid``) and one of its deposits is ``confirmed`` or ``held`` and covers the lot
(:func:`auction.domain.deposits.covers`: the lot's own deposit, or the session band when its
amount reaches the lot's requirement). ``bid.lua`` refuses everyone else with
``deposit_required`` (rule R0 of :mod:`auction.domain.room`), atomically with the bid.

Per lot, Redis holds the eligible set (``keys.lot(id).eligible``: bidder id → ``1``) and the
requirement (field ``deposit`` of the room's state, named in the refusal). :func:`sync_session`
and :func:`sync_lot` recompute them from PostgreSQL and replace each lot's set in one script
call (``eligible.lua``), so a bid never sees half a set. A lot nobody has pushed yet has no set:
nobody may bid on it (never open by default).

Ordering: two pushes of the same lot may cross (two processes, one slow). Each push takes a
ticket (``INCR keys.eligibility_ticket(session)``) *before* it reads PostgreSQL; the script
drops a push whose ticket is older than the one that last wrote the set. The push with the
newest ticket read PostgreSQL last, after every change that triggered any other push was
committed, so what stays is never older than the newest change.

A large session's push costs little when little changed: per lot the push first sends only a
digest of requirement and bidder ids (``eligible_check.lua``); a lot whose stored digest (kept
by ``eligible.lua`` beside the set, in the same hash) is the same takes the push's ticket and
requirement and keeps its set; only the others get the whole set. The lots go in chunks of
about :data:`CHUNK_IDS` ids so bids are served between them.

A listing (挂牌) that became an auction keeps the set to the buyers qualified at its end
(``listing_buyers``, rule L3 of :mod:`auction.domain.formats`): a bidder who qualifies later
does not bid in it.

When to push: after every change that can change eligibility — a deposit confirmed, held,
settled (applied / released) or forfeited, a registration approved or rejected, a lot created.
The handlers call :func:`push_session` / :func:`push_lot` *after* PostgreSQL committed; if Redis
(or PostgreSQL, for the re-read) fails then, the change is not lost: :class:`EligibilitySync`
(every process, every :data:`RESYNC_INTERVAL_S`) re-pushes every session with an open lot, and
every :data:`FULL_RESYNC_EVERY`-th tick every session with a lot not yet closed. Opening a lot
also pushes its session.
"""

from __future__ import annotations

import hashlib
import logging
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from auction import outage
from auction.background import pause, raise_if_stopping
from auction.domain.deposits import SPENDABLE, DepositState, covers
from auction.store import ledger
from auction.store import listing_sale as store_listing_sale
from auction.store.errors import StoreError

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from auction.rooms.keys import Keys
    from auction.services import Services
    from auction.store import Store

log = logging.getLogger("auction.rooms.eligibility")

RESYNC_INTERVAL_S = 10.0
FULL_RESYNC_EVERY = 6
#: bidder ids per chunk of a push: a session of 1,000 lots × 300 bidders computed and packed
#: in one pipeline held the event loop 170–490 ms every resync (every bid waited behind it);
#: 5,000 ids are a few milliseconds
CHUNK_IDS = 5_000

SCRIPT = (resources.files("auction.rooms") / "lua" / "eligible.lua").read_text(encoding="utf-8")
CHECK = (resources.files("auction.rooms") / "lua" / "eligible_check.lua").read_text(
    encoding="utf-8")


def _digest(requirement: int, bidders: Sequence[int]) -> str:
    """What a lot's pushed set is, in 32 hex digits (eligible_check.lua compares it)."""
    text = f"{requirement}:" + ",".join(map(str, bidders))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def eligible_bidders(
    lot_id: int, requirement_fen: int, deposits: Iterable[tuple[int, int | None, int, str]]
) -> set[int]:
    """The bidders whose deposits let them bid on ``lot_id`` (``deposits`` as in
    :class:`auction.store.ledger.Eligibility`: paid registrations only)."""
    return {
        bidder
        for bidder, deposit_lot, amount, state in deposits
        if covers(deposit_lot, amount, DepositState(state), lot_id=lot_id,
                  requirement_fen=requirement_fen)
    }


class EligibleIndex:
    """A session's deposits indexed once, for the eligible sets of many lots: per lot the same
    bidders as :func:`eligible_bidders` (so as :func:`covers`: a spendable deposit of the lot
    itself, or the session band, reaching the requirement), without walking every deposit per
    lot. A session of ≈ 3,000 lots and 300 paid bidders walked ≈ 900,000 deposits per resync,
    a fifth of the server's time, chunk after chunk on the event loop, and bids waited behind
    them (ack p99 16-27 ms instead of 7-9: docs/performance.md, "thirteenth pass").
    tests/rooms/test_eligibility_index.py checks it against :func:`eligible_bidders`."""

    __slots__ = ("_amounts", "_bands", "_bidders", "_own")

    def __init__(self, deposits: Iterable[tuple[int, int | None, int, str]]) -> None:
        band: list[tuple[int, int]] = []  # (amount, bidder): spendable session-band deposits
        self._own: dict[int, list[tuple[int, int]]] = {}  # lot → its spendable deposits
        for bidder, deposit_lot, amount, state in deposits:
            if DepositState(state) not in SPENDABLE:
                continue
            if deposit_lot is None:
                band.append((amount, bidder))
            else:
                self._own.setdefault(deposit_lot, []).append((amount, bidder))
        band.sort()
        self._amounts = [amount for amount, _ in band]
        self._bidders = [bidder for _, bidder in band]
        #: requirement → the band's bidders reaching it, sorted (shared by the lots asking)
        self._bands: dict[int, list[int]] = {}

    def sorted_for(self, lot_id: int, requirement_fen: int) -> tuple[list[int], bool]:
        """The bidders eligible for ``lot_id``, in id order, and whether that is the list
        shared by every lot with this requirement and no deposit of its own (then it is the
        same list object each time: do not change it)."""
        band = self._bands.get(requirement_fen)
        if band is None:
            first = bisect_left(self._amounts, requirement_fen)
            band = self._bands[requirement_fen] = sorted(set(self._bidders[first:]))
        own = self._own.get(lot_id)
        mine = {bidder for amount, bidder in own if amount >= requirement_fen} if own else None
        if not mine:
            return band, True
        return sorted(mine.union(band)), False


async def _push(
    redis: Redis, keys: Keys, store: Store, session_id: int, lot_id: int | None
) -> int:
    ticket = int(await redis.incr(keys.eligibility_ticket(session_id)))
    found = await ledger.eligibility(store, session_id, lot_id)
    # L3: a listing that became an auction keeps its bidding to the buyers of its end
    frozen = await store_listing_sale.frozen_buyers(store, session_id, lot_id)
    replace, check = redis.register_script(SCRIPT), redis.register_script(CHECK)
    # a pipeline does not load the scripts itself (nor can a Redis Cluster's): load them first
    # (SCRIPT EXISTS / LOAD reach every primary of a cluster)
    for script in (replace, check):
        if not (await redis.script_exists(script.sha))[0]:
            await redis.script_load(script.script)
    # in chunks of about CHUNK_IDS bidder ids, so the event loop serves bids between them; per
    # chunk one pipeline of digests (eligible_check.lua) and one replacing the sets that
    # changed (eligible.lua); each lot's replace is one atomic script
    lots = list(found.requirements.items())
    index = EligibleIndex(found.deposits)
    #: requirement → the digest of its shared list (computed once per push)
    digests: dict[int, str] = {}
    done = 0
    while done < len(lots):
        chunk: list[tuple[int, int, list[int], str]] = []
        size = 0
        while done < len(lots) and size < CHUNK_IDS:
            lot, requirement = lots[done]
            done += 1
            bidders, shared = index.sorted_for(lot, requirement)
            if lot in frozen:
                bidders = [b for b in bidders if b in frozen[lot]]
                digest = _digest(requirement, bidders)
            elif shared:
                digest = digests.get(requirement, "")
                if not digest:
                    digest = digests[requirement] = _digest(requirement, bidders)
            else:
                digest = _digest(requirement, bidders)
            chunk.append((lot, requirement, bidders, digest))
            size += len(bidders) + 1
        async with redis.pipeline(transaction=False) as pipe:
            for lot, requirement, _bidders, digest in chunk:
                lot_keys = keys.lot(lot)
                # EVALSHA queued by name: a cluster pipeline refuses its ``evalsha`` method
                pipe.execute_command("EVALSHA", check.sha, 2, lot_keys.state, lot_keys.eligible,
                                     ticket, requirement, digest)
            same = await pipe.execute()
        changed = [entry for entry, answer in zip(chunk, same, strict=True) if int(answer) == 2]
        if changed:
            async with redis.pipeline(transaction=False) as pipe:
                for lot, requirement, bidders, digest in changed:
                    lot_keys = keys.lot(lot)
                    pipe.execute_command("EVALSHA", replace.sha, 2, lot_keys.state,
                                         lot_keys.eligible, ticket, requirement, digest, *bidders)
                await pipe.execute()
    return len(found.requirements)


async def qualified(store: Store, session_id: int, lot_id: int) -> set[int]:
    """The bidders eligible for ``lot_id`` by PostgreSQL (R0): a listing's qualified buyers
    (意向受让方, docs/formats.md "Listing")."""
    found = await ledger.eligibility(store, session_id, lot_id)
    return eligible_bidders(lot_id, found.requirements.get(lot_id, 0), found.deposits)


async def qualified_counts(store: Store, lot_ids: Sequence[int]) -> dict[int, int]:
    """How many bidders are eligible now for each of ``lot_ids`` by PostgreSQL (R0): the
    qualified buyers of a page of listings, in one query (0 for a lot with none)."""
    found = await store_listing_sale.intents(store, lot_ids)
    counts = dict.fromkeys(lot_ids, 0)
    for lot, (requirement, deposits) in found.items():
        counts[lot] = len(eligible_bidders(lot, requirement, deposits))
    return counts


async def sync_session(redis: Redis, keys: Keys, store: Store, session_id: int) -> int:
    """Recompute and replace the eligible set of every lot of the session; the number of lots.
    Raises ``StoreError`` / ``RedisError`` (nothing half-written: each lot is one script)."""
    return await _push(redis, keys, store, session_id, None)


async def sync_lot(redis: Redis, keys: Keys, store: Store, lot_id: int) -> None:
    """Recompute and replace one lot's eligible set and requirement (for a room just created or
    rebuilt). A lot unknown to PostgreSQL is left alone."""
    terms = await ledger.lot_terms(store, lot_id)
    if terms is not None:
        await _push(redis, keys, store, terms[0], lot_id)


async def sync_rebuilt(redis: Redis, keys: Keys, store: Store,
                       by_session: dict[int, list[int]]) -> None:
    """The eligible sets of rooms just rebuilt (:class:`auction.rooms.recovery.Recovery`), lots
    by session: one lot's push for a session with one rebuilt lot, the whole session's for
    several (one push instead of one a lot when Redis lost every room)."""
    for session_id, lots in by_session.items():
        await _push(redis, keys, store, session_id, lots[0] if len(lots) == 1 else None)


async def push_session(services: Services, session_id: int) -> None:
    """:func:`sync_session` after a committed change; a failure is reported, not raised (the
    change is in PostgreSQL and :class:`EligibilitySync` pushes it again)."""
    try:
        await sync_session(services.redis, services.keys, services.store, session_id)
    except RedisError as exc:
        outage.REDIS.failed(exc, where="eligibility push")
        log.warning("session %s: eligibility not pushed (Redis); the resync loop retries",
                    session_id)
    except StoreError as exc:
        log.warning("session %s: eligibility not pushed (%s); the resync loop retries",
                    session_id, exc.code)


async def push_lot(services: Services, lot_id: int) -> None:
    """:func:`sync_lot`, reported like :func:`push_session`."""
    try:
        await sync_lot(services.redis, services.keys, services.store, lot_id)
    except RedisError as exc:
        outage.REDIS.failed(exc, where="eligibility push")
        log.warning("lot %s: eligibility not pushed (Redis); the resync loop retries", lot_id)
    except StoreError as exc:
        log.warning("lot %s: eligibility not pushed (%s); the resync loop retries",
                    lot_id, exc.code)


class EligibilitySync:
    """Every ``interval_s``, re-push the sessions with an open lot (every ``full_every``-th
    tick: every session with a lot not yet closed). Runs in every process, independent of the
    drainer; repeats are harmless (each push replaces the set with what PostgreSQL says)."""

    def __init__(
        self, store: Store, redis: Redis, keys: Keys, *,
        interval_s: float = RESYNC_INTERVAL_S, full_every: int = FULL_RESYNC_EVERY,
    ) -> None:
        self.store = store
        self.redis = redis
        self.keys = keys
        self.interval_s = interval_s
        self.full_every = full_every
        self.ticks = 0

    async def run(self) -> None:
        """Until cancelled; a failed tick (Redis or PostgreSQL away) is retried next tick."""
        while True:
            raise_if_stopping()
            try:
                # the first tick (at start-up) covers the open lots at once; the slower full
                # pass comes later
                full = self.ticks % self.full_every == self.full_every - 1
                if await self.resync_once(full=full):
                    outage.REDIS.ok()  # only when Redis was really written to
            except RedisError as exc:
                raise_if_stopping()
                outage.REDIS.failed(exc, where="eligibility resync")
            except StoreError:
                raise_if_stopping()  # reported by the store (one line per outage)
            except Exception:
                raise_if_stopping()
                log.exception("eligibility resync failed; retrying next tick")
            self.ticks += 1
            await pause(self.interval_s)

    async def resync_once(self, *, full: bool = False) -> int:
        """Push the sessions due now; the number pushed."""
        sessions = await ledger.sessions_in_play(self.store)
        pushed = 0
        for session_id, has_open in sessions:
            if has_open or full:
                await sync_session(self.redis, self.keys, self.store, session_id)
                pushed += 1
        return pushed
