"""``GET /healthz``: is this process able to reach PostgreSQL and Redis?"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from auction.services import Services


async def healthz(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    report: dict[str, object] = {"status": "ok", "postgres": "ok", "redis": "ok"}
    try:
        await asyncio.wait_for(services.store.ping(), 2.0)
    except Exception as exc:  # any failure is the answer, not an error of this endpoint
        report["postgres"] = f"error: {type(exc).__name__}"
    try:
        sec, usec = await asyncio.wait_for(services.redis.time(), 2.0)
        report["server_time_ms"] = int(sec) * 1000 + int(usec) // 1000
    except Exception as exc:
        report["redis"] = f"error: {type(exc).__name__}"
    ok = report["postgres"] == "ok" and report["redis"] == "ok"
    report["status"] = "ok" if ok else "degraded"
    return JSONResponse(report, status_code=200 if ok else 503)


routes = [Route("/healthz", healthz)]
