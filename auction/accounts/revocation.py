"""Revocation of tokens (logout), of accounts (disable) and of registrations (rejected,
withdrawn, deposit forfeited), and closing the websockets they opened.

- A token is revoked by its id (``jti``): a Redis key that lives as long as the token would
  have. An account or a registration is revoked by a timestamp: tokens issued at or before it
  that name it are void. A token names its account, the staff account that minted it (a
  session's auctioneer token dies with the market admin who minted it) and, for a bid
  credential, its registration. All of these are read with one ``MGET`` on every verification
  of a token that carries an id (every HTTP request, every ``hello``, every bid: one ``MGET``
  for each batch of a lot's bids, :func:`revoked_many`).
- Each revocation is also published on one channel. :class:`SocketRegistry` (one per process)
  subscribes to it while the process has at least one authenticated socket, and calls the
  close callback of every socket of the revoked token, account or registration (ws.py closes
  with 4401).
- Pub/sub is at-most-once: when the listener's connection fails it is re-made with capped
  backoff until Redis answers, and then every registered socket is checked again (its
  ``recheck``), so a revocation published while the listener was away still closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from auction import outage
from auction.accounts.keys import AccountKeys

log = logging.getLogger("auction.accounts")

Close = Callable[[], Awaitable[None]]
#: True while the socket's credential is still valid (asked after the listener reconnects)
Recheck = Callable[[], Awaitable[bool]]

#: longest wait between two attempts to re-make the listener's connection
MAX_BACKOFF_S = 0.5

#: how long an account or registration revocation is remembered: the longest token lifetime
#: (the settings refuse longer lifetimes)
ACCOUNT_REVOCATION_TTL_S = 7 * 86_400


def names_of(*, jti: str, account_ids: Iterable[int] = (), registration_id: int = 0) -> list[str]:
    """The channel messages that revoke a token (its id, its accounts, its registration)."""
    names = [f"jti:{jti}"] + [f"account:{a}" for a in account_ids if a]
    if registration_id:
        names.append(f"registration:{registration_id}")
    return names


#: what a token names that can revoke it: ``(jti, account ids, registration id, issued_at)``
TokenNames = tuple[str, Iterable[int], int, int]


def _keys_of(keys: AccountKeys, jti: str, account_ids: Iterable[int],
             registration_id: int) -> list[str]:
    names = [keys.revoked_token(jti)]
    names += [keys.revoked_account(a) for a in account_ids if a]
    if registration_id:
        names.append(keys.revoked_registration(registration_id))
    return names


def _revoked(values: Sequence[Any], issued_at: int) -> bool:
    if values[0] is not None:
        return True
    return any(v is not None and issued_at <= int(v) for v in values[1:])


async def is_revoked(
    redis: Redis, keys: AccountKeys, *, jti: str, account_ids: Iterable[int] = (),
    registration_id: int = 0, issued_at: int,
) -> bool:
    """Was the token ``jti`` (issued at ``issued_at``, naming these accounts and registration)
    revoked?"""
    return _revoked(await _get_each(redis, _keys_of(keys, jti, account_ids, registration_id)),
                    issued_at)


#: runs one Redis command and returns its reply (the bid lanes' shared round trip,
#: :meth:`auction.rooms.lanes.BidLanes.execute`)
Execute = Callable[..., Awaitable[Any]]


async def _get_each(redis: Redis, names: Sequence[str], execute: Execute | None = None
                    ) -> list[Any]:
    """The values of ``names`` in one round trip: one ``MGET`` on one Redis (through
    ``execute`` when given); on a Redis Cluster, whose keys live in several slots
    (docs/operations.md "Sharding Redis"), one GET each in one pipeline. A name asked twice (one
    bidder's bids in one batch) is read once."""
    if not names:
        return []
    unique = list(dict.fromkeys(names))
    if execute is not None and not isinstance(redis, RedisCluster):
        values = list(await execute("MGET", *unique))
    elif isinstance(redis, RedisCluster):
        async with redis.pipeline(transaction=False) as pipe:
            for name in unique:
                pipe.get(name)
            values = list(await pipe.execute())
    else:
        # one command and one reply for a batch of 256 bids' ~770 keys: a pipeline of GETs
        # packed and parsed each of them in Python (12 % of the server at 12,000 bids/s)
        values = list(await redis.mget(unique))
    if len(unique) == len(names):
        return values
    found = dict(zip(unique, values, strict=True))
    return [found[name] for name in names]


async def revoked_many(redis: Redis, keys: AccountKeys, tokens: Sequence[TokenNames],
                       execute: Execute | None = None) -> list[bool]:
    """:func:`is_revoked` for each of ``tokens`` in one round trip for them all (a batch of
    bids, :mod:`auction.rooms.lanes`; ``execute``: how to send the ``MGET``, see
    :func:`_get_each`)."""
    names: list[str] = []
    spans: list[tuple[int, int, int]] = []
    for jti, account_ids, registration_id, issued_at in tokens:
        own = _keys_of(keys, jti, account_ids, registration_id)
        spans.append((len(names), len(names) + len(own), issued_at))
        names += own
    values = await _get_each(redis, names, execute)
    return [_revoked(values[lo:hi], issued_at) for lo, hi, issued_at in spans]


async def revoke_token(redis: Redis, keys: AccountKeys, *, jti: str, expires_at: int) -> None:
    ttl = max(1, expires_at - int(time.time()) + 1)
    await redis.set(keys.revoked_token(jti), "1", ex=ttl)
    await redis.publish(keys.revocations, f"jti:{jti}")


async def revoke_account(redis: Redis, keys: AccountKeys, *, account_id: int) -> int:
    """Every token of the account, and every token it minted, issued until now is void.
    Returns the moment (unix seconds): tokens issued at or before it are void."""
    now = int(time.time())
    await redis.set(keys.revoked_account(account_id), str(now), ex=ACCOUNT_REVOCATION_TTL_S)
    await redis.publish(keys.revocations, f"account:{account_id}")
    return now


async def revoke_registration(redis: Redis, keys: AccountKeys, *, registration_id: int) -> None:
    """Every bid credential of the registration issued until now is void."""
    await redis.set(
        keys.revoked_registration(registration_id), str(int(time.time())),
        ex=ACCOUNT_REVOCATION_TTL_S,
    )
    await redis.publish(keys.revocations, f"registration:{registration_id}")


class SocketRegistry:
    """Open authenticated sockets of this process, by token id and by account."""

    def __init__(self) -> None:
        self._sockets: dict[str, set[Close]] = {}
        self._handles: dict[int, tuple[list[str], Close]] = {}
        self._rechecks: dict[int, tuple[Recheck, Close]] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None
        self._closing: set[asyncio.Task[None]] = set()

    async def watch(
        self, redis: Redis, keys: AccountKeys, *, handle: object, names: list[str],
        close: Close, recheck: Recheck | None = None,
    ) -> None:
        """Register ``close`` for the socket ``handle`` under ``names`` (:func:`names_of`);
        return once the process listens for revocations. ``recheck`` is asked after the
        listener had to reconnect."""
        self._handles[id(handle)] = (names, close)
        if recheck is not None:
            self._rechecks[id(handle)] = (recheck, close)
        for name in names:
            self._sockets.setdefault(name, set()).add(close)
        if self._task is None or self._task.done():
            self._ready = asyncio.Event()
            self._task = asyncio.create_task(
                self._listen(redis, keys.revocations, self._ready), name="revocations"
            )
        assert self._ready is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), 5.0)

    async def unwatch(self, handle: object) -> None:
        """Forget the socket ``handle``; the last one stops the listener."""
        found = self._handles.pop(id(handle), None)
        self._rechecks.pop(id(handle), None)
        if found is None:
            return
        names, close = found
        for name in names:
            closes = self._sockets.get(name)
            if closes is not None:
                closes.discard(close)
                if not closes:
                    del self._sockets[name]
        if not self._sockets and self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen(self, redis: Redis, channel: str, ready: asyncio.Event) -> None:
        """Listen until cancelled; a failed connection is re-made with capped backoff, and
        after a reconnect every registered socket is checked again."""
        backoff, reconnect = 0.05, False
        while True:
            pubsub = redis.pubsub()
            try:
                await pubsub.subscribe(channel)
                outage.REDIS.ok()
                ready.set()
                backoff = 0.05
                if reconnect:
                    self._spawn(self._recheck_all())
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True,
                                                       timeout=30.0)
                    if message is None or message.get("type") != "message":
                        continue
                    data = message["data"]
                    name = data.decode() if isinstance(data, bytes) else str(data)
                    for close in list(self._sockets.get(name, ())):
                        self._spawn(self._close(close))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                outage.REDIS.failed(exc, where="revocation listener")
                ready.set()  # a socket must not wait for a listener that cannot start
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            reconnect = True
            await asyncio.sleep(backoff)
            backoff = min(MAX_BACKOFF_S, backoff * 2)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _recheck_all(self) -> None:
        """Close every socket whose credential was revoked while the listener was away."""
        for recheck, close in list(self._rechecks.values()):
            try:
                valid = await recheck()
            except Exception as exc:  # Redis gone again: the next reconnect checks again
                outage.REDIS.failed(exc, where="revocation recheck")
                return
            if not valid:
                await self._close(close)

    @staticmethod
    async def _close(close: Close) -> None:
        with contextlib.suppress(Exception):
            await close()
