"""A lot's pictures and attachments (issue 11): uploaded by staff who manage the lot's market,
served to anyone with their type, a Content-Disposition and nosniff, listed in the lot JSON;
every bad upload is a clear 4xx and stores nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from auction.domain.uploads import MAX_BYTES, MAX_PER_OWNER
from auction.store import Store
from tests.api.conftest import ADMIN, error_of
from tests.api.people import JPEG, PDF, PNG, WEBP, staff

NewSession = Callable[..., Awaitable[dict[str, Any]]]
NewLot = Callable[..., Awaitable[dict[str, Any]]]


async def _files(store: Store) -> int:
    return int(await store.pool.fetchval("SELECT count(*) FROM files"))


async def test_market_staff_upload_a_picture_everyone_sees(
    client: httpx.AsyncClient, new_lot: NewLot
) -> None:
    """A raw PNG body with ?filename= is stored, listed in the lot and served as it was."""
    lot = await new_lot()
    market = (await client.get(f"/api/v1/sessions/{lot['session_id']}")).json()["market_code"]
    admin = await staff(client, "market_admin", market)
    resp = await client.post(
        f"/api/v1/lots/{lot['id']}/attachments",
        params={"filename": "C:\\fakepath\\样机照片.png", "label": "样机照片"},
        headers={**admin, "Content-Type": "image/png"}, content=PNG,
    )
    assert resp.status_code == 201, resp.text
    info = resp.json()
    assert (info["filename"], info["label"], info["content_type"], info["size_bytes"]) == (
        "样机照片.png", "样机照片", "image/png", len(PNG))
    listed = (await client.get(f"/api/v1/lots/{lot['id']}")).json()["attachments"]
    assert listed == [info]
    served = await client.get(info["url"])
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-disposition"].startswith('inline; filename="')
    assert "filename*=UTF-8''%E6%A0%B7" in served.headers["content-disposition"]
    assert "sandbox" in served.headers["content-security-policy"]


async def test_multipart_upload_of_a_pdf(client: httpx.AsyncClient, new_lot: NewLot) -> None:
    """A multipart/form-data body (file part plus label) works; a PDF downloads as attachment."""
    lot = await new_lot()
    resp = await client.post(
        f"/api/v1/lots/{lot['id']}/attachments", headers=ADMIN,
        files={"file": ("专利证书.pdf", PDF, "application/pdf")}, data={"label": "专利证书"},
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["label"] == "专利证书" and resp.json()["filename"] == "专利证书.pdf"
    served = await client.get(resp.json()["url"])
    assert served.content == PDF and served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"].startswith("attachment;")
    for body, media in ((JPEG, "image/jpeg"), (WEBP, "image/webp"), (JPEG, "image/jpg")):
        ok = await client.post(f"/api/v1/lots/{lot['id']}/attachments", headers={
            **ADMIN, "Content-Type": media}, params={"filename": "p"}, content=body)
        assert ok.status_code == 201, ok.text


async def test_bad_uploads_are_refused_and_store_nothing(
    client: httpx.AsyncClient, new_lot: NewLot, store: Store
) -> None:
    """Wrong type, content not matching the type, empty, too large, no filename, a JSON body,
    a broken multipart body: 4xx naming the problem, and no file row."""
    lot = await new_lot()
    url = f"/api/v1/lots/{lot['id']}/attachments"
    before = await _files(store)
    cases: list[tuple[str, bytes, dict[str, str], int, str]] = [
        ("text/html", b"<script>alert(1)</script>", {"filename": "a.html"}, 415, "content_type"),
        ("image/png", b"<svg onload=alert(1)>", {"filename": "a.png"}, 415, "content_type"),
        ("image/png", PDF, {"filename": "a.png"}, 415, "content_type"),
        ("image/png", b"", {"filename": "a.png"}, 400, "file"),
        ("image/png", PNG, {}, 400, "filename"),
        ("image/png", PNG, {"filename": "../"}, 400, "filename"),
        ("image/png", PNG + b"\x00" * MAX_BYTES, {"filename": "big.png"}, 413, "file"),
        ("application/json", b'{"a": 1}', {"filename": "a.png"}, 415, "content_type"),
        ("multipart/form-data; boundary=x", b"--x\r\nbroken", {}, 400, "file"),
        ("multipart/form-data", PNG, {}, 400, "file"),
    ]
    for media, body, params, status, field in cases:
        resp = await client.post(url, headers={**ADMIN, "Content-Type": media}, params=params,
                                 content=body)
        assert resp.status_code == status, (media, params, resp.text)
        assert error_of(resp)["field"] == field, (media, resp.text)
    long_label = await client.post(url, headers={**ADMIN, "Content-Type": "image/png"},
                                   params={"filename": "a.png", "label": "标" * 51}, content=PNG)
    assert long_label.status_code == 400 and error_of(long_label)["field"] == "label"
    assert await _files(store) == before


async def test_only_staff_managing_the_lots_market_upload(
    client: httpx.AsyncClient, new_lot: NewLot, store: Store
) -> None:
    """Anonymous 401; another market's admin, the lot's market's auctioneer and finance, a
    bidder: 403; an unknown lot: 403 (404 to the platform admin)."""
    lot = await new_lot()
    other = await new_lot()
    market = (await client.get(f"/api/v1/sessions/{lot['session_id']}")).json()["market_code"]
    other_market = (await client.get(
        f"/api/v1/sessions/{other['session_id']}")).json()["market_code"]
    url = f"/api/v1/lots/{lot['id']}/attachments?filename=a.png"
    png = {"Content-Type": "image/png"}
    before = await _files(store)
    assert (await client.post(url, headers=png, content=PNG)).status_code == 401
    bad = {"Authorization": "Bearer nonsense", **png}
    assert (await client.post(url, headers=bad, content=PNG)).status_code == 401
    for who in (await staff(client, "market_admin", other_market),
                await staff(client, "auctioneer", market),
                await staff(client, "finance", market)):
        resp = await client.post(url, headers={**who, **png}, content=PNG)
        assert resp.status_code == 403, resp.text
    admin = await staff(client, "market_admin", market)
    unknown = await client.post("/api/v1/lots/999999999/attachments?filename=a.png",
                                headers={**admin, **png}, content=PNG)
    assert unknown.status_code == 403
    unknown = await client.post("/api/v1/lots/999999999/attachments?filename=a.png",
                                headers={**ADMIN, **png}, content=PNG)
    assert unknown.status_code == 404
    assert await _files(store) == before


async def test_a_file_is_served_through_its_own_lot_only(
    client: httpx.AsyncClient, new_lot: NewLot
) -> None:
    """An attachment id under another lot, or an unknown id, is 404."""
    lot, other = await new_lot(), await new_lot()
    made = await client.post(f"/api/v1/lots/{lot['id']}/attachments?filename=a.png",
                             headers={**ADMIN, "Content-Type": "image/png"}, content=PNG)
    file_id = made.json()["id"]
    assert (await client.get(f"/api/v1/lots/{other['id']}/attachments/{file_id}")).status_code \
        == 404
    assert (await client.get(f"/api/v1/lots/{lot['id']}/attachments/0")).status_code == 404
    assert (await client.get(
        f"/api/v1/lots/{lot['id']}/attachments/99999999999999999999")).status_code == 404


async def test_at_most_twenty_files_per_lot(client: httpx.AsyncClient, new_lot: NewLot) -> None:
    """The 21st file of a lot is 409 ``too_many_files``."""
    lot = await new_lot()
    url = f"/api/v1/lots/{lot['id']}/attachments?filename=a.png"
    for _ in range(MAX_PER_OWNER):
        ok = await client.post(url, headers={**ADMIN, "Content-Type": "image/png"}, content=PNG)
        assert ok.status_code == 201
    refused = await client.post(url, headers={**ADMIN, "Content-Type": "image/png"}, content=PNG)
    assert refused.status_code == 409 and error_of(refused)["code"] == "too_many_files"


async def test_staff_remove_an_attachment(
    client: httpx.AsyncClient, new_lot: NewLot, store: Store
) -> None:
    """The lot's market staff delete a file: gone from the lot and its URL; others are refused
    and a file of another lot is 404."""
    lot, other = await new_lot(), await new_lot()
    market = (await client.get(f"/api/v1/sessions/{lot['session_id']}")).json()["market_code"]
    made = (await client.post(f"/api/v1/lots/{lot['id']}/attachments?filename=a.png",
                              headers={**ADMIN, "Content-Type": "image/png"},
                              content=PNG)).json()
    url = f"/api/v1/lots/{lot['id']}/attachments/{made['id']}"
    for who in ({}, await staff(client, "auctioneer", market)):
        assert (await client.delete(url, headers=who)).status_code in (401, 403)
    wrong = await client.delete(f"/api/v1/lots/{other['id']}/attachments/{made['id']}",
                                headers=ADMIN)
    assert wrong.status_code == 404
    admin = await staff(client, "market_admin", market)
    gone = await client.delete(url, headers=admin)
    assert gone.status_code == 200 and gone.json() == {"deleted": True, "id": made["id"]}
    assert (await client.get(url)).status_code == 404
    assert (await client.get(f"/api/v1/lots/{lot['id']}")).json()["attachments"] == []
    assert (await client.delete(url, headers=admin)).status_code == 404
