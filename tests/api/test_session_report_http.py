"""The session report (issue 12), JSON and XLSX: after a sale, a pass and a withdrawal are
settled and the deposits settled, its lots, bidders, deposits and totals; who may read it."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from starlette.applications import Starlette

from auction.api import admin, auth, catalogue, deposits, http_errors, registrations, report
from auction.services import Services
from auction.settlement.drainer import Drainer
from tests.api.conftest import ADMIN, NewLot, NewSession, error_of
from tests.api.people import bidder, staff
from tests.e2e.harness import enrol


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process app with the admin, registration, deposit and report routes."""
    app = Starlette(
        routes=[*admin.routes, *auth.routes, *registrations.routes, *deposits.routes,
                *catalogue.routes, *report.routes],
        exception_handlers=http_errors.exception_handlers(),
    )
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def test_the_report_after_a_sale_counts_lots_bidders_and_deposits(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot,
    new_uscc: Callable[[], str],
) -> None:
    """One lot sold to the second bidder after three bids, one passed without bids, one
    withdrawn; the deposits settled: the report names the buyer with paddle and price, the
    bid counts, both bidders, the winner's deposit applied and the other released, and the
    totals; the XLSX holds the same."""
    session = await new_session()
    sid = session["id"]
    sold, passed, withdrawn = [await new_lot(sid, reserve_fen=None) for _ in range(3)]
    rival = await enrol(client, sid, name="对手企业", uscc_code=new_uscc(),
                        deposit_fen=20_000_000)
    buyer = await enrol(client, sid, name="买受企业", uscc_code=new_uscc(),
                        deposit_fen=25_000_000)
    rooms = services.rooms
    await rooms.open(sold["id"])
    await rooms.bid(sold["id"], bidder=rival.bidder_id, paddle=rival.paddle, amount=200_000_000)
    await rooms.bid(sold["id"], bidder=buyer.bidder_id, paddle=buyer.paddle, amount=210_000_000)
    await rooms.bid(sold["id"], bidder=rival.bidder_id, paddle=rival.paddle, amount=220_000_000)
    await rooms.bid(sold["id"], bidder=buyer.bidder_id, paddle=buyer.paddle, amount=230_000_000)
    await rooms.close(sold["id"], "hammer")
    await rooms.open(passed["id"])
    await rooms.close(passed["id"], "pass")
    await rooms.command(withdrawn["id"], "withdraw", "权属争议")
    drainer = Drainer(services.store, services.redis, services.keys)
    while await drainer.drain_once():
        pass
    finance = await staff(client, "finance", session["market_code"])
    settled = await client.post(f"/api/v1/sessions/{sid}/deposits/settle", headers=finance)
    assert settled.status_code == 200, settled.text

    resp = await client.get(f"/api/v1/sessions/{sid}/report", headers=finance)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["session"]["id"] == sid
    lots = {lot["lot_id"]: lot for lot in body["lots"]}
    sale = lots[sold["id"]]
    assert sale["bid_count"] == 4
    result = sale["result"]
    assert (result["outcome"], result["outcome_text"], result["amount_fen"], result["paddle"]) \
        == ("sold", "成交", 230_000_000, buyer.paddle)
    assert result["buyer"]["name"] == "买受企业"
    assert result["closed_at"].endswith("+08:00")
    assert lots[passed["id"]]["result"]["outcome"] == "passed"
    assert lots[passed["id"]]["result"]["reason_text"]
    assert lots[passed["id"]]["bid_count"] == 0
    assert lots[withdrawn["id"]]["result"]["outcome"] == "withdrawn"
    bidders = {b["name"]: b for b in body["bidders"]}
    assert set(bidders) == {"对手企业", "买受企业"}
    assert bidders["买受企业"]["paddle"] == buyer.paddle
    assert bidders["买受企业"]["won_lots"] == [sold["id"]]
    assert bidders["对手企业"]["won_lots"] == [] and bidders["对手企业"]["registered"]
    states = {d["paddle"]: (d["state"], d["amount_fen"]) for d in body["deposits"]}
    assert states == {buyer.paddle: ("applied", 25_000_000),
                      rival.paddle: ("released", 20_000_000)}
    totals = body["totals"]
    assert totals["lots"] == {"total": 3, "sold": 1, "passed": 1, "withdrawn": 1,
                              "unsettled": 0}
    assert totals["hammer_total_fen"] == 230_000_000
    assert totals["bid_count"] == 4 and totals["registered"] == 2
    assert (totals["deposits_applied_fen"], totals["deposits_released_fen"]) == (
        25_000_000, 20_000_000)

    sheet = await client.get(f"/api/v1/sessions/{sid}/report.xlsx", headers=finance)
    assert sheet.status_code == 200, sheet.text
    assert sheet.headers["content-disposition"].startswith("attachment;")
    book = load_workbook(io.BytesIO(sheet.content))
    assert book.sheetnames == ["汇总", "标的", "竞买人", "保证金"]
    summary = {r[0]: r[1] for r in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["成交总额 (元)"] == 2_300_000 and summary["成交"] == 1
    lines = list(book["标的"].iter_rows(min_row=2, values_only=True))
    assert lines[0][2:8] == (sold["title"], "成交", 2_300_000, "买受企业", buyer.paddle, 4)
    assert sorted(r[4] for r in book["保证金"].iter_rows(min_row=2, values_only=True)) == sorted(
        ["已转为价款", "已退还"])


async def test_an_unsettled_session_reports_its_lots_without_results(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot
) -> None:
    """Before any sale: every lot listed with ``result`` null, counted as unsettled."""
    sid = (await new_session())["id"]
    await new_lot(sid)
    body = (await client.get(f"/api/v1/sessions/{sid}/report", headers=ADMIN)).json()
    [lot] = body["lots"]
    assert (lot["result"], lot["status"], lot["bid_count"]) == (None, "scheduled", 0)
    assert body["totals"]["lots"]["unsettled"] == 1 and body["bidders"] == []


async def test_the_markets_staff_read_it_and_nobody_else(
    client: httpx.AsyncClient, new_session: NewSession
) -> None:
    """The market's admin, finance and auctioneer read the report; another market's admin,
    a bidder and the anonymous do not (403 / 401); an unknown session is 403, 404 to the
    platform admin only."""
    session = await new_session()
    sid = session["id"]
    code = session["market_code"]
    for path in ("report", "report.xlsx"):
        url = f"/api/v1/sessions/{sid}/{path}"
        for role in ("market_admin", "finance", "auctioneer"):
            resp = await client.get(url, headers=await staff(client, role, code))
            assert resp.status_code == 200, (role, resp.text)
        other = await staff(client, "market_admin", (await new_session())["market_code"])
        _, own = await bidder(client)
        for who in (other, own):
            resp = await client.get(url, headers=who)
            assert resp.status_code == 403 and error_of(resp)["code"] == "forbidden"
        assert (await client.get(url)).status_code == 401
        unknown = f"/api/v1/sessions/999999999/{path}"
        assert (await client.get(unknown, headers=other)).status_code == 403
        assert (await client.get(unknown, headers=ADMIN)).status_code == 404
