"""Lots from a spreadsheet (issue 12): the template, an XLSX and a CSV import, a bad row
reported by row and column with nothing created, a dry run, and the file's limits, over real
PostgreSQL and Redis."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]
from starlette.applications import Starlette

from auction.api import admin, auth, catalogue, http_errors, lot_import, registrations
from auction.services import Services
from tests.api.conftest import ADMIN, USCC, NewSession, error_of
from tests.api.people import staff

XLSX = lot_import.XLSX
HEADERS = [c.header for c in lot_import.COLUMNS]
FIELDS = [c.field for c in lot_import.COLUMNS]


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process app with the admin, account, catalogue and import routes."""
    app = Starlette(
        routes=[*admin.routes, *auth.routes, *registrations.routes, *catalogue.routes,
                *lot_import.routes],
        exception_handlers=http_errors.exception_handlers(),
    )
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def row(**changes: Any) -> dict[str, Any]:
    """A good lot row keyed by field name (None drops a cell)."""
    values: dict[str, Any] = {
        "title": "一种高效固废资源化处理方法", "result_type": "专利", "ip_type": "发明专利",
        "technology_field": "环境保护与资源综合利用", "transaction_mode": "转让",
        "contract_type": "技术转让", "holder_name": "山东某大学", "holder_uscc": USCC,
        "start_price_fen": 200_000_000, "increment_fen": 1_000_000,
    }
    values.update(changes)
    return values


def xlsx(rows: list[dict[str, Any]], *, names_row: bool = True) -> bytes:
    """A workbook as the template lays it out: Chinese headers, field names, the rows."""
    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    if names_row:
        sheet.append(FIELDS)
    for values in rows:
        sheet.append([values.get(f) for f in FIELDS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[dict[str, Any]], encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(FIELDS)  # a CSV may name its columns by field name
    for values in rows:
        writer.writerow(["" if values.get(f) is None else values[f] for f in FIELDS])
    return out.getvalue().encode(encoding)


async def lots_of(client: httpx.AsyncClient, session_id: int) -> list[dict[str, Any]]:
    lots: list[dict[str, Any]] = (await client.get(f"/api/v1/sessions/{session_id}/lots")
                                  ).json()["lots"]
    return lots


async def test_the_template_is_public_with_headers_names_example_and_lists(
    client: httpx.AsyncClient,
) -> None:
    """Anyone downloads the template: Chinese headers, the field names, one example row that
    imports as is, and list validations for the vocabularies."""
    resp = await client.get("/api/v1/lots/import-template.xlsx")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == XLSX
    assert resp.headers["content-disposition"].startswith("attachment;")
    book = load_workbook(io.BytesIO(resp.content))
    sheet = book["标的"]
    assert [c.value for c in sheet[1]] == HEADERS
    assert [c.value for c in sheet[2]] == FIELDS
    assert sheet["A3"].value and sheet["H3"].value == USCC
    ranges = {str(v.sqref).split(":")[0] for v in sheet.data_validations.dataValidation}
    assert {"B3", "C3", "D3", "E3", "F3"} <= ranges
    assert "技术转让" in [c.value for c in book["选项"]["F"]]


async def test_an_xlsx_import_creates_every_lot_with_rooms_and_warnings(
    client: httpx.AsyncClient, new_session: NewSession, services: Services
) -> None:
    """Two good rows (the second breaking the increment guideline): 201, both lots in order
    with their deposits and rooms; the warning comes with its row."""
    session = await new_session()
    sid = session["id"]
    body = xlsx([row(title="甲", deposit_fen=30_000_000),
                 row(title="乙", increment_fen=20_000_000, appraisal_fen=300_000_000)])
    resp = await client.post(f"/api/v1/sessions/{sid}/lots/import", headers={
        **ADMIN, "Content-Type": XLSX}, content=body)
    assert resp.status_code == 201, resp.text
    answer = resp.json()
    assert answer["dry_run"] is False
    first, second = answer["lots"]
    assert (first["row"], first["title"], first["deposit_fen"], first["warnings"]) == (
        3, "甲", 30_000_000, [])
    assert (second["row"], second["title"], second["deposit_fen"]) == (4, "乙", 20_000_000)
    assert [w["code"] for w in second["warnings"]] == ["increment_guideline"]
    assert second["appraisal_fen"] == 300_000_000
    assert [(lot["title"], lot["ordinal"]) for lot in await lots_of(client, sid)] == [
        ("甲", 1), ("乙", 2)]
    for lot in (first, second):
        assert await services.rooms.room_state(lot["id"]) is not None


async def test_a_csv_import_in_gb18030_by_a_county_admin_with_multipart(
    client: httpx.AsyncClient, new_session: NewSession
) -> None:
    """A CSV as Excel saves it on a Chinese system (GB 18030), sent as a multipart ``file`` by
    the market's own admin: imported."""
    session = await new_session()
    sid = session["id"]
    admin_header = await staff(client, "market_admin", session["market_code"])
    body = csv_bytes([row(title="丙"), row(title="丁", reserve_fen="")], encoding="gb18030")
    resp = await client.post(f"/api/v1/sessions/{sid}/lots/import", headers=admin_header,
                             files={"file": ("标的.csv", body, "text/csv")})
    assert resp.status_code == 201, resp.text
    assert [lot["title"] for lot in resp.json()["lots"]] == ["丙", "丁"]
    assert [lot["title"] for lot in await lots_of(client, sid)] == ["丙", "丁"]


async def test_a_bad_row_is_reported_by_row_and_column_and_nothing_is_created(
    client: httpx.AsyncClient, new_session: NewSession, lot_body: Any
) -> None:
    """A bad credit code in row 4 and a missing title in row 5: 400 ``import_failed`` naming
    each row and column with the message ``POST /sessions/{id}/lots`` gives for the same
    lot; the good row is not created either."""
    sid = (await new_session())["id"]
    bad_uscc = "91350100M000100Y44"
    body = xlsx([row(), row(holder_uscc=bad_uscc), row(title=None),
                 row(start_price_fen="二百万")])
    resp = await client.post(f"/api/v1/sessions/{sid}/lots/import",
                             headers={**ADMIN, "Content-Type": XLSX}, content=body)
    assert resp.status_code == 400, resp.text
    error = error_of(resp)
    assert error["code"] == "import_failed"
    errors = error["errors"]
    assert [(e["row"], e["field"], e["column"]) for e in errors] == [
        (4, "holder_uscc", "持有人统一社会信用代码"), (5, "title", "标的名称"),
        (6, "start_price_fen", "起拍价(分)")]
    single = await client.post(f"/api/v1/sessions/{sid}/lots", headers=ADMIN,
                               json=lot_body(holder_uscc=bad_uscc))
    assert (errors[0]["code"], errors[0]["message"]) == (
        error_of(single)["code"], error_of(single)["message"])
    assert errors[1]["message"] == "缺少字段 title"
    assert errors[2]["message"] == "字段 start_price_fen 应为整数 (金额以分计)"
    assert await lots_of(client, sid) == []

    # the same report in English (X-Auction-Lang: en), each message as the API's would be
    english = await client.post(f"/api/v1/sessions/{sid}/lots/import", content=body, headers={
        **ADMIN, "Content-Type": XLSX, "X-Auction-Lang": "en"})
    error = error_of(english)
    single = await client.post(f"/api/v1/sessions/{sid}/lots", json=lot_body(
        holder_uscc=bad_uscc), headers={**ADMIN, "X-Auction-Lang": "en"})
    assert (error["code"], error["message"]) == ("import_failed", "3 errors: no lot was imported")
    assert [e["message"] for e in error["errors"]] == [
        error_of(single)["message"], "Missing field title",
        "Field start_price_fen must be a whole number (money in fen)"]
    assert "Not a valid unified social credit code" in error["errors"][0]["message"]


async def test_a_dry_run_checks_and_creates_nothing(
    client: httpx.AsyncClient, new_session: NewSession
) -> None:
    """``?dry_run=true``: 200 with the checked lots (no ids), nothing made; a bad row is
    refused exactly as without it; a timed session needs ``duration_s`` on every row."""
    session = await new_session(mode="timed")
    sid = session["id"]
    url = f"/api/v1/sessions/{sid}/lots/import?dry_run=true"
    headers = {**ADMIN, "Content-Type": XLSX}
    resp = await client.post(url, headers=headers, content=xlsx([row(duration_s=3600)]))
    assert resp.status_code == 200, resp.text
    [lot] = resp.json()["lots"]
    assert resp.json()["dry_run"] is True and "id" not in lot
    assert (lot["row"], lot["duration_s"], lot["deposit_fen"]) == (3, 3600, 20_000_000)
    resp = await client.post(url, headers=headers, content=xlsx([row()]))
    assert resp.status_code == 400
    assert [(e["row"], e["field"]) for e in error_of(resp)["errors"]] == [(3, "duration_s")]
    bad = await client.post(f"/api/v1/sessions/{sid}/lots/import?dry_run=maybe",
                            headers=headers, content=xlsx([row(duration_s=60)]))
    assert bad.status_code == 400 and error_of(bad)["field"] == "dry_run"
    assert await lots_of(client, sid) == []


async def test_too_big_too_many_and_not_a_spreadsheet_are_refused(
    client: httpx.AsyncClient, new_session: NewSession
) -> None:
    """Over 2 MiB: 413; over 500 rows: 400 ``too_many_rows``; JSON: 415; bytes declared as
    XLSX that are no workbook, or an unknown column: 400; nothing is created."""
    sid = (await new_session())["id"]
    url = f"/api/v1/sessions/{sid}/lots/import"
    big = await client.post(url, headers={**ADMIN, "Content-Type": "text/csv"},
                            content=b"title\n" + b"x" * (2 * 1024 * 1024))
    assert big.status_code == 413 and error_of(big)["code"] == "too_large"
    many = await client.post(url, headers={**ADMIN, "Content-Type": "text/csv"},
                             content=csv_bytes([row()] * 501))
    assert many.status_code == 400 and error_of(many)["code"] == "too_many_rows"
    json_body = await client.post(url, headers=ADMIN, json=row())
    assert json_body.status_code == 415 and error_of(json_body)["code"] == "unsupported_type"
    broken = await client.post(url, headers={**ADMIN, "Content-Type": XLSX},
                               content=b"PK\x03\x04 not really a workbook")
    assert broken.status_code == 400 and error_of(broken)["field"] == "file"
    odd = await client.post(url, headers={**ADMIN, "Content-Type": "text/csv"},
                            content="title,颜色\n甲,红\n".encode())
    assert odd.status_code == 400
    assert {(e["row"], e["field"]) for e in error_of(odd)["errors"]} >= {(1, "颜色")}
    assert await lots_of(client, sid) == []


async def test_only_staff_who_may_create_lots_import(
    client: httpx.AsyncClient, new_session: NewSession
) -> None:
    """Anonymous 401; finance of the market and another market's admin 403, before the file is
    read; an unknown session is 403 to a market admin, 404 to the platform admin."""
    session = await new_session()
    sid = session["id"]
    url = f"/api/v1/sessions/{sid}/lots/import"
    body = xlsx([row()])
    assert (await client.post(url, content=body)).status_code == 401
    finance = await staff(client, "finance", session["market_code"])
    other = await staff(client, "market_admin", (await new_session())["market_code"])
    for who in (finance, other):
        resp = await client.post(url, headers={**who, "Content-Type": XLSX}, content=body)
        assert resp.status_code == 403, resp.text
    unknown = "/api/v1/sessions/999999999/lots/import"
    assert (await client.post(unknown, headers={**other, "Content-Type": XLSX},
                              content=body)).status_code == 403
    assert (await client.post(unknown, headers={**ADMIN, "Content-Type": XLSX},
                              content=body)).status_code == 404
    assert await lots_of(client, sid) == []


async def test_a_sheet_of_endless_empty_rows_is_refused_without_walking_it(
    client: httpx.AsyncClient, new_session: NewSession
) -> None:
    """A workbook whose one cell sits at row 30,000: 400 ``too_many_rows`` (the scan stops at
    20,000 rows), nothing created."""
    sid = (await new_session())["id"]
    book = Workbook()
    book.active.append(HEADERS)
    book.active.cell(row=30_000, column=1, value="甲")
    out = io.BytesIO()
    book.save(out)
    resp = await client.post(f"/api/v1/sessions/{sid}/lots/import",
                             headers={**ADMIN, "Content-Type": XLSX}, content=out.getvalue())
    assert resp.status_code == 400 and error_of(resp)["code"] == "too_many_rows"
    assert await lots_of(client, sid) == []


async def test_a_windows_browsers_csv_type_and_a_mislabelled_workbook_are_read(
    client: httpx.AsyncClient, new_session: NewSession
) -> None:
    """A ``.csv`` part typed ``application/vnd.ms-excel`` (as browsers on Windows send it) is
    read as CSV, and a workbook under a CSV type as a workbook; a real ``.xls`` is 415."""
    sid = (await new_session())["id"]
    url = f"/api/v1/sessions/{sid}/lots/import"
    ms = "application/vnd.ms-excel"
    resp = await client.post(url, headers=ADMIN, files={
        "file": ("lots.csv", csv_bytes([row(title="戊")]), ms)})
    assert resp.status_code == 201, resp.text
    resp = await client.post(url, headers={**ADMIN, "Content-Type": "text/csv"},
                             content=xlsx([row(title="己")]))
    assert resp.status_code == 201, resp.text
    old = await client.post(url, headers=ADMIN, files={"file": ("lots.xls", b"\xd0\xcf", ms)})
    assert old.status_code == 415 and error_of(old)["field"] == "content_type"
    assert [lot["title"] for lot in await lots_of(client, sid)] == ["戊", "己"]


async def test_a_timed_lots_own_start_is_imported_in_china_time(
    client: httpx.AsyncClient, new_session: NewSession
) -> None:
    """The column 开始时间(北京时间,限时竞价选填): a date-and-time cell and a text
    ``2026/4/20 9:00`` are China time, an RFC 3339 text keeps its offset, an empty cell opens
    with the session; the lots carry them, and the template has the column with a note."""
    session = await new_session("timed", ends_at="2026-04-25T16:00:00+08:00")
    sid = session["id"]
    body = xlsx([row(title="甲", duration_s=600, starts_at=datetime(2026, 4, 20, 9, 30)),
                 row(title="乙", duration_s=600, starts_at="2026/4/20 9:00"),
                 row(title="丙", duration_s=600, starts_at="2026-04-21T01:00:00+00:00"),
                 row(title="丁", duration_s=600)])
    resp = await client.post(f"/api/v1/sessions/{sid}/lots/import",
                             headers={**ADMIN, "Content-Type": XLSX}, content=body)
    assert resp.status_code == 201, resp.text
    assert [lot["starts_at"] for lot in resp.json()["lots"]] == [
        "2026-04-20T09:30:00.000+08:00", "2026-04-20T09:00:00.000+08:00",
        "2026-04-21T09:00:00.000+08:00", None]
    assert [lot["starts_at"] for lot in await lots_of(client, sid)] == [
        "2026-04-20T09:30:00.000+08:00", "2026-04-20T09:00:00.000+08:00",
        "2026-04-21T09:00:00.000+08:00", None]
    template = load_workbook(io.BytesIO(
        (await client.get("/api/v1/lots/import-template.xlsx")).content))
    assert "开始时间(北京时间,限时竞价选填)" in [c.value for c in template["标的"][1]]
    assert "starts_at" in [c.value for c in template["标的"][2]]
    assert "开始时间" in str(template["说明"]["B1"].value)


async def test_a_bad_own_start_is_refused_per_row_as_the_api_refuses_it(
    client: httpx.AsyncClient, new_session: NewSession, lot_body: Any
) -> None:
    """Before the session's start, at its end, not a time at all, and any start on a live
    session's sheet: 400 ``import_failed`` naming each row and the column, with the API's
    message (the session's times in China time); nothing is created."""
    timed = await new_session("timed", ends_at="2026-04-25T16:00:00+08:00")
    body = xlsx([row(duration_s=600, starts_at="2026-04-20 09:00"),
                 row(duration_s=600, starts_at="2026-04-18 09:00"),
                 row(duration_s=600, starts_at=datetime(2026, 4, 25, 16, 0)),
                 row(duration_s=600, starts_at="下周一上午")])
    resp = await client.post(f"/api/v1/sessions/{timed['id']}/lots/import",
                             headers={**ADMIN, "Content-Type": XLSX}, content=body)
    assert resp.status_code == 400, resp.text
    errors = error_of(resp)["errors"]
    column = "开始时间(北京时间,限时竞价选填)"
    assert [(e["row"], e["field"], e["column"]) for e in errors] == [
        (4, "starts_at", column), (5, "starts_at", column), (6, "starts_at", column)]
    single = await client.post(f"/api/v1/sessions/{timed['id']}/lots", headers=ADMIN,
                               json=lot_body(duration_s=600,
                                             starts_at="2026-04-18T09:00:00+08:00"))
    assert errors[0]["message"] == error_of(single)["message"]
    assert "2026-04-18 09:30" in errors[0]["message"]
    assert "2026-04-25 16:00" in errors[1]["message"]
    assert errors[2]["message"] == lot_import.TIME_TEXT
    assert await lots_of(client, timed["id"]) == []
    live = await new_session("live")
    resp = await client.post(f"/api/v1/sessions/{live['id']}/lots/import",
                             headers={**ADMIN, "Content-Type": XLSX},
                             content=xlsx([row(starts_at="2026-04-20 09:00")]))
    assert resp.status_code == 400, resp.text
    [error] = error_of(resp)["errors"]
    assert (error["row"], error["field"]) == (3, "starts_at")
    assert "只有限时竞价场次" in error["message"]
