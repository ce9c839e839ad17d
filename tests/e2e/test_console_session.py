"""A live session driven through the console protocol (issue 10, item 15): online bidders racing
floor bids, a warning reset by a bid, an undo the retracted bidder is told of, a mistaken hammer
reopened (and its settlement held until the sale moved on), the increment set and reset, a
paused lot, a withdrawn lot, a late bid; refusals (unknown_paddle, forbidden, wrong_state,
lot_paused) and the public history with retracted and floor bids."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.e2e.harness import Raw, Server, create_sale, raw_client


async def answer(client: Raw, key: str) -> dict[str, Any]:
    return await client.until(lambda m: m.get("key") == key and m["t"] in ("ack", "nack"))


async def cmd(client: Raw, lot: int, name: str, key: str, **args: Any) -> dict[str, Any]:
    frame: dict[str, Any] = {"t": "cmd", "lot": lot, "op": name, "key": key}
    if args:
        frame["args"] = args
    await client.send(**frame)
    return await answer(client, key)


async def bid(client: Raw, lot: int, amount: int, key: str) -> dict[str, Any]:
    await client.send(t="bid", lot=lot, amount=amount, key=key)
    return await answer(client, key)


async def kind(client: Raw, lot: int, name: str, after: int = 0) -> dict[str, Any]:
    """The first ``name`` event of ``lot`` with seq > ``after``, already received or next."""
    for m in client.events(lot):
        if m["kind"] == name and m["seq"] > after:
            return m
    return await client.until(
        lambda m: m.get("t") == "ev" and m.get("lot") == lot and m["kind"] == name
        and m["seq"] > after)


async def results(http: httpx.AsyncClient, session: int) -> list[int]:
    r = await http.get("/api/v1/results", params={"session": session})
    assert r.status_code == 200, r.text
    return [row["lot_id"] for row in r.json()["results"]]


async def test_a_live_session_through_the_console(reopenable: Server) -> None:
    server = reopenable
    sale = await create_sale(server, mode="live", lots=3, bidders=3)
    first, second, third = sale.lots
    p1, p2, p3 = sale.paddles
    async with (
        raw_client(server, sale.auctioneer) as console,
        raw_client(server) as viewer,
        raw_client(server, sale.tokens[0]) as b1,
        raw_client(server, sale.tokens[1]) as b2,
        httpx.AsyncClient(base_url=server.base, timeout=10) as http,
    ):
        for c in (console, viewer, b1, b2):
            await c.send(t="sub", lot=first)
            await c.until(lambda m: m["t"] == "snapshot")
        assert (await cmd(console, first, "open", "o1"))["t"] == "ack"

        # an online bid (paddle 2) and a floor bid for paddle 3 race for one amount: one wins
        assert (await bid(b1, first, 1_000_000, "b1-1"))["t"] == "ack"
        await b2.send(t="bid", lot=first, amount=1_010_000, key="b2-race")
        await console.send(t="cmd", lot=first, op="floor", key="f-race",
                           args={"paddle": p3, "amount": 1_010_000, "source": "floor"})
        raced = [await answer(b2, "b2-race"), await answer(console, "f-race")]
        assert sorted(m["t"] for m in raced) == ["ack", "nack"]
        assert [m["code"] for m in raced if m["t"] == "nack"] == ["too_low"]
        high = 1_010_000

        # a phone bid for paddle 1; the event carries its source
        phone = await cmd(console, first, "floor", "f-phone", paddle=p1, amount=high + 10_000,
                          source="phone")
        assert phone["t"] == "ack", phone
        high += 10_000
        ev = await kind(viewer, first, "bid", after=phone["seq"] - 1)
        assert (ev["paddle"], ev["amount"], ev["source"]) == (p1, high, "phone")
        unknown = await cmd(console, first, "floor", "f-unknown", paddle=9_999_999,
                            amount=high + 10_000, source="floor")
        assert (unknown["t"], unknown["code"]) == ("nack", "unknown_paddle")
        bad = await cmd(console, first, "floor", "f-bad", paddle=p2, amount=high + 10_000,
                        source="email")
        assert (bad["code"], "args.source" in bad["message"]) == ("bad_request", True)

        # a warning, reset by a bid: the next warning starts from 1 again
        assert (await cmd(console, first, "warn", "w1", n=1))["t"] == "ack"
        assert (await bid(b2, first, high + 10_000, "b2-2"))["t"] == "ack"
        high += 10_000
        assert (await cmd(console, first, "warn", "w2", n=1))["t"] == "ack"

        # undo: b2's bid is retracted, the phone bid of paddle 1 is the high again; b2 is told
        undone = await cmd(console, first, "undo", "u1")
        assert undone["t"] == "ack"
        retracted = await kind(b2, first, "bid_retracted")
        assert (retracted["paddle"], retracted["amount"]) == (p2, high)
        assert (retracted["high"], retracted["high_paddle"]) == (high - 10_000, p1)
        high -= 10_000
        forbidden = await cmd(b1, first, "undo", "b1-undo")
        assert (forbidden["t"], forbidden["code"]) == ("nack", "forbidden")

        # the increment: set to 500 元, a bid off that grid is refused, on it accepted, reset
        assert (await cmd(console, first, "increment", "i1", op="set", amount=50_000))["t"] \
            == "ack"
        assert (await kind(viewer, first, "increment_changed"))["inc"] == 50_000
        off = await bid(b2, first, high + 60_000, "b2-off")
        assert (off["code"], off["minimum"]) == ("off_increment", high + 50_000)
        assert (await bid(b2, first, high + 50_000, "b2-3"))["t"] == "ack"
        high += 50_000
        reset = await cmd(console, first, "increment", "i2", op="reset")
        assert reset["t"] == "ack"
        changed = await kind(viewer, first, "increment_changed", after=reset["seq"] - 1)
        assert (changed["inc"], changed["by"]) == (10_000, "table")

        # a mistaken hammer, reopened: nothing is settled meanwhile
        assert (await cmd(console, first, "hammer", "h1"))["t"] == "ack"
        await kind(viewer, first, "sold")
        await asyncio.sleep(1.0)  # five drainer ticks
        assert first not in await results(http, sale.session_id)
        reopened = await cmd(console, first, "reopen", "r1")
        assert reopened["t"] == "ack"
        ev = await kind(viewer, first, "reopened")
        assert (ev["high"], ev["paddle"]) == (high, p2)
        assert (await bid(b1, first, high + 10_000, "b1-4"))["t"] == "ack"
        high += 10_000
        assert (await cmd(console, first, "hammer", "h2"))["t"] == "ack"
        sold = await kind(viewer, first, "sold", after=ev["seq"])
        assert (sold["paddle"], sold["amount"]) == (p1, high)
        late = await bid(b2, first, high + 10_000, "b2-late")  # just after the hammer
        assert late["code"] == "lot_closed"

        # the next lot opens: the first lot's close is final, settled, and cannot be reopened
        nxt = await cmd(console, first, "next", "n1")
        assert (nxt["t"], nxt["lot"]) == ("ack", second)
        for _ in range(100):
            if first in await results(http, sale.session_id):
                break
            await asyncio.sleep(0.1)
        assert first in await results(http, sale.session_id)
        again = await cmd(console, first, "reopen", "r2")
        assert (again["t"], again["code"]) == ("nack", "wrong_state")

        # the public history keeps the retracted bid, marked, and the sources
        history = (await http.get(f"/api/v1/lots/{first}/bids")).json()["bids"]
        assert [b["retracted"] for b in history].count(True) == 1
        assert {"online", "phone"} <= {b["source"] for b in history}
        assert next(b for b in history if b["retracted"])["paddle"] == p2

        # the second lot: paused, a bid refused, resumed, passed
        await b1.send(t="sub", lot=second)
        await b1.until(lambda m: m["t"] == "snapshot" and m["lot"] == second)
        assert (await cmd(console, second, "pause", "p1"))["t"] == "ack"
        assert (await bid(b1, second, 1_000_000, "b1-s1"))["code"] == "lot_paused"
        assert (await cmd(console, second, "resume", "rs1"))["t"] == "ack"
        assert (await bid(b1, second, 1_000_000, "b1-s2"))["t"] == "ack"
        assert (await cmd(console, second, "pass", "ps1"))["t"] == "ack"

        # the third lot is withdrawn before it opens; nothing is left for next
        assert (await cmd(console, third, "withdraw", "wd", reason="权属争议"))["t"] == "ack"
        none_left = await cmd(console, second, "next", "n2")
        assert (none_left["t"], none_left["code"]) == ("nack", "wrong_state")

    # over HTTP: the same refusals with their statuses
    staff = {"Authorization": f"Bearer {sale.auctioneer}"}
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        r = await http.post(f"/api/v1/lots/{second}/commands", headers=staff, json={
            "op": "floor", "args": {"paddle": 9_999_999, "amount": 1, "source": "floor"},
            "key": "h-f"})
        assert (r.status_code, r.json()["error"]["code"]) == (422, "unknown_paddle"), r.text
        r = await http.post(f"/api/v1/lots/{first}/commands", headers=staff, json={
            "op": "increment", "args": {"op": "set"}, "key": "h-i"})
        assert (r.status_code, r.json()["error"]["field"]) == (400, "args.amount"), r.text
