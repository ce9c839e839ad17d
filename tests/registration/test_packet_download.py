"""The hand-off packet to download (issue 12 item 6): ``GET /api/v1/lots/{id}/registration/
packet`` gives each version of a sold lot's packet as stored — readable UTF-8 JSON, or the exact
bytes sent — to the market admins above the lot and the platform admin only."""

from __future__ import annotations

import json
import secrets

import httpx
from registration_factory import SECRET, sold_lot, unsold_lot

from auction.registration.packet import packet_body
from auction.registration.signing import HEADER, signature
from auction.store import Store
from auction.store.errors import Conflict
from auction.store.records import Market
from tests.api.people import bidder, staff
from tests.codes import city_with_counties

ADMIN = {"Authorization": "Bearer test-admin-token"}


async def markets(store: Store) -> tuple[Market, Market, Market]:
    """A city with two counties."""
    tag = secrets.token_hex(3)
    for _ in range(20):
        city_code, county_codes = city_with_counties("01", "02")
        try:
            city = await store.create_market(code=city_code, slug=f"c-{tag}", name=f"市{tag}",
                                             level="city")
            one, two = [await store.create_market(
                code=code, slug=f"k{n}-{tag}", name=f"县{n}{tag}", level="county",
                parent_code=city.code) for n, code in enumerate(county_codes, 1)]
        except Conflict as exc:  # a code another module made without tests/codes.py
            if exc.field != "code":
                raise
            continue
        return city, one, two
    raise AssertionError("no free city code in 20 draws")


async def rejected_and_corrected(api: httpx.AsyncClient, lot_id: int, key: str) -> None:
    """The office refuses version 1 by callback; the platform admin sends version 2."""
    raw = json.dumps({"idempotency_key": key, "status": "rejected", "reason": "主体性质有误"},
                     ensure_ascii=False).encode()
    answered = await api.post("/api/v1/registration/callback", content=raw, headers={
        "Content-Type": "application/json", HEADER: signature(SECRET, raw)})
    assert answered.status_code == 200, answered.text
    made = await api.post(f"/api/v1/lots/{lot_id}/registration/versions", headers=ADMIN,
                          json={"corrections": {"seller_nature": "科研机构"}})
    assert made.status_code == 201, made.text


async def test_each_version_downloads_as_stored_readable_or_as_sent(
    outbox_store: Store, api: httpx.AsyncClient
) -> None:
    """Version 1 (rejected, kept) and version 2 (current) of a corrected packet: the default
    is the current one, indented UTF-8 with the Chinese as is, named for the lot and version;
    ``form=sent`` is the exact stored body; both parse to the same packet."""
    city, county, _ = await markets(outbox_store)
    lot = await sold_lot(outbox_store, market=county)
    await rejected_and_corrected(api, lot.lot_id, lot.key)
    city_admin = await staff(api, "market_admin", city.code)
    path = f"/api/v1/lots/{lot.lot_id}/registration/packet"

    current = await api.get(path, headers=city_admin)
    assert current.status_code == 200, current.text
    assert current.headers["content-type"] == "application/json; charset=utf-8"
    disposition = current.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''%E7%99%BB%E8%AE%B0%E7%A7%BB%E4%BA%A4-{lot.lot_id}-v2.json" in (
        disposition)
    assert current.headers["x-packet-version"] == "2"
    assert current.headers["x-packet-versions"] == "1,2"
    assert current.headers["x-idempotency-key"] == f"{lot.key}:v2"
    assert current.headers["cache-control"] == "private, no-store"
    text = current.content.decode("utf-8")
    assert "某农业科学院" in text and "\\u" not in text and text.startswith("{\n  ")
    v2 = json.loads(text)
    assert (v2["version"], v2["seller"]["nature"], v2["corrections"]) == (
        2, "科研机构", {"seller_nature": "科研机构"})

    first = await api.get(path, params={"version": 1}, headers=city_admin)
    assert first.status_code == 200, first.text
    assert (first.headers["x-packet-version"], first.headers["x-packet-status"],
            first.headers["x-idempotency-key"]) == ("1", "rejected", lot.key)
    v1 = json.loads(first.content)
    assert (v1["version"], v1["corrections"]) == (1, {})
    assert v1["seller"]["nature"] != "科研机构" and v1["winning_bid"] == v2["winning_bid"]

    sent = await api.get(path, params={"version": 1, "form": "sent"}, headers=ADMIN)
    assert sent.status_code == 200, sent.text
    stored = await outbox_store.pool.fetchval(
        "SELECT packet::text FROM registration_versions WHERE lot_id = $1 AND version = 1",
        lot.lot_id)
    assert sent.content == packet_body(json.loads(stored))
    assert json.loads(sent.content) == v1 and b"\n" not in sent.content
    assert "-v1-sent.json" in sent.headers["content-disposition"]
    same = await api.get(path, params={"version": 2}, headers=ADMIN)
    assert same.content == current.content  # the same bytes on every download


async def test_who_may_download_the_packet(
    outbox_store: Store, api: httpx.AsyncClient
) -> None:
    """The lot's county admin and the city admin above it may; the sibling county's admin,
    finance and auctioneers of the lot's market, a bidder and the anonymous may not."""
    city, county, sibling = await markets(outbox_store)
    lot = await sold_lot(outbox_store, market=county)
    path = f"/api/v1/lots/{lot.lot_id}/registration/packet"
    for role, code in [("market_admin", county.code), ("market_admin", city.code)]:
        got = await api.get(path, headers=await staff(api, role, code))
        assert got.status_code == 200, (role, code, got.text)
        assert json.loads(got.content)["lot"]["id"] == lot.lot_id
    _, bidder_login = await bidder(api)
    refused = [await staff(api, "market_admin", sibling.code),
               await staff(api, "finance", county.code),
               await staff(api, "auctioneer", county.code), bidder_login]
    for who in refused:
        denied = await api.get(path, headers=who)
        assert (denied.status_code, denied.json()["error"]["code"]) == (403, "forbidden")
        assert b"lot" not in denied.content.replace(b"lot_id", b"")
    assert (await api.get(path)).status_code == 401
    # a guessed lot: 403 to a market admin as for another market's lot, 404 to the platform
    county_admin = await staff(api, "market_admin", county.code)
    assert (await api.get("/api/v1/lots/999999999/registration/packet",
                          headers=county_admin)).status_code == 403
    assert (await api.get("/api/v1/lots/999999999/registration/packet",
                          headers=ADMIN)).status_code == 404


async def test_bad_or_missing_versions_are_clear_errors(
    outbox_store: Store, api: httpx.AsyncClient
) -> None:
    """A version the lot does not have is 404 naming ``version``; a malformed ``version`` or
    ``form`` is 400 naming it; a lot that was not sold is 404 naming ``lot_id``."""
    lot = await sold_lot(outbox_store)
    path = f"/api/v1/lots/{lot.lot_id}/registration/packet"
    missing = await api.get(path, params={"version": 2}, headers=ADMIN)
    assert (missing.status_code, missing.json()["error"]["field"]) == (404, "version")
    for params, field in [({"version": "0"}, "version"), ({"version": "x"}, "version"),
                          ({"version": "１"}, "version"), ({"version": "9" * 30}, "version"),
                          ({"form": "pdf"}, "form")]:
        bad = await api.get(path, params=params, headers=ADMIN)
        assert (bad.status_code, bad.json()["error"]["field"]) == (400, field), params
    unsold = await unsold_lot(outbox_store)
    none = await api.get(f"/api/v1/lots/{unsold}/registration/packet", headers=ADMIN)
    assert (none.status_code, none.json()["error"]["field"]) == (404, "lot_id")
