"""Every format end to end through the real socket (issue 14, docs/formats.md): a proxy war
with secrets that never reach other bidders, sealed quotes with a revision and a tie, a Dutch
lot with two simultaneous acceptances, a Dutch lot that reaches its floor, and the refusals."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.e2e.harness import ADMIN, Raw, Server, create_sale, raw_client, uscc
from tests.e2e.test_live_auction import command

START, INC = 1_000_000, 10_000


def _leaks(frames: list[dict[str, Any]], secrets: set[int]) -> list[dict[str, Any]]:
    """Frames naming a maximum, a ``mine`` view, or an amount that is some other bidder's
    secret."""
    return [f for f in frames if "max" in f or "mine" in f
            or (f.get("t") == "ev" and f.get("kind") != "bid" and "amount" in f
                and f["amount"] in secrets)]


async def _seen(client: Raw, pred: Any, timeout: float = 10.0) -> dict[str, Any]:
    """The first frame so far that satisfies ``pred`` (one read while waiting for another
    frame included), else the next one that does."""
    for frame in client.inbox:
        if pred(frame):
            return frame
    return await client.until(pred, timeout=timeout)


async def _ack(client: Raw, key: str) -> dict[str, Any]:
    return await client.until(lambda m: m.get("key") == key and m["t"] in ("ack", "nack"))


async def test_proxy_war_two_proxies_and_a_live_bidder(server: Server) -> None:
    sale = await create_sale(server, mode="live", bidders=3)
    lot = sale.lots[0]
    async with (
        raw_client(server, sale.auctioneer) as console,
        raw_client(server, sale.tokens[0]) as b1,
        raw_client(server, sale.tokens[1]) as b2,
        raw_client(server, sale.tokens[2]) as b3,
    ):
        for client in (console, b1, b2, b3):
            await client.send(t="sub", lot=lot)
            await client.until(lambda m: m["t"] == "snapshot")
        assert (await command(console, lot, "open", "o"))["t"] == "ack"
        await b1.send(t="proxy", lot=lot, max=START + 5 * INC, key="p1")
        ack = await _ack(b1, "p1")
        assert ack["t"] == "ack" and ack["max"] == START + 5 * INC  # its owner's ack only
        first = await _seen(b3, lambda m: m.get("t") == "ev" and m["kind"] == "bid")
        assert (first["amount"], first["paddle"], first["auto"]) == (START, sale.paddles[0], True)
        await b2.send(t="proxy", lot=lot, max=START + 8 * INC, key="p2")
        assert (await _ack(b2, "p2"))["t"] == "ack"
        # the console is told that proxies are active, never their maxima
        told = await _seen(console, lambda m: m.get("t") == "proxies" and m["proxies"] == 2)
        assert set(told) == {"t", "lot", "proxies"}
        jump = await _seen(b3, lambda m: m.get("t") == "ev" and m["kind"] == "bid"
                              and m["paddle"] == sale.paddles[1])
        assert jump["amount"] == START + 6 * INC and jump["auto"] is True
        await b3.send(t="bid", lot=lot, amount=START + 7 * INC, key="live")
        assert (await _ack(b3, "live"))["t"] == "ack"
        answer = await _seen(b3, lambda m: m.get("t") == "ev" and m["kind"] == "bid"
                                and m.get("auto") and m["amount"] == START + 8 * INC)
        assert answer["paddle"] == sale.paddles[1]
        await b2.send(t="proxy", lot=lot, max=START + 7 * INC, key="lower")
        refused = await _ack(b2, "lower")
        assert refused["t"] == "nack" and refused["code"] == "too_low"
        await b1.send(t="bid", lot=lot, amount=START + 9 * INC, key="b1live")
        assert (await _ack(b1, "b1live"))["t"] == "ack"
        # 2's maximum is spent: no answer; the console sees proxies are active, no amounts
        async with raw_client(server, sale.auctioneer) as again:
            await again.send(t="sub", lot=lot)
            snap = await again.until(lambda m: m["t"] == "snapshot")
            assert snap["proxies"] == 2 and "mine" not in snap
        async with raw_client(server, sale.tokens[1]) as own:
            await own.send(t="sub", lot=lot)
            snap = await own.until(lambda m: m["t"] == "snapshot")
            assert snap["mine"] == {"proxy_max": START + 8 * INC}
            assert "proxies" not in snap
        assert (await command(console, lot, "hammer", "h"))["t"] == "ack"
        sold = await _seen(b3, lambda m: m.get("t") == "ev" and m["kind"] == "sold")
        assert (sold["paddle"], sold["amount"]) == (sale.paddles[0], START + 9 * INC)
        # no frame to anyone but its owner ever carried a maximum
        assert _leaks(b3.inbox, {START + 5 * INC, START + 8 * INC}) == []
        assert _leaks(console.inbox, {START + 5 * INC, START + 8 * INC}) == []
        assert [f for f in b1.inbox if "max" in f] == [ack]
        assert not [f for f in b3.inbox if f.get("t") == "proxies"]  # staff only
    async with httpx.AsyncClient(base_url=server.base, headers=ADMIN) as http:
        r = await http.get(f"/api/v1/lots/{lot}")
        assert r.json()["format"] == "english"


async def test_sealed_quotes_revision_tie_and_reveal(server: Server) -> None:
    sale = await create_sale(server, mode="live", bidders=3, reserve_fen=START + INC,
                             lot_terms={"format": "sealed", "revisions": 1})
    lot = sale.lots[0]
    async with (
        raw_client(server, sale.auctioneer) as console,
        raw_client(server, sale.tokens[0]) as b1,
        raw_client(server, sale.tokens[1]) as b2,
        raw_client(server, sale.tokens[2]) as b3,
    ):
        await b3.send(t="sub", lot=lot)
        snap = await b3.until(lambda m: m["t"] == "snapshot")
        assert snap["state"]["format"] == "sealed" and snap["state"]["revisions"] == 1
        assert (await command(console, lot, "open", "o"))["t"] == "ack"
        for client, amount, key, expected in [
            (b1, START + 3 * INC, "q1", "ack"), (b2, START + 5 * INC, "q2", "ack"),
            (b1, START + 5 * INC, "q1b", "ack"), (b1, START + 9 * INC, "q1c", "nack"),
        ]:
            await client.send(t="bid", lot=lot, amount=amount, key=key)
            answer = await _ack(client, key)
            assert answer["t"] == expected, answer
        assert answer["code"] == "no_revisions_left"
        await b3.send(t="proxy", lot=lot, max=START * 2, key="px")
        assert (await _ack(b3, "px"))["code"] == "wrong_format"
        def third(m: dict[str, Any]) -> bool:
            return m.get("t") == "ev" and m["kind"] == "quote_received" and m["seq"] == 4

        if not any(third(m) for m in b3.inbox):
            await b3.until(third)
        counts = [m["count"] for m in b3.events(lot) if m["kind"] == "quote_received"]
        assert counts == [1, 2, 2]
        assert all("amount" not in m for m in b3.events(lot))  # nothing before the close
        async with raw_client(server, sale.tokens[0]) as own:
            await own.send(t="sub", lot=lot)
            mine = (await own.until(lambda m: m["t"] == "snapshot"))["mine"]
            assert mine == {"quote": START + 5 * INC, "revisions_left": 0}
        assert (await command(console, lot, "hammer", "h"))["t"] == "ack"
        sold = await _seen(b3, lambda m: m.get("t") == "ev" and m["kind"] == "sold")
        revealed = [(m["paddle"], m["amount"]) for m in b3.events(lot) if m["kind"] == "bid"]
        # b1's revision equals b2's earlier quote: b2 wins the tie
        assert revealed == [(sale.paddles[0], START + 5 * INC), (sale.paddles[1], START + 5 * INC)]
        assert (sold["paddle"], sold["amount"]) == (sale.paddles[1], START + 5 * INC)


async def test_dutch_two_simultaneous_accepts_one_wins(server: Server) -> None:
    sale = await create_sale(server, mode="live", bidders=2, lot_terms={
        "format": "dutch", "step_fen": 100_000, "interval_s": 60, "floor_fen": START // 2})
    lot = sale.lots[0]
    async with (
        raw_client(server, sale.auctioneer) as console,
        raw_client(server, sale.tokens[0]) as b1,
        raw_client(server, sale.tokens[1]) as b2,
    ):
        await b1.send(t="sub", lot=lot)
        snap = await b1.until(lambda m: m["t"] == "snapshot")
        state = snap["state"]
        assert (state["format"], state["step"], state["interval_ms"], state["floor"]) == (
            "dutch", 100_000, 60_000, START // 2)
        assert (await command(console, lot, "open", "o"))["t"] == "ack"
        opened = await _seen(b1, lambda m: m.get("t") == "ev" and m["kind"] == "opened")
        assert opened["ends_at"] - opened["at"] == (5 + 1) * 60_000  # D4
        await b1.send(t="bid", lot=lot, amount=START, key="nobid")
        assert (await _ack(b1, "nobid"))["code"] == "wrong_format"
        await asyncio.gather(b1.send(t="accept", lot=lot, key="a"),
                             b2.send(t="accept", lot=lot, key="a"))
        answers = [await _ack(b1, "a"), await _ack(b2, "a")]
        assert sorted(a["t"] for a in answers) == ["ack", "nack"]
        loser = next(a for a in answers if a["t"] == "nack")
        assert loser["code"] == "lot_closed"
        sold = await _seen(b1, lambda m: m.get("t") == "ev" and m["kind"] == "sold")
        winner = sale.paddles[0] if answers[0]["t"] == "ack" else sale.paddles[1]
        assert (sold["paddle"], sold["amount"]) == (winner, START)


async def test_dutch_floor_passes_by_the_clock(server: Server) -> None:
    sale = await create_sale(server, mode="live", bidders=1, lot_terms={
        "format": "dutch", "step_fen": 100_000, "interval_s": 1, "floor_fen": START - 100_000})
    lot = sale.lots[0]
    async with (
        raw_client(server, sale.auctioneer) as console,
        raw_client(server, sale.tokens[0]) as b1,
    ):
        await b1.send(t="sub", lot=lot)
        await b1.until(lambda m: m["t"] == "snapshot")
        assert (await command(console, lot, "open", "o"))["t"] == "ack"
        passed = await _seen(b1, lambda m: m.get("t") == "ev" and m["kind"] == "passed",
                                timeout=8)
        assert passed["reason"] == "no_bids"
        await b1.send(t="accept", lot=lot, key="late")
        assert (await _ack(b1, "late"))["code"] == "lot_closed"


async def test_format_terms_are_checked_at_creation(server: Server) -> None:
    sale = await create_sale(server, mode="live", bidders=0)
    base = {"title": "一种测试技术 发明专利", "result_type": "专利", "ip_type": "发明专利",
            "technology_field": "电子信息", "transaction_mode": "转让",
            "contract_type": "技术转让", "holder_name": "山东测试大学",
            "holder_uscc": uscc(987_654), "start_price_fen": START, "increment_fen": INC}
    async with httpx.AsyncClient(base_url=server.base, headers=ADMIN) as http:
        url = f"/api/v1/sessions/{sale.session_id}/lots"
        for extra, field in [
            ({"format": "auction"}, "format"),
            ({"step_fen": 5}, "step_fen"),
            ({"format": "sealed", "step_fen": 5}, "step_fen"),
            ({"format": "dutch", "step_fen": 5, "interval_s": 1}, "floor_fen"),
            ({"format": "dutch", "step_fen": 5, "interval_s": 1, "floor_fen": START + 1},
             "floor_fen"),
            ({"format": "sealed", "revisions": 11}, "revisions"),
            ({"format": "rounds", "free_s": 60}, "round_s"),
            ({"format": "english", "round_s": 60}, "round_s"),
        ]:
            r = await http.post(url, json={**base, **extra})
            assert r.status_code == 400, (extra, r.text)
            assert r.json()["error"]["field"] == field, r.text
        r = await http.post(url, json={**base, "format": "sealed", "revisions": 2})
        assert r.status_code == 201, r.text
        assert (r.json()["format"], r.json()["revisions"]) == ("sealed", 2)
        r = await http.patch(f"/api/v1/lots/{r.json()['id']}", json={"format": "english"})
        assert r.status_code == 400 and r.json()["error"]["field"] == "format", r.text


async def test_rounds_end_when_a_round_passes_without_a_bid(server: Server) -> None:
    """Free bidding, then rounds (T1–T4): each bid in a round starts the next; the round that
    passes without a bid ends the lot, sold to the highest bid."""
    sale = await create_sale(server, mode="live", bidders=2, lot_terms={
        "format": "rounds", "free_s": 1, "round_s": 2})
    lot = sale.lots[0]
    async with (
        raw_client(server, sale.auctioneer) as console,
        raw_client(server, sale.tokens[0]) as b1,
        raw_client(server, sale.tokens[1]) as b2,
    ):
        await b1.send(t="sub", lot=lot)
        snap = await b1.until(lambda m: m["t"] == "snapshot")
        assert (snap["state"]["format"], snap["state"]["free_ms"], snap["state"]["round_ms"]) == (
            "rounds", 1000, 2000)
        assert (await command(console, lot, "open", "o"))["t"] == "ack"
        await b1.send(t="bid", lot=lot, amount=START, key="free")
        assert (await _ack(b1, "free"))["t"] == "ack"
        first = await _seen(b1, lambda m: m.get("t") == "ev" and m["kind"] == "round_started",
                               timeout=6)
        assert first["n"] == 1
        await b2.send(t="bid", lot=lot, amount=START + INC, key="r1")
        assert (await _ack(b2, "r1"))["t"] == "ack"
        second = await _seen(b1, lambda m: m.get("t") == "ev" and m["kind"] == "round_started"
                             and m["n"] == 2)
        assert second["n"] == 2 and second["ends_at"] == second["at"] + 2000
        await b2.send(t="proxy", lot=lot, max=START * 2, key="px")
        assert (await _ack(b2, "px"))["code"] == "wrong_format"
        sold = await _seen(b1, lambda m: m.get("t") == "ev" and m["kind"] in ("sold", "passed"),
                              timeout=8)
        assert sold["kind"] == "sold" and sold["at"] >= second["ends_at"]
        assert (sold["paddle"], sold["amount"]) == (sale.paddles[1], START + INC)


async def _holders(server: Server, lot: int, holders: list[dict[str, int]]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.base, headers=ADMIN) as http:
        return await http.put(f"/api/v1/lots/{lot}/preemptors", json={"holders": holders})


async def test_preemptive_holder_equals_the_high_live(server: Server) -> None:
    """R9 in a live lot: the holder equals the high and leads (marked preempt, 优先权 in the
    public history); a non-holder may not; the holder wins at the equal amount."""
    sale = await create_sale(server, mode="live", bidders=3)
    lot = sale.lots[0]
    r = await _holders(server, lot, [{"bidder_id": sale.bidder_ids[1], "order": 1}])
    assert r.status_code == 200, r.text
    assert r.json()["holders"] == [{"bidder_id": sale.bidder_ids[1], "order": 1}]
    bad = await _holders(server, lot, [{"bidder_id": sale.bidder_ids[0], "order": 0}])
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "holders[0].order"
    async with (
        raw_client(server, sale.auctioneer) as console,
        raw_client(server, sale.tokens[0]) as b1,
        raw_client(server, sale.tokens[1]) as b2,
        raw_client(server, sale.tokens[2]) as b3,
    ):
        await b3.send(t="sub", lot=lot)
        await b3.until(lambda m: m["t"] == "snapshot")
        assert (await command(console, lot, "open", "o"))["t"] == "ack"
        for client, amount, key, expected in [
            (b1, START, "k1", "ack"), (b2, START, "k2", "ack"), (b3, START, "k3", "too_low"),
            (b1, START + INC, "k4", "ack"), (b2, START + INC, "k5", "ack"),
        ]:
            await client.send(t="bid", lot=lot, amount=amount, key=key)
            answer = await _ack(client, key)
            assert answer["t"] == expected or answer.get("code") == expected, answer
        late = await _holders(server, lot, [])
        assert late.status_code == 409 and late.json()["error"]["code"] == "bidding_started"
        assert (await command(console, lot, "hammer", "h"))["t"] == "ack"
        sold = await _seen(b3, lambda m: m.get("t") == "ev" and m["kind"] == "sold")
        assert (sold["paddle"], sold["amount"]) == (sale.paddles[1], START + INC)
        marked = [m["amount"] for m in b3.events(lot) if m["kind"] == "bid" and m.get("preempt")]
        assert marked == [START, START + INC]


async def test_preemptive_holder_equals_the_high_timed(server: Server) -> None:
    """R9 in a timed lot: the holder equals the high before the clock ends and wins."""
    sale = await create_sale(server, mode="timed", bidders=2, duration_s=3, window_s=0,
                             extension_s=0)
    lot = sale.lots[0]
    assert (await _holders(server, lot, [
        {"bidder_id": sale.bidder_ids[1], "order": 2}])).status_code == 200
    async with (
        raw_client(server, sale.auctioneer) as console,
        raw_client(server, sale.tokens[0]) as b1,
        raw_client(server, sale.tokens[1]) as b2,
    ):
        await b1.send(t="sub", lot=lot)
        await b1.until(lambda m: m["t"] == "snapshot")
        assert (await command(console, lot, "open", "o"))["t"] == "ack"
        await b1.send(t="bid", lot=lot, amount=START + 3 * INC, key="a")
        assert (await _ack(b1, "a"))["t"] == "ack"
        await b2.send(t="bid", lot=lot, amount=START + 3 * INC, key="b")
        assert (await _ack(b2, "b"))["t"] == "ack"
        sold = await _seen(b1, lambda m: m.get("t") == "ev" and m["kind"] == "sold", timeout=8)
        assert (sold["paddle"], sold["amount"]) == (sale.paddles[1], START + 3 * INC)


async def test_preemption_window_after_a_timed_lots_clock(server: Server) -> None:
    """R10: a holder equals the high after the clock, within the lot's window; a non-holder's
    bid then is lot_closed; the closer sells to the holder once the window is over."""
    sale = await create_sale(server, mode="timed", bidders=3, duration_s=1, window_s=0,
                             extension_s=0, lot_terms={"preempt_window_s": 3})
    lot = sale.lots[0]
    assert (await _holders(server, lot, [
        {"bidder_id": sale.bidder_ids[1], "order": 1}])).status_code == 200
    async with (
        raw_client(server, sale.auctioneer) as console,
        raw_client(server, sale.tokens[0]) as b1,
        raw_client(server, sale.tokens[1]) as b2,
        raw_client(server, sale.tokens[2]) as b3,
    ):
        await b1.send(t="sub", lot=lot)
        await b1.until(lambda m: m["t"] == "snapshot")
        assert (await command(console, lot, "open", "o"))["t"] == "ack"
        opened = await _seen(b1, lambda m: m.get("t") == "ev" and m["kind"] == "opened")
        await b1.send(t="bid", lot=lot, amount=START, key="a")
        assert (await _ack(b1, "a"))["t"] == "ack"
        await asyncio.sleep(max(0.0, (opened["ends_at"] - opened["at"]) / 1000) + 0.3)
        await b3.send(t="bid", lot=lot, amount=START + INC, key="late")
        assert (await _ack(b3, "late"))["code"] == "lot_closed"
        await b2.send(t="bid", lot=lot, amount=START, key="match")
        ack = await _ack(b2, "match")
        assert ack["t"] == "ack" and ack["at"] >= opened["ends_at"], ack
        sold = await _seen(b1, lambda m: m.get("t") == "ev" and m["kind"] == "sold", timeout=8)
        assert (sold["paddle"], sold["amount"]) == (sale.paddles[1], START)
        assert sold["at"] >= opened["ends_at"] + 3000


async def test_absentee_proxy_bids_at_the_opening(server: Server) -> None:
    """P1, P2: a proxy left before the lot opens bids the start price in the opening's call."""
    sale = await create_sale(server, mode="live", bidders=2)
    lot = sale.lots[0]
    async with (
        raw_client(server, sale.auctioneer) as console,
        raw_client(server, sale.tokens[0]) as b1,
        raw_client(server, sale.tokens[1]) as b2,
    ):
        await b1.send(t="proxy", lot=lot, max=START + 2 * INC, key="early")
        assert (await _ack(b1, "early"))["t"] == "ack"
        await b2.send(t="sub", lot=lot)
        await b2.until(lambda m: m["t"] == "snapshot")
        assert (await command(console, lot, "open", "o"))["t"] == "ack"
        bid = await _seen(b2, lambda m: m.get("t") == "ev" and m["kind"] == "bid")
        assert (bid["paddle"], bid["amount"], bid["auto"]) == (sale.paddles[0], START, True)
        await b2.send(t="bid", lot=lot, amount=START + INC, key="b")
        assert (await _ack(b2, "b"))["t"] == "ack"
        answer = await _seen(b2, lambda m: m.get("t") == "ev" and m["kind"] == "bid"
                             and m["amount"] == START + 2 * INC)
        assert answer["paddle"] == sale.paddles[0] and answer["auto"] is True
