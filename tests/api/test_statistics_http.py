"""Statistics over HTTP (issue 16 item 2): periods, breakdowns, roll-ups that add up, access,
bad parameters, the CSV and XLSX exports; the buyer's subsidy estimates (item 3)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from starlette.applications import Starlette

from auction.api import admin, auth, catalogue, http_errors, registrations, statistics
from auction.domain import deadlines
from auction.services import Services
from auction.store import Store
from tests.api import stats_world
from tests.api.conftest import ADMIN, error_of
from tests.api.people import bidder, staff

KINDS = ("settled", "registered")
SUMS = ("count", "total_fen", "tech_fen")


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(
        routes=[*admin.routes, *auth.routes, *registrations.routes, *catalogue.routes,
                *statistics.routes],
        exception_handlers=http_errors.exception_handlers(),
    )
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
async def world(store: Store) -> stats_world.World:
    return await stats_world.build(store)


async def _stats(client: httpx.AsyncClient, code: str, query: str = "",
                 headers: dict[str, str] = ADMIN) -> dict[str, Any]:
    resp = await client.get(f"/api/v1/markets/{code}/statistics{query}", headers=headers)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _sum(parts: list[dict[str, Any]], kind: str, name: str) -> int:
    return sum(int(p[kind][name]) for p in parts)


async def test_every_roll_up_is_the_sum_of_its_children_and_its_own_sessions(
    client: httpx.AsyncClient, world: stats_world.World
) -> None:
    """Province, city and counties: totals = Σ children's totals + Σ own sessions' totals, for
    settled and registered, count and both amounts; the province holds all 12 contracts."""
    for market in (world.province, world.city, *world.counties):
        body = await _stats(client, market.code)
        for kind in KINDS:
            for name in SUMS:
                assert body["totals"][kind][name] == (
                    _sum(body["children"], kind, name) + _sum(body["sessions"], kind, name)
                ), (market.code, kind, name)
    top = await _stats(client, world.province.code)
    assert top["totals"]["settled"]["count"] == 12
    assert top["totals"]["registered"]["count"] == 4
    assert [c["code"] for c in top["children"]] == [world.city.code]
    city = await _stats(client, world.city.code)
    assert top["children"][0]["settled"] == city["totals"]["settled"]
    assert sorted(c["code"] for c in city["children"]) == sorted(m.code for m in world.counties)


async def test_statistics_equal_a_recomputation_from_the_public_results(
    client: httpx.AsyncClient, world: stats_world.World
) -> None:
    """Count, 合同交易总额 and 技术交易额 of each market equal what the public results and lots
    (price, non_tech_fen, registration) give for the sessions of its subtree."""
    subtree = {
        world.province.code: [world.province, world.city, *world.counties],
        world.city.code: [world.city, *world.counties],
        world.counties[0].code: [world.counties[0]],
    }
    for code, markets in subtree.items():
        count = total = tech = reg_count = reg_total = 0
        for market in markets:
            for session_id in set(world.sessions[market.code]):
                results = (await client.get(f"/api/v1/results?session={session_id}")).json()
                for r in results["results"]:
                    lot = (await client.get(f"/api/v1/lots/{r['lot_id']}")).json()
                    count += 1
                    total += r["amount_fen"]
                    tech += max(r["amount_fen"] - lot["non_tech_fen"], 0)
                    if r["registration"] and r["registration"]["status"] == "registered":
                        reg_count += 1
                        reg_total += r["amount_fen"]
        body = await _stats(client, code)
        assert body["totals"]["settled"] == {"count": count, "total_fen": total,
                                             "tech_fen": tech}
        assert body["totals"]["registered"]["count"] == reg_count
        assert body["totals"]["registered"]["total_fen"] == reg_total


async def test_periods_select_by_close_day_and_registration_day(
    client: httpx.AsyncClient, world: stats_world.World
) -> None:
    """A month, a quarter, a year and plain dates: March holds 8 settled lots, Q2 the 4 May
    ones, 2026 all 12; registrations count on the day the office answered (today)."""
    code = world.province.code
    march = await _stats(client, code, "?from=2026-03&to=2026-03")
    assert march["period"] == {"from": "2026-03-01", "to": "2026-03-31"}
    assert march["totals"]["settled"]["count"] == 8
    q2 = await _stats(client, code, "?from=2026-Q2&to=2026-q2")
    assert q2["period"] == {"from": "2026-04-01", "to": "2026-06-30"}
    assert q2["totals"]["settled"]["count"] == 4
    days = await _stats(client, code, "?from=2026-05-20&to=2026-05-20")
    assert days["totals"]["settled"]["count"] == 4
    year = await _stats(client, code, "?from=2026&to=2026")
    assert year["totals"]["settled"]["count"] == 12
    # registrations count on China's day (after 16:00 UTC it is already tomorrow there)
    today = deadlines.day_in_china(datetime.now(UTC)).isoformat()
    registered_today = await _stats(client, code, f"?from=2020-01-01&to={today}")
    assert registered_today["totals"]["registered"]["count"] == 4
    none_yet = await _stats(client, code, "?to=2020")
    assert none_yet["totals"]["settled"]["count"] == 0
    assert none_yet["totals"]["registered"]["count"] == 0


async def test_breakdowns_sum_to_the_totals_and_split_the_parties(
    client: httpx.AsyncClient, world: stats_world.World
) -> None:
    """Each breakdown's rows add up to the totals; 电子信息 holds 8 lots; one buyer per market is
    out of the province (省外); the sellers (12…: 其他事业单位) are all in the province."""
    body = await _stats(client, world.province.code)
    assert set(body["breakdowns"]) == set(body["by"])
    for name, breakdown in body["breakdowns"].items():
        for kind in KINDS:
            for s in SUMS:
                assert _sum(breakdown["rows"], kind, s) == body["totals"][kind][s], (name, kind)
    rows = {r["key"]: r for r in body["breakdowns"]["technology_field"]["rows"]}
    assert rows["电子信息"]["settled"]["count"] == 8
    assert rows["农业"]["settled"]["count"] == 4
    scope = {r["key"]: r for r in body["breakdowns"]["buyer_scope"]["rows"]}
    assert scope["out"]["label"] == "省外" and scope["out"]["settled"]["count"] == 4
    assert scope["in"]["settled"]["count"] == 8
    sellers = body["breakdowns"]["seller_scope"]["rows"]
    assert [(r["key"], r["settled"]["count"]) for r in sellers] == [("in", 12)]
    natures = body["breakdowns"]["seller_nature"]["rows"]
    assert [(r["label"], r["settled"]["count"]) for r in natures] == [("其他事业单位", 12)]
    regions = {r["key"]: r["label"] for r in body["breakdowns"]["seller_region"]["rows"]}
    assert regions[world.city.code] == world.city.name
    modes = {r["key"] for r in body["breakdowns"]["transaction_mode"]["rows"]}
    assert modes == {"转让", "许可", "作价投资"}
    sessions = body["breakdowns"]["session"]["rows"]
    assert len(sessions) == 4 and all(r["settled"]["count"] == 3 for r in sessions)
    only = await _stats(client, world.province.code, "?by=contract_type,session")
    assert set(only["breakdowns"]) == {"contract_type", "session"}


@pytest.mark.parametrize("query", [
    "?by=price", "?by=contract_type,nonsense", "?from=2026-13", "?from=2026-02-30",
    "?from=2026-Q5", "?from=yesterday", "?from=2026-05&to=2026-04", "?to=26",
])
async def test_bad_parameters_are_refused_with_400(
    client: httpx.AsyncClient, world: stats_world.World, query: str
) -> None:
    """An unknown breakdown or a malformed or inverted period: 400 naming ``by`` or ``from``."""
    resp = await client.get(f"/api/v1/markets/{world.province.code}/statistics{query}",
                            headers=ADMIN)
    assert resp.status_code == 400, resp.text
    assert error_of(resp)["field"] == ("by" if "by=" in query else "from")


async def test_who_may_read(client: httpx.AsyncClient, world: stats_world.World) -> None:
    """A market admin of the city reads the city and its counties, not the province; a county's
    finance reads its county only; a bidder and the public read nothing; an unknown market
    is 404 to the platform admin."""
    city_admin = await staff(client, "market_admin", world.city.code)
    county = world.counties[0]
    assert (await client.get(f"/api/v1/markets/{world.city.code}/statistics",
                             headers=city_admin)).status_code == 200
    assert (await client.get(f"/api/v1/markets/{county.code}/statistics",
                             headers=city_admin)).status_code == 200
    refused = await client.get(f"/api/v1/markets/{world.province.code}/statistics",
                               headers=city_admin)
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"
    finance = await staff(client, "finance", county.code)
    assert (await client.get(f"/api/v1/markets/{county.code}/statistics.csv",
                             headers=finance)).status_code == 200
    assert (await client.get(f"/api/v1/markets/{world.city.code}/statistics",
                             headers=finance)).status_code == 403
    _, bidder_login = await bidder(client)
    assert (await client.get(f"/api/v1/markets/{county.code}/statistics",
                             headers=bidder_login)).status_code == 403
    assert (await client.get(f"/api/v1/markets/{county.code}/statistics")).status_code == 401
    assert (await client.get("/api/v1/markets/999999/statistics",
                             headers=ADMIN)).status_code == 404


async def test_csv_and_xlsx_carry_the_same_figures(
    client: httpx.AsyncClient, world: stats_world.World, store: Store
) -> None:
    """The CSV starts with a BOM, its 合计 row equals the JSON totals in 元, a formula-like
    session name is defused; the XLSX's first sheet has the same rows."""
    county = world.counties[1]
    await store.pool.execute("UPDATE sessions SET name = '=HYPERLINK(1)' WHERE id = $1",
                             world.sessions[county.code][0])
    body = await _stats(client, county.code, "?from=2026")
    resp = await client.get(f"/api/v1/markets/{county.code}/statistics.csv?from=2026",
                            headers=ADMIN)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    assert resp.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    total = table[1]
    assert total[0] == "合计"
    settled = body["totals"]["settled"]
    assert total[3:6] == [str(settled["count"]), f"{settled['total_fen'] / 100:.2f}",
                          f"{settled['tech_fen'] / 100:.2f}"]
    assert any(row[1] == "'=HYPERLINK(1)" for row in table)
    assert not any(cell.startswith("=") for row in table for cell in row)
    xlsx = await client.get(f"/api/v1/markets/{county.code}/statistics.xlsx?from=2026",
                            headers=ADMIN)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(cells) == len(table)
    assert cells[1][3] == settled["count"] and cells[1][4] == settled["total_fen"] / 100


async def test_subsidy_estimates_follow_the_rules_and_caps(
    client: httpx.AsyncClient, world: stats_world.World, store: Store
) -> None:
    """A rule set for the city (5 % of what was paid, buyer enterprises, capped at 30万 per
    year): the buyer sees its estimate on its own route marked 预估, capped; the city's
    statistics carry the same estimates, and counties inherit the city's rules."""
    await store.pool.execute(
        "INSERT INTO subsidy_rules (market_code, effective_from, name, source, rules)"
        " VALUES ($1, '2026-01-01', '测试规则', 'test', $2)", world.city.code,
        [{"name": "企业吸纳", "side": "buyer", "natures": ["企业"],
          "contract_types": ["技术转让"], "rate_bp": 500, "base": "paid",
          "cap_fen": 30_000_000}])
    bidder_id, login = await bidder(client)
    county = world.counties[0]
    session_id = world.sessions[county.code][0]
    lots = []
    for price in (400_000_000, 300_000_000):  # 400万 and 300万: 5 % = 20万 and 15万, cap 30万
        lot_id = await stats_world.sold(
            store, world, county, session_id, price=price, non_tech=0, at=stats_world.MAY,
            field_="先进制造", contract_type="技术转让", mode="转让",
            buyer_region=county.code, register=True, buyer_id=bidder_id)
        lots.append(lot_id)
        # the buyer paid it all (a part payment of the whole price: no deposit in this world)
        await store.pool.execute(
            "INSERT INTO lot_payments (lot_id, amount_fen, paid_on, bank_reference)"
            " VALUES ($1, $2, '2026-05-21', $3)", lot_id, price, f"ref-{lot_id}")
    mine = await client.get("/api/v1/me/subsidy-estimates", headers=login)
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["label"] == "预估"
    got = {e["lot_id"]: e for e in body["estimates"]}
    assert got[lots[0]]["estimate_fen"] == 20_000_000 and not got[lots[0]]["capped"]
    assert got[lots[1]]["uncapped_fen"] == 15_000_000
    assert got[lots[1]]["estimate_fen"] == 10_000_000 and got[lots[1]]["capped"]
    stats = await _stats(client, world.city.code)
    assert stats["subsidy"]["label"] == "预估"
    assert [s["name"] for s in stats["subsidy"]["rule_sets"]] == ["测试规则"]
    assert stats["totals"]["registered"]["subsidy_estimate_fen"] == sum(
        e["estimate_fen"] for e in stats["subsidy"]["estimates"])
    ours = {e["lot_id"]: e["estimate_fen"] for e in stats["subsidy"]["estimates"]}
    assert ours[lots[0]] + ours[lots[1]] == 30_000_000
    staff_login = await staff(client, "market_admin", county.code)
    assert (await client.get("/api/v1/me/subsidy-estimates",
                             headers=staff_login)).status_code == 403
