"""Issue 13's acceptance: with the registration endpoint answering
``{"registration_no": "<16 digits>", "status": "registered"}``, ``auction demo --fast --once``
ends with every sold lot 已登记 with that number on its result;
``GET /api/v1/lots/{id}/confirmation.pdf`` returns a PDF whose text holds the buyer's name, the
price and the digest; and every sold lot has a 公示 with its end date."""

from __future__ import annotations

import io

import httpx
from pypdf import PdfReader
from redis.asyncio import Redis
from starlette.applications import Starlette

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
from tests.ops.demo_once import NUMBER, DemoRun


async def test_demo_once_ends_with_every_sold_lot_registered_with_the_number(
    demo_run: DemoRun, settings: Settings, store: Store, redis: Redis, keys: Keys,
) -> None:
    """The demo exits 0, says 已登记 for its sessions, and every sold lot of its sessions
    shows 已登记 with the office's number on GET /api/v1/lots/{id} and in /results."""
    output = demo_run.output
    assert demo_run.code == 0, output
    assert "合同登记" in output and "已登记" in output and NUMBER in output, output
    sessions = set(demo_run.sessions)
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
        # the demo's deliverer also sends what other tests left pending in the shared database
        # (rows of any shape: tests/store/test_catalogue.py's {"lot": id}); ours name a session
        ours = [p for p in demo_run.office.packets.values()
                if isinstance(p.get("session"), dict)
                and p["session"].get("id") in sessions]  # type: ignore[union-attr]
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
