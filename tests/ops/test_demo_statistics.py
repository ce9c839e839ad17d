"""Issue 16's acceptance for statistics: after ``auction demo --fast --once`` (lots settled in
山东省's province market, a city and a county, every sold lot registered by an office), each
demo market's statistics equal a recomputation from the public reads alone (markets, sessions,
results, lots), and the province's figures equal the sum of its cities' and counties'."""

from __future__ import annotations

from typing import Any

import httpx
from redis.asyncio import Redis
from starlette.applications import Starlette

from auction.api import catalogue, http_errors, statistics
from auction.api.tokens import Tokens
from auction.rooms.keys import Keys
from auction.rooms.service import Rooms
from auction.services import Services
from auction.settings import Settings
from auction.store import Store
from tests.ops.demo_once import DemoRun

ADMIN = {"Authorization": "Bearer test-admin-token"}
PROVINCE = "370000"


async def _public_figures(http: httpx.AsyncClient, code: str) -> dict[str, int]:
    """Count, total and technology amount of the sold lots of every published session of the
    market ``code`` and the markets below it, and the registered ones', from public reads."""
    markets = (await http.get("/api/v1/markets")).json()["markets"]
    by_id = {m["id"]: m for m in markets}
    root = next(m for m in markets if m["code"] == code)

    def below(m: dict[str, Any]) -> bool:
        while m is not None:
            if m["id"] == root["id"]:
                return True
            m = by_id.get(m["parent_id"])
        return False

    out = {"count": 0, "total_fen": 0, "tech_fen": 0, "reg_count": 0, "reg_total_fen": 0}
    for m in filter(below, markets):
        sessions = (await http.get("/api/v1/sessions",
                                   params={"market": m["code"]})).json()["sessions"]
        for s in sessions:
            if s["market_code"] != m["code"]:
                continue
            results = (await http.get("/api/v1/results",
                                      params={"session": s["id"]})).json()["results"]
            for r in results:
                lot = (await http.get(f"/api/v1/lots/{r['lot_id']}")).json()
                out["count"] += 1
                out["total_fen"] += r["amount_fen"]
                out["tech_fen"] += max(r["amount_fen"] - lot["non_tech_fen"], 0)
                if (r["registration"] or {}).get("status") == "registered":
                    out["reg_count"] += 1
                    out["reg_total_fen"] += r["amount_fen"]
    return out


async def test_demo_statistics_equal_the_public_results_and_roll_up(
    demo_run: DemoRun, settings: Settings, store: Store, redis: Redis, keys: Keys,
) -> None:
    """The province, each city and county of the demo: statistics = the public recomputation;
    the province = Σ its children + Σ its own sessions, and a child's figures = its own."""
    assert demo_run.code == 0, demo_run.output

    services = Services(
        settings=settings, store=store, redis=redis, keys=keys, rooms=Rooms(redis, keys),
        tokens=Tokens(settings.secret, settings.admin_token),
        hub=None,  # type: ignore[arg-type]  # neither route set uses it
    )
    app = Starlette(routes=[*catalogue.routes, *statistics.routes],
                    exception_handlers=http_errors.exception_handlers())
    app.state.services = services
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as http:
        top = (await http.get(f"/api/v1/markets/{PROVINCE}/statistics", headers=ADMIN)).json()
        assert top["totals"]["settled"]["count"] > 0
        assert top["totals"]["registered"]["count"] > 0
        codes = [PROVINCE] + [c["code"] for c in top["children"]]
        for code_ in codes:
            body = (await http.get(f"/api/v1/markets/{code_}/statistics",
                                   headers=ADMIN)).json()
            public = await _public_figures(http, code_)
            settled, registered = body["totals"]["settled"], body["totals"]["registered"]
            assert (settled["count"], settled["total_fen"], settled["tech_fen"]) == (
                public["count"], public["total_fen"], public["tech_fen"]), code_
            assert (registered["count"], registered["total_fen"]) == (
                public["reg_count"], public["reg_total_fen"]), code_
            for kind in ("settled", "registered"):
                for name in ("count", "total_fen", "tech_fen"):
                    parts = body["children"] + body["sessions"]
                    assert body["totals"][kind][name] == sum(p[kind][name] for p in parts)
        for child in top["children"]:
            own = (await http.get(f"/api/v1/markets/{child['code']}/statistics",
                                  headers=ADMIN)).json()
            assert own["totals"]["settled"] == child["settled"]
            assert own["totals"]["registered"] == child["registered"]
