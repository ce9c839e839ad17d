"""``GET /metrics``: the process's metrics in Prometheus text format (auction/metrics.py).

Gauges that are a count of something this process holds are refreshed here at scrape time
(``auction_connections`` from the open-socket registry of auction/api/shutdown.py); the others
are kept up to date by the code that changes them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from auction import metrics
from auction.api import shutdown


async def metrics_endpoint(request: Request) -> Response:
    metrics.CONNECTIONS.set(shutdown.open_count())
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)


routes: list[BaseRoute] = [Route("/metrics", metrics_endpoint, methods=["GET"])]
