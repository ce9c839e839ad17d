"""The auctioneer's console commands of issue 10 through real sockets and HTTP: fair warnings
reset by a bid, an announcement, pause and resume (a timed lot keeps its time), withdrawal and
the session settled with a withdrawn lot, a bidder's ``cmd`` refused, replayed keys."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.e2e.harness import ADMIN, Raw, Server, create_sale, raw_client


async def cmd(client: Raw, lot: int, op: str, key: str, **args: Any) -> dict[str, Any]:
    frame: dict[str, Any] = {"t": "cmd", "lot": lot, "op": op, "key": key}
    if args:
        frame["args"] = args
    await client.send(**frame)
    return await client.until(lambda m: m.get("key") == key and m["t"] in ("ack", "nack"))


async def bid(client: Raw, lot: int, amount: int, key: str) -> dict[str, Any]:
    await client.send(t="bid", lot=lot, amount=amount, key=key)
    return await client.until(lambda m: m.get("key") == key and m["t"] in ("ack", "nack"))


async def event(client: Raw, kind: str) -> dict[str, Any]:
    return await client.until(lambda m: m.get("t") == "ev" and m["kind"] == kind)


async def test_warn_announce_pause_resume_hammer_on_a_live_lot(server: Server) -> None:
    """Warning 1, a bid resets the count, warnings 1-2-3, an announcement, a pause that refuses
    bids with lot_paused, resume, hammer; a bidder's cmd is forbidden, keys replay."""
    sale = await create_sale(server, mode="live", bidders=2)
    lot = sale.lots[0]
    async with (
        raw_client(server, sale.auctioneer) as console,
        raw_client(server) as viewer,
        raw_client(server, sale.tokens[0]) as b1,
        raw_client(server, sale.tokens[1]) as b2,
    ):
        for c in (console, viewer, b1, b2):
            await c.send(t="sub", lot=lot)
            await c.until(lambda m: m["t"] == "snapshot")
        assert (await cmd(console, lot, "open", "o"))["t"] == "ack"
        assert (await bid(b1, lot, 1_000_000, "b1-1"))["t"] == "ack"
        assert (await cmd(console, lot, "warn", "w1", n=1))["t"] == "ack"
        assert (await event(viewer, "warned"))["n"] == 1
        again = await cmd(console, lot, "warn", "w1b", n=1)
        assert (again["t"], again["code"]) == ("nack", "wrong_state")
        assert (await bid(b2, lot, 1_010_000, "b2-1"))["t"] == "ack"
        for n in (1, 2, 3):  # the bid reset the count: it starts from 1 again
            assert (await cmd(console, lot, "warn", f"w2-{n}", n=n))["t"] == "ack", n
        replay = await cmd(console, lot, "warn", "w2-3", n=3)
        assert replay["t"] == "ack" and replay["replay"] is True
        conflict = await cmd(console, lot, "warn", "w2-3", n=2)
        assert conflict["code"] == "idempotency_conflict"
        assert (await cmd(console, lot, "announce", "a1", text="最后一次机会"))["t"] == "ack"
        assert (await event(viewer, "announced"))["text"] == "最后一次机会"
        bad = await cmd(console, lot, "warn", "w-bad", n=4)
        assert (bad["t"], bad["code"]) == ("nack", "bad_request") and "args.n" in bad["message"]
        forbidden = await cmd(b1, lot, "pause", "b-pause")
        assert (forbidden["t"], forbidden["code"]) == ("nack", "forbidden")
        assert (await cmd(console, lot, "pause", "p1"))["t"] == "ack"
        await event(viewer, "paused")
        refused = await bid(b1, lot, 1_020_000, "b1-2")
        assert (refused["t"], refused["code"]) == ("nack", "lot_paused")
        paused_hammer = await cmd(console, lot, "hammer", "h0")
        assert paused_hammer["code"] == "lot_paused"
        assert (await cmd(console, lot, "resume", "r1"))["t"] == "ack"
        await event(viewer, "resumed")
        assert (await bid(b1, lot, 1_020_000, "b1-3"))["t"] == "ack"
        assert (await cmd(console, lot, "hammer", "h1"))["t"] == "ack"
        sold = await event(viewer, "sold")
        assert sold["amount"] == 1_020_000 and sold["paddle"] == sale.paddles[0]
        kinds = [m["kind"] for m in viewer.events(lot)]
        assert kinds == ["opened", "bid", "warned", "bid", "warned", "warned", "warned",
                         "announced", "paused", "resumed", "bid", "sold"]


async def test_withdrawn_lot_and_the_session_settles(server: Server) -> None:
    """A lot withdrawn with a reason (over HTTP) ends as withdrawn, the other is passed, and the
    session's deposits settle (all released: nothing was sold)."""
    sale = await create_sale(server, mode="live", lots=2, bidders=1)
    first, second = sale.lots
    staff = {"Authorization": f"Bearer {sale.auctioneer}"}
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        url = f"/api/v1/lots/{first}/commands"
        r = await http.post(url, headers=staff, json={"op": "open", "key": "o1"})
        assert r.status_code == 200, r.text
        r = await http.post(url, headers=staff, json={"op": "pass", "key": "p1"})
        assert r.status_code == 200, r.text
        url = f"/api/v1/lots/{second}/commands"
        r = await http.post(url, headers=staff, json={"op": "withdraw", "key": "wd"})
        assert r.status_code == 400 and r.json()["error"]["field"] == "args.reason", r.text
        r = await http.post(url, headers=staff, json={
            "op": "withdraw", "args": {"reason": "委托方撤回"}, "key": "wd"})
        assert r.status_code == 200, r.text
        again = await http.post(url, headers=staff, json={
            "op": "withdraw", "args": {"reason": "委托方撤回"}, "key": "wd"})
        assert again.json()["replay"] is True and again.json()["seq"] == r.json()["seq"]
        r = await http.post(url, headers=staff, json={"op": "open", "key": "o2"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "wrong_state", r.text
        for _ in range(100):  # the drainer settles both lots
            r = await http.post(f"/api/v1/sessions/{sale.session_id}/deposits/settle",
                                headers=ADMIN)
            if r.status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert r.status_code == 200, r.text
        assert r.json()["applied"] == 0 and r.json()["released"] == 1
    async with raw_client(server) as viewer:
        await viewer.send(t="sub", lot=second)
        snap = await viewer.until(lambda m: m["t"] == "snapshot")
        assert snap["state"]["status"] == "withdrawn"


async def test_a_paused_timed_lot_keeps_its_remaining_time(server: Server) -> None:
    """Pausing a timed lot stops its clock: on resume its close moves by the paused time."""
    sale = await create_sale(server, mode="timed", bidders=1, duration_s=60)
    lot = sale.lots[0]
    async with raw_client(server, sale.auctioneer) as console, raw_client(server) as viewer:
        await viewer.send(t="sub", lot=lot)
        await viewer.until(lambda m: m["t"] == "snapshot")
        assert (await cmd(console, lot, "open", "o"))["t"] == "ack"
        opened = await event(viewer, "opened")
        assert (await cmd(console, lot, "pause", "p"))["t"] == "ack"
        paused = await event(viewer, "paused")
        await asyncio.sleep(1.2)
        assert (await cmd(console, lot, "resume", "r"))["t"] == "ack"
        resumed = await event(viewer, "resumed")
        assert resumed["at"] - paused["at"] >= 1_000
        assert resumed["ends_at"] == opened["ends_at"] + (resumed["at"] - paused["at"])
        warned = await cmd(console, lot, "warn", "w", n=1)
        assert warned["code"] == "wrong_mode"


async def test_next_opens_the_next_scheduled_lot_in_running_order(server: Server) -> None:
    """``next`` opens the session's first still-scheduled lot by ordinal, skipping lots already
    opened or withdrawn; its key replays without opening another; none left is wrong_state."""
    sale = await create_sale(server, mode="live", lots=4, bidders=1)
    a, b, c, d = sale.lots
    async with raw_client(server, sale.auctioneer) as console:
        assert (await cmd(console, b, "withdraw", "wb", reason="权属争议"))["t"] == "ack"
        first = await cmd(console, d, "next", "n1")  # any lot of the session names it
        assert (first["t"], first["lot"]) == ("ack", a)
        replay = await cmd(console, d, "next", "n1")
        assert (replay["lot"], replay["seq"], replay["replay"]) == (a, first["seq"], True)
        assert (await cmd(console, a, "pass", "pa"))["t"] == "ack"
        second = await cmd(console, a, "next", "n2")
        assert (second["t"], second["lot"]) == ("ack", c)
        third = await cmd(console, a, "next", "n3")
        assert (third["t"], third["lot"]) == ("ack", d)
        none_left = await cmd(console, a, "next", "n4")
        assert (none_left["t"], none_left["code"]) == ("nack", "wrong_state")
        forbidden_args = await cmd(console, a, "next", "n5", x=3)
        assert forbidden_args["code"] == "bad_request"
