"""Seeding a case through the documented HTTP API (docs/http-api.md) with the admin token: a
market, a live session, lots, bidders through the whole registration flow (sign-up, own login,
apply, approve, deposit confirmed, the bid credential and paddle taken by the bidder's own login:
:func:`tests.e2e.harness.enrol`), and the lots opened with the console command."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

import httpx

from auction.domain.identity import uscc_check_char
from tests.e2e.harness import enrol

START_FEN = 1_000_000
INC_FEN = 10_000


def uscc(n: int) -> str:
    body = f"91370100{n % 10**9:09d}"
    return body + uscc_check_char(body)


@dataclass(frozen=True)
class Bidder:
    bidder_id: int
    paddle: int
    token: str


@dataclass(frozen=True)
class Sale:
    session_id: int
    lots: list[int]
    bidders: list[Bidder]
    start: int = START_FEN
    inc: int = INC_FEN


async def _post(http: httpx.AsyncClient, path: str, body: dict[str, object] | None = None,
                ok: tuple[int, ...] = (200, 201)) -> dict[str, object]:
    for _ in range(40):
        r = await http.post(path, json=body or {})
        if r.status_code == 429:  # console commands are rate limited per staff member
            await asyncio.sleep(0.3)
            continue
        assert r.status_code in ok, f"POST {path}: {r.status_code} {r.text}"
        data: dict[str, object] = r.json()
        return data
    raise AssertionError(f"POST {path}: still rate limited")


async def create_sale(base: str, admin_token: str, *, lots: int, bidders: int,
                      open_lots: bool = True) -> Sale:
    tag = secrets.randbelow(10**6)
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        code = f"37{10 + tag % 90:02d}00"  # a city's form (auction/domain/divisions.py)
        await _post(http, "/api/v1/markets", {
            "code": code, "slug": f"f-{tag}", "name": f"故障测试市场{tag}", "level": "city"})
        session = await _post(http, "/api/v1/sessions", {
            "market_code": code, "name": f"故障测试场次{tag}", "season": "spring",
            "mode": "live", "starts_at": "2026-11-21T09:00:00+08:00"})
        session_id = int(str(session["id"]))
        lot_ids = []
        for i in range(lots):
            lot = await _post(http, f"/api/v1/sessions/{session_id}/lots", {
                "title": f"一种故障注入技术{i} 发明专利", "result_type": "专利",
                "ip_type": "发明专利", "technology_field": "电子信息",
                "transaction_mode": "转让", "contract_type": "技术转让",
                "holder_name": "山东测试大学", "holder_uscc": uscc(900_000 + tag),
                "start_price_fen": START_FEN, "increment_fen": INC_FEN})
            lot_ids.append(int(str(lot["id"])))
        made = []
        for b in range(bidders):
            enrolled = await enrol(http, session_id, name=f"故障测试科技有限公司{tag}-{b}",
                                   uscc_code=uscc(tag * 100 + b), deposit_fen=START_FEN // 10,
                                   approver=headers, finance=headers)
            made.append(Bidder(enrolled.bidder_id, enrolled.paddle, enrolled.token))
        sale = Sale(session_id, lot_ids, made)
        if open_lots:
            for lot_id in lot_ids:
                await command(http, lot_id, "open")
        return sale


async def command(http: httpx.AsyncClient, lot_id: int, op: str) -> dict[str, object]:
    """The console over HTTP (``POST /lots/{id}/commands``) with a fresh key."""
    return await _post(http, f"/api/v1/lots/{lot_id}/commands",
                       {"op": op, "key": f"{op}-{lot_id}-{secrets.token_hex(4)}"})


async def console(base: str, admin_token: str, lot_id: int, op: str) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        return await command(http, lot_id, op)
