"""Issue 13's acceptance: with the registration endpoint answering
``{"registration_no": "<16 digits>", "status": "registered"}``, ``auction demo --fast --once``
ends with every sold lot 已登记 with that number on its result;
``GET /api/v1/lots/{id}/confirmation.pdf`` returns a PDF whose text holds the buyer's name, the
price and the digest; and every sold lot has a 公示 with its end date."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from auction.api import catalogue, confirmation, http_errors, listing
from auction.api.tokens import Tokens
from auction.domain.deadlines import notice_ends
from auction.domain.money import chinese_capitals, format_yuan
from auction.rooms.keys import Keys
from auction.rooms.service import Rooms
from auction.services import Services
from auction.settings import Settings
from auction.store import Store
from tests.conftest import ADMIN_TOKEN
from tests.e2e.harness import free_port
from tests.ops.conftest import AUCTION

NUMBER = "2026370100009876"


class Office:
    """A registration office that registers every packet at once, with one number."""

    def __init__(self) -> None:
        self.packets: dict[str, dict[str, object]] = {}

    async def register(self, request: Request) -> JSONResponse:
        self.packets[request.headers["idempotency-key"]] = json.loads(await request.body())
        return JSONResponse({"registration_no": NUMBER, "status": "registered"}, 201)


@pytest.fixture
async def office() -> AsyncIterator[tuple[Office, str]]:
    """The office on a free local port."""
    import uvicorn

    office = Office()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(
        Starlette(routes=[Route("/register", office.register, methods=["POST"])]),
        host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield office, f"http://127.0.0.1:{port}/register"
    finally:
        server.should_exit = True
        await task


async def test_demo_once_ends_with_every_sold_lot_registered_with_the_number(
    auction_env: dict[str, str], office: tuple[Office, str], settings: Settings, store: Store,
    redis: Redis, keys: Keys,
) -> None:
    """The demo exits 0, says 已登记 for its sessions, and every sold lot of its sessions
    shows 已登记 with the office's number on GET /api/v1/lots/{id} and in /results."""
    receiver, url = office
    env = {**auction_env, "AUCTION_REGISTRATION_URL": url,
           "AUCTION_REGISTRATION_SECRET": "demo-secret"}
    before = await store.pool.fetchval("SELECT COALESCE(max(id), 0) FROM sessions")
    err_path = Path(env["AUCTION_DATA_DIR"]).parent / "demo.err"
    err_path.parent.mkdir(parents=True, exist_ok=True)
    with err_path.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            str(AUCTION), "demo", "--fast", "--once", env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=err)
        try:
            code = await asyncio.wait_for(proc.wait(), timeout=420)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    output = err_path.read_text(encoding="utf-8", errors="replace")
    assert code == 0, output
    assert "合同登记" in output and "已登记" in output and NUMBER in output, output

    # the demo's sessions: every session made since it started (tests run one at a time)
    sessions = {int(r["id"]) for r in await store.pool.fetch(
        "SELECT id FROM sessions WHERE id > $1", before)}
    assert len(sessions) >= 2
    services = Services(
        settings=settings, store=store, redis=redis, keys=keys, rooms=Rooms(redis, keys),
        tokens=Tokens(settings.secret, settings.admin_token),
        hub=None,  # type: ignore[arg-type]  # the catalogue never uses it
    )
    app = Starlette(routes=[*catalogue.routes, *listing.routes, *confirmation.routes],
                    exception_handlers=http_errors.exception_handlers())
    app.state.services = services
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as http:
        sold = 0
        for session_id in sorted(sessions):
            lots = (await http.get(f"/api/v1/sessions/{session_id}/lots")).json()["lots"]
            for lot in lots:
                if lot["status"] != "sold":
                    continue
                sold += 1
                result = (await http.get(f"/api/v1/lots/{lot['id']}")).json()["result"]
                reg = result["registration"]
                assert (reg["status_text"], reg["registration_no"]) == ("已登记", NUMBER), lot
            results = (await http.get("/api/v1/results",
                                      params={"session": session_id})).json()["results"]
            assert {r["registration"]["registration_no"] for r in results} == {NUMBER}
        ours = [p for p in receiver.packets.values()
                if p["session"]["id"] in sessions]  # type: ignore[index]
        assert sold == len(ours) > 0
        await _confirmations_and_notices(http, store, sessions, sold)


async def _confirmations_and_notices(
    http: httpx.AsyncClient, store: Store, sessions: set[int], sold: int
) -> None:
    """Every sold lot of the demo's sessions: its 成交确认书 (as the market downloads it) holds
    the buyer's name, the price in figures and in capitals and the bid-log digest; its 成交公示
    runs from its opening day to the end date of its notice period (``notice_ends``)."""
    rows = await store.pool.fetch(
        "SELECT r.lot_id, r.amount_fen, r.bid_log_sha256, b.name, n.opened_at, n.working_days"
        " FROM lot_results r JOIN lots l ON l.id = r.lot_id JOIN bidders b ON b.id = r.winner_id"
        " LEFT JOIN publicity_notices n ON n.lot_id = r.lot_id"
        " WHERE r.outcome = 'sold' AND l.session_id = ANY($1::bigint[])", sorted(sessions))
    assert len(rows) == sold
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    notices: dict[int, dict[str, object]] = {}
    for session_id in sorted(sessions):
        found = (await http.get("/api/v1/publicity", params={"session": session_id})).json()
        notices.update({int(n["lot_id"]): n for n in found["sold"]})
    for row in rows:
        lot_id = int(row["lot_id"])
        pdf = await http.get(f"/api/v1/lots/{lot_id}/confirmation.pdf", headers=admin)
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["content-type"] == "application/pdf"
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        flat = "".join(text.split())
        amount = int(row["amount_fen"])
        assert "".join(str(row["name"]).split()) in flat, (lot_id, row["name"])
        assert "".join(format_yuan(amount).split()) in flat, (lot_id, amount)
        assert chinese_capitals(amount) in flat, (lot_id, amount)
        assert str(row["bid_log_sha256"]) in flat, lot_id

        assert row["opened_at"] is not None, f"lot {lot_id}: no 公示"
        publicity = notices[lot_id]["publicity"]
        assert isinstance(publicity, dict), lot_id
        ends = notice_ends(row["opened_at"], int(row["working_days"])).isoformat()
        assert publicity["ends_on"] == ends, (lot_id, publicity)
        assert publicity["starts_on"] < publicity["ends_on"]
        assert publicity["working_days"] == int(row["working_days"]) >= 1
