"""Lots from a spreadsheet (docs/http-api.md "Lot import"): the template and the import.

- ``GET /api/v1/lots/import-template.xlsx``: public (it holds no market's data, only the
  columns, the vocabularies and an example row): row 1 the Chinese headers, row 2 the API field
  names, row 3 an example; the lists of the vocabularies in force today
  (:mod:`auction.store.vocabularies`) as strict data validation.
- ``POST /api/v1/sessions/{id}/lots/import[?dry_run=true]``: staff who may create lots on the
  session's market (as ``POST /sessions/{id}/lots``). The body is an XLSX or CSV file (the raw
  body with its ``Content-Type``, or ``multipart/form-data`` with a ``file`` part), at most
  :data:`MAX_BYTES` and :data:`MAX_ROWS` rows. Each row is checked by
  :func:`auction.api.admin.check_lot`, the check of ``POST /sessions/{id}/lots``, so a row is
  refused with the same message as the same JSON body. All rows or none: any bad row → 400
  ``import_failed`` with ``errors: [{row, field, column, code, message}]`` (``row`` as the
  spreadsheet numbers it), nothing created; else 201 ``{lots}`` (each with its ``deposit_fen``
  and ``warnings``), made in one transaction, then their rooms (:func:`admin.open_room`). A dry
  run answers the same, 200 instead of 201, with no lot made (no ``id``).

Columns are found by their header in row 1: the Chinese header or the API field name. A row
whose cells are the columns' field names (the template's row 2) and empty rows are skipped. A
cell becomes the JSON value the API would get: an empty cell is an absent field, an integer
column takes whole numbers (``200000000``, ``2E8``, ``"200000000"``) and leaves anything else as
it is (so the check refuses it as a JSON body's ``"abc"`` would be), a text column takes text
(a number written as text). The time column (``starts_at``, a timed lot's own opening time)
takes a date-and-time cell or text such as ``2026-05-10 09:30``, both read as China Standard
Time (an RFC 3339 text with its own offset keeps it); anything else is refused for the row.
Its value is checked by :func:`auction.api.admin.lot_start`, the rule of the API. A CSV is
UTF-8 (with or without BOM) or, failing that, GB 18030
(what Excel writes on a Chinese system).

openpyxl (MIT, pure Python, maintained since 2010) reads and writes the XLSX files. A workbook
is a zip: its declared uncompressed size is bounded (:data:`MAX_UNZIPPED`) before openpyxl
opens it, and parsing runs in a worker thread, off the event loop where bids are handled.
"""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]
from openpyxl.comments import Comment  # type: ignore[import-untyped]
from openpyxl.styles import Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.worksheet.datavalidation import DataValidation  # type: ignore[import-untyped]
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from auction.accounts.policy import Action
from auction.api import admin, guard
from auction.api.english import asked as asks_english
from auction.api.english import message as english_message
from auction.api.files import _body, _multipart, disposition  # the upload's reading
from auction.api.http_errors import BadRequest, Body, error_response
from auction.domain import increments
from auction.domain.deadlines import CST
from auction.domain.identity import IdentityError
from auction.domain.lot import LotMode
from auction.domain.lot_vocabularies import Vocabularies
from auction.domain.uploads import content_type_of
from auction.store import lot_import as store_import
from auction.store.records import Session, rfc3339

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPES = ("text/csv", "application/csv", "text/comma-separated-values")
#: types that say nothing: the file's name decides
_GENERIC = ("", "application/octet-stream")
#: a body beyond this is 413 (a multipart body may add its headers and boundary)
MAX_BYTES = 2 * 1024 * 1024
_MULTIPART_SLACK = 16 * 1024
#: lots per import (data rows, not counting headers and skipped empty rows)
MAX_ROWS = 500
#: rows of a sheet looked at, empty ones included (a sheet of a million empty rows is refused
#: rather than walked)
MAX_SCANNED = 20_000
#: columns read from a sheet; a wider sheet's extra columns are ignored
MAX_COLUMNS = 40
#: a workbook's declared uncompressed size: a zip bomb is refused before it is opened
MAX_UNZIPPED = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Column:
    field: str
    header: str
    integer: bool
    example: Any
    width: int = 16
    time: bool = False  # a date and time, China Standard Time unless it says otherwise


COLUMNS: tuple[Column, ...] = (
    Column("title", "标的名称", False, "一种高效固废资源化处理方法", 32),
    Column("result_type", "成果类型", False, "专利"),
    Column("ip_type", "知识产权类别", False, "发明专利"),
    Column("technology_field", "技术领域", False, "环境保护与资源综合利用", 22),
    Column("transaction_mode", "交易方式", False, "转让", 10),
    Column("contract_type", "合同类型", False, "技术转让", 12),
    Column("holder_name", "持有人", False, "山东某大学", 20),
    Column("holder_uscc", "持有人统一社会信用代码", False, "91350100M000100Y43", 22),
    Column("start_price_fen", "起拍价(分)", True, 200_000_000),
    Column("increment_fen", "加价幅度(分)", True, 1_000_000),
    Column("reserve_fen", "保留价(分)", True, 250_000_000),
    Column("non_tech_fen", "非技术性费用(分)", True, 0),
    Column("duration_s", "竞价时长(秒,限时竞价必填)", True, None, 20),
    Column("starts_at", "开始时间(北京时间,限时竞价选填)", False, None, 22, time=True),
    Column("deposit_fen", "保证金(分,默认起拍价10%)", True, None, 20),
    Column("appraisal_fen", "评估价(分)", True, None),
    Column("description", "标的介绍", False, "以工业固废为原料制备建材的成套工艺, 已完成中试。",
           40),
)
_BY_NAME = {name: c for c in COLUMNS for name in (c.field, c.header)}
_ROWS_NOTE = (
    "第 1 行为列名, 第 2 行为接口字段名 (导入时跳过), 第 3 行为示例, 导入前请改写或删除。"
    "金额以分计 (1 元 = 100 分); 空白单元格表示不填 (使用默认值)。"
    "开始时间: 限时竞价场次的标的自己的开始时间, 北京时间, 如 2026-05-10 09:30,"
    " 须在场次开始与结束之间; 空白则随场次开始。"
)
#: time texts beyond ISO 8601 (which wants two-digit months and hours)
_TIME_FORMS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")
#: the refusal of a time cell that is not a date and time
TIME_TEXT = "开始时间应为北京时间的日期和时刻, 如 2026-05-10 09:30"
TIME_TEXT_EN = "The opening time is a date and time of China Standard Time, e.g. 2026-05-10 09:30"


# -- the template ------------------------------------------------------------------------------


def template_bytes(vocabularies: Vocabularies) -> bytes:
    """The import template (module docstring) as XLSX bytes, with the lists of
    ``vocabularies`` (every one closed: the API takes only their terms)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "标的"
    bold = Font(bold=True)
    grey = Font(color="808080", italic=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for index, column in enumerate(COLUMNS, start=1):
        head = sheet.cell(row=1, column=index, value=column.header)
        head.font, head.fill = bold, fill
        sheet.cell(row=2, column=index, value=column.field).font = grey
        sheet.cell(row=3, column=index, value=column.example)
        letter = head.column_letter
        sheet.column_dimensions[letter].width = column.width
        vocabulary = vocabularies.get(column.field)
        if vocabulary is not None:
            # the list lives on a sheet of its own: an inline list is limited to 255 characters
            last = len(vocabulary.values) + 1
            rule = DataValidation(
                type="list", formula1=f"='选项'!${letter}$2:${letter}${last}",
                allow_blank=True, showErrorMessage=True,
                errorStyle="stop", errorTitle=vocabulary.label,
                error=f"{vocabulary.label}应为列表中的一项",
            )
            rule.add(f"{letter}3:{letter}{MAX_ROWS + 2}")
            sheet.add_data_validation(rule)
    sheet.freeze_panes = "A3"
    sheet["A1"].comment = Comment(_ROWS_NOTE, "auction")
    choices = book.create_sheet("选项")
    for index, column in enumerate(COLUMNS, start=1):
        vocabulary = vocabularies.get(column.field)
        if vocabulary is None:
            continue
        choices.cell(row=1, column=index, value=vocabulary.label).font = bold
        for offset, value in enumerate(vocabulary.values, start=2):
            choices.cell(row=offset, column=index, value=value)
    notes = book.create_sheet("说明")
    notes.column_dimensions["A"].width = 28
    notes.column_dimensions["B"].width = 80
    notes.append(["说明", _ROWS_NOTE])
    for column in COLUMNS:
        notes.append([column.header, column.field])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def import_template(request: Request) -> Response:
    vocabularies = await admin.vocabularies_today(guard.services_of(request))
    content = await asyncio.to_thread(template_bytes, vocabularies)
    return Response(content, media_type=XLSX, headers={
        "Content-Disposition": disposition("标的导入模板.xlsx", XLSX),
        "Cache-Control": "public, max-age=3600",
    })


# -- reading a sheet ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """One refused cell or row: ``row`` as the spreadsheet numbers it, ``field`` the API field
    (or the header's text for a header problem)."""

    row: int
    field: str | None
    code: str
    message: str
    en: str | None = None  # the message in English, when it says more than the code's

    def to_json(self, *, english: bool = False) -> dict[str, Any]:
        column = _BY_NAME.get(self.field or "")
        message = (english_message(self.code, self.message, self.field, self.en) if english
                   else self.message)
        return {"row": self.row, "field": self.field,
                "column": column.header if column else self.field,
                "code": self.code, "message": message}


def _text_of(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _time_of(value: Any) -> str:
    """A time cell as RFC 3339 (China Standard Time unless it gives an offset), or its text
    as it is (refused by :func:`check_rows`)."""
    at: datetime | None = value if isinstance(value, datetime) else None
    text = value.strip().replace("/", "-") if isinstance(value, str) else ""
    if at is None and text:
        try:
            at = datetime.fromisoformat(text)
        except ValueError:
            for form in _TIME_FORMS:  # 2026-5-10 9:30, as people type it
                try:
                    at = datetime.strptime(text, form)
                    break
                except ValueError:
                    continue
    if at is None:
        return _text_of(value)
    return (at if at.tzinfo else at.replace(tzinfo=CST)).isoformat()


def _is_time(value: Any) -> bool:
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except (TypeError, ValueError):
        return False


def _cell(column: Column, value: Any) -> Any:
    """The JSON value the API would get for the cell (module docstring); None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if column.time:
        return _time_of(value)
    if column.integer:
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return int(value) if value.is_integer() and abs(value) < 2**63 else value
        text = str(value).strip().replace(",", "")
        if text.lstrip("-").isdigit() and len(text) < 20:
            return int(text)
        return str(value).strip()
    if isinstance(value, bool):
        return value
    return _text_of(value)


def _rows_of(grid: list[tuple[int, list[Any]]]) -> tuple[list[tuple[int, dict[str, Any]]],
                                                          list[Problem]]:
    """Rows of cells (``(row number, cells)``, the header first) → ``(row number, JSON
    object)`` per data row, and the header's problems."""
    if not grid:
        raise BadRequest("表格是空的: 第 1 行应为列名", "file")
    header_row, header = grid[0]
    problems: list[Problem] = []
    columns: dict[int, Column] = {}
    for index, raw in enumerate(header):
        name = "" if raw is None else _text_of(raw)
        if not name:
            continue
        column = _BY_NAME.get(name)
        if column is None:
            problems.append(Problem(header_row, name, "bad_request", f"未知列 {name}",
                                    f"Unknown column {name}"))
        elif column in columns.values():
            problems.append(Problem(header_row, column.field, "bad_request",
                                    f"列 {column.header} 出现了两次",
                                    f"Column {column.header} appears twice"))
        else:
            columns[index] = column
    if not columns:
        raise BadRequest("第 1 行应为列名 (见导入模板)", "file")
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, cells in grid[1:]:
        data: dict[str, Any] = {}
        names = True
        for index, column in columns.items():
            raw = cells[index] if index < len(cells) else None
            value = _cell(column, raw)
            if value is not None:
                data[column.field] = value
                names = names and value == column.field
        if not data or names:
            continue  # an empty row, or the template's row of field names
        rows.append((number, data))
        if len(rows) > MAX_ROWS:
            raise BadRequest(f"一次最多导入 {MAX_ROWS} 行标的", "file", code="too_many_rows")
    return rows, problems


def _xlsx_grid(content: bytes) -> list[tuple[int, list[Any]]]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED:
                raise BadRequest("XLSX 文件解压后过大", "file", code="too_large", status=413)
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except BadRequest:
        raise
    except Exception as exc:
        # openpyxl raises many kinds (zip, XML, KeyError for a missing part, ValueError …) on
        # a file that is not a workbook; every one of them is the caller's bad file
        raise BadRequest(f"无法读取 XLSX 文件: {type(exc).__name__}", "file") from None
    try:
        sheet = book.worksheets[0]
        grid: list[tuple[int, list[Any]]] = []
        for number, cells in enumerate(
            sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1
        ):
            if any(c is not None and c != "" for c in cells):
                grid.append((number, list(cells)))
            if len(grid) > MAX_ROWS + 2:
                break  # the header, the field names and one row too many: enough to refuse
            if number > MAX_SCANNED:
                raise BadRequest(f"表格超过 {MAX_SCANNED} 行", "file", code="too_many_rows")
        return grid
    except BadRequest:
        raise
    except Exception as exc:  # as above: a broken sheet inside a valid zip
        raise BadRequest(f"无法读取 XLSX 文件: {type(exc).__name__}", "file") from None
    finally:
        book.close()


def _csv_grid(content: bytes) -> list[tuple[int, list[Any]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")
        except UnicodeDecodeError:
            raise BadRequest("CSV 文件应为 UTF-8 或 GB18030 编码", "file") from None
    if "\x00" in text:
        raise BadRequest("CSV 文件含有 NUL 字符, 不是文本表格", "file")
    grid: list[tuple[int, list[Any]]] = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        for cells in reader:
            if any(c.strip() for c in cells):
                grid.append((reader.line_num, cells[:MAX_COLUMNS]))
            if len(grid) > MAX_ROWS + 2:
                break
    except csv.Error as exc:
        raise BadRequest(f"CSV 文件无法解析: {exc}", "file") from None
    return grid


def _kind(media: str, filename: str) -> str:
    """``xlsx`` or ``csv`` from the declared type (or, for a generic one, the name), else 415."""
    name = filename.lower()
    if media == XLSX or (media in _GENERIC and name.endswith(".xlsx")):
        return "xlsx"
    # browsers on Windows send a .csv file as application/vnd.ms-excel
    if media in CSV_TYPES or (media in (*_GENERIC, "text/plain", "application/vnd.ms-excel")
                              and name.endswith(".csv")):
        return "csv"
    hint = " (.xls 请另存为 .xlsx)" if media == "application/vnd.ms-excel" else ""
    raise BadRequest(f"只接受 XLSX 或 CSV 文件 (Content-Type 为 {XLSX} 或 text/csv){hint}",
                     "content_type", code="unsupported_type", status=415)


async def _read_file(request: Request) -> tuple[str, bytes]:
    """``(kind, content)`` of the request's spreadsheet (raw body or multipart ``file``)."""
    header = request.headers.get("content-type", "")
    media = content_type_of(header)
    try:
        if media == "multipart/form-data":
            raw = await _body(request, MAX_BYTES + _MULTIPART_SLACK)
            filename, media, content, _ = await asyncio.to_thread(_multipart, header, raw)
            media = content_type_of(media)
        else:
            content = await _body(request, MAX_BYTES)
            filename = request.query_params.get("filename", "")
    except BadRequest as exc:
        if exc.status == 413:
            raise BadRequest("文件超过 2 MiB", "file", code="too_large", status=413) from None
        raise
    if len(content) > MAX_BYTES:
        raise BadRequest("文件超过 2 MiB", "file", code="too_large", status=413)
    kind = _kind(media, filename)
    if not content:
        raise BadRequest("文件是空的", "file")
    if kind == "csv" and content.startswith(b"PK\x03\x04"):
        kind = "xlsx"  # a workbook sent under a CSV name or type: read what it is
    return kind, content


def _dry_run(request: Request) -> bool:
    value = request.query_params.get("dry_run", "false").lower()
    if value not in ("true", "false", "1", "0", ""):
        raise BadRequest("查询参数 dry_run 应为 true 或 false", "dry_run")
    return value in ("true", "1")


@dataclass(frozen=True, slots=True)
class Row:
    """A checked row: its number, its lot and the lot's own opening time (or None)."""

    number: int
    spec: admin.LotSpec
    starts_at: datetime | None


def check_rows(
    rows: list[tuple[int, dict[str, Any]]], session: Session, vocabularies: Vocabularies
) -> tuple[list[Row], list[Problem]]:
    """Each row through :func:`admin.lot_start` and :func:`admin.check_lot`, as
    ``POST /sessions/{id}/lots`` checks its body: the good ones and the bad ones' problems
    (the first bad field of each row, as the API names it)."""
    good: list[Row] = []
    bad: list[Problem] = []
    mode = LotMode(session.mode)
    for number, data in rows:
        if "starts_at" in data and not _is_time(data["starts_at"]):
            bad.append(Problem(number, "starts_at", "bad_request", TIME_TEXT, TIME_TEXT_EN))
            continue
        try:
            body = Body(data)
            starts_at = admin.lot_start(body, session)
            good.append(Row(number, admin.check_lot(body, mode, vocabularies), starts_at))
        except BadRequest as exc:
            bad.append(Problem(number, exc.field, exc.code, exc.message, exc.en))
        except IdentityError as exc:  # check_lot maps it; kept in case another check raises
            bad.append(Problem(number, None, exc.code, exc.message))
    return good, bad


async def import_lots(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    session_id = await admin.session_scope(request, who, Action.MANAGE_SESSIONS)
    dry_run = _dry_run(request)
    session = await services.store.get_session(session_id)
    kind, content = await _read_file(request)
    parse = _xlsx_grid if kind == "xlsx" else _csv_grid
    grid = await asyncio.to_thread(parse, content)
    rows, problems = _rows_of(grid)
    if not rows and not problems:
        raise BadRequest("表格中没有标的 (第 2 行起每行一个标的)", "file")
    good, bad = check_rows(rows, session, await admin.vocabularies_today(services))
    problems += bad
    if problems:
        english = asks_english(request)
        return error_response(
            400, "import_failed",
            f"{len(problems)} errors: no lot was imported" if english
            else f"{len(problems)} 处错误, 未导入任何标的", "file",
            errors=[p.to_json(english=english) for p in problems],
        )
    if dry_run:
        return JSONResponse({"dry_run": True, "session_id": session_id, "lots": [
            {"row": row.number, **row.spec.lot_fields(), "starts_at": rfc3339(row.starts_at),
             "deposit_fen": row.spec.deposit_fen,
             "warnings": _warnings(row.spec, english=asks_english(request))}
            for row in good]})
    lots = await store_import.create_lots(services.store, session_id, [
        {**row.spec.lot_fields(), "deposit_fen": row.spec.deposit_fen,
         "starts_at": row.starts_at} for row in good])
    answers = []
    for row, lot in zip(good, lots, strict=True):
        answers.append({"row": row.number, **await admin.open_room(
            services, session, lot, row.spec.deposit_fen, english=asks_english(request))})
    return JSONResponse({"dry_run": False, "session_id": session_id, "lots": answers},
                        status_code=201)


def _warnings(spec: admin.LotSpec, *, english: bool) -> list[dict[str, str]]:
    advice = increments.guideline_warning(spec.start_price_fen, spec.increment_fen,
                                          english=english)
    return [] if advice is None else [{"code": "increment_guideline", "message": advice}]


routes: list[BaseRoute] = [
    Route("/api/v1/lots/import-template.xlsx", import_template, methods=["GET"]),
    Route("/api/v1/sessions/{session_id:int}/lots/import", import_lots, methods=["POST"]),
]
