"""One ``auction demo --fast --once`` for the tests that check what it leaves behind
(test_demo_registration, test_demo_statistics, test_demo_verify): it takes 35–40 s, and three
runs of it were three of the suite's slowest tests. The demo runs with a registration office
of its own (:class:`Office`, registering every packet with :data:`NUMBER`), the session's
database and Redis, and a namespace, data dir and port of its own.

``demo_run`` (tests/ops/conftest.py, session scope) runs it when a test first asks for it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from auction.store import Store
from tests.e2e.harness import serving_app

#: the registration number the office gives every packet
NUMBER = "2026370100009876"
#: the longest the demo may take
DEMO_TIMEOUT_S = 420


class Office:
    """A registration office that registers every packet at once, with one number."""

    def __init__(self) -> None:
        self.packets: dict[str, dict[str, object]] = {}

    async def register(self, request: Request) -> JSONResponse:
        self.packets[request.headers["idempotency-key"]] = json.loads(await request.body())
        return JSONResponse({"registration_no": NUMBER, "status": "registered"}, 201)


@asynccontextmanager
async def office_server() -> AsyncIterator[tuple[Office, str]]:
    """The office on a free local port: (office, its registration URL)."""
    office = Office()
    app = Starlette(routes=[Route("/register", office.register, methods=["POST"])])
    async with serving_app(app) as port:
        yield office, f"http://127.0.0.1:{port}/register"


@dataclass
class DemoRun:
    """What the one demo run left: its environment (to run ``auction verify`` / ``export`` as
    it was run), its exit code and stderr, the sessions it made and the office's packets."""

    env: dict[str, str]
    code: int
    output: str
    sessions: list[int]
    office: Office = field(repr=False)


async def run_demo(auction: Path, env: dict[str, str], store: Store) -> DemoRun:
    """Run the demo once with an office of its own; the sessions are those made meanwhile
    (the tests run one at a time)."""
    async with office_server() as (office, url):
        env = {**env, "AUCTION_REGISTRATION_URL": url,
               "AUCTION_REGISTRATION_SECRET": "demo-secret"}
        before = await store.pool.fetchval("SELECT COALESCE(max(id), 0) FROM sessions")
        err_path = Path(env["AUCTION_DATA_DIR"]).parent / "demo.err"
        err_path.parent.mkdir(parents=True, exist_ok=True)
        with err_path.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                str(auction), "demo", "--fast", "--once", env=env,
                stdout=asyncio.subprocess.DEVNULL, stderr=err)
            try:
                code = await asyncio.wait_for(proc.wait(), timeout=DEMO_TIMEOUT_S)
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
        after = await store.pool.fetchval("SELECT COALESCE(max(id), 0) FROM sessions")
        sessions = sorted(int(r["id"]) for r in await store.pool.fetch(
            "SELECT id FROM sessions WHERE id > $1 AND id <= $2", before, after))
    output = err_path.read_text(encoding="utf-8", errors="replace")
    return DemoRun(env=env, code=code, output=output, sessions=sessions, office=office)
