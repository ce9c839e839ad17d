"""Rate limits: fixed-window counters, each refusal with ``rate_limited`` and ``retry_after_ms``.

In Redis, shared by every process (per staff member, per username and address, per address for
commands, connects, logins …): one round trip per check, ``INCR`` and ``PEXPIRE … NX`` (the
window starts with the first hit) and ``PTTL`` in one pipeline, for every counter of the check.

Bids (``bid``, ``proxy``, ``accept``) are counted in this process's memory instead
(:class:`LocalLimits`, the same :class:`Limit` numbers: 20/s per bidder, 200/s per address):
a separate Redis round trip per bid cost more than the bid itself (docs/performance.md), and a
bidder's sockets normally reach one process. With N processes a bidder holding sockets on
several of them may bid up to 20/s on each; the per-connection token bucket of
``auction/api/ws.py`` (20/s) stays in front of both.

Logins count failures, not logins: each attempt takes a slot before the password is checked
(so a burst of parallel guesses cannot all get through), and a successful one gives its slot
back (:func:`refund`) and clears its (username, address) counter (:func:`reset`). There is no
limit per username alone: anyone could use it to lock a known user out, and the real user, at
their own address, has a counter of their own that a guesser elsewhere never touches.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from redis.asyncio import Redis

from auction.accounts.keys import AccountKeys


@dataclass(frozen=True, slots=True)
class Limit:
    scope: str
    count: int
    window_ms: int


#: bids of one bidder (any connection, any process): a person cannot click faster than this
BID_PER_BIDDER = Limit("bid-bidder", 20, 1_000)
#: bids and commands from one address (a bidder hall behind one NAT is many people)
BID_PER_ADDRESS = Limit("bid-addr", 200, 1_000)
#: console commands of one staff member
CMD_PER_STAFF = Limit("cmd-staff", 20, 1_000)
#: websocket connects from one address
CONNECT_PER_ADDRESS = Limit("connect-addr", 120, 10_000)
#: failed logins from one address, whatever the username (spraying one password over many users)
LOGIN_PER_ADDRESS = Limit("login-addr", 30, 300_000)
#: failed logins of one username from one address (guessing one user's password)
LOGIN_PER_USER_ADDRESS = Limit("login-user-addr", 5, 300_000)
#: sign-ups from one address by anyone but the platform admin (each could probe whether a
#: username or credit code is taken, docs/roles.md "Sign-up")
SIGNUP_PER_ADDRESS = Limit("signup-addr", 10, 600_000)
#: 成交公示 objections from one address (anyone may file one, without a login)
OBJECTION_PER_ADDRESS = Limit("objection-addr", 5, 600_000)
#: refused registration callbacks from one address (a bad signature, an unknown key …): each
#: is a row of registration_callbacks; an office's good callbacks are never counted
CALLBACK_REFUSED_PER_ADDRESS = Limit("callback-refused-addr", 60, 600_000)


def user_at(username: str, address: str) -> str:
    """The identity of a (username, address) counter: a digest, so any username is a safe key."""
    return hashlib.sha256(f"{username.lower()}\0{address}".encode()).hexdigest()[:32]


class RateLimited(Exception):
    """A limit was hit; nothing was done. Retry after ``retry_after_ms``."""

    code = "rate_limited"

    def __init__(self, retry_after_ms: int, scope: str) -> None:
        super().__init__(f"rate limited ({scope}); retry after {retry_after_ms} ms")
        self.retry_after_ms = retry_after_ms
        self.scope = scope
        self.message = f"请求过于频繁, 请 {retry_after_ms} 毫秒后重试"


async def check(redis: Redis, keys: AccountKeys, *hits: tuple[Limit, str]) -> None:
    """Count one hit on each ``(limit, identity)``; raise :class:`RateLimited` (with the longest
    wait) when any is over its count. Empty identities are skipped."""
    hits = tuple((limit, ident) for limit, ident in hits if ident)
    if not hits:
        return
    pipe = redis.pipeline(transaction=False)
    for limit, ident in hits:
        key = keys.counter(limit.scope, ident, limit.window_ms)
        pipe.incr(key)
        pipe.pexpire(key, limit.window_ms, nx=True)
        pipe.pttl(key)
    replies = await pipe.execute()
    wait = 0
    scope = ""
    for i, (limit, _ident) in enumerate(hits):
        count, ttl = int(replies[3 * i]), int(replies[3 * i + 2])
        if count > limit.count:
            retry = ttl if ttl > 0 else limit.window_ms
            if retry > wait:
                wait, scope = retry, limit.scope
    if wait:
        raise RateLimited(wait, scope)


async def refund(redis: Redis, keys: AccountKeys, *hits: tuple[Limit, str]) -> None:
    """Give back one hit on each ``(limit, identity)`` (a login that turned out right). A
    counter that expired meanwhile comes back at -1 for at most one window, never forever."""
    # not MULTI: on a Redis Cluster the counters live in several slots (each DECR + PEXPIRE NX
    # pair is safe unatomic: a counter that expires between them is simply gone)
    pipe = redis.pipeline(transaction=False)
    for limit, ident in hits:
        if ident:
            key = keys.counter(limit.scope, ident, limit.window_ms)
            pipe.decr(key)
            pipe.pexpire(key, limit.window_ms, nx=True)
    await pipe.execute()


async def reset(redis: Redis, keys: AccountKeys, *hits: tuple[Limit, str]) -> None:
    """Forget the counters of ``hits`` altogether."""
    names = [keys.counter(limit.scope, ident, limit.window_ms) for limit, ident in hits if ident]
    if names:
        await redis.delete(*names)


class LocalLimits:
    """Fixed-window counters in this process's memory, with the semantics of :func:`check`
    (the window starts with the first hit; every hit counts, refused or not). No I/O, so a bid
    can be counted at the door, in the order it arrived."""

    #: forget ended windows once this many counters are kept
    SWEEP_AT = 10_000

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], list[float]] = {}  # → [ends (monotonic s), count]

    def check(self, *hits: tuple[Limit, str]) -> None:
        """Count one hit on each ``(limit, identity)``; :class:`RateLimited` (the longest wait)
        when any is over its count. Empty identities are skipped."""
        now = time.monotonic()
        if len(self._windows) >= self.SWEEP_AT:
            self._windows = {k: w for k, w in self._windows.items() if w[0] > now}
        wait, scope = 0.0, ""
        for limit, ident in hits:
            if not ident:
                continue
            key = (limit.scope, ident)
            window = self._windows.get(key)
            if window is None or window[0] <= now:
                window = self._windows[key] = [now + limit.window_ms / 1000, 0]
            window[1] += 1
            if window[1] > limit.count and window[0] - now > wait:
                wait, scope = window[0] - now, limit.scope
        if scope:
            raise RateLimited(max(1, int(wait * 1000) + 1), scope)
