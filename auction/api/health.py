"""``GET /healthz``: is this process able to reach PostgreSQL and Redis, and how is registration?

Answer (docs/http-api.md)::

    {"status": "ok" | "degraded", "postgres": "ok" | "error: <type>", "redis": "ok" | ...,
     "server_time_ms": <Redis TIME>,
     "details": {"registration": {"status": "ok", "pending": n, "dead": n,
                                  "oldest_pending_age_s": x}
                                 | {"status": "unavailable", "error": "<type>"}}}

503 when PostgreSQL or Redis fails. The registration backlog is information, not health: a
registration office that is down must not take every process out of the load balancer, so it
never changes the status code. The three checks run at once, each bounded by
:data:`TIMEOUT_S`, so the answer comes within about that long even when PostgreSQL is frozen.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from auction.registration import backlog
from auction.services import Services

TIMEOUT_S = 2.0


async def _postgres(services: Services) -> str:
    try:
        await asyncio.wait_for(services.store.ping(), TIMEOUT_S)
    except Exception as exc:  # any failure is the answer, not an error of this endpoint
        return f"error: {type(exc).__name__}"
    return "ok"


async def _redis(services: Services) -> tuple[str, int | None]:
    try:
        sec, usec = await asyncio.wait_for(services.redis.time(), TIMEOUT_S)
    except Exception as exc:
        return f"error: {type(exc).__name__}", None
    return "ok", int(sec) * 1000 + int(usec) // 1000


async def _registration(services: Services) -> dict[str, object]:
    try:
        found = await asyncio.wait_for(backlog.report(services.store), TIMEOUT_S)
    except Exception as exc:
        return {"status": "unavailable", "error": type(exc).__name__}
    return {"status": "ok", **found.to_json()}


async def healthz(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    postgres, (redis, server_time_ms), registration = await asyncio.gather(
        _postgres(services), _redis(services), _registration(services)
    )
    ok = postgres == "ok" and redis == "ok"
    report: dict[str, object] = {
        "status": "ok" if ok else "degraded", "postgres": postgres, "redis": redis,
    }
    if server_time_ms is not None:
        report["server_time_ms"] = server_time_ms
    report["details"] = {"registration": registration}
    return JSONResponse(report, status_code=200 if ok else 503)


routes = [Route("/healthz", healthz)]
