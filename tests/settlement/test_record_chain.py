"""The chained record (issue 16 items 4, 5): lot events and back-office entries hash-chained by
PostgreSQL, append-only, recomputed by ``auction verify``, exported as a bundle checked without
a database, signed bid receipts, and the journal replaying into the room's exact state."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from redis.asyncio import Redis
from settlement_factory import LotFixture, MakeLot

from auction.audit import cli as audit_cli
from auction.audit.chain import GENESIS, session_head
from auction.audit.receipts import Receipt, Signer
from auction.audit.verify import Report, check_lot_chain, fold, verify_audit
from auction.domain.lot import LotMode
from auction.domain.replay import replay
from auction.domain.room import LotEvent, RoomState
from auction.rooms.keys import Keys
from auction.rooms.service import Rooms
from auction.settings import Secret, Settings
from auction.settlement.drainer import Drainer
from auction.store import Store, journal
from auction.store import audit as audit_store
from auction.store import chain as store_chain


async def sale(rooms: Rooms, lot: LotFixture) -> None:
    """A live sale with an undo, a warning, an increment change, a reopen and a second hammer."""
    a, b = lot.bidders[0], lot.bidders[1]
    await rooms.open(lot.lot_id)
    await rooms.bid(lot.lot_id, bidder=a.id, paddle=a.paddle, amount=lot.start)
    await rooms.bid(lot.lot_id, bidder=b.id, paddle=b.paddle, amount=lot.start + lot.inc)
    await rooms.command(lot.lot_id, "undo")
    await rooms.bid(lot.lot_id, bidder=b.id, paddle=b.paddle, amount=lot.start + 2 * lot.inc)
    await rooms.command(lot.lot_id, "warn", "1")
    await rooms.command(lot.lot_id, "increment", "double")
    await rooms.close(lot.lot_id, "hammer")
    await rooms.command(lot.lot_id, "reopen", "600000")
    await rooms.bid(lot.lot_id, bidder=a.id, paddle=a.paddle, amount=lot.start + 4 * lot.inc)
    await rooms.close(lot.lot_id, "hammer")


async def drain_all(store: Store, redis: Redis, keys: Keys) -> None:
    drainer = Drainer(store, redis, keys)
    for _ in range(4):
        await drainer.drain_once()


def args(**given: Any) -> argparse.Namespace:
    base: dict[str, Any] = {"command": "verify", "lot": None, "session": None, "market": None,
                            "bundle": None, "receipt": None, "out": None, "key": None}
    return argparse.Namespace(**{**base, **given})


async def verify(settings: Settings, capsys: pytest.CaptureFixture[str], **given: Any
                 ) -> tuple[int, str]:
    code = await audit_cli.run(args(**given), settings)
    out = capsys.readouterr()
    return code, out.out + out.err


async def tamper(settings: Settings, sql: str, *params: Any) -> None:
    """Change a row as a superuser with the triggers bypassed (replication role)."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(sql, *params)
    finally:
        await conn.close()


async def test_the_drainer_builds_a_chain_python_recomputes(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_lot: MakeLot
) -> None:
    """Each journalled event carries the previous entry's hash and its own, which the
    canonical text of docs/formats.md reproduces byte for byte."""
    lot = await make_lot()
    await sale(rooms, lot)
    await drain_all(store, redis, keys)
    (record,) = await store_chain.lot_records(store, [lot.lot_id])
    assert len(record.entries) >= 10
    assert record.entries[0].prev_sha256 == GENESIS
    for before, after in zip(record.entries, record.entries[1:], strict=False):
        assert after.prev_sha256 == before.sha256
    assert all(e.computed() == e.sha256 for e in record.entries)
    assert check_lot_chain(record) is None
    canonical = record.entries[1].canonical()
    assert canonical.startswith(f'["lot_event",{lot.lot_id},2,')
    assert canonical.endswith(f'"{record.entries[0].sha256}"]')


async def test_two_concurrent_drainers_do_not_fork_a_chain(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_lot: MakeLot
) -> None:
    """Two drainers racing over the same lots leave one intact chain per lot."""
    lots = [await make_lot() for _ in range(3)]
    for lot in lots:
        await sale(rooms, lot)
    a, b = Drainer(store, redis, keys), Drainer(store, redis, keys)
    await asyncio.gather(a.drain_once(), b.drain_once(), a.drain_once(), b.drain_once(),
                         a.drain_once(), b.drain_once())
    records = await store_chain.lot_records(store, [lot.lot_id for lot in lots])
    for record in records:
        assert [e.seq for e in record.entries] == list(range(1, len(record.entries) + 1))
        assert check_lot_chain(record) is None
        assert record.result is not None


async def test_lot_events_refuse_update_delete_truncate_and_gaps(
    store: Store, make_lot: MakeLot
) -> None:
    """The journal is append-only and a row whose predecessor is missing is refused."""
    lot = await make_lot()
    events = [LotEvent(1, "opened", 1_776_000_000_000, {"ends_at": 0}),
              LotEvent(2, "bid", 1_776_000_000_001,
                       {"bidder": lot.bidders[0].id, "paddle": 100, "amount": lot.start})]
    assert await journal.insert_events(store, lot.lot_id, "e0", events) == 2
    for sql in (f"UPDATE lot_events SET amount_fen = 1 WHERE lot_id = {lot.lot_id}",
                f"DELETE FROM lot_events WHERE lot_id = {lot.lot_id}",
                "TRUNCATE lot_events CASCADE"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await store.pool.execute(sql)
    with pytest.raises(asyncpg.CheckViolationError):
        await store.pool.execute(
            "INSERT INTO lot_events (lot_id, seq, epoch, kind, at) VALUES ($1, 4, 'e0', "
            "'announced', now())", lot.lot_id)
    assert await journal.max_seq(store, lot.lot_id) == 2


async def test_verify_passes_untouched_and_names_a_changed_bid_row(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_lot: MakeLot,
    settings: Settings, capsys: pytest.CaptureFixture[str],
) -> None:
    """``auction verify`` passes on an untouched sale; a bid row changed by a superuser makes
    it exit 1 naming that lot and seq; a changed result names the lot's result."""
    lot, other = await make_lot(), await make_lot()
    await sale(rooms, lot)
    await sale(rooms, other)
    await drain_all(store, redis, keys)
    for scope in ({"lot": str(lot.lot_id)}, {"session": str(lot.session_id)},
                  {"market": lot.market_code}):
        code, out = await verify(settings, capsys, **scope)
        assert code == 0, out
        assert out.startswith("OK: ")

    bid_seq = await store.pool.fetchval(
        "SELECT min(seq) FROM lot_events WHERE lot_id = $1 AND kind = 'bid'", lot.lot_id)
    await tamper(settings, "UPDATE lot_events SET amount_fen = amount_fen + 1"
                 " WHERE lot_id = $1 AND seq = $2", lot.lot_id, bid_seq)
    code, out = await verify(settings, capsys, session=str(lot.session_id))
    assert code == 1
    assert f"MISMATCH lot {lot.lot_id} seq {bid_seq}:" in out.splitlines()[0]
    # the other sale is untouched
    code, out = await verify(settings, capsys, lot=str(other.lot_id))
    assert code == 0, out

    await tamper(settings, "UPDATE lot_results SET amount_fen = amount_fen - 100"
                 " WHERE lot_id = $1", other.lot_id)
    code, out = await verify(settings, capsys, lot=str(other.lot_id))
    assert code == 1
    assert f"MISMATCH lot {other.lot_id} result: amount_fen" in out

    await tamper(settings, "DELETE FROM lot_events WHERE lot_id = $1 AND seq = 2", lot.lot_id)
    code, out = await verify(settings, capsys, lot=str(lot.lot_id))
    assert f"MISMATCH lot {lot.lot_id} seq 2: missing" in out

    code, out = await verify(settings, capsys, lot="x1", session="2")
    assert code == 2


async def test_export_bundle_verifies_without_a_database(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_lot: MakeLot,
    settings: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    """``auction export`` writes a bundle that ``verify --bundle`` passes with no database;
    any changed amount or head in the file fails naming the lot and seq."""
    lot = await make_lot()
    await sale(rooms, lot)
    await drain_all(store, redis, keys)
    path = tmp_path / "bundle.json"
    code, out = await verify(settings, capsys, command="export", session=str(lot.session_id),
                             out=str(path))
    assert code == 0, out
    heads = await store_chain.session_heads(store, [lot.session_id])
    assert heads[lot.session_id] in out
    offline = replace(settings, database_url="")
    code, out = await verify(offline, capsys, bundle=str(path))
    assert code == 0, out

    bundle = json.loads(path.read_text())
    assert bundle["session"]["head_sha256"] == heads[lot.session_id]
    bid = next(e for e in bundle["lots"][0]["entries"] if e["kind"] == "bid")
    bid["amount_fen"] += 100
    path.write_text(json.dumps(bundle))
    code, out = await verify(offline, capsys, bundle=str(path))
    assert code == 1
    assert f"MISMATCH lot {lot.lot_id} seq {bid['seq']}:" in out

    bid["amount_fen"] -= 100
    bundle["session"]["head_sha256"] = "f" * 64
    path.write_text(json.dumps(bundle))
    code, out = await verify(offline, capsys, bundle=str(path))
    assert code == 1
    assert f"MISMATCH session {lot.session_id} head" in out

    path.write_text("{not json")
    code, out = await verify(offline, capsys, bundle=str(path))
    assert code == 2


async def test_receipts_check_against_the_record(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_lot: MakeLot,
    settings: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    """A receipt signed with the server's key checks against PostgreSQL and a bundle; a
    changed amount or a foreign signature does not."""
    lot = await make_lot()
    await sale(rooms, lot)
    await drain_all(store, redis, keys)
    entry = await store_chain.bid_entry(store, lot.lot_id, 2)
    assert entry is not None and entry.kind == "bid"
    assert entry.paddle is not None and entry.amount_fen is not None
    receipt = Receipt(entry.lot_id, entry.session_id, entry.seq, entry.paddle,
                      entry.amount_fen, entry.at_ms, entry.sha256)
    server = Signer(settings.receipt_key.value)
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt.to_json(server, "")))
    code, out = await verify(settings, capsys, receipt=str(path))
    assert code == 0, out
    heads = await store_chain.session_heads(store, [lot.session_id])
    assert heads[lot.session_id] in out

    # anyone: the published public key and the exported bundle, no database, no server secret
    bundle = tmp_path / "bundle.json"
    assert (await verify(settings, capsys, command="export", session=str(lot.session_id),
                         out=str(bundle)))[0] == 0
    key_file = tmp_path / "receipt-key.json"
    key_file.write_text(json.dumps(server.public.to_json()))
    stranger = replace(settings, database_url="", secret=Secret("x" * 32),
                       receipt_key=Secret(base64.b64encode(b"\x01" * 32).decode()))
    code, out = await verify(stranger, capsys, receipt=str(path), bundle=str(bundle),
                             key=str(key_file))
    assert code == 0, out
    assert heads[lot.session_id] in out
    code, out = await verify(stranger, capsys, receipt=str(path), bundle=str(bundle),
                             key=server.public.pem())
    assert code == 0, out
    code, out = await verify(stranger, capsys, receipt=str(path), bundle=str(bundle))
    assert code == 1 and "signature" in out  # the stranger's own key did not sign it

    forged = receipt.to_json(server, "")
    forged["amount_fen"] += 1
    path.write_text(json.dumps(forged))
    code, out = await verify(settings, capsys, receipt=str(path))
    assert code == 1
    assert "signature" in out
    path.write_text(json.dumps(replace(receipt, amount_fen=receipt.amount_fen + 1)
                               .to_json(server, "")))
    code, out = await verify(settings, capsys, receipt=str(path))
    assert code == 1
    assert f"lot {lot.lot_id} seq 2: the record holds" in out
    path.write_text(json.dumps(receipt.to_json(Signer(base64.b64encode(b"\x02" * 32).decode()),
                                               "")))
    code, out = await verify(settings, capsys, receipt=str(path))
    assert code == 1
    code, _out = await verify(settings, capsys, receipt=str(path), key="not a key")
    assert code == 2


async def test_replaying_the_journal_reproduces_the_live_room(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_lot: MakeLot
) -> None:
    """Folding the lot's journal from PostgreSQL over a fresh room's terms gives the live
    room's state in Redis field for field (``final`` is the drainer's mark, not an event)."""
    lot = await make_lot()
    await sale(rooms, lot)
    live = await rooms.room_state(lot.lot_id)
    assert live is not None
    await Drainer(store, redis, keys).drain_once()
    (record,) = await store_chain.lot_records(store, [lot.lot_id])
    fresh = RoomState(mode=LotMode.LIVE, start=lot.start, inc=lot.inc, reserve=0,
                      inc0=live.inc0, bands=live.bands)
    events = [LotEvent(e.seq, e.kind, e.at_ms, e.fields()) for e in record.entries]
    rebuilt = replay(fresh, events)
    assert rebuilt == replace(live, final=rebuilt.final)
    assert fold(record).leader == live.leader and fold(record).high == live.high


async def test_back_office_entries_chain_per_market(
    store: Store, make_lot: MakeLot, settings: Settings
) -> None:
    """Concurrent audit entries of one market form one gapless chain; a changed row breaks it
    at that entry; session heads cover every lot."""
    lot = await make_lot()

    def entry(i: int) -> audit_store.Entry:
        return audit_store.Entry(
            actor_role="auctioneer", actor_account_id=None, actor_subject=f"s{i}",
            actor_market_id=None, actor_session_id=None, actor_address="127.0.0.1",
            method="POST", route="/api/v1/lots/{lot_id}/commands",
            path_ids={"lot_id": lot.lot_id}, query={}, body={"op": "warn", "说明": "第\n一"},
            status=200, created={}, refs={"lot_id": lot.lot_id})

    await asyncio.gather(*(audit_store.append(store, entry(i)) for i in range(12)))
    market = await store_chain.market_id(store, lot.market_code)
    chains = await store_chain.audit_chains(store, [market])
    assert [e.chain_n for e in chains[market]] == list(range(1, 13))
    report = Report()
    verify_audit(chains, report)
    assert report.ok, report.findings
    target = chains[market][5]
    await tamper(settings, "UPDATE audit_log SET status = 201 WHERE id = $1", target.id)
    report = Report()
    verify_audit(await store_chain.audit_chains(store, [market]), report)
    assert [str(f).split(":")[0] for f in report.findings] == [
        f"audit chain of market {market} entry 6 (id {target.id})"]
    assert session_head(1, []) != session_head(2, [])


async def test_replaying_a_timed_lot_reproduces_the_live_room(
    store: Store, redis: Redis, keys: Keys, rooms: Rooms, make_lot: MakeLot
) -> None:
    """A timed lot (bids inside the extension window, a pause and a resume) replays from the
    journal into its live state as well."""
    lot = await make_lot()
    # the factory made a live room: this lot's room is a timed one instead
    await redis.delete(*(await redis.keys(f"{keys.namespace}:{{lot:{lot.lot_id}}}*")))
    await rooms.init_lot(lot.lot_id, mode=LotMode.TIMED, start=lot.start, inc=lot.inc, reserve=0,
                         session_id=lot.session_id, window_ms=900_000, ext_ms=900_000,
                         duration_ms=600_000)
    await redis.hset(keys.lot(lot.lot_id).eligible,
                     mapping={"written": "1", **{str(b.id): "1" for b in lot.bidders}})
    a, b = lot.bidders[0], lot.bidders[1]
    await rooms.open(lot.lot_id)
    await rooms.bid(lot.lot_id, bidder=a.id, paddle=a.paddle, amount=lot.start)
    await rooms.command(lot.lot_id, "pause")
    await rooms.command(lot.lot_id, "resume")
    await rooms.bid(lot.lot_id, bidder=b.id, paddle=b.paddle, amount=lot.start + lot.inc)
    live = await rooms.room_state(lot.lot_id)
    assert live is not None and live.extensions >= 1
    await Drainer(store, redis, keys).drain_once()
    (record,) = await store_chain.lot_records(store, [lot.lot_id])
    assert check_lot_chain(record) is None
    fresh = RoomState(mode=LotMode.TIMED, start=lot.start, inc=lot.inc, reserve=0,
                      window_ms=900_000, ext_ms=900_000, duration_ms=600_000,
                      inc0=live.inc0, bands=live.bands)
    events = [LotEvent(e.seq, e.kind, e.at_ms, e.fields()) for e in record.entries]
    assert replay(fresh, events) == live


async def test_text_is_quoted_as_postgresql_quotes_it(store: Store) -> None:
    """The canonical text's JSON strings (Python) equal PostgreSQL's ``to_json(text)`` for
    quotes, backslashes, control characters, DEL, U+2028 and characters beyond the BMP."""
    samples = ['a"b\\c/d', "\x01\x08\x0c\n\r\t\x1f\x7f", "\u2028é中😀", ""]
    for text in samples:
        assert await store.pool.fetchval("SELECT to_json($1::text)::text", text) == \
            json.dumps(text, ensure_ascii=False)
