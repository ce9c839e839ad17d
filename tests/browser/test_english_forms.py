"""After the English switch the server's refusals of a form come back in English (the pages send
``X-Auction-Lang``; auction/api/english.py): a sign-up with a common password is told why at
the password field in English, and in Chinese without the switch."""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Any

import pytest
from playwright.async_api import expect

from auction.domain.identity import resident_id_check_char
from auction.settings import Settings
from tests.browser.conftest import refusing_phone_page
from tests.e2e.harness import running

TIMEOUT_MS = 10_000
CJK = re.compile(r"[\u4e00-\u9fff]")
#: ten characters (the length rule passes in the page) and on the common-password list: only the
#: server knows the list, so only the server refuses it
COMMON = "1q2w3e4r5t"


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_refused_sign_up_is_told_in_the_pages_language(
    settings: Settings, new_context: Any, lang: str
) -> None:
    async with running(settings) as server:
        context, page, errors = await refusing_phone_page(new_context, TIMEOUT_MS)
        if lang == "en":
            await context.add_init_script("localStorage.setItem('auction.lang', 'en')")
        first17 = f"11010519800101{secrets.randbelow(1000):03d}"
        words = {
            "en": ("Natural person", "Name", "Resident ID number", "Mobile phone", "Username",
                   "Password", "Confirm password", "Sign up"),
            "zh": ("自然人", "姓名", "公民身份号码", "手机号码", "用户名", "密码", "确认密码",
                   "注册"),
        }[lang]
        person, name, resident, phone, username, password, confirm, submit = words

        await page.goto(f"{server.base}/signup.html")
        await page.get_by_role("radio", name=person).check()
        await page.get_by_label(name, exact=True).fill("张三")
        await page.get_by_label(resident).fill(first17 + resident_id_check_char(first17))
        await page.get_by_label(phone).fill("13800138000")
        await page.get_by_label(username).fill(f"p{uuid.uuid4().hex[:10]}")
        await page.get_by_label(password, exact=True).fill(COMMON)
        await page.get_by_label(confirm).fill(COMMON)
        await page.get_by_role("button", name=submit, exact=True).click()

        field = page.get_by_label(password, exact=True)
        await expect(field).to_have_attribute("aria-invalid", "true")
        told = {"en": "This password is too common", "zh": "密码过于常见"}[lang]
        message = page.get_by_text(told)
        await expect(message).to_be_visible()
        text = await message.inner_text()
        assert bool(CJK.search(text)) == (lang == "zh"), text
        assert errors == []
