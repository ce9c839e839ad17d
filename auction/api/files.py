"""Uploaded files over HTTP (docs/http-api.md "Attachments and documents"): a lot's pictures and
attachments, uploaded by the market, public; a registration's documents (营业执照 copy …),
uploaded by the bidder's own login, seen by it and by the market's desk.

- ``POST /api/v1/lots/{id}/attachments``: staff who manage the lot's sessions
  (``manage_sessions`` on its market).
- ``GET /api/v1/lots/{id}/attachments/{file_id}``: anyone.
- ``POST /api/v1/registrations/{id}/documents``: the registration's own bidder (its enterprise's
  own login; not an agent's), while the registration is open.
- ``GET /api/v1/registrations/{id}/documents/{file_id}``: the bidder's own login, and staff who
  may read the session's registrations (market admin, finance).
- ``DELETE`` of either file: who may upload it; a document only while its registration awaits
  review (``applied``).

An upload is the file as the request body, its type in ``Content-Type`` and its name in
``?filename=`` (an optional ``?label=`` says what it is: 营业执照, 授权委托书 …), or a
``multipart/form-data`` body with a ``file`` part (its own type and filename) and an optional
``label`` part. Who may upload is checked before the body is read; the body is read up to the
limit and no further (413 beyond it). The rules of the file itself are
:mod:`auction.domain.uploads`. A file is served with its stored type, ``nosniff``, a
``Content-Disposition`` and a policy that runs nothing in it (``sandbox``).
"""

from __future__ import annotations

import asyncio
from email.parser import BytesParser
from email.policy import HTTP
from email.utils import collapse_rfc2231_value
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from auction.accounts.policy import Action
from auction.api import guard, publication
from auction.api.admin import missing, registration_scope
from auction.api.guard import Denied
from auction.api.http_errors import BadRequest
from auction.api.tokens import Principal
from auction.domain.errors import Rejection
from auction.domain.inputs import text_problem
from auction.domain.uploads import MAX_BYTES, Upload, UploadError, check, content_type_of
from auction.store import accounts as account_store
from auction.store import files
from auction.store.steps import Actor

#: a multipart body may exceed the file by its headers and boundaries (and a label)
_MULTIPART_SLACK = 64 * 1024
#: what a served file may do in a browser: nothing (no script, no plugin, no frame of ours)
_FILE_POLICY = "default-src 'none'; img-src 'self'; sandbox"


def _actor(who: Principal) -> Actor:
    return Actor(role=who.role, name=who.subject or who.role, account_id=who.account_id or None)


def _label(raw: str) -> str:
    label = raw.strip()
    problem = text_problem(label, max_len=50)
    if problem is not None:
        raise BadRequest(f"label {problem}", "label")
    return label


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BadRequest("文件超过 5 MiB", "file", code="too_large", status=413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequest("文件超过 5 MiB", "file", code="too_large", status=413)
        chunks.append(chunk)
    return b"".join(chunks)


def _multipart(header: str, raw: bytes) -> tuple[str, str, bytes, str]:
    """``(filename, content type, content, label)`` of a ``multipart/form-data`` body."""
    try:
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + header.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n"
            + raw
        )
        if not message.is_multipart():
            raise BadRequest("multipart 请求体无法解析 (缺少 boundary?)", "file")
        found: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, tuple):
                name = collapse_rfc2231_value(name)
            if isinstance(name, str) and name not in found:
                found[name] = part
        file_part = found.get("file")
        if file_part is None:
            raise BadRequest("multipart 请求体缺少 file 部分", "file")
        content = file_part.get_payload(decode=True)
        label_part = found.get("label")
        label = ""
        if label_part is not None:
            label = (label_part.get_payload(decode=True) or b"").decode("utf-8")
        return (str(file_part.get_filename() or ""), file_part.get_content_type(),
                content if isinstance(content, bytes) else b"", label)
    except BadRequest:
        raise
    except (ValueError, TypeError, LookupError, AttributeError) as exc:
        # the stdlib parser is lenient, but a hostile body may still trip it: a 400, not a 500
        raise BadRequest(f"multipart 请求体无法解析: {type(exc).__name__}", "file") from None


async def read_upload(request: Request) -> tuple[Upload, str]:
    """The checked file of the request and its label (module docstring), else 400 / 413 /
    415 naming the field."""
    header = request.headers.get("content-type", "")
    if content_type_of(header) == "multipart/form-data":
        raw = await _body(request, MAX_BYTES + _MULTIPART_SLACK)
        # the stdlib parser takes ~0.2 s for 5 MiB: off the event loop, where bids are handled
        filename, media, content, label = await asyncio.to_thread(_multipart, header, raw)
    else:
        raw = await _body(request, MAX_BYTES)
        filename = request.query_params.get("filename", "")
        media, content = header, raw
        label = request.query_params.get("label", "")
    try:
        return check(filename, media, content), _label(label)
    except UploadError as exc:
        raise BadRequest(exc.message, exc.field, code=exc.code, status=exc.status) from exc


def disposition(filename: str, content_type: str) -> str:
    """Pictures ``inline`` (a page shows them), PDFs as an ``attachment`` (downloaded, never
    rendered within our origin); the name as an ASCII fallback and as RFC 5987 ``filename*``."""
    kind = "inline" if content_type.startswith("image/") else "attachment"
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_"
                       for c in filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def serve(stored: files.StoredFile, *, public: bool) -> Response:
    info = stored.info
    return Response(stored.content, media_type=info.content_type, headers={
        "Content-Disposition": disposition(info.filename, info.content_type),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": _FILE_POLICY,
        # a file never changes under its id; a bidder's document is nobody else's to cache
        "Cache-Control": "public, max-age=86400" if public else "private, no-store",
        "ETag": f'"{info.sha256}"',
    })


async def _managed_lot(request: Request, who: Principal) -> int:
    """The path's lot, which ``who`` must manage (its market's sessions); its id."""
    services = guard.services_of(request)
    lot_id = int(request.path_params["lot_id"])
    try:
        terms = await guard.lot_terms(services, lot_id)
    except Rejection:
        raise missing(who, "标的不存在", "lot_id") from None
    await guard.require(services, who, Action.MANAGE_SESSIONS, market_id=terms.market_id,
                        session_id=terms.session_id)
    return lot_id


async def _own_open_registration(request: Request, who: Principal) -> int:
    """The path's registration, which must be ``who``'s enterprise's, asked with its own
    login (not an agent's); its id."""
    services = guard.services_of(request)
    if who.role == "viewer":
        raise Denied("unauthorized", "请先登录竞买人账号")
    if who.role != "bidder" or not who.is_own_login:
        raise Denied("forbidden", "只有竞买人本人的登录令牌可以办理报名材料")
    registration_id, *_ = await registration_scope(request, who, Action.OWN_REGISTRATION)
    account = await account_store.get_account(services.store, who.account_id)
    if account.registration_id is not None:
        raise Denied("forbidden", "委托代理人不能办理此项")
    return registration_id


async def upload_attachment(request: Request) -> JSONResponse:
    """A picture or attachment of the lot, by staff who manage the lot's sessions."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    lot_id = await _managed_lot(request, who)
    upload, label = await read_upload(request)
    info = await files.add_to_lot(services.store, lot_id, upload, label=label, by=_actor(who))
    return JSONResponse(info.to_json(), status_code=201)


async def get_attachment(request: Request) -> Response:
    """A lot's picture or attachment: public, as the lot is (a draft's: its staff only)."""
    services = guard.services_of(request)
    lot_id = int(request.path_params["lot_id"])
    published = True
    try:
        terms = await guard.lot_terms(services, lot_id)
    except Rejection:  # no such lot: files.get answers not_found
        pass
    else:
        await publication.visible_lot(request, terms.session_id)
        published = await publication.is_published(services, terms.session_id)
    stored = await files.get(services.store, int(request.path_params["file_id"]),
                             lot_id=lot_id)
    # a draft's file is seen by its staff only: no shared cache keeps it
    return serve(stored, public=published)


async def upload_document(request: Request) -> JSONResponse:
    """A document of the registration (营业执照 copy …) by its own bidder's own login."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    registration_id = await _own_open_registration(request, who)
    upload, label = await read_upload(request)
    info = await files.add_to_registration(
        services.store, registration_id, upload, label=label, by=_actor(who)
    )
    return JSONResponse(info.to_json(), status_code=201)


async def delete_attachment(request: Request) -> JSONResponse:
    """Remove a picture or attachment of the lot (staff who manage the lot's sessions)."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    lot_id = await _managed_lot(request, who)
    file_id = int(request.path_params["file_id"])
    await files.remove_from_lot(services.store, lot_id, file_id)
    return JSONResponse({"deleted": True, "id": file_id})


async def delete_document(request: Request) -> JSONResponse:
    """Remove a document of the registration, by its bidder, while it awaits review."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    registration_id = await _own_open_registration(request, who)
    file_id = int(request.path_params["file_id"])
    await files.remove_from_registration(services.store, registration_id, file_id)
    return JSONResponse({"deleted": True, "id": file_id})


async def get_document(request: Request) -> Response:
    """A registration's document: its bidder's own login, or staff who may read the session's
    registrations."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    if who.role == "bidder":
        if not who.is_own_login:
            raise Denied("forbidden", "只有竞买人本人的登录令牌可以查看")
        action = Action.OWN_REGISTRATION
    else:
        action = Action.VIEW_REGISTRATIONS
    registration_id, *_ = await registration_scope(request, who, action)
    stored = await files.get(services.store, int(request.path_params["file_id"]),
                             registration_id=registration_id)
    return serve(stored, public=False)


routes: list[BaseRoute] = [
    Route("/api/v1/lots/{lot_id:int}/attachments", upload_attachment, methods=["POST"]),
    Route("/api/v1/lots/{lot_id:int}/attachments/{file_id:int}", get_attachment,
          methods=["GET"]),
    Route("/api/v1/lots/{lot_id:int}/attachments/{file_id:int}", delete_attachment,
          methods=["DELETE"]),
    Route("/api/v1/registrations/{registration_id:int}/documents", upload_document,
          methods=["POST"]),
    Route("/api/v1/registrations/{registration_id:int}/documents/{file_id:int}", get_document,
          methods=["GET"]),
    Route("/api/v1/registrations/{registration_id:int}/documents/{file_id:int}",
          delete_document, methods=["DELETE"]),
]
