"""The Redis client the engine talks to: one Redis, or a Redis Cluster (issue 17 item 6).

``REDIS_URL`` chooses (docs/operations.md "Sharding Redis"):

- ``redis://host:6379/0`` (``rediss://``, ``unix://``): one Redis, through a blocking pool —
  under a burst a command waits for a free connection instead of failing with "too many
  connections" (it answers ``unavailable`` only after :data:`POOL_TIMEOUT_S`);
- ``redis+cluster://host:6379`` (``rediss+cluster://``): a Redis Cluster, through redis-py's
  cluster client (:class:`redis.asyncio.cluster.RedisCluster`). The address is one node of the
  cluster (any one); the client learns the others and the slot map from it. A cluster has only
  database 0.

Why the rest of the engine works unchanged on a cluster:

- every key of a lot carries the lot id in a hash tag (:mod:`auction.rooms.keys`), so each room
  script's ``KEYS`` hash to one slot and the script runs on the lot's shard;
- every other key is used by single-key commands, or in non-transactional pipelines that the
  cluster client splits by node; no script spans two slots, and nothing uses ``MULTI`` /
  ``WATCH`` (redis-py's cluster client runs a ``WATCH`` on a thread of its own that blocks the
  event loop: the leases use a one-key script); a pipeline queues a script as ``EVALSHA`` by
  name (the cluster pipeline refuses its ``evalsha`` method);
- ``SCRIPT LOAD`` / ``SCRIPT EXISTS`` go to every primary (the client's routing), so a script
  is loaded on every shard, and a shard that restarted answers ``NOSCRIPT`` (the fence of
  :mod:`auction.rooms.scripts` then runs as for one Redis);
- events are published with plain ``PUBLISH`` from the scripts, which a cluster forwards to
  every node: a process's one pub/sub connection, to any node, hears every shard's lots
  (:mod:`auction.rooms.fanout`);
- the recovery's "which Redis is this" is the run ids of all primaries together
  (:func:`run_id`), so a restart of any shard is noticed.

The cluster client is handed around typed as :class:`redis.asyncio.Redis`: it offers the same
command methods the engine calls (the cluster test, tests/faults/test_cluster.py, runs the
engine's paths on it), and one type keeps the modules that take a client unchanged.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio import Connection as LibraryConnection
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

#: ``REDIS_URL`` schemes that mean a Redis Cluster (``rediss+cluster``: with TLS)
CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")
#: most connections to one Redis (to each node of a cluster)
MAX_CONNECTIONS = 256
#: how long a command waits for a free pooled connection (one Redis)
POOL_TIMEOUT_S = 5.0


def is_cluster(url: str) -> bool:
    """Does ``url`` name a Redis Cluster (``redis+cluster://``)?"""
    return urlsplit(url).scheme in CLUSTER_SCHEMES


def node_url(url: str) -> str:
    """The plain ``redis://`` (``rediss://``) address of the node a cluster URL names."""
    parts = urlsplit(url)
    scheme = parts.scheme.removesuffix("+cluster")
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


class Connection(LibraryConnection):
    """redis-py's TCP connection, with a cheaper write: the write of a command is bounded by
    ``socket_timeout`` with :func:`asyncio.timeout` (a timer) instead of redis-py's
    :func:`asyncio.wait_for`, which on Python 3.11 wraps every write in a task of its own (one
    task and one more event-loop turn per command sent). Same outcome: a write that cannot
    finish in time disconnects and raises redis-py's ``TimeoutError``. Measured with 8
    coroutines sending ``GET``: ≈ 150-176 µs of CPU a command before, ≈ 118 µs after
    (docs/performance.md, "Issue 17, ninth pass"). A first write (connecting) or a health
    check takes the library's own path.

    A connection that Redis closed while it sat in the pool (Redis restarted) is made anew
    before the command is sent, instead of failing it with "Connection closed by server" once
    Redis is back: nothing was sent on it, so nothing can run twice. (redis-py's pool checks
    this when it hands a connection out, but not while its "maintenance notifications" are on,
    their default for RESP3. The test here costs nothing measurable: hot lot 5,366 and 5,366
    accepted bids/s against 5,375 and 5,370 without it, two back-to-back pairs.)"""

    async def send_packed_command(self, command: bytes | str | Iterable[bytes],
                                  check_health: bool = True) -> None:
        reader = self._reader
        if reader is not None and reader.at_eof():
            await self.disconnect(nowait=True)  # the library's path below connects again
        limit, writer = self.socket_timeout, self._writer
        if (not limit or writer is None or not self.is_connected
                or (check_health and self.health_check_interval)):
            await super().send_packed_command(command, check_health)
            return
        if isinstance(command, str):
            command = command.encode()
        if isinstance(command, bytes):
            command = [command]
        try:
            writer.writelines(command)
            async with asyncio.timeout(limit):
                await writer.drain()
        except TimeoutError:
            await self.disconnect(nowait=True)
            raise RedisTimeoutError("Timeout writing to socket") from None
        except OSError as exc:
            await self.disconnect(nowait=True)
            raise RedisConnectionError(f"Error while writing to socket: {exc}") from exc
        except BaseException:
            # a write cut short (cancelled) leaves a half-sent command: the connection is done
            await self.disconnect(nowait=True)
            raise


def connect(url: str, **options: Any) -> Redis:
    """A client for ``url`` (not yet connected: the first command connects). ``options`` go to
    the connections (``socket_timeout``, ``socket_connect_timeout`` …). One Redis over TCP
    uses :class:`Connection`; TLS and unix sockets (the URL chooses their class) and a cluster
    (its client makes its own connections) use redis-py's."""
    if is_cluster(url):
        cluster = RedisCluster.from_url(
            node_url(url), max_connections=MAX_CONNECTIONS, **options)
        return cast("Redis", cluster)
    return Redis.from_pool(BlockingConnectionPool.from_url(
        url, max_connections=MAX_CONNECTIONS, timeout=POOL_TIMEOUT_S,
        connection_class=Connection, **options))


async def ready(redis: Redis) -> None:
    """Connect now: a cluster client learns its nodes and slot map (its pub/sub needs them;
    unlike its commands, it does not fetch them itself)."""
    if isinstance(redis, RedisCluster):
        await redis.initialize()


def pubsub(redis: Redis) -> PubSub:
    """A pub/sub connection. On a cluster: to one primary, chosen at random (a new connection
    after a failure may land on another node; processes spread over the nodes). A cluster
    forwards every ``PUBLISH`` to every node, so any node hears every shard's channels."""
    if isinstance(redis, RedisCluster):
        nodes = redis.get_primaries()
        if not nodes:
            raise RedisConnectionError("no Redis Cluster node known")
        return redis.pubsub(node=random.choice(nodes))
    return redis.pubsub()


async def run_id(redis: Redis) -> str:
    """Which Redis this is: its ``run_id`` (it changes when Redis restarts); for a cluster, the
    sorted ``node=run_id`` of every primary, so a restart or replacement of any shard changes
    it."""
    if isinstance(redis, RedisCluster):
        infos = await redis.info("server", target_nodes=RedisCluster.PRIMARIES)
        return ",".join(f"{node}={info['run_id']}" for node, info in sorted(infos.items()))
    info = await redis.info("server")
    return str(info["run_id"])
