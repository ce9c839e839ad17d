"""Issue 13's acceptance for registration: with the registration endpoint answering
``{"registration_no": "<16 digits>", "status": "registered"}``, ``auction demo --fast --once``
ends with every sold lot 已登记 with that number on its result."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from auction.api import catalogue, http_errors
from auction.api.tokens import Tokens
from auction.rooms.keys import Keys
from auction.rooms.service import Rooms
from auction.services import Services
from auction.settings import Settings
from auction.store import Store
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
    app = Starlette(routes=catalogue.routes, exception_handlers=http_errors.exception_handlers())
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
