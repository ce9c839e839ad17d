"""The statistics (:mod:`auction.api.statistics`) as files: CSV (UTF-8, the caller adds the BOM)
and XLSX. One table: each row a group (合计, a child market, an own session, a breakdown's
value) with the settled and the registered figures in 元 and the subsidy estimate (预估). Text
cells that Excel could run as a formula are defused (:func:`auction.api.audit.defused`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from auction.api.audit import defused

HEADER = ("分组", "项目", "代码", "成交笔数", "成交合同交易总额 (元)", "成交技术交易额 (元)",
          "登记笔数", "登记合同交易总额 (元)", "登记技术交易额 (元)", "补贴 (预估, 元)")
#: the columns holding 元
MONEY = (4, 5, 7, 8, 9)


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _figures(row: dict[str, Any]) -> list[int]:
    s, r = row["settled"], row["registered"]
    return [s["count"], s["total_fen"], s["tech_fen"], r["count"], r["total_fen"], r["tech_fen"],
            r["subsidy_estimate_fen"]]


def rows(data: dict[str, Any]) -> Iterator[tuple[str, str, str, list[int]]]:
    """``(group, item, key, figures)`` with money in fen, in the order of the files."""
    market, span = data["market"], data["period"]
    period = f"{span['from'] or '…'} 至 {span['to'] or '…'}"
    yield "合计", f"{market['name']} ({period})", market["code"], _figures(data["totals"])
    for child in data["children"]:
        yield "下级市场", child["name"], child["code"], _figures(child)
    for session in data["sessions"]:
        yield "本级场次", session["name"], str(session["id"]), _figures(session)
    for breakdown in data["breakdowns"].values():
        for row in breakdown["rows"]:
            yield breakdown["label"], row["label"], row["key"], _figures(row)


def csv_text(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for group, item, key, figures in rows(data):
        writer.writerow([defused(group), defused(item), defused(key),
                         *[_yuan(v) if i + 3 in MONEY else v for i, v in enumerate(figures)]])
    return out.getvalue()


def workbook_bytes(data: dict[str, Any]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "技术合同统计"
    sheet.append(list(HEADER))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for group, item, key, figures in rows(data):
        sheet.append([defused(group), defused(item), defused(key),
                      *[v / 100 if i + 3 in MONEY else v for i, v in enumerate(figures)]])
    for row in sheet.iter_rows(min_row=2):
        for index in MONEY:
            row[index].number_format = "#,##0.00"
    for index, name in enumerate(HEADER, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(
            12, min(36, len(name) * 2 + 2))
    sheet.freeze_panes = "A2"
    rules = book.create_sheet("补贴规则")
    rules.append(["规则集", "市场代码", "生效日期", "来源", "规则", "方", "主体性质", "合同类型",
                  "比例 (基点, 1/10000)", "基数", "每方每年上限 (元)"])
    for rule_set in data["subsidy"]["rule_sets"]:
        for rule in rule_set["rules"]:
            rules.append([rule_set["name"], rule_set["market_code"], rule_set["effective_from"],
                          rule_set["source"], rule["name"], rule["side"],
                          "、".join(rule["natures"]), "、".join(rule["contract_types"]),
                          rule["rate_bp"], rule["base"], rule["cap_fen"] / 100])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
