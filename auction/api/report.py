"""The session report (场次报告, docs/http-api.md "Session report"), as JSON and as XLSX.

- ``GET /api/v1/sessions/{id}/report``: ``{session, lots, bidders, deposits, totals}``.
- ``GET /api/v1/sessions/{id}/report.xlsx``: the same in four sheets (汇总, 标的, 竞买人,
  保证金), amounts in 元.

Who: the session's market staff — a market admin of its market or above (``manage_sessions``),
finance of its market (``manage_deposits``), an auctioneer of its market or the session's own
auctioneer token (``run_console``) — and the platform admin. Anyone else 403 (401 without a
token); an unknown session is 403 too, 404 to the platform admin only, as for the session's
other routes.

A lot's ``result`` is ``sold`` / ``passed`` / ``withdrawn`` once settled (``lot_results``), else
``null`` with the lot's catalogue ``status``. The buyer is named (staff see names, as on the
desk's registration list); a natural person in full too: the report is not published.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from auction.accounts.policy import Action
from auction.api import guard
from auction.api.admin import missing
from auction.api.files import disposition
from auction.api.guard import Denied
from auction.api.lot_import import XLSX
from auction.domain.publicity import PASS_REASONS
from auction.store import report as store_report
from auction.store.errors import NotFound
from auction.store.records import Session, rfc3339

#: any one of these on the session's market lets a caller read its report
_READERS = (Action.MANAGE_SESSIONS, Action.MANAGE_DEPOSITS, Action.RUN_CONSOLE)
OUTCOME_TEXT = {"sold": "成交", "passed": "流拍", "withdrawn": "撤拍"}
STATE_TEXT = {"required": "待交纳", "confirmed": "已到账", "held": "已冻结", "released": "已退还",
              "applied": "已转为价款", "forfeited": "已没收"}


async def _authorise(request: Request) -> int:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    session_id = int(request.path_params["session_id"])
    try:
        market = await guard.session_market(services, session_id)
    except NotFound:
        raise missing(who, "场次不存在", "session_id") from None
    refused: Denied | None = None
    for action in _READERS:
        try:
            await guard.require(services, who, action, market_id=market, session_id=session_id)
            return session_id
        except Denied as exc:
            if exc.code != "forbidden":
                raise
            refused = exc
    assert refused is not None
    raise refused


def build(session: Session, report: store_report.SessionReport) -> dict[str, Any]:
    """The report's JSON (docs/http-api.md "Session report")."""
    lots = []
    counts = {"total": len(report.lots), "sold": 0, "passed": 0, "withdrawn": 0, "unsettled": 0}
    hammer_total = start_of_sold = bids = 0
    for lot in report.lots:
        result = None
        if lot.outcome is not None:
            counts[lot.outcome] += 1
            reason = lot.reason or ""
            result = {
                "outcome": lot.outcome, "outcome_text": OUTCOME_TEXT.get(lot.outcome, ""),
                "amount_fen": lot.amount_fen, "paddle": lot.paddle,
                "closed_at": rfc3339(lot.closed_at), "reason": reason,
                "reason_text": "" if lot.outcome == "sold" else PASS_REASONS.get(reason, reason),
                "buyer": None if lot.buyer_id is None else {
                    "bidder_id": lot.buyer_id, "name": lot.buyer_name, "kind": lot.buyer_kind},
            }
            if lot.outcome == "sold" and lot.amount_fen is not None:
                hammer_total += lot.amount_fen
                start_of_sold += lot.start_price_fen
        else:
            counts["unsettled"] += 1
        bids += lot.bid_count
        lots.append({
            "lot_id": lot.lot_id, "ordinal": lot.ordinal, "title": lot.title,
            "status": lot.status, "start_price_fen": lot.start_price_fen,
            "deposit_fen": lot.deposit_fen, "bid_count": lot.bid_count, "result": result,
        })
    by_state: dict[str, int] = {}
    for deposit in report.deposits:
        by_state[deposit.state] = by_state.get(deposit.state, 0) + deposit.amount_fen
    won: dict[int, list[int]] = {}
    for lot in report.lots:
        if lot.outcome == "sold" and lot.buyer_id is not None:
            won.setdefault(lot.buyer_id, []).append(lot.lot_id)
    return {
        "session": {"id": session.id, "name": session.name, "market_code": session.market_code,
                    "mode": session.mode, "starts_at": rfc3339(session.starts_at),
                    "status": session.status},
        "lots": lots,
        "bidders": [{
            "registration_id": b.registration_id, "bidder_id": b.bidder_id, "name": b.name,
            "kind": b.kind, "status": b.status, "paddle": b.paddle, "registered": b.registered,
            "won_lots": won.get(b.bidder_id, []),
        } for b in report.bidders],
        "deposits": [{
            "id": d.id, "registration_id": d.registration_id, "paddle": d.paddle,
            "bidder_name": d.bidder_name, "lot_id": d.lot_id, "amount_fen": d.amount_fen,
            "state": d.state, "state_text": STATE_TEXT.get(d.state, d.state),
        } for d in report.deposits],
        "totals": {
            "lots": counts, "hammer_total_fen": hammer_total,
            "start_total_of_sold_fen": start_of_sold, "bid_count": bids,
            "registered": sum(1 for b in report.bidders if b.registered),
            "bidders_with_paddle": sum(1 for b in report.bidders if b.paddle is not None),
            "deposits_fen": {state: by_state.get(state, 0) for state in STATE_TEXT},
            "deposits_applied_fen": by_state.get("applied", 0),
            "deposits_released_fen": by_state.get("released", 0),
        },
    }


async def _report(request: Request) -> dict[str, Any]:
    services = guard.services_of(request)
    session_id = await _authorise(request)
    session = await services.store.get_session(session_id)
    return build(session, await store_report.session_report(services.store, session_id))


async def session_report(request: Request) -> JSONResponse:
    return JSONResponse(await _report(request))


def _yuan(fen: int | None) -> float | None:
    return None if fen is None else fen / 100


def workbook_bytes(report: dict[str, Any]) -> bytes:
    """The report (as :func:`build` made it) as an XLSX workbook; amounts in 元."""
    book = Workbook()
    bold = Font(bold=True)
    money = "#,##0.00"

    def sheet(title: str, header: list[str], rows: list[list[Any]], money_cols: set[int],
              first: bool = False) -> None:
        ws = book.active if first else book.create_sheet()
        ws.title = title
        ws.append(header)
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append(row)
        for col in money_cols:
            for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                cell.number_format = money
        for index, name in enumerate(header, start=1):
            ws.column_dimensions[ws.cell(row=1, column=index).column_letter].width = max(
                12, min(40, len(name) * 2 + 4))
        ws.freeze_panes = "A2"

    s, t = report["session"], report["totals"]
    counts, dep = t["lots"], t["deposits_fen"]
    sheet("汇总", ["项目", "数值"], [
        ["场次", s["name"]], ["场次编号", s["id"]], ["技术市场代码", s["market_code"]],
        ["开始时间", s["starts_at"]],
        ["标的总数", counts["total"]], ["成交", counts["sold"]], ["流拍", counts["passed"]],
        ["撤拍", counts["withdrawn"]], ["未结束", counts["unsettled"]],
        ["成交总额 (元)", _yuan(t["hammer_total_fen"])],
        ["成交标的起拍价合计 (元)", _yuan(t["start_total_of_sold_fen"])],
        ["出价次数", t["bid_count"]], ["报名人数", t["registered"]],
        ["领取号牌人数", t["bidders_with_paddle"]],
        *[[f"保证金{STATE_TEXT[k]} (元)", _yuan(v)] for k, v in dep.items()],
    ], set(), first=True)
    for row in book["汇总"].iter_rows(min_row=2):
        if "(元)" in str(row[0].value):
            row[1].number_format = money
    sheet("标的", ["序号", "标的编号", "标的名称", "结果", "成交价 (元)", "买受人", "号牌",
                 "出价次数", "起拍价 (元)", "保证金 (元)", "说明", "结束时间"], [
        [lot["ordinal"], lot["lot_id"], lot["title"],
         r["outcome_text"] if (r := lot["result"]) else "未结束",
         _yuan(r["amount_fen"]) if r else None,
         (r["buyer"] or {}).get("name") if r else None, r["paddle"] if r else None,
         lot["bid_count"], _yuan(lot["start_price_fen"]), _yuan(lot["deposit_fen"]),
         r["reason_text"] if r else "", r["closed_at"] if r else None]
        for lot in report["lots"]], {5, 9, 10})
    sheet("竞买人", ["号牌", "竞买人", "类型", "报名状态", "计入报名人数", "竞得标的"], [
        [b["paddle"], b["name"], "自然人" if b["kind"] == "person" else "企业", b["status"],
         "是" if b["registered"] else "否", ", ".join(str(i) for i in b["won_lots"])]
        for b in report["bidders"]], set())
    sheet("保证金", ["号牌", "竞买人", "标的编号", "金额 (元)", "状态"], [
        [d["paddle"], d["bidder_name"], d["lot_id"] if d["lot_id"] else "全场",
         _yuan(d["amount_fen"]), d["state_text"]]
        for d in report["deposits"]], {4})
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def session_report_xlsx(request: Request) -> Response:
    report = await _report(request)
    content = await asyncio.to_thread(workbook_bytes, report)
    name = f"场次报告-{report['session']['id']}.xlsx"
    return Response(content, media_type=XLSX, headers={
        "Content-Disposition": disposition(name, XLSX),
        "Cache-Control": "private, no-store",
    })


routes: list[BaseRoute] = [
    Route("/api/v1/sessions/{session_id:int}/report", session_report, methods=["GET"]),
    Route("/api/v1/sessions/{session_id:int}/report.xlsx", session_report_xlsx,
          methods=["GET"]),
]
