"""The engine on a Redis Cluster (issue 17 item 6; docs/operations.md "Sharding Redis").

A 3-master cluster of the test's own (``redis-server --cluster-enabled yes`` ×3 on free ports in
a temp dir, ``redis-cli --cluster create``), two app servers on it (``REDIS_URL=
redis+cluster://…``) with a fresh PostgreSQL database, and a live lot and a timed lot whose keys
live on different shards: fan-out to a watcher of the other process, resume with the last seq,
the closer, and the drainer's settlement into PostgreSQL, all across shards. The cluster's
processes are killed at the end, whatever happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from auction.rooms import connection
from auction.rooms.keys import Keys
from auction.settings import Settings
from tests.e2e.harness import Server, create_sale, free_port, raw_client, running
from tests.e2e.test_live_auction import command, wait_for

REDIS_SERVER = "/usr/bin/redis-server"
REDIS_CLI = "/usr/bin/redis-cli"


def _binary(path: str) -> str:
    found = path if os.access(path, os.X_OK) else shutil.which(Path(path).name)
    if not found:
        if os.environ.get("CI"):
            pytest.fail(f"{path} not found (CI is set: failing instead of skipping)")
        pytest.skip(f"{path} not found (apt-get install redis-server)")
    return str(found)


def _cli(port: int, *args: str) -> str:
    done = subprocess.run([_binary(REDIS_CLI), "-p", str(port), *args], capture_output=True,
                          text=True, timeout=30, check=False)
    assert done.returncode == 0, f"redis-cli {args}: {done.stdout} {done.stderr}"
    return done.stdout.strip()


class Cluster:
    """A cluster of ``masters`` primaries, no replicas, in ``root``; ``durable``: each node
    with the AOF fsynced on every write (docs/operations.md "Redis durability"), else no
    persistence at all."""

    def __init__(self, root: Path, masters: int = 3, *, durable: bool = False) -> None:
        self.root = root
        self.persistence = ["--appendonly", "yes", "--appendfsync", "always"] if durable \
            else ["--appendonly", "no"]
        self.binary = _binary(REDIS_SERVER)
        self.ports = [free_port() for _ in range(masters)]
        # the cluster bus on a free port of its own (by default port + 10000: maybe taken,
        # maybe above 65535)
        self.buses = dict(zip(self.ports, (free_port() for _ in range(masters)), strict=True))
        self.procs: dict[int, subprocess.Popen[bytes]] = {}

    def start_node(self, port: int) -> None:
        """(Re)start the node on ``port``: its ``nodes.conf`` keeps its identity and slots."""
        folder = self.root / str(port)
        folder.mkdir(exist_ok=True)
        with (folder / "redis.log").open("ab") as log:
            self.procs[port] = subprocess.Popen(
                [self.binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                 "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                 "--cluster-port", str(self.buses[port]),
                 "--save", "", *self.persistence, "--daemonize", "no",
                 "--protected-mode", "no"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            done = subprocess.run([_binary(REDIS_CLI), "-p", str(port), "ping"],
                                  capture_output=True, text=True, check=False)
            if done.stdout.strip() == "PONG":
                return
            assert time.monotonic() < deadline, f"redis-server on {port} not up"
            time.sleep(0.05)

    def kill9(self, port: int) -> None:
        proc = self.procs.pop(port)
        proc.kill()
        proc.wait(10)

    def wait_ok(self) -> None:
        for port in self.ports:
            deadline = time.monotonic() + 20
            while "cluster_state:ok" not in _cli(port, "cluster", "info"):
                assert time.monotonic() < deadline, f"cluster not ok on {port}"
                time.sleep(0.1)


@contextlib.contextmanager
def redis_cluster(root: Path, masters: int = 3, *, durable: bool = False) -> Iterator[Cluster]:
    """A running cluster; every process is killed (SIGKILL, by its own id) on the way out."""
    cluster = Cluster(root, masters, durable=durable)
    try:
        for port in cluster.ports:
            cluster.start_node(port)
        _cli(cluster.ports[0], "--cluster", "create",
             *(f"127.0.0.1:{p}" for p in cluster.ports), "--cluster-replicas", "0",
             "--cluster-yes")
        cluster.wait_ok()
        yield cluster
    finally:
        for port in list(cluster.procs):
            cluster.kill9(port)


def _owners(port: int) -> dict[int, int]:
    """Slot → the port of the primary serving it (``CLUSTER SLOTS``)."""
    lines = _cli(port, "cluster", "slots").splitlines()
    owners: dict[int, int] = {}
    i = 0
    while i + 4 < len(lines):  # start, end, then [host, port, id] of the primary
        start, end, owner = int(lines[i]), int(lines[i + 1]), int(lines[i + 3])
        for slot in range(start, end + 1):
            owners[slot] = owner
        i += 5
        while i < len(lines) and not lines[i].isdigit():
            i += 1
    return owners


def _shard(port: int, keys: Keys, lot: int) -> int:
    """The primary holding ``lot``: every key of the lot must hash to one slot."""
    lot_keys = keys.lot(lot)
    names = [lot_keys.state, lot_keys.events, lot_keys.idem, lot_keys.channel,
             lot_keys.eligible, lot_keys.staff, lot_keys.viewers]
    slots = {int(_cli(port, "cluster", "keyslot", name)) for name in names}
    assert len(slots) == 1, f"lot {lot}'s keys span slots {slots}"
    return _owners(port)[slots.pop()]


@contextlib.asynccontextmanager
async def on_cluster(settings: Settings, tmp_path: Path, port: int) -> AsyncIterator[list[Server]]:
    """Two app servers on the cluster, one fresh namespace; the drainer settles at once."""
    own = settings.with_changes(
        redis_url=f"redis+cluster://127.0.0.1:{port}",
        redis_namespace=f"test-{uuid.uuid4().hex[:10]}", data_dir=tmp_path,
        password_profile="fast", reopen_window_s=0)
    own.check_urls()
    async with running(own) as a, running(own) as b:
        yield [a, b]


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_live_and_timed_lots_on_different_shards(settings: Settings,
                                                       tmp_path: Path) -> None:
    """A live and a timed lot on two shards: fan-out across processes, resume, the closer
    and settlement into PostgreSQL all work on the cluster."""
    root = tmp_path / "cluster"
    root.mkdir()
    with redis_cluster(root) as cluster:
        ports = cluster.ports
        async with on_cluster(settings, tmp_path, ports[0]) as (a, b):
            keys = Keys(a.settings.redis_namespace)
            live = await create_sale(a, mode="live", lots=3, bidders=2)
            timed = await create_sale(b, mode="timed", lots=3, bidders=1, duration_s=2,
                                      window_s=1, extension_s=1)
            shards = {lot: _shard(ports[0], keys, lot) for lot in [*live.lots, *timed.lots]}
            pairs = [(x, y) for x in live.lots for y in timed.lots if shards[x] != shards[y]]
            assert pairs, f"all six lots on one shard: {shards}"
            lot, tlot = pairs[0]
            # the hubs' source: one pub/sub connection to one node hears both shards' lots
            client = connection.connect(a.settings.redis_url or "")
            await connection.ready(client)
            pubsub = connection.pubsub(client)
            try:
                await pubsub.subscribe(keys.lot(lot).channel, keys.lot(tlot).channel)
                await _live_lot(a, b, live, lot)
                await _timed_lot(a, b, timed, tlot)
                heard: set[int] = set()
                for _ in range(200):  # what queued meanwhile: the confirmations, the events
                    msg = await pubsub.get_message(timeout=0.05)
                    if msg is not None and msg["type"] == "message":
                        heard.add(keys.channel_lot_id(msg["channel"]))
                    if heard == {lot, tlot}:
                        break
                assert heard == {lot, tlot}, f"pub/sub heard only lots {heard}"
            finally:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
                await client.aclose()
            await _settled(a, live.session_id, lot, 1_040_000)
            await _settled(a, timed.session_id, tlot, 1_000_000)


async def _live_lot(a: Server, b: Server, sale: Any, lot: int) -> None:
    """Bids through A reach a watcher on B in order; the watcher drops, resumes on A with its
    last seq and gets exactly what it missed; the hammer sells."""
    async with (
        raw_client(a, sale.auctioneer) as console,
        raw_client(a, sale.tokens[0]) as b1,
        raw_client(b, sale.tokens[1]) as b2,
    ):
        assert (await command(console, lot, "open", "o"))["t"] == "ack"
        async with raw_client(b) as watcher:
            await watcher.send(t="sub", lot=lot)
            snap = await watcher.until(lambda m: m["t"] == "snapshot")
            epoch = snap["epoch"]
            await b1.send(t="bid", lot=lot, amount=1_000_000, key="a")
            assert (await b1.until(lambda m: m.get("key") == "a"))["t"] == "ack"
            ev = await watcher.until(lambda m: m.get("t") == "ev" and m["kind"] == "bid")
            assert ev["seq"] == snap["seq"] + 1
            last = ev["seq"]
        amount = 1_000_000
        for i, bidder in enumerate([b2, b1, b2, b1]):
            amount += 10_000
            await bidder.send(t="bid", lot=lot, amount=amount, key=f"k{i}")
            assert (await bidder.until(lambda m, k=f"k{i}": m.get("key") == k))["t"] == "ack"
        async with raw_client(a, resume={lot: [epoch, last]}) as again:
            resumed = await again.until(lambda m: m["t"] in ("resumed", "snapshot"))
            assert resumed["t"] == "resumed" and resumed["recovered"] is True, resumed
            missed = [await again.recv() for _ in range(resumed["count"])]
            assert [m["seq"] for m in missed] == list(range(last + 1, last + 5))
            assert [m["amount"] for m in missed] == [1_010_000, 1_020_000, 1_030_000, 1_040_000]
            assert (await command(console, lot, "hammer", "h"))["t"] == "ack"
            sold = await again.until(lambda m: m.get("t") == "ev" and m["kind"] == "sold")
            assert sold["seq"] == last + 5 and sold["amount"] == 1_040_000


async def _timed_lot(a: Server, b: Server, sale: Any, lot: int) -> None:
    """Opened through B, bid through A, watched on both: the closer sells it by the clock."""
    async with (
        raw_client(b, sale.auctioneer) as console,
        raw_client(a, sale.tokens[0]) as bidder,
        raw_client(a) as here,
        raw_client(b) as there,
    ):
        for watcher in (here, there):
            await watcher.send(t="sub", lot=lot)
            await watcher.until(lambda m: m["t"] == "snapshot")
        assert (await command(console, lot, "open", "o"))["t"] == "ack"
        await bidder.send(t="bid", lot=lot, amount=1_000_000, key="t1")
        assert (await bidder.until(lambda m: m.get("key") == "t1"))["t"] == "ack"
        for watcher in (here, there):
            sold = await watcher.until(
                lambda m: m.get("t") == "ev" and m["kind"] == "sold", timeout=15)
            assert sold["amount"] == 1_000_000
            assert [e["seq"] for e in watcher.events(lot)] == list(range(1, sold["seq"] + 1))


async def _settled(server: Server, session_id: int, lot: int, amount: int) -> None:
    """The drainer settled ``lot`` into PostgreSQL at ``amount``."""
    async with httpx.AsyncClient(base_url=server.base) as http:
        async def result() -> Any:
            r = await http.get("/api/v1/results", params={"session": session_id})
            return [x for x in r.json()["results"] if x["lot_id"] == lot]

        found = await wait_for(result, timeout=10)
        assert found[0]["amount_fen"] == amount
        r = await http.get(f"/api/v1/lots/{lot}")
        assert r.json()["status"] == "sold"


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_a_restarted_shard_is_checked_and_its_lot_rebuilt(
    settings: Settings, tmp_path: Path, fresh_database_url: str
) -> None:
    """The shard of an open lot is killed (``kill -9``) and restarted on its AOF: the recovery
    notices (the run ids of the primaries changed) and checks the lot against PostgreSQL, the
    open lot gets a new epoch, its watcher ``recovered: false``, and bidding goes on. (A database
    of its own: the check covers every lot of the database, tests/e2e/test_history_loss.py.)"""
    root = tmp_path / "cluster"
    root.mkdir()
    own = settings.with_changes(database_url=fresh_database_url)
    with redis_cluster(root, durable=True) as cluster:
        async with on_cluster(own, tmp_path, cluster.ports[0]) as (a, b):
            keys = Keys(a.settings.redis_namespace)
            sale = await create_sale(a, mode="live", lots=1, bidders=2)
            lot = sale.lots[0]
            shard = _shard(cluster.ports[0], keys, lot)
            async with (
                raw_client(a, sale.auctioneer) as console,
                raw_client(a, sale.tokens[0]) as b1,
                raw_client(b, sale.tokens[1]) as b2,
                raw_client(b) as watcher,
            ):
                await watcher.send(t="sub", lot=lot)
                first = await watcher.until(lambda m: m["t"] == "snapshot")
                assert (await command(console, lot, "open", "o"))["t"] == "ack"
                for i, (bidder, amount) in enumerate([(b1, 1_000_000), (b2, 1_010_000)]):
                    await bidder.send(t="bid", lot=lot, amount=amount, key=f"k{i}")
                    assert (await bidder.until(lambda m, k=f"k{i}": m.get("key") == k))["t"] \
                        == "ack"
                last = await watcher.until(lambda m: m.get("t") == "ev" and m["seq"] == 3)
                async with httpx.AsyncClient(base_url=a.base) as http:
                    async def drained() -> bool:
                        r = await http.get(f"/api/v1/lots/{lot}/bids")
                        return len(r.json()["bids"]) == 2

                    await wait_for(drained, timeout=10)
                cluster.kill9(shard)
                cluster.start_node(shard)
                cluster.wait_ok()
                told = await watcher.until(lambda m: m["t"] == "snapshot", timeout=20)
                assert told["recovered"] is False and told["epoch"] != first["epoch"]
                assert told["seq"] == last["seq"] and told["state"]["high"] == 1_010_000
                await b1.send(t="bid", lot=lot, amount=1_020_000, key="after")
                reply = await b1.until(lambda m: m.get("key") == "after", timeout=20)
                assert reply["t"] == "ack", reply
                ev = await watcher.until(lambda m: m.get("t") == "ev" and m["kind"] == "bid")
                assert ev["seq"] == last["seq"] + 1 and ev["amount"] == 1_020_000


@contextlib.asynccontextmanager
async def cluster_rooms(tmp_path: Path) -> AsyncIterator[tuple[int, Any, Keys, Any]]:
    """A fresh 3-master cluster, a client on it and the rooms service of a fresh namespace:
    (a node's port, client, keys, rooms)."""
    from auction.rooms.service import Rooms

    with redis_cluster(tmp_path) as cluster:
        port = cluster.ports[0]
        redis = connection.connect(f"redis+cluster://127.0.0.1:{port}")
        await connection.ready(redis)
        keys = Keys(f"test-{uuid.uuid4().hex[:10]}")
        try:
            yield port, redis, keys, Rooms(redis, keys)
        finally:
            await redis.aclose()


@pytest.mark.timeout(120)
async def test_lots_on_several_shards_are_final_in_one_pass(tmp_path: Path) -> None:
    """The drainer asks ``finalize.lua`` about every closed lot of a batch in one pipeline
    (settlement/finality.py): on a cluster, with lots on every shard, each passed lot is final,
    a lot without a room counts as final, and a reopenable one (inside its window) is not."""
    from auction.domain.lot import LotMode
    from auction.settlement import finality

    async with cluster_rooms(tmp_path) as (port, redis, keys, rooms):
        lots: list[int] = []
        shards: set[int] = set()
        lot = 1
        while len(shards) < 3 or len(lots) < 4:
            lot += 1
            shard = _shard(port, keys, lot)
            if shard in shards and len(shards) < 3:
                continue
            shards.add(shard)
            lots.append(lot)
        for lot in lots:
            await rooms.init_lot(lot, mode=LotMode.LIVE, start=100, inc=10, reserve=0,
                                 session_id=1)
            await rooms.open(lot)
            await rooms.close(lot, "pass", idem=f"pass-{lot}")
        roomless = lot + 1000
        final, reopened = await finality.final_lots(
            redis, keys, rooms.scripts.finalize, [*lots, roomless], 0)
        assert (sorted(final), reopened) == (sorted([*lots, roomless]), [])
        # within a long window a passed lot may still be reopened: neither final nor reopened
        again = [lots[0] + 5000]
        await rooms.init_lot(again[0], mode=LotMode.LIVE, start=100, inc=10, reserve=0,
                             session_id=2)
        await rooms.open(again[0])
        await rooms.close(again[0], "pass", idem="pass-again")
        assert await finality.final_lots(
            redis, keys, rooms.scripts.finalize, [*again, roomless], 3_600_000
        ) == ([roomless], [])


@pytest.mark.timeout(120)
async def test_bids_on_lots_of_every_shard_share_round_trips(tmp_path: Path) -> None:
    """Lots on every shard bid at once: the lanes' shared round trip (rooms/coalesce.py) is a
    cluster pipeline split by node, the first one meets ``NOSCRIPT`` on every shard (a new
    namespace's script), and every lot's bids are accepted in order."""
    from auction.domain.lot import LotMode

    async with cluster_rooms(tmp_path) as (port, redis, keys, rooms):
        lots = list(range(1, 13))
        assert len({_shard(port, keys, lot) for lot in lots}) == 3
        for lot in lots:
            await rooms.init_lot(lot, mode=LotMode.LIVE, start=100, inc=10, reserve=0,
                                 session_id=1)
            await redis.hset(keys.lot(lot).eligible,
                             mapping={"written": "1", "1": "1", "2": "1"})
            await rooms.open(lot)
        futures = {lot: [rooms.lanes.submit(lot, bidder=1 + i % 2, paddle=101 + i % 2,
                                            amount=100 + 10 * i, idem=f"b{lot}-{i}")
                         for i in range(3)] for lot in lots}
        for lot in lots:
            assert [a.seq for a in await asyncio.gather(*futures[lot])] == [2, 3, 4]


@pytest.mark.timeout(120)
async def test_a_restarted_shards_pooled_connections_answer_their_next_commands(
    tmp_path: Path,
) -> None:
    """A shard is killed (``kill -9``) and started again while the client holds eight pooled
    connections to it: once the cluster is ok, eight commands at once to that shard all
    succeed. The cluster client drops a failed node's free connections and tries again
    (redis-py's own retry), so a restarted shard costs no command an ``unavailable``; the one
    Redis case is tests/rooms/test_connection.py."""
    with redis_cluster(tmp_path) as cluster:
        port = cluster.ports[0]
        redis = connection.connect(f"redis+cluster://127.0.0.1:{port}")
        await connection.ready(redis)
        try:
            keys = Keys(f"test-{uuid.uuid4().hex[:10]}")
            shard = _shard(port, keys, 1)
            key = keys.lot(1).state
            # eight commands in flight at once: eight pooled connections to the shard
            assert sorted(await asyncio.gather(*(redis.incr(key) for _ in range(8)))) \
                == list(range(1, 9))
            clients = _cli(shard, "client", "list").splitlines()
            assert len(clients) >= 8 + 1, clients  # and redis-cli's own
            cluster.kill9(shard)
            cluster.start_node(shard)
            cluster.wait_ok()
            answers = await asyncio.gather(*(redis.incr(key) for _ in range(8)),
                                           return_exceptions=True)
            assert sorted(answers) == list(range(1, 9)), answers  # type: ignore[type-var]
        finally:
            await redis.aclose()
