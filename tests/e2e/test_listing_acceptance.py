"""The acceptance of issue 15's listings (挂牌), as an independent client sees it: two `auction
serve` processes share PostgreSQL and Redis (one scheduler works at a time, under its lease);
a client creates a timed session with two listings ending a few seconds ahead, one buyer
registers intent (deposit for the first listing) and two for the second; bids during the
period are refused ``listing_period``; at the end — within about a second — the first is sold
to its buyer at the listing price (协议成交, published as 协议成交公示) and the second opens as
a timed auction only its two buyers bid in, which one of them wins; each listing ends once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.codes import reserve
from tests.e2e.harness import ADMIN, enrol, raw_client, uscc
from tests.e2e.test_live_auction import wait_for
from tests.e2e.test_scheduled_sessions import Processes, iso, ms, processes, sleep_until

__all__ = ["processes"]  # the fixture, shared with the scheduled-sessions test

PRICE, INC = 1_000_000, 10_000


async def test_listings_end_as_agreement_and_as_auction(processes: Processes) -> None:
    a = await processes.start()
    b = await processes.start()
    tag = uuid.uuid4().int % 10**6
    now = datetime.now(UTC).replace(microsecond=0)
    ends = now + timedelta(seconds=14)
    async with httpx.AsyncClient(base_url=a.base, headers=ADMIN, timeout=10) as http:
        code = f"41{10 + tag % 90:02d}00"
        reserve(code)
        if code not in {m["code"] for m in (await http.get("/api/v1/markets")).json()["markets"]}:
            r = await http.post("/api/v1/markets", json={
                "code": code, "slug": f"l-{tag}", "name": f"挂牌市场{tag}", "level": "city"})
            assert r.status_code == 201, r.text
        r = await http.post("/api/v1/sessions", json={
            "market_code": code, "name": f"挂牌专场{tag}", "season": "special", "mode": "timed",
            "starts_at": iso(now - timedelta(seconds=1)), "extension_window_s": 2,
            "extension_s": 3, "max_extensions": 2})
        assert r.status_code == 201, r.text
        session = r.json()["id"]
        lots = []
        for i in range(2):
            r = await http.post(f"/api/v1/sessions/{session}/lots", json={
                "title": f"挂牌测试技术{i}", "result_type": "专利", "ip_type": "发明专利",
                "technology_field": "新材料及其应用", "transaction_mode": "转让",
                "contract_type": "技术转让", "holder_name": "河南测试研究院",
                "holder_uscc": uscc(700_000 + tag), "start_price_fen": PRICE,
                "increment_fen": INC, "duration_s": 4, "format": "listing",
                "listing_ends_at": iso(ends)})
            assert r.status_code == 201, r.text
            lots.append(r.json()["id"])
        one, two, three = [
            await enrol(http, session, name=f"意向受让方{tag}-{n}", uscc_code=uscc(tag * 10 + n),
                        deposit_fen=PRICE // 10, lot_id=lots[0] if n == 0 else lots[1])
            for n in range(3)]
        pages = [(await http.get(f"/api/v1/lots/{lot}")).json()["listing"] for lot in lots]
        assert [(p["buyers"], p["state"]) for p in pages] == [(1, "listing"), (2, "listing")]
        assert pages[0]["ends_at"] == iso(ends)
        assert datetime.now(UTC) < ends - timedelta(seconds=1), "enrolment took too long"

    async with raw_client(b) as watcher, raw_client(a, two.token) as bidder:
        for lot in lots:
            await watcher.send(t="sub", lot=lot)
            await watcher.until(lambda m: m["t"] == "snapshot")
        await bidder.send(t="bid", lot=lots[1], amount=PRICE, key="early")
        early = await bidder.until(lambda m: m.get("key") == "early")
        assert (early["t"], early["code"]) == ("nack", "listing_period")

        def first(lot: int, kind: str) -> Callable[[dict[str, Any]], bool]:
            return lambda m: m.get("t") == "ev" and m["lot"] == lot and m["kind"] == kind

        sold = await watcher.until(first(lots[0], "sold"), timeout=20)
        assert (sold["amount"], sold["paddle"]) == (PRICE, one.paddle)
        assert sold["at"] - ms(ends) < 2_000  # the scheduler looks every 200 ms here
        opened = await watcher.until(first(lots[1], "opened"), timeout=10)
        assert opened["buyers"] == 2 and opened["start"] == PRICE
        await sleep_until(ends)
        await bidder.send(t="bid", lot=lots[1], amount=PRICE, key="in-auction")
        ack = await bidder.until(lambda m: m.get("key") == "in-auction")
        assert ack["t"] == "ack", ack
        won = await watcher.until(first(lots[1], "sold"), timeout=20)
        assert (won["amount"], won["paddle"]) == (PRICE, two.paddle)
        for lot in lots:
            assert [e["kind"] for e in watcher.events(lot)].count("opened") == 1
    assert three.paddle not in (one.paddle, two.paddle)

    async with httpx.AsyncClient(base_url=b.base) as http:
        async def settled() -> bool:
            notice = (await http.get("/api/v1/publicity", params={"session": session})).json()
            return len(notice["sold"]) == 2
        await wait_for(settled, timeout=15)
        notice = (await http.get("/api/v1/publicity", params={"session": session})).json()
        deals = {s["lot_id"]: (s["deal"], s["notice_title"]) for s in notice["sold"]}
        assert deals == {lots[0]: ("agreement", "协议成交公示"),
                         lots[1]: ("auction", "成交公示")}
        states = [(await http.get(f"/api/v1/lots/{lot}")).json()["listing"]["state"]
                  for lot in lots]
        assert states == ["agreement", "auction"]
