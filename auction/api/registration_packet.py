"""The hand-off packet to download (issue 12 item 6; docs/http-api.md "Registration").

``GET /api/v1/lots/{lot_id}/registration/packet?version=&form=``: the registration packet of a
sold lot as the market handed it over, for the staff who own the hand-off — a market admin of
the lot's market or above (``manage_sessions``, as for re-queueing and correcting it) and the
platform admin. Finance, auctioneers and bidders are refused (403): the packet holds a natural
person's identity number in full, for the registration office only.

- ``version``: a positive integer, one of the lot's versions (1, then 2, 3 … after
  corrections); absent, the current one. Another is 404 ``not_found`` naming ``version``.
- ``form``: ``filed`` (default) — the packet as a filed packet is written to disk, indented
  UTF-8 JSON with the Chinese as is, for people; ``sent`` — the exact bytes signed and sent
  (compact, sorted keys; :func:`auction.registration.packet.packet_body`), for checking a
  signature or a receiver's hash.

Both forms are JSON of the same stored packet (JSONB keeps strings, integers and nulls
exactly), downloaded as ``登记移交-<lot>-v<version>.json``. Headers name the version, the
lot's versions and the version's idempotency key and outbox status.
"""

from __future__ import annotations

import json
import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from auction.accounts.policy import Action
from auction.api import guard
from auction.api.admin import lot_scope
from auction.api.files import disposition
from auction.api.http_errors import BadRequest
from auction.registration.packet import packet_body, packet_file_text
from auction.store import answers

log = logging.getLogger("auction.registration")

FORMS = ("filed", "sent")
MAX_VERSION = 2**31 - 1


def _version(request: Request) -> int | None:
    raw = request.query_params.get("version")
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_VERSION:
        raise BadRequest("查询参数 version 应为正整数 (登记材料的版本)", "version")
    return int(raw)


def _form(request: Request) -> str:
    form = request.query_params.get("form") or "filed"
    if form not in FORMS:
        raise BadRequest("查询参数 form 应为 filed (便于阅读) 或 sent (发送的原文)", "form")
    return form


async def download_packet(request: Request) -> Response:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    await lot_scope(request, who, Action.MANAGE_SESSIONS)
    lot_id = int(request.path_params["lot_id"])
    version, form = _version(request), _form(request)
    stored = await answers.packet(services.store, lot_id, version)
    packet = json.loads(stored.packet_json)
    body = (packet_body(packet) if form == "sent"
            else packet_file_text(packet).encode("utf-8"))
    name = f"登记移交-{lot_id}-v{stored.version}{'-sent' if form == 'sent' else ''}.json"
    log.info("lot %d: registration packet v%d (%s) downloaded by %s", lot_id, stored.version,
             form, who.subject or who.role)
    return Response(body, media_type="application/json; charset=utf-8", headers={
        "Content-Disposition": disposition(name, "application/json"),
        "X-Content-Type-Options": "nosniff",
        # a person's identity number may be inside: nobody else's to cache
        "Cache-Control": "private, no-store",
        "X-Packet-Version": str(stored.version),
        "X-Packet-Versions": ",".join(map(str, stored.versions)),
        "X-Packet-Status": stored.status,
        "X-Idempotency-Key": stored.idempotency_key,
    })


routes: list[BaseRoute] = [
    Route("/api/v1/lots/{lot_id:int}/registration/packet", download_packet, methods=["GET"]),
]
