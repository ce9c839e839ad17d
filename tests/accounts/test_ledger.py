"""Deposits: the bid check, settlement of a session's deposits, forfeits, refunds and the
money-conservation check per market, with two county sessions running at the same time."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from auction.domain.deposits import DepositState, after_session, can_move, covers
from tests.accounts.world import INC, START, bearer, build_world, county, ok
from tests.e2e.harness import Raw, Server, enrol, raw_client, uscc


async def bid(raw: Raw, lot: int, amount: int, key: str) -> dict[str, Any]:
    await raw.send(t="bid", lot=lot, amount=amount, key=key)
    return await raw.until(lambda m: m.get("key") == key)


async def cmd(raw: Raw, lot: int, op: str, key: str) -> dict[str, Any]:
    await raw.send(t="cmd", lot=lot, op=op, key=key)
    return await raw.until(lambda m: m.get("key") == key)


def test_deposit_rules() -> None:
    """Moves are guarded; a band covers lots up to its amount; winners apply, others release."""
    assert can_move(DepositState.CONFIRMED, DepositState.HELD)
    assert not can_move(DepositState.RELEASED, DepositState.APPLIED)
    assert covers(None, 100, DepositState.HELD, lot_id=7, requirement_fen=100)
    assert not covers(None, 99, DepositState.HELD, lot_id=7, requirement_fen=100)
    assert not covers(8, 500, DepositState.HELD, lot_id=7, requirement_fen=100)
    assert not covers(None, 500, DepositState.RELEASED, lot_id=7, requirement_fen=100)
    assert after_session(None, frozenset({7})) is DepositState.APPLIED
    assert after_session(8, frozenset({7})) is DepositState.RELEASED


async def test_two_counties_sell_at_once_and_money_is_conserved(
    server: Server, http: httpx.AsyncClient
) -> None:
    """Two county sessions run concurrently; each auctioneer sells its lots; after settling,
    Σ confirmed = Σ held + released + applied + forfeited per market, in fen."""
    world = await build_world(http, bidders=2, lots=2)

    async def run(c: Any) -> None:
        async with (
            raw_client(server, c.tokens["auctioneer"]) as console,
            raw_client(server, c.bidders[0]["token"]) as b0,
            raw_client(server, c.bidders[1]["token"]) as b1,
        ):
            for i, lot in enumerate(c.lots):
                start = START * (i + 1)
                assert (await cmd(console, lot, "open", f"o{lot}"))["t"] == "ack"
                assert (await bid(b0, lot, start, f"a{lot}"))["t"] == "ack"
                assert (await bid(b1, lot, start + INC, f"b{lot}"))["t"] == "ack"
                assert (await cmd(console, lot, "hammer", f"h{lot}"))["t"] == "ack"

    await asyncio.gather(run(world.a), run(world.b))

    async def settled(c: Any) -> dict[str, Any]:
        for _ in range(100):
            resp = await http.post(f"/api/v1/sessions/{c.session_id}/deposits/settle",
                                   headers=bearer(c.tokens["finance"]))
            if resp.status_code == 200:
                return dict(resp.json())
            assert resp.json()["error"]["code"] == "session_not_settled", resp.text
            await asyncio.sleep(0.1)
        raise AssertionError("lots were not settled")

    for c in (world.a, world.b):
        summary = await settled(c)
        assert (summary["applied"], summary["released"]) == (1, 1)  # bidder 1 won both lots
        refunds = await ok(await http.get(f"/api/v1/sessions/{c.session_id}/deposits",
                                          params={"state": "released"},
                                          headers=bearer(c.tokens["finance"])))
        assert [d["paddle"] for d in refunds["deposits"]] == [c.bidders[0]["paddle"]]
        applied = await ok(await http.get(f"/api/v1/sessions/{c.session_id}/deposits",
                                          params={"state": "applied"},
                                          headers=bearer(c.tokens["finance"])))
        # the winner defaults (悔拍): its applied deposit is forfeited
        forfeited = await ok(await http.post(
            f"/api/v1/deposits/{applied['deposits'][0]['id']}/forfeit",
            headers=bearer(c.tokens["finance"]), json={"reason": "买受人未签署成交确认书"}))
        assert forfeited["state"] == "forfeited"
    ledger = await ok(await http.get(f"/api/v1/markets/{world.province}/ledger",
                                     headers=bearer(world.tokens["province_admin"])))
    rows = {m["market_code"]: m for m in ledger["markets"]}
    assert ledger["conserved"] and set(rows) >= {world.a.code, world.b.code}
    for c in (world.a, world.b):
        row = rows[c.code]
        paid = 2 * (START * 2 // 10)
        b = row["balances"]
        assert row["received_fen"] == paid == (
            b["confirmed"] + b["held"] + b["released"] + b["applied"] + b["forfeited"]
        )
        assert (b["released"], b["forfeited"]) == (paid // 2, paid // 2)


async def test_bid_without_a_sufficient_deposit_is_refused(
    server: Server, http: httpx.AsyncClient
) -> None:
    """A deposit that covers another lot only gets nack deposit_required; confirming a per-lot
    deposit that covers this one lets the same bid through."""
    world = await build_world(http, bidders=1, lots=1)
    poor = await county(http, f"{int(world.b.code) + 1:06d}", world.city, "poor", bidders=0,
                        lots=2)
    made = await enrol(  # covers lot 0 only, not lot 1 (2×START)
        http, poor.session_id, name="只交一个标的保证金的企业", uscc_code=uscc(7_000_001),
        deposit_fen=START // 10, lot_id=poor.lots[0],
        approver=bearer(poor.tokens["market_admin"]), finance=bearer(poor.tokens["finance"]),
    )
    b = {"token": made.token, "registration": made.registration_id}
    async with (
        raw_client(server, poor.tokens["auctioneer"]) as console,
        raw_client(server, b["token"]) as bidder,
    ):
        lot = poor.lots[1]
        assert (await cmd(console, lot, "open", "o"))["t"] == "ack"
        refused = await bid(bidder, lot, 2 * START, "k1")
        assert (refused["t"], refused["code"]) == ("nack", "deposit_required")
        await ok(await http.post(f"/api/v1/registrations/{b['registration']}/deposit",
                                 headers=bearer(poor.tokens["finance"]),
                                 json={"deposit_fen": 2 * START // 10, "lot_id": lot}))
        assert (await bid(bidder, lot, 2 * START, "k2"))["t"] == "ack"


async def test_bids_are_rate_limited_per_bidder(server: Server, http: httpx.AsyncClient) -> None:
    """Past the per-bidder limit a bid gets nack rate_limited with retry_after_ms."""
    world = await build_world(http, bidders=1, lots=1)
    c = world.a
    lot = c.lots[0]
    async with (
        raw_client(server, c.tokens["auctioneer"]) as console,
        raw_client(server, c.bidders[0]["token"]) as b0,
    ):
        assert (await cmd(console, lot, "open", "o"))["t"] == "ack"
        answers = [await bid(b0, lot, START, f"r{i}") for i in range(25)]
    limited = [a for a in answers if a.get("code") == "rate_limited"]
    assert limited and all(a["retry_after_ms"] > 0 for a in limited)
