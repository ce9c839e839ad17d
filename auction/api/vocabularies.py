"""``GET /api/v1/vocabularies[?on=YYYY-MM-DD]`` (public): the lists a lot's classification and a
party's nature are checked against (:mod:`auction.domain.lot_vocabularies`), as in force on the
day (today, China Standard Time, by default), each with its terms' keys, Chinese labels,
English labels, aliases, effective date and source. Pages build their menus from it."""

from __future__ import annotations

from datetime import date, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction.api import guard
from auction.api.http_errors import BadRequest
from auction.domain.deadlines import CST
from auction.store import vocabularies as vocabulary_store


async def vocabularies(request: Request) -> JSONResponse:
    text = request.query_params.get("on", "").strip()
    try:
        on = date.fromisoformat(text) if text else datetime.now(CST).date()
    except ValueError:
        raise BadRequest("查询参数 on 应为日期 YYYY-MM-DD", "on") from None
    found = await vocabulary_store.in_force(guard.services_of(request).store, on)
    return JSONResponse({"as_of": found.as_of,
                         "vocabularies": {k: v.to_json() for k, v in found.lists.items()}},
                        headers={"Cache-Control": "public, max-age=300"})


routes: list[BaseRoute] = [Route("/api/v1/vocabularies", vocabularies, methods=["GET"])]
