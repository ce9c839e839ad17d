"""The 成交确认书 as a PDF (A4, Chinese, the CJK font embedded as a subset), from
:class:`auction.domain.confirmation.Confirmation`.

Deterministic: the same facts, font and verification URL give the same bytes. reportlab runs
in ``invariant`` mode (no random document id, no wall-clock dates), and the document's creation
and modification dates are the hammer time.
"""

from __future__ import annotations

import io
import threading
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from auction.domain.confirmation import Confirmation
from auction.domain.deadlines import BALANCE_DUE_WORKING_DAYS, CST
from auction.domain.money import format_yuan

QR_SIZE = 32 * mm
# reportlab keeps per-font subsetting state shared by the documents being built: one at a time
_rendering = threading.Lock()


def _qr(url: str) -> Drawing:
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(QR_SIZE, QR_SIZE,
                      transform=[QR_SIZE / (x1 - x0), 0, 0, QR_SIZE / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def _rows(c: Confirmation) -> list[tuple[str, str]]:
    hammer = c.hammer_at.astimezone(CST)
    rows = [
        ("技术市场", f"{c.market_name} (行政区划代码 {c.market_code})"),
        ("场次", c.session_name),
        ("标的", f"第 {c.ordinal} 号 {c.title}"),
        ("成果类型", f"{c.result_type} / {c.ip_type}"),
        ("交易方式", c.transaction_mode),
        ("成交方式", c.deal_label),
        ("出让方", c.holder_name),
        ("出让方统一社会信用代码", c.holder_uscc),
        ("买受人", c.buyer.name),
        (f"买受人{c.buyer.id_label}", c.buyer.id_shown),
        ("竞买号牌", str(c.paddle) if c.paddle is not None else ""),
        ("成交价 (小写)", f"人民币 {format_yuan(c.amount_fen)}"),
        ("成交价 (大写)", f"人民币{c.amount_capitals}"),
        ("落槌时间" if c.deal == "auction" else "成交时间",
         f"{hammer:%Y-%m-%d %H:%M:%S} (北京时间)"),
        ("保证金抵作价款", format_yuan(c.deposit_applied_fen)),
        ("应付余款", f"{format_yuan(c.balance_fen)} (人民币{c.balance_capitals})"),
        ("余款付款期限",
         f"{c.balance_due_on:%Y-%m-%d} 前 (落槌后 {BALANCE_DUE_WORKING_DAYS} 个工作日)"),
    ]
    if c.payee_account:
        rows.append(("收款账户", f"{c.payee_name} {c.payee_bank} {c.payee_account}".strip()))
    rows += [
        ("出价次数", str(c.bid_count)),
        ("出价记录摘要 (SHA-256)", c.bid_log_sha256),
    ]
    return rows


def render(c: Confirmation, font: str, verify_url: str) -> bytes:
    """The PDF bytes of ``c``, set in the registered font ``font``, its QR code encoding
    ``verify_url``."""
    base = ParagraphStyle("base", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
    label = ParagraphStyle("label", parent=base, textColor=colors.HexColor("#333333"))
    title = ParagraphStyle("title", parent=base, fontSize=22, leading=30, alignment=TA_CENTER)
    small = ParagraphStyle("small", parent=base, fontSize=9, leading=13)
    centred = ParagraphStyle("centred", parent=small, alignment=TA_CENTER)
    # the digest on one line, so it can be read (and copied) whole
    digest = ParagraphStyle("digest", parent=base, fontSize=8.5, leading=12)

    def p(text: str, style: ParagraphStyle = base) -> Paragraph:
        return Paragraph(escape(text), style)

    hammer = c.hammer_at.astimezone(CST)
    table = Table(
        [[p(k, label), p(v, digest if v == c.bid_log_sha256 else base)] for k, v in _rows(c)],
        colWidths=[48 * mm, 122 * mm],
        style=TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#888888")),
            ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#F2F2F2")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]),
    )
    verify = Table(
        [[_qr(verify_url), [
            p("核验: 扫描二维码或访问以下网址, 可查看服务器所存本次成交的同一内容:", small),
            p(verify_url, small),
        ]]],
        colWidths=[38 * mm, 132 * mm],
        style=TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]),
    )
    signatures = Table(
        [[p(f"{c.market_name} (盖章)"), p("买受人 (签章)")],
         [p(f"{hammer:%Y 年 %m 月 %d 日}"), p("______年____月____日")]],
        colWidths=[85 * mm, 85 * mm],
        style=TableStyle([("TOPPADDING", (0, 0), (-1, 0), 8 * mm)]),
    )
    story: list[Any] = [
        p("成交确认书", title),
        p(f"编号: {c.number}", centred),
        Spacer(0, 5 * mm),
        p(f"{c.market_name}于“{c.session_name}”公开竞价 (拍卖) 下列科技成果, 买受人以下列价格"
          "竞得, 特此确认。买受人应于付款期限前付清余款, 并按规定办理技术合同认定登记。"),
        Spacer(0, 4 * mm),
        table,
        Spacer(0, 5 * mm),
        verify,
        Spacer(0, 4 * mm),
        signatures,
        Spacer(0, 4 * mm),
        p("本确认书由系统依据落槌时的成交记录生成; 同一标的任何时候生成的文件逐字节相同。",
          small),
    ]
    stamp = f"D:{hammer:%Y%m%d%H%M%S}+08'00'"

    def fixed_dates(canvas: Any, _doc: Any) -> None:
        canvas.setDateFormatter(lambda *_parts: stamp)

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=15 * mm,
        bottomMargin=15 * mm, title=f"成交确认书 {c.number}", author=c.market_name,
        subject=c.title, creator="tech-auction", invariant=1, lang="zh-CN",
        # no reference to an unembedded standard font: the embedded one is the only font
        initialFontName=font,
    )
    with _rendering:
        doc.build(story, onFirstPage=fixed_dates, onLaterPages=fixed_dates)
    return out.getvalue()
