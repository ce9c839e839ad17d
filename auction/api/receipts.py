"""Bid receipts: ``GET /api/v1/lots/{lot_id}/bids/{seq}/receipt`` and the public key that
checks them, ``GET /api/v1/receipts/key`` (docs/http-api.md "Bid receipts"; the document:
:mod:`auction.audit.receipts`, docs/formats.md "Bid receipt").

The key is public: anyone may fetch it (no login) and check any receipt with it.

Only the bid's own bidder gets it: a bidder's login or bid credential whose ``bidder_id`` is the
bid's (an agent bound to a registration: only in that registration's session). Answers:

- 200 the signed receipt (JSON, ``Content-Disposition`` names the file);
- 401 without a login; 403 ``forbidden`` for anyone else (staff included: a receipt is the
  bidder's, and the record itself is open to ``auction verify``);
- 404 ``unknown_bid`` when (lot, seq) is not an accepted bid in the journal: a bid is journalled
  within about a second of its ack, so a receipt asked for at once may need a retry.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction.api import guard
from auction.api.guard import Denied
from auction.audit.receipts import Receipt, Signer
from auction.store import chain as store_chain
from auction.store.errors import NotFound
from auction.store.records import rfc3339

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNKNOWN = "该出价不存在或尚未记入成交记录(出价后约 1 秒记入),请稍后再试"


@lru_cache(maxsize=4)
def signer(seed_b64: str) -> Signer:
    """The receipt signer of a seed (made once per process: the settings never change)."""
    return Signer(seed_b64)


async def get_key(request: Request) -> JSONResponse:
    """The Ed25519 public key receipts are signed with (base64 raw and PEM, with its id)."""
    services = guard.services_of(request)
    return JSONResponse(signer(services.settings.receipt_key.value).public.to_json(),
                        headers={"Cache-Control": "public, max-age=300"})


async def get_receipt(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    lot_id: int = request.path_params["lot_id"]
    seq: int = request.path_params["seq"]
    if who.role != "bidder" or not who.bidder_id:
        raise Denied("forbidden", "只有出价的竞买人本人可以下载出价回执")
    entry = await store_chain.bid_entry(services.store, lot_id, seq)
    if entry is None or entry.kind != "bid" or entry.paddle is None \
            or entry.amount_fen is None:
        raise NotFound("unknown_bid", _UNKNOWN, "seq")
    if entry.bidder_id != who.bidder_id or (who.session_id and who.session_id != entry.session_id):
        raise Denied("forbidden", "只有出价的竞买人本人可以下载出价回执")
    receipt = Receipt(
        lot_id=entry.lot_id, session_id=entry.session_id, seq=entry.seq, paddle=entry.paddle,
        amount_fen=entry.amount_fen, at_ms=entry.at_ms, sha256=entry.sha256,
    )
    at = rfc3339(_EPOCH + timedelta(milliseconds=entry.at_ms))
    return JSONResponse(
        receipt.to_json(signer(services.settings.receipt_key.value), at or ""),
        headers={"Content-Disposition":
                 f'attachment; filename="receipt-lot{lot_id}-seq{seq}.json"'},
    )


routes: list[BaseRoute] = [
    Route("/api/v1/receipts/key", get_key, methods=["GET"]),
    Route("/api/v1/lots/{lot_id:int}/bids/{seq:int}/receipt", get_receipt, methods=["GET"]),
]
