"""编辑场次, 图片与附件 and 操作记录 in the back office (issue 12 items 2, 3 and 7), at 1366 px,
found by role and visible Chinese label: a county admin edits a session's 拍卖公告 (a bad phone
refused under its field), uploads a PNG to a lot (a text file refused in the page), and reads
both writes in the market's 操作记录, whose 导出 CSV link gives the same trail (UTF-8 with a
BOM); once a lot is open the form is closed. A finance account of the market sees no 操作记录,
no 编辑场次 and no 图片与附件, and the audit page refuses it. No console error but the 400 the
test provokes; every input labelled, every button named."""

from __future__ import annotations

import re
import struct
import uuid
import zlib
from typing import Any

import httpx
from playwright.async_api import expect

from auction.settings import Settings
from tests.browser.test_admin_back_office import _session_with_a_lot
from tests.browser.test_admin_pages import _county_markets, _login, _look
from tests.e2e.harness import ADMIN, running


def _png() -> bytes:
    """A 1×1 red PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


async def test_county_admin_edits_uploads_and_reads_the_audit_trail(
    settings: Settings, new_context: Any
) -> None:
    """The admin's 拍卖公告 edit and PNG upload show in 操作记录 and its CSV; finance sees none
    of the three."""
    tag = uuid.uuid4().int % 10**6
    errors: list[str] = []
    async with running(settings) as server:
        county, _sibling, names = await _county_markets(server, tag)
        session, lot = await _session_with_a_lot(server, county, tag)
        page = await _login(new_context, server, names["admin"], errors)

        # 编辑场次: a bad phone is named under its field, then the 拍卖公告 saved
        await page.goto(f"{server.base}/admin/session.html?id={session}")
        await page.get_by_role("link", name="编辑场次").click()
        await expect(page.get_by_role("heading", name=re.compile("^编辑场次: "))).to_be_visible()
        phone = page.get_by_label("咨询电话")
        await phone.fill("call me")
        await page.get_by_role("button", name="保存").click()
        await expect(phone).to_have_attribute("aria-invalid", "true")
        await _look(page, "session-edit-error")
        provoked = len(errors)
        notice = f"本场次标的按现状拍卖, 编号 {tag}。"
        await phone.fill("0534-5551234")
        await page.get_by_label("拍卖公告").fill(notice)
        await page.get_by_role("button", name="保存").click()
        await expect(page.get_by_role("alert").filter(has_text="已保存")).to_be_visible()
        await expect(phone).not_to_have_attribute("aria-invalid", "true")
        assert all("400" in e for e in errors[:provoked]), errors
        del errors[:provoked]
        await page.reload()
        await expect(page.get_by_label("拍卖公告")).to_have_value(notice)
        await _look(page, "session-edit")

        # 图片与附件: a text file refused in the page, a PNG uploaded and listed
        await page.goto(f"{server.base}/admin/session.html?id={session}")
        await expect(page.get_by_role("link", name="操作记录")).to_be_visible()
        await _look(page, "session-links")
        await page.get_by_role("link", name=re.compile("^图片与附件: ")).click()
        await expect(page.get_by_text("5 MiB")).to_be_visible()
        picker = page.get_by_label("选择文件")
        await picker.set_input_files(files=[{"name": "note.txt", "mimeType": "text/plain",
                                             "buffer": b"hello"}])
        await page.get_by_role("button", name="上传").click()
        await expect(page.get_by_text("只能上传 PNG、JPEG、WebP 或 PDF 文件")).to_be_visible()
        await picker.set_input_files(files=[{"name": "seed.png", "mimeType": "image/png",
                                             "buffer": _png()}])
        await page.get_by_label("说明 (可选)").fill("样品照片")
        await page.get_by_role("button", name="上传").click()
        await expect(page.get_by_role("alert").filter(has_text="已上传: seed.png")).to_be_visible()
        listed = page.get_by_role("region", name="图片与附件", exact=True)
        await expect(listed.get_by_role("link", name="样品照片: seed.png")).to_be_visible()
        await expect(listed.get_by_role("button", name="删除: 样品照片: seed.png")).to_be_visible()
        await _look(page, "lot-files")

        # 操作记录: both writes, filtered by the actor; the CSV link with the same filter
        await page.goto(f"{server.base}/admin/session.html?id={session}")
        await page.get_by_role("link", name="操作记录").click()
        await expect(page.get_by_role("heading", name=re.compile(f"^操作记录: .*{county}")))\
            .to_be_visible()
        await page.get_by_label("操作人 (用户名或账号编号)").fill(names["admin"])
        await page.get_by_role("button", name="筛选").click()
        trail = page.get_by_role("region", name="操作记录")
        await expect(trail.get_by_role("row").filter(has_text="编辑场次")).to_contain_text(
            f"session_id={session}")
        upload = trail.get_by_role("row").filter(has_text="上传标的附件")
        await expect(upload).to_contain_text(f"lot_id={lot}")
        await expect(upload).to_contain_text("201")
        csv = page.get_by_role("link", name="导出 CSV")
        await expect(csv).to_have_attribute(
            "href", re.compile(rf"/markets/{county}/audit\.csv\?actor={names['admin']}$"))
        await _look(page, "audit")
        await page.get_by_role("button", name="English").click()
        await expect(page.get_by_role("heading", name=re.compile("^Audit trail: "))).to_be_visible()
        text = await page.locator("body").inner_text()
        assert not re.search(r"\b(?:w|audit|file)_[a-z_]+\b", text), text
        await _look(page, "audit-en")
        await page.get_by_role("button", name="中文").click()
        href = await csv.get_attribute("href")
        answer = await page.context.request.get(f"{server.base}{href}")
        assert answer.status == 200
        body = await answer.body()
        assert body.startswith(b"\xef\xbb\xbf"), body[:20]
        text = body.decode("utf-8-sig")
        assert "PATCH /api/v1/sessions/{session_id}" in text
        assert "POST /api/v1/lots/{lot_id}/attachments" in text

        # once a lot is open the form is closed (the server would answer 409 bidding_started)
        async with httpx.AsyncClient(base_url=server.base, headers=ADMIN, timeout=10) as http:
            r = await http.post(f"/api/v1/lots/{lot}/commands",
                                json={"op": "open", "key": f"open-{tag}"})
            assert r.status_code == 200, r.text
        await page.goto(f"{server.base}/admin/session-edit.html?id={session}")
        await expect(page.get_by_role("alert").filter(has_text="已开始竞价")).to_be_visible()
        await expect(page.get_by_role("button", name="保存")).to_be_disabled()
        await expect(page.get_by_label("拍卖公告")).to_have_value(notice)

        # finance: no 操作记录, no 编辑场次, no 图片与附件; the audit page refuses it
        money = await _login(new_context, server, names["finance"], errors)
        await money.goto(f"{server.base}/admin/")
        await expect(money.get_by_role("banner")).to_contain_text("财务")
        await expect(money.get_by_role("link", name="保证金台账")).to_be_visible()
        await expect(money.get_by_role("link", name="操作记录")).to_have_count(0)
        await money.goto(f"{server.base}/admin/session.html?id={session}")
        await expect(money.get_by_role("link", name="财务")).to_be_visible()
        await expect(money.get_by_role("link", name="编辑场次")).to_have_count(0)
        await expect(money.get_by_role("link", name="操作记录")).to_have_count(0)
        await expect(money.get_by_role("link", name=re.compile("^图片与附件"))).to_have_count(0)
        await money.goto(f"{server.base}/admin/audit.html?market={county}")
        await expect(money.get_by_role("alert").filter(has_text="无权使用本页")).to_be_visible()
        await money.goto(f"{server.base}/admin/session-edit.html?id={session}")
        await expect(money.get_by_role("alert").filter(has_text="无权使用本页")).to_be_visible()
        await expect(money.get_by_role("button", name="保存")).to_have_count(0)
    assert errors == []
