"""成交确认书 (docs/http-api.md "成交确认书"): the PDF, and its public verification.

- ``GET /api/v1/lots/{id}/confirmation.pdf``: the PDF (:mod:`auction.documents`), for the lot's
  market staff — a market admin of its market or above (``manage_sessions``), finance of its
  market (``manage_deposits``), the platform admin — and the buyer: the winning bidder's own
  login (cookie or bearer; an agent's account only for the session it is bound to). Anyone
  else 403 (401 without a login); an unknown lot is 403 too (404 to the platform admin only),
  as for the lot's other staff routes. A lot without a ``sold`` result: 404 ``no_confirmation``.
  Without a usable CJK font on the server: 503 ``pdf_font_missing`` saying what to install.
- ``GET /api/v1/lots/{id}/confirmation?digest=<bid_log_sha256>``: public; the document's facts
  as JSON (a natural person masked as 成交公示 masks one) when ``digest`` is the lot's bid-log
  digest, else 404 ``no_confirmation`` (also for an unknown or unsold lot: the answer tells
  nothing without the digest); a ``digest`` that is not 64 hex digits is 400 naming it.

The document is built from the settled records on each request; they are final once the lot is
settled, so every request gives the same bytes (:mod:`auction.domain.confirmation`).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from auction.accounts.policy import Action
from auction.api import guard
from auction.api.admin import missing
from auction.api.files import disposition
from auction.api.guard import Denied
from auction.api.http_errors import BadRequest
from auction.api.tokens import Principal
from auction.documents import DocumentError, fonts
from auction.documents.confirmation_pdf import render
from auction.domain.errors import Rejection
from auction.services import Services
from auction.store import accounts as account_store
from auction.store import confirmation as store_confirmation
from auction.store.errors import NotFound, Unavailable

#: either of these on the lot's market lets staff download the PDF
_STAFF_READERS = (Action.MANAGE_SESSIONS, Action.MANAGE_DEPOSITS)
log = logging.getLogger("auction.documents")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_NONE = "该标的没有成交确认书 (未成交或尚未结算)"


def no_confirmation() -> NotFound:
    return NotFound("no_confirmation", _NONE, "lot_id")


def public_base(request: Request, services: Services) -> str:
    """``AUCTION_PUBLIC_URL``, else the origin the request came to."""
    configured = services.settings.public_url
    if configured:
        return configured
    return f"{request.url.scheme}://{request.url.netloc}"


def verify_url(base: str, lot_id: int, digest: str) -> str:
    """The public verification page of a confirmation (what its QR code encodes)."""
    return f"{base}/verify.html?{urlencode({'lot': lot_id, 'digest': digest})}"


async def _authorise(services: Services, who: Principal, lot_id: int) -> None:
    """Raise unless ``who`` is the lot's market staff or a bidder login (whose win is checked
    once the result is read)."""
    if who.role == "viewer":
        raise Denied("unauthorized", "请先登录")
    try:
        terms = await guard.lot_terms(services, lot_id)
    except Rejection:
        raise missing(who, "标的不存在", "lot_id") from None
    if who.role == "bidder":
        if not who.is_own_login:
            raise Denied("forbidden", "只有买受人本人的登录可以下载成交确认书")
        account = await account_store.get_account(services.store, who.account_id)
        if account.registration_id is not None:  # an agent: its one registration's session
            registration = await services.store.get_registration(account.registration_id)
            if registration.session_id != terms.session_id:
                raise Denied("forbidden", "只有买受人本人的登录可以下载成交确认书")
        return
    refused: Denied | None = None
    for action in _STAFF_READERS:
        try:
            await guard.require(services, who, action, market_id=terms.market_id,
                                session_id=terms.session_id)
            return
        except Denied as exc:
            if exc.code != "forbidden":
                raise
            refused = exc
    assert refused is not None
    raise refused


async def confirmation_pdf(request: Request) -> Response:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    lot_id = int(request.path_params["lot_id"])
    await _authorise(services, who, lot_id)
    settled = await store_confirmation.settled(services.store, lot_id)
    if who.role == "bidder" and (settled is None or settled.winner_id != who.bidder_id):
        # not the buyer: whether the lot sold is not the bidder's business
        raise Denied("forbidden", "只有买受人本人的登录可以下载成交确认书")
    if settled is None:
        raise no_confirmation()
    c = settled.confirmation
    url = verify_url(public_base(request, services), lot_id, c.bid_log_sha256)
    try:
        font = fonts.register(fonts.locate(services.settings.pdf_font))
        pdf = await asyncio.to_thread(render, c, font, url)
    except DocumentError as exc:
        log.warning("成交确认书 not made: %s", exc.message)
        raise Unavailable(exc.code, exc.message) from None
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": disposition(f"成交确认书-{c.number}.pdf", "application/pdf"),
        "X-Content-Type-Options": "nosniff",
        # a buyer's document: nobody else's to cache
        "Cache-Control": "private, no-store",
    })


async def verify_confirmation(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    lot_id = int(request.path_params["lot_id"])
    digest = (request.query_params.get("digest") or "").strip().lower()
    if not _DIGEST.fullmatch(digest):
        raise BadRequest("digest 应为 64 位十六进制的出价记录摘要 (SHA-256)", "digest")
    settled = await store_confirmation.settled(services.store, lot_id)
    if settled is None or not hmac.compare_digest(
        settled.confirmation.bid_log_sha256.encode(), digest.encode()
    ):
        raise no_confirmation()
    c = settled.confirmation
    return JSONResponse({
        **c.facts(public=True), "verified": True,
        "verify_url": verify_url(public_base(request, services), lot_id, c.bid_log_sha256),
    })


routes: list[BaseRoute] = [
    Route("/api/v1/lots/{lot_id:int}/confirmation.pdf", confirmation_pdf, methods=["GET"]),
    Route("/api/v1/lots/{lot_id:int}/confirmation", verify_confirmation, methods=["GET"]),
]
