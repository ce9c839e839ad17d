"""Listings (挂牌, issue 15 item 4) over HTTP, with real PostgreSQL and Redis and the real
scheduler and drainer: a listing's terms (period in working days or an exact end; refusals);
bids refused during the period (``listing_period``); at the end a listing with 0 buyers
expires (passed ``no_buyers``, relistable), with 1 is sold at the listing price as 协议成交
(result, 成交确认书, registration packet and 协议成交公示 name it so), with 3 becomes a timed
auction only those 3 may bid in; the public pages show the period and the number of buyers,
never who; the end is decided once, however many schedulers tick."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from auction.api import admin, auth, catalogue, deposits, http_errors, listing, registrations
from auction.api import relist as relist_api
from auction.audit.verify import check_lot_chain, check_result
from auction.domain import deadlines
from auction.domain.errors import Rejection
from auction.rooms.scheduler import Scheduler
from auction.services import Services
from auction.settlement.drainer import Drainer
from auction.store import answers, chain, listing_sale
from auction.store import confirmation as store_confirmation
from tests.api.conftest import ADMIN, LotBody, NewSession, error_of
from tests.e2e.harness import Enrolled, enrol

PRICE = 200_000_000  # the lot_body factory's start price: 200万元, the listing price


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(
        routes=[*admin.routes, *auth.routes, *registrations.routes, *deposits.routes,
                *catalogue.routes, *listing.routes, *relist_api.routes],
        exception_handlers=http_errors.exception_handlers(),
    )
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")


async def listed(client: httpx.AsyncClient, new_session: NewSession, lot_body: LotBody,
                 ends_in_s: float = 2.0, **changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A timed session (no schedule of its own) and a listing in it ending in ``ends_in_s``."""
    session = await new_session(mode="timed")
    end = datetime.now(UTC) + timedelta(seconds=ends_in_s)
    resp = await client.post(f"/api/v1/sessions/{session['id']}/lots", headers=ADMIN,
                             json=lot_body(format="listing", reserve_fen=None, duration_s=600,
                                           listing_ends_at=iso(end), **changes))
    assert resp.status_code == 201, resp.text
    return session, resp.json()


async def buyers(client: httpx.AsyncClient, session_id: int, n: int,
                 new_uscc: Callable[[], str]) -> list[Enrolled]:
    return [await enrol(client, session_id, name=f"意向受让企业{i}", uscc_code=new_uscc(),
                        deposit_fen=PRICE // 10) for i in range(n)]


async def end_and_settle(services: Services, lot_id: int) -> list[int]:
    """Wait for the listing's end, tick the scheduler, drain and settle."""
    lot = await services.store.get_lot(lot_id)
    assert lot.listing_ends_at is not None
    await asyncio.sleep(max(0.0, (lot.listing_ends_at - datetime.now(UTC)).total_seconds()))
    ended = await Scheduler(services).tick()
    drainer = Drainer(services.store, services.redis, services.keys)
    while await drainer.drain_once():
        pass
    return ended


async def test_listing_terms_and_refusals(
    client: httpx.AsyncClient, new_session: NewSession, lot_body: LotBody,
) -> None:
    """``listing_days`` gives an end of working days (the calendar's), ``listing_ends_at`` an
    exact one; a listing in a live session or one with a registration deadline, with a
    reserve, with neither or both, ending before it starts or after the session's hard end is
    400 naming the field; nothing is written then."""
    session = await new_session(mode="timed")
    url = f"/api/v1/sessions/{session['id']}/lots"
    body = lot_body(format="listing", reserve_fen=None, duration_s=600)
    made = await client.post(url, headers=ADMIN, json={**body, "listing_days": 20})
    assert made.status_code == 201, made.text
    lot = made.json()
    start = datetime.fromisoformat(session["starts_at"])
    assert lot["format"] == "listing" and lot["listing_days"] == 20
    assert datetime.fromisoformat(lot["listing_ends_at"]) == deadlines.listing_ends(start, 20)
    page = (await client.get(f"/api/v1/lots/{lot['id']}")).json()
    assert page["listing"] == {
        "starts_at": session["starts_at"], "ends_at": lot["listing_ends_at"],
        "working_days": 20, "price_fen": PRICE, "buyers": 0, "state": "listing"}
    live = await new_session()
    for target, extra, field in (
        (live["id"], {"listing_days": 20}, "format"),
        (session["id"], {"listing_days": 20, "reserve_fen": PRICE}, "reserve_fen"),
        (session["id"], {}, "listing_days"),
        (session["id"], {"listing_days": 5, "listing_ends_at": "2026-05-01T00:00:00+08:00"},
         "listing_days"),
        (session["id"], {"listing_ends_at": "2026-04-01T00:00:00+08:00"}, "listing_ends_at"),
        (session["id"], {"listing_days": 0}, "listing_days"),
        (session["id"], {"free_s": 5, "listing_days": 3}, "free_s"),
    ):
        resp = await client.post(f"/api/v1/sessions/{target}/lots", headers=ADMIN,
                                 json={**body, **extra})
        assert resp.status_code == 400, (extra, resp.text)
        assert error_of(resp)["field"] == field, extra
    closing = await new_session(mode="timed",
                                registration_deadline="2026-04-17T17:00:00+08:00")
    resp = await client.post(f"/api/v1/sessions/{closing['id']}/lots", headers=ADMIN,
                             json={**body, "listing_days": 20})
    assert resp.status_code == 400 and error_of(resp)["field"] == "format"
    hard = await new_session(mode="timed", ends_at="2026-04-20T09:00:00+08:00",
                             hard_end_at="2026-04-21T09:00:00+08:00")
    resp = await client.post(f"/api/v1/sessions/{hard['id']}/lots", headers=ADMIN,
                             json={**body, "listing_ends_at": "2026-04-22T00:00:00+08:00"})
    assert resp.status_code == 400 and error_of(resp)["field"] == "listing_ends_at"
    assert [x["id"] for x in (await client.get(url)).json()["lots"]] == [lot["id"]]


async def test_a_registration_deadline_is_refused_once_a_listing_is_in_the_session(
    client: httpx.AsyncClient, new_session: NewSession, lot_body: LotBody,
) -> None:
    """PATCH /sessions/{id} adding a registration deadline to a session holding a listing is
    400 ``format``, as creating a listing in a session with a deadline is; nothing changes;
    the same PATCH on a session without a listing is taken."""
    session = await new_session(mode="timed")
    plain = await new_session(mode="timed")
    made = await client.post(f"/api/v1/sessions/{session['id']}/lots", headers=ADMIN,
                             json=lot_body(format="listing", reserve_fen=None, duration_s=600,
                                           listing_days=20))
    assert made.status_code == 201, made.text
    deadline = {"registration_deadline": "2026-04-17T17:00:00+08:00", "terms": "新须知"}
    resp = await client.patch(f"/api/v1/sessions/{session['id']}", headers=ADMIN,
                              json=deadline)
    assert resp.status_code == 400, resp.text
    assert (error_of(resp)["code"], error_of(resp)["field"]) == ("bad_request", "format")
    after = (await client.get(f"/api/v1/sessions/{session['id']}", headers=ADMIN)).json()
    assert after["registration_deadline"] is None and after["terms"] != "新须知"
    ok = await client.patch(f"/api/v1/sessions/{session['id']}", headers=ADMIN,
                            json={"terms": "新须知"})
    assert ok.status_code == 200, ok.text
    other = await client.patch(f"/api/v1/sessions/{plain['id']}", headers=ADMIN, json=deadline)
    assert other.status_code == 200, other.text
    assert other.json()["registration_deadline"] is not None


async def test_no_buyers_the_listing_expires_and_may_be_relisted(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, lot_body: LotBody,
) -> None:
    """0 buyers: at its end the lot passes with reason ``no_buyers`` (the public page says
    挂牌期满无意向受让方) and can be relisted as a listing again with a new period."""
    session, lot = await listed(client, new_session, lot_body, ends_in_s=1.0)
    assert await end_and_settle(services, lot["id"]) == [lot["id"]]
    page = (await client.get(f"/api/v1/lots/{lot['id']}")).json()
    assert page["status"] == "passed" and page["result"]["reason"] == "no_buyers"
    assert page["result"]["reason_text"] == "挂牌期满无意向受让方"
    assert page["listing"]["state"] == "expired" and page["listing"]["buyers"] == 0
    assert page["relistable"] is True
    later = await client.post("/api/v1/sessions", headers=ADMIN, json={
        "market_code": session["market_code"], "name": "重新挂牌专场", "season": "special",
        "mode": "timed", "starts_at": iso(datetime.now(UTC) + timedelta(days=3))})
    assert later.status_code == 201, later.text
    again = await client.post(f"/api/v1/lots/{lot['id']}/relist", headers=ADMIN, json={
        "session_id": later.json()["id"], "start_price_fen": PRICE * 4 // 5,
        "listing_days": 10})
    assert again.status_code == 201, again.text
    assert again.json()["format"] == "listing" and again.json()["listing_days"] == 10


async def test_one_buyer_is_a_agreement_at_the_listing_price(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, lot_body: LotBody,
    new_uscc: Callable[[], str],
) -> None:
    """1 buyer: bids during the period are refused ``listing_period`` (R0 first); the public
    pages count the buyer without naming it; at the end the lot is sold to it at the listing
    price, settled like a sale: the result, the 成交确认书 (成交方式 协议成交), the registration
    packet (``deal: agreement``) and 成交公示 under the title 协议成交公示."""
    session, lot = await listed(client, new_session, lot_body, ends_in_s=4.0)
    (buyer,) = await buyers(client, session["id"], 1, new_uscc)
    with pytest.raises(Rejection) as refused:
        await services.rooms.bid(lot["id"], bidder=buyer.bidder_id, paddle=buyer.paddle,
                                 amount=PRICE)
    assert refused.value.code == "listing_period"
    page = (await client.get(f"/api/v1/lots/{lot['id']}")).json()
    assert page["listing"]["buyers"] == 1 and page["listing"]["state"] == "listing"
    assert "意向受让企业" not in json.dumps(page, ensure_ascii=False)
    found = (await client.get("/api/v1/listing", params={"session": session["id"]})).json()
    assert found["lots"][0]["format"] == "listing" and found["lots"][0]["listing"]["buyers"] == 1
    await asyncio.sleep(max(0.0, (datetime.fromisoformat(lot["listing_ends_at"])
                                  - datetime.now(UTC)).total_seconds()))
    # two processes' schedulers at once (the lease lapsed): the listing ends once
    ticks = await asyncio.gather(Scheduler(services).tick(), Scheduler(services).tick())
    assert sorted(ticks) == [[], [lot["id"]]]
    assert await end_and_settle(services, lot["id"]) == []
    kinds = [e.kind for e in await services.rooms.events_after(lot["id"], 0) or []]
    assert kinds == ["opened", "bid", "sold"]
    page = (await client.get(f"/api/v1/lots/{lot['id']}")).json()
    assert page["status"] == "sold" and page["listing"]["state"] == "agreement"
    assert page["result"]["amount_fen"] == PRICE and page["result"]["paddle"] == buyer.paddle
    settled = await store_confirmation.settled(services.store, lot["id"])
    assert settled is not None and settled.winner_id == buyer.bidder_id
    assert settled.confirmation.deal_label == "协议成交"
    packet = json.loads((await answers.packet(services.store, lot["id"], None)).packet_json)
    assert packet["contract"]["deal"] == "agreement"
    assert packet["contract"]["deal_label"] == "协议成交"
    assert packet["contract"]["total_amount_fen"] == PRICE
    (record,) = await chain.lot_records(services.store, [lot["id"]])
    assert check_lot_chain(record) is None and check_result(record) is None  # auction verify
    notice = (await client.get("/api/v1/publicity", params={"session": session["id"]})).json()
    (sold,) = notice["sold"]
    assert (sold["deal"], sold["notice_title"], sold["amount_fen"]) == (
        "agreement", "协议成交公示", PRICE)


async def test_three_buyers_bid_in_an_auction_among_them(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, lot_body: LotBody,
    new_uscc: Callable[[], str],
) -> None:
    """3 buyers: at the end the lot opens as a timed english auction from the listing price
    (``opened`` names 3 buyers); a bidder who qualified only after the end is refused
    ``deposit_required``; a buyer's bid is taken; a second scheduler ticking again changes
    nothing (the decision stands, the room answers from its idempotency key)."""
    session, lot = await listed(client, new_session, lot_body, ends_in_s=6.0)
    three = await buyers(client, session["id"], 3, new_uscc)
    assert await end_and_settle(services, lot["id"]) == [lot["id"]]
    late = (await buyers(client, session["id"], 1, new_uscc))[0]
    assert await Scheduler(services).tick() == []  # ended once
    decision = await listing_sale.decision(services.store, lot["id"])
    assert decision is not None and decision.outcome == "auction"
    assert sorted(b for b, _ in decision.buyers) == sorted(b.bidder_id for b in three)
    page = (await client.get(f"/api/v1/lots/{lot['id']}")).json()
    assert page["status"] == "open" and page["live"]["format"] == "english"
    assert page["listing"] == {**page["listing"], "buyers": 3, "state": "auction"}
    events = await services.rooms.events_after(lot["id"], 0) or []
    assert [e.kind for e in events] == ["opened"] and events[0].data["buyers"] == 3
    with pytest.raises(Rejection) as refused:
        await services.rooms.bid(lot["id"], bidder=late.bidder_id, paddle=late.paddle,
                                 amount=PRICE)
    assert refused.value.code == "deposit_required"
    taken = await services.rooms.bid(lot["id"], bidder=three[1].bidder_id,
                                     paddle=three[1].paddle, amount=PRICE)
    assert taken.seq == 2
    with pytest.raises(Rejection) as again:
        await services.rooms.bid(lot["id"], bidder=three[2].bidder_id, paddle=three[2].paddle,
                                 amount=PRICE)
    assert again.value.code == "too_low"


async def test_a_restart_after_the_decision_keeps_it(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, lot_body: LotBody,
    new_uscc: Callable[[], str],
) -> None:
    """A process that recorded the end (2 buyers) and died before the room heard of it: a
    buyer qualifying meanwhile does not count; the next tick ends the room with the recorded
    decision, an auction the late buyer cannot bid in."""
    session, lot = await listed(client, new_session, lot_body, ends_in_s=4.0)
    two = await buyers(client, session["id"], 2, new_uscc)
    await asyncio.sleep(max(0.0, (datetime.fromisoformat(lot["listing_ends_at"])
                                  - datetime.now(UTC)).total_seconds()))
    recorded = await listing_sale.decide(
        services.store, lot["id"], [(b.bidder_id, b.paddle) for b in two])
    late = (await buyers(client, session["id"], 1, new_uscc))[0]
    assert (await listing_sale.decide(services.store, lot["id"], [])) == recorded
    assert await end_and_settle(services, lot["id"]) == [lot["id"]]
    events = await services.rooms.events_after(lot["id"], 0) or []
    assert events[0].kind == "opened" and events[0].data["buyers"] == 2
    with pytest.raises(Rejection) as refused:
        await services.rooms.bid(lot["id"], bidder=late.bidder_id, paddle=late.paddle,
                                 amount=PRICE)
    assert refused.value.code == "deposit_required"
    page = (await client.get(f"/api/v1/lots/{lot['id']}")).json()
    assert (page["listing"]["buyers"], page["listing"]["state"]) == (2, "auction")


class CountingPool:
    """The real pool, counting the round trips asked of it (each ``acquire`` counts one)."""

    def __init__(self, pool: Any) -> None:
        self.pool, self.calls = pool, 0

    def __getattr__(self, name: str) -> Any:
        if name in ("fetch", "fetchrow", "fetchval", "execute", "executemany", "acquire"):
            self.calls += 1
        return getattr(self.pool, name)


async def test_the_catalogue_counts_a_pages_buyers_in_one_query(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, lot_body: LotBody,
    new_uscc: Callable[[], str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GET /api/v1/listing during the period asks PostgreSQL as often for four listings as
    for one (their qualified buyers in one query for the page), and counts right: a deposit
    for one lot counts for it only, a session-wide one for every listing."""
    session, first = await listed(client, new_session, lot_body, ends_in_s=3600)
    await enrol(client, session["id"], name="意向受让企业甲", uscc_code=new_uscc(),
                deposit_fen=PRICE // 10, lot_id=first["id"])
    await enrol(client, session["id"], name="意向受让企业乙", uscc_code=new_uscc(),
                deposit_fen=PRICE // 10)
    counting = CountingPool(services.store.pool)
    monkeypatch.setattr(services.store, "pool", counting)

    async def page() -> tuple[int, dict[int, int]]:
        before = counting.calls
        resp = await client.get(f"/api/v1/listing?session={session['id']}")
        assert resp.status_code == 200, resp.text
        return counting.calls - before, {
            lot["id"]: lot["listing"]["buyers"] for lot in resp.json()["lots"]}

    one, buyers_of = await page()
    assert buyers_of == {first["id"]: 2}
    end = datetime.now(UTC) + timedelta(hours=1)
    more = []
    for _ in range(3):
        resp = await client.post(
            f"/api/v1/sessions/{session['id']}/lots", headers=ADMIN,
            json=lot_body(format="listing", reserve_fen=None, duration_s=600,
                          listing_ends_at=iso(end)))
        assert resp.status_code == 201, resp.text
        more.append(resp.json()["id"])
    four, buyers_of = await page()
    assert buyers_of == {first["id"]: 2, **dict.fromkeys(more, 1)}
    assert four == one
