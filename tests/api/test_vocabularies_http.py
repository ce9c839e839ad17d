"""Vocabularies as data (issue 16 item 1): every write of a lot (create, edit, spreadsheet
import) takes only terms of the lists in force and stores their Chinese labels; the lists are
public at ``GET /api/v1/vocabularies``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from auction.api import (
    admin,
    auth,
    catalogue,
    http_errors,
    lot_edits,
    lot_import,
    registrations,
    vocabularies,
)
from auction.services import Services
from auction.store import Store
from tests.api.conftest import ADMIN, LotBody, NewLot, NewSession, error_of
from tests.api.test_lot_import_http import csv_bytes, lots_of, row


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(
        routes=[*admin.routes, *auth.routes, *registrations.routes, *catalogue.routes,
                *lot_edits.routes, *lot_import.routes, *vocabularies.routes],
        exception_handlers=http_errors.exception_handlers(),
    )
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def test_a_made_up_field_is_refused_naming_the_field(
    client: httpx.AsyncClient, new_session: NewSession, lot_body: LotBody
) -> None:
    """技术领域 "随便写的领域": 400 ``unknown_term`` naming ``technology_field`` and the value;
    no lot is made."""
    session = await new_session()
    resp = await client.post(f"/api/v1/sessions/{session['id']}/lots", headers=ADMIN,
                             json=lot_body(technology_field="随便写的领域"))
    assert resp.status_code == 400, resp.text
    error = error_of(resp)
    assert (error["code"], error["field"]) == ("unknown_term", "technology_field")
    assert "随便写的领域" in error["message"] and "技术领域" in error["message"]
    assert await lots_of(client, session["id"]) == []


@pytest.mark.parametrize("field", ["result_type", "ip_type", "contract_type",
                                   "transaction_mode"])
async def test_every_classification_field_is_checked(
    client: httpx.AsyncClient, new_session: NewSession, lot_body: LotBody, field: str
) -> None:
    session = await new_session()
    resp = await client.post(f"/api/v1/sessions/{session['id']}/lots", headers=ADMIN,
                             json=lot_body(**{field: "随便写的"}))
    assert resp.status_code == 400
    assert error_of(resp)["field"] == field


async def test_keys_and_aliases_are_stored_as_the_chinese_label(
    new_lot: NewLot, client: httpx.AsyncClient
) -> None:
    """``01`` → 电子信息, 新材料 → 新材料及其应用, 软件著作权 → 计算机软件著作权; the lot reads back
    with the labels."""
    a = await new_lot(technology_field="01", ip_type="软件著作权", result_type=" 软件 ")
    b = await new_lot(technology_field="新材料")
    assert (a["technology_field"], a["ip_type"], a["result_type"]) == (
        "电子信息", "计算机软件著作权", "计算机软件著作权")
    assert b["technology_field"] == "新材料及其应用"
    shown = (await client.get(f"/api/v1/lots/{a['id']}")).json()
    assert shown["technology_field"] == "电子信息"


async def test_edit_and_import_go_through_the_same_check(
    client: httpx.AsyncClient, new_lot: NewLot, new_session: NewSession
) -> None:
    """PATCH with a made-up field: 400 naming it, the lot unchanged; an import row with one:
    the row and column reported, nothing imported."""
    lot = await new_lot()
    resp = await client.patch(f"/api/v1/lots/{lot['id']}", headers=ADMIN,
                              json={"technology_field": "随便写的领域"})
    assert resp.status_code == 400
    assert error_of(resp)["field"] == "technology_field"
    after = (await client.get(f"/api/v1/lots/{lot['id']}")).json()
    assert after["technology_field"] == lot["technology_field"]
    session = await new_session()
    body = csv_bytes([row(title="甲"), row(title="乙", technology_field="随便写的领域")])
    imported = await client.post(f"/api/v1/sessions/{session['id']}/lots/import",
                                 headers={**ADMIN, "Content-Type": "text/csv"}, content=body)
    assert imported.status_code == 400
    errors = imported.json()["error"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("technology_field", "unknown_term")]
    assert await lots_of(client, session["id"]) == []


async def test_the_lists_are_public_with_source_and_date(client: httpx.AsyncClient) -> None:
    """Six lists; the 11 technology fields in order with keys 01…11; nothing before 2026."""
    body = (await client.get("/api/v1/vocabularies")).json()
    lists = body["vocabularies"]
    assert set(lists) == {"technology_field", "result_type", "ip_type", "contract_type",
                          "transaction_mode", "party_nature"}
    fields = lists["technology_field"]
    assert fields["label"] == "技术领域"
    assert [t["key"] for t in fields["terms"]] == [f"{n:02d}" for n in range(1, 12)]
    assert fields["terms"][0]["label"] == "电子信息"
    assert all(t["source"] and t["effective_from"] == "2026-01-01" for t in fields["terms"])
    early = (await client.get("/api/v1/vocabularies?on=2025-06-01")).json()
    assert early["vocabularies"] == {}
    bad = await client.get("/api/v1/vocabularies?on=someday")
    assert bad.status_code == 400 and error_of(bad)["field"] == "on"


async def test_a_new_edition_holds_from_its_date(
    client: httpx.AsyncClient, store: Store
) -> None:
    """A term added with a later effective date is offered from that day, not before."""
    await store.pool.execute(
        "INSERT INTO vocabulary_terms (vocabulary, key, label, position, effective_from, source)"
        " VALUES ('technology_field', '12', '测试新领域', 12, '2099-01-01', 'test')")
    try:
        now = (await client.get("/api/v1/vocabularies")).json()
        assert "测试新领域" not in [t["label"] for t in
                                  now["vocabularies"]["technology_field"]["terms"]]
        later = (await client.get("/api/v1/vocabularies?on=2099-01-02")).json()
        assert "测试新领域" in [t["label"] for t in
                              later["vocabularies"]["technology_field"]["terms"]]
    finally:
        await store.pool.execute("DELETE FROM vocabulary_terms WHERE key = '12'")


async def test_a_corrected_party_nature_is_a_term_of_the_list(store: Store) -> None:
    """A registration correction's nature goes through the 主体性质 list in force: an alias
    (高校) is stored as its label (高等院校); anything else (公司) is 400 naming the field."""
    from datetime import date

    from auction.api.http_errors import BadRequest
    from auction.api.registration_answer import _corrections
    from auction.store import vocabularies as vocabulary_store

    natures = (await vocabulary_store.in_force(store, date(2026, 6, 1))).get("party_nature")
    assert natures is not None and "科研机构" in natures.values
    assert _corrections({"seller_nature": "高校", "buyer_nature": "ENTERPRISE"}, natures) == {
        "seller_nature": "高等院校", "buyer_nature": "企业"}
    with pytest.raises(BadRequest) as refused:
        _corrections({"buyer_nature": "公司"}, natures)
    assert refused.value.field == "corrections.buyer_nature"
