"""Technology-transaction statistics and subsidy estimates (docs/http-api.md "Statistics").

- ``GET /api/v1/markets/{code}/statistics?from=&to=&by=``: the market's figures over its whole
  subtree for the period (:mod:`auction.domain.statistics`: settled by the day the lot closed,
  registered by the day the office registered it), the figures of each child market's subtree
  and of each of the market's own sessions (their sums are the totals), the breakdowns ``by``
  names (comma-separated, default all) and the subsidy estimates (预估) of its registered
  contracts under the rules in force (:mod:`auction.domain.subsidy`). ``.csv`` (UTF-8 with a
  BOM) and ``.xlsx`` give the same as files.
- ``GET /api/v1/me/subsidy-estimates``: a bidder's own login: the estimates of the contracts it
  won as buyer (吸纳方), by lot, marked 预估.

Who may read a market's statistics: its staff with ``view_statistics`` (docs/roles.md: a market
admin of it or of a market above it, its finance, the platform admin). The public sees nothing
of these routes (it has the public results).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from auction.accounts.policy import Action, MarketTree
from auction.api import guard
from auction.api.admin import missing
from auction.api.guard import Denied
from auction.api.http_errors import BadRequest
from auction.api.statistics_files import csv_text, workbook_bytes
from auction.api.tokens import Principal
from auction.domain import statistics as stats
from auction.domain.identity import mask_resident_id
from auction.domain.registration_form import PERSON
from auction.domain.subsidy import ESTIMATE_LABEL, Estimate, estimate
from auction.services import Services
from auction.store import statistics as stats_store
from auction.store.errors import NotFound

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _codes_up(rows: list[stats_store.MarketRow]) -> dict[int, tuple[str, ...]]:
    tree = MarketTree({m.id: m.parent_id for m in rows})
    code = {m.id: m.code for m in rows}
    return {m.id: tuple(code[a] for a in tree.ancestors(m.id) if a in code) for m in rows}


async def _sales_with_estimates(
    services: Services, rows: list[stats_store.MarketRow],
) -> tuple[list[stats_store.Sale], list[Estimate], list[Any]]:
    """Every sold lot of the deployment with the subsidy estimates of the registered ones
    (caps run per party and year across every market under a rule set, so all are read)."""
    sets = await stats_store.rule_sets(services.store)
    sales = await stats_store.sales(services.store, [m.id for m in rows], _codes_up(rows))
    estimates = estimate([s.claim for s in sales if s.claim is not None], sets)
    return sales, estimates, sets


def _with_subsidy(sales: list[stats_store.Sale], estimates: list[Estimate]) -> list[stats.Contract]:
    by_lot: dict[int, int] = defaultdict(int)
    for e in estimates:
        by_lot[e.lot_id] += e.estimate_fen
    out = []
    for s in sales:
        c = s.contract
        if by_lot.get(c.lot_id):
            c = replace(c, subsidy_fen=by_lot[c.lot_id])
        out.append(c)
    return out


async def build(request: Request) -> dict[str, Any]:
    """The statistics' JSON for the request (module docstring), after the access check."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    code = request.path_params["code"]
    try:
        market = await services.store.get_market_by_code(code)
    except NotFound:
        raise missing(who, "技术市场不存在", "code") from None
    await guard.require(services, who, Action.VIEW_STATISTICS, market_id=market.id)
    query = request.query_params
    try:
        span = stats.period(query.get("from", "").strip(), query.get("to", "").strip())
    except stats.PeriodError:
        raise BadRequest(
            "查询参数 from / to 应为 YYYY、YYYY-Qn、YYYY-MM 或 YYYY-MM-DD, 且 to 不早于 from",
            "from") from None
    try:
        dimensions = stats.parse_by(query.get("by", ""))
    except ValueError as exc:
        raise BadRequest(f"查询参数 by 含未知的分组「{exc}」, 可用: {', '.join(stats.DIMENSIONS)}",
                         "by") from None
    rows = await stats_store.markets(services.store)
    tree = MarketTree({m.id: m.parent_id for m in rows})
    sales, estimates, sets = await _sales_with_estimates(services, rows)
    subtree = set(tree.subtree(market.id))
    contracts = [c for c in _with_subsidy(sales, estimates) if c.market_id in subtree]
    province = market.code[:2]
    names = {m.code: m.name for m in rows}
    session_names = {str(c.session_id): c.session_name for c in contracts}
    children = [m for m in rows if m.parent_id == market.id]
    own_sessions = sorted({(c.session_id, c.session_name) for c in contracts
                           if c.market_id == market.id})
    lots = {c.lot_id for c in contracts}
    persons = {s.claim.buyer.key for s in sales
               if s.claim is not None and s.claim.buyer.nature == PERSON}
    chain = _codes_up(rows).get(market.id, ())
    return {
        "market": {"code": market.code, "name": market.name, "level": market.level},
        "period": span.to_json(),
        "by": dimensions,
        "totals": stats.totals(contracts, span).to_json(),
        "children": [
            {"code": m.code, "name": m.name, **stats.totals(
                [c for c in contracts if tree.within(c.market_id, m.id)], span).to_json()}
            for m in children
        ],
        "sessions": [
            {"id": sid, "name": name, **stats.totals(
                [c for c in contracts if c.session_id == sid], span).to_json()}
            for sid, name in own_sessions
        ],
        "breakdowns": {
            d: {"label": stats.DIMENSIONS[d], "rows": stats.breakdown(
                contracts, span, d, province, stats.labeller(d, names, session_names))}
            for d in dimensions
        },
        "subsidy": {
            "label": ESTIMATE_LABEL,
            "rule_sets": [s.to_json() for s in sets if s.market_code in chain],
            "estimates": [_shown(e, persons) for e in estimates if e.lot_id in lots
                          and _registered_in(contracts, e.lot_id, span)],
        },
    }


def _shown(e: Estimate, persons: set[str]) -> dict[str, Any]:
    """An estimate as staff read it: a natural person's resident identity number masked."""
    out = e.to_json()
    out["party_key"] = mask_resident_id(e.party_key) if e.party_key in persons else e.party_key
    return out


def _registered_in(contracts: list[stats.Contract], lot_id: int, span: stats.Period) -> bool:
    return any(c.lot_id == lot_id and span.holds(c.registered_on) for c in contracts)


async def market_statistics(request: Request) -> JSONResponse:
    return JSONResponse(await build(request), headers={"Cache-Control": "private, no-store"})


def _file_name(data: dict[str, Any], ext: str) -> str:
    span = data["period"]
    start, end = span["from"] or "start", span["to"] or "now"
    return f"statistics-{data['market']['code']}-{start}-{end}.{ext}"


async def market_statistics_csv(request: Request) -> Response:
    data = await build(request)
    return Response("\ufeff" + csv_text(data), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{_file_name(data, "csv")}"',
        "Cache-Control": "private, no-store",
    })


async def market_statistics_xlsx(request: Request) -> Response:
    data = await build(request)
    content = await asyncio.to_thread(workbook_bytes, data)
    return Response(content, media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="{_file_name(data, "xlsx")}"',
        "Cache-Control": "private, no-store",
    })


async def my_subsidy_estimates(request: Request) -> JSONResponse:
    """The caller's own estimates as buyer, newest registration first."""
    services = guard.services_of(request)
    who: Principal = await guard.principal_of(request)
    if who.role != "bidder" or not who.is_own_login:
        raise Denied("forbidden", "只有竞买人本人的登录令牌可以查看")
    rows = await stats_store.markets(services.store)
    sales, estimates, _ = await _sales_with_estimates(services, rows)
    mine = {s.contract.lot_id: s for s in sales
            if s.buyer_id == who.bidder_id and s.claim is not None}
    out = []
    for e in estimates:
        sale = mine.get(e.lot_id)
        if sale is None or e.side != "buyer" or sale.claim is None:
            continue
        if e.party_key != sale.claim.buyer.key:
            continue
        out.append({**e.to_json(), "registration_no": sale.contract.registration_no,
                    "registered_on": sale.contract.registered_on.isoformat()
                    if sale.contract.registered_on else None})
    out.sort(key=lambda x: (x["registered_on"] or "", x["lot_id"]), reverse=True)
    return JSONResponse({"label": ESTIMATE_LABEL, "estimates": out},
                        headers={"Cache-Control": "private, no-store"})


routes: list[BaseRoute] = [
    Route("/api/v1/markets/{code}/statistics", market_statistics, methods=["GET"]),
    Route("/api/v1/markets/{code}/statistics.csv", market_statistics_csv, methods=["GET"]),
    Route("/api/v1/markets/{code}/statistics.xlsx", market_statistics_xlsx, methods=["GET"]),
    Route("/api/v1/me/subsidy-estimates", my_subsidy_estimates, methods=["GET"]),
]
