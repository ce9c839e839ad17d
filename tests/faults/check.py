"""The checker of a fault case: what was acknowledged, what PostgreSQL holds, what watchers saw.

One line per case (printed, and appended to ``test-artifacts/faults/figures.txt``)::

    <case>: acked A / found F / lost L / duplicated D / gaps G

- **acked**: distinct acknowledged bids (by idempotency key).
- **found**: acked bids whose (lot, seq) is in PostgreSQL ``lot_events`` (our own cluster) as
  that very bid (kind ``bid``, same paddle, amount and server time).
- **lost**: acked bids not found (missing, or another event sits at their seq).
- **duplicated**: (lot, seq) pairs seen with two different events anywhere — acks, the
  journal, events received by watchers (whatever their epoch) — plus idempotency keys acked at
  two different seqs (one bid applied twice).
- **gaps**: per watcher and lot, every place where the seq sequence is not exactly ``+1``
  without being covered by a ``snapshot`` with ``recovered: false`` or of a new epoch (an
  unsolicited snapshot that skips events is a silent gap; so is a ``resumed`` that does not
  start where the watcher asked, an event of another epoch, a repeat); plus every watcher that,
  1 s after the last bid, still shows an older seq than the room (a stale price).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg  # type: ignore[import-untyped]
from redis.asyncio import Redis

from tests.faults.cluster import ARTIFACTS
from tests.faults.load import Ack, Content, Rec, Watcher


@dataclass(frozen=True)
class Row:
    kind: str
    paddle: int | None
    amount: int | None
    at: int
    epoch: str

    @property
    def content(self) -> Content:
        return (self.kind, self.paddle, self.amount, self.at)


Journal = dict[tuple[int, int], Row]


async def read_journal(database_url: str, lots: list[int]) -> Journal:
    conn = await asyncpg.connect(database_url, timeout=10)
    try:
        rows = await conn.fetch(
            """SELECT lot_id, seq, kind, paddle, amount_fen, epoch,
                      round(extract(epoch FROM at) * 1000)::bigint AS at_ms
               FROM lot_events WHERE lot_id = ANY($1::bigint[])""", lots)
    finally:
        await conn.close()
    return {(r["lot_id"], r["seq"]): Row(r["kind"], r["paddle"], r["amount_fen"], r["at_ms"],
                                         r["epoch"]) for r in rows}


async def room_seqs(redis_url: str, namespace: str, lots: list[int]) -> dict[int, tuple[str, int]]:
    """Each lot's (epoch, seq) in Redis now."""
    client = Redis.from_url(redis_url, socket_timeout=5)
    try:
        out = {}
        for lot in lots:
            raw = await client.hmget(f"{namespace}:{{lot:{lot}}}:state", ["epoch", "seq"])
            epoch, seq = raw
            out[lot] = ((epoch or b"").decode(), int(seq or 0))
        return out
    finally:
        await client.aclose()


async def wait_drained(database_url: str, redis_url: str, namespace: str, lots: list[int],
                       acks: list[Ack], timeout_s: float = 20.0) -> Journal:
    """The journal once it holds every acked (lot, seq) and each lot's journal reaches the
    room's seq, or whatever it holds after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        journal = await read_journal(database_url, lots)
        rooms = await room_seqs(redis_url, namespace, lots)
        top: dict[int, int] = defaultdict(int)
        for lot, seq in journal:
            top[lot] = max(top[lot], seq)
        if (all((a.lot, a.seq) in journal for a in acks)
                and all(top[lot] >= seq for lot, (_e, seq) in rooms.items())):
            return journal
        if time.monotonic() > deadline:
            return journal
        await asyncio.sleep(0.3)


@dataclass
class Figures:
    case: str
    acked: int = 0
    found: int = 0
    lost: int = 0
    duplicated: int = 0
    gaps: int = 0
    stale: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.case}: acked {self.acked} / found {self.found} / lost {self.lost} / "
                f"duplicated {self.duplicated} / gaps {self.gaps}")

    def report(self) -> str:
        out = [self.line(), *(f"    {n}" for n in self.notes)]
        if self.problems:
            shown = self.problems[:25]
            out += [f"    ! {p}" for p in shown]
            if len(self.problems) > len(shown):
                out.append(f"    ! … {len(self.problems) - len(shown)} more")
        return "\n".join(out)

    def publish(self) -> None:
        text = self.report()
        print("\n[faults] " + text, flush=True)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with (ARTIFACTS / "figures.txt").open("a", encoding="utf-8") as f:
            f.write(time.strftime("%Y-%m-%d %H:%M:%S ") + text + "\n")

    def assert_clean(self) -> None:
        assert (self.lost, self.duplicated, self.gaps) == (0, 0, 0), self.report()


def analyse(case: str, acks: list[Ack], watchers: list[Watcher], journal: Journal,
            rooms: dict[int, tuple[str, int]] | None = None) -> Figures:
    """Everything but the stale check (:func:`stale_watchers`), which needs live watchers."""
    fig = Figures(case)
    by_key: dict[str, set[tuple[int, int]]] = defaultdict(set)
    first: dict[str, Ack] = {}
    for a in acks:
        by_key[a.key].add((a.lot, a.seq))
        first.setdefault(a.key, a)
    fig.acked = len(first)

    # found / lost
    for key, a in first.items():
        row = journal.get((a.lot, a.seq))
        if row is not None and row.content == a.content:
            fig.found += 1
        else:
            fig.lost += 1
            what = "missing" if row is None else f"holds {row.content} (epoch {row.epoch})"
            fig.problems.append(f"lost: ack {key} lot {a.lot} seq {a.seq} "
                                f"{a.content}; journal {what}")

    # duplicated
    versions: dict[tuple[int, int], dict[Content, str]] = defaultdict(dict)
    for a in acks:
        versions[(a.lot, a.seq)].setdefault(a.content, f"ack {a.key}")
    for (lot, seq), row in journal.items():
        versions[(lot, seq)].setdefault(row.content, f"journal epoch {row.epoch}")
    for w in watchers:
        for lot, recs in w.records.items():
            for r in recs:
                if r.t == "ev" and r.content is not None:
                    versions[(lot, r.seq)].setdefault(
                        r.content, f"watcher {w.idx} epoch {r.epoch}")
    for (lot, seq), seen in sorted(versions.items()):
        if len(seen) > 1:
            fig.duplicated += 1
            fig.problems.append(f"duplicated: lot {lot} seq {seq}: " + "; ".join(
                f"{c} from {src}" for c, src in seen.items()))
    for key, seqs in by_key.items():
        if len(seqs) > 1:
            fig.duplicated += 1
            fig.problems.append(f"duplicated: key {key} acked at {sorted(seqs)}")

    # gaps
    for w in watchers:
        for lot, recs in w.records.items():
            for p in watcher_gaps(recs):
                fig.gaps += 1
                fig.problems.append(f"gap: watcher {w.idx} lot {lot}: {p}")

    if rooms is not None:
        fig.notes.append("rooms at the end: " + ", ".join(
            f"lot {lot} epoch {e} seq {s}" for lot, (e, s) in sorted(rooms.items())))
    received = sum(1 for w in watchers for rs in w.records.values() for r in rs if r.t == "ev")
    fig.notes.append(f"events in the journal: {len(journal)}; events received by watchers: "
                     f"{received}")
    return fig


def watcher_gaps(recs: list[Rec]) -> list[str]:
    """The silent holes of one watcher's view of one lot."""
    out: list[str] = []
    epoch: str | None = None
    last: int | None = None
    for r in recs:
        if r.t == "connect":
            continue
        if r.t == "snapshot":
            if last is not None and epoch == r.epoch and r.recovered is not False:
                if r.seq > last:
                    out.append(f"snapshot jumps {last} → {r.seq} (same epoch, no "
                               f"recovered: false)")
                elif r.seq < last:
                    out.append(f"snapshot goes back {last} → {r.seq} (same epoch, no "
                               f"recovered: false)")
            epoch, last = r.epoch, r.seq
        elif r.t == "resumed":
            if r.epoch != epoch or r.seq != last:
                out.append(f"resumed after {r.epoch}/{r.seq} but the watcher was at "
                           f"{epoch}/{last}")
            epoch, last = r.epoch, r.seq
        elif r.t == "ev":
            if last is None:
                out.append(f"event {r.seq} before any snapshot")
            elif r.epoch != epoch:
                out.append(f"event {r.epoch}/{r.seq} while at epoch {epoch} (no snapshot)")
            elif r.seq > last + 1:
                out.append(f"gap {last} → {r.seq}")
            elif r.seq <= last:
                out.append(f"repeat/out of order {last} → {r.seq}")
            epoch, last = r.epoch, r.seq
    return out


def stale_watchers(fig: Figures, watchers: list[Watcher],
                   rooms: dict[int, tuple[str, int]]) -> None:
    """Count (as gaps) every watcher whose view of a lot is behind the room, now."""
    for w in watchers:
        for lot, (epoch, seq) in rooms.items():
            at = w.last_seq(lot)
            if at is None or at[1] < seq or at[0] != epoch:
                fig.gaps += 1
                fig.stale += 1
                fig.problems.append(f"stale: watcher {w.idx} lot {lot} shows {at}, "
                                    f"room is at {epoch}/{seq}")


async def settle_and_check(case: str, *, acks: list[Ack], watchers: list[Watcher],
                           database_url: str, redis_url: str, namespace: str, lots: list[int],
                           quiet_s: float = 1.0) -> Figures:
    """After the bidders stopped: wait ``quiet_s`` (1 s: the acceptance's "stale price after
    1 s"), take the stale check against the rooms, wait for the drain, analyse."""
    await asyncio.sleep(quiet_s)
    rooms = await room_seqs(redis_url, namespace, lots)
    late = Figures(case)
    stale_watchers(late, watchers, rooms)
    journal = await wait_drained(database_url, redis_url, namespace, lots, acks)
    fig = analyse(case, acks, watchers, journal, rooms)
    fig.gaps += late.gaps
    fig.stale = late.stale
    fig.problems += late.problems
    top: dict[int, int] = defaultdict(int)
    for lot, seq in journal:
        top[lot] = max(top[lot], seq)
    behind = {lot: (top[lot], seq) for lot, (_e, seq) in rooms.items() if top[lot] < seq}
    if behind:
        fig.notes.append(f"drain: journal behind the rooms (journal, room): {behind}")
    return fig



def latencies(watchers: list[Watcher], start_ms: int, end_ms: int) -> list[int]:
    """Delivery latency (receipt − the event's server time, same host clock) of every event
    with ``start_ms <= at < end_ms`` received by a watcher as a live ``ev``."""
    out = []
    for w in watchers:
        for recs in w.records.values():
            for r in recs:
                if (r.t == "ev" and not r.backfill and r.content is not None
                        and start_ms <= r.content[3] < end_ms):
                    out.append(r.wall_ms - r.content[3])
    return sorted(out)


def pct(values: list[int], q: float) -> int:
    if not values:
        return -1
    return values[min(len(values) - 1, int(q * len(values)))]


async def wait_until(pred: Callable[[], bool], timeout_s: float, what: str,
                     show: Callable[[], str] | None = None) -> float:
    """Seconds it took for ``pred()`` to hold; AssertionError naming ``what`` (and ``show()``)
    after ``timeout_s``."""
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > timeout_s:
            extra = f"\n{show()}" if show else ""
            raise AssertionError(f"{what}: not within {timeout_s} s{extra}")
        await asyncio.sleep(0.05)
    return time.monotonic() - t0
