"""Error messages in English for requests with ``X-Auction-Lang: en`` (the pages after their
English switch), Chinese otherwise, with the same status, code and field either way
(auction/api/english.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from auction.api import english
from tests.api.conftest import error_of
from tests.e2e.harness import ADMIN

EN = {"X-Auction-Lang": "en"}
CJK = re.compile(r"[\u3400-\u9fff]")
ROOT = Path(__file__).resolve().parents[2]


async def _both(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any,
                ) -> tuple[dict[str, Any], dict[str, Any], int]:
    headers = kwargs.pop("headers", {})
    zh = await client.request(method, url, headers=headers, **kwargs)
    en = await client.request(method, url, headers={**headers, **EN}, **kwargs)
    assert zh.status_code == en.status_code, (zh.text, en.text)
    zh_error, en_error = error_of(zh), error_of(en)
    assert {k: v for k, v in zh_error.items() if k != "message"} == \
        {k: v for k, v in en_error.items() if k != "message"}
    assert CJK.search(zh_error["message"]), zh_error
    assert not CJK.search(en_error["message"]), en_error
    return zh_error, en_error, zh.status_code


SESSION = {"market_code": "999999", "name": "场次", "season": "spring", "mode": "live",
           "starts_at": "2026-04-18T09:30:00+08:00"}


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"name": None}, "name", "Missing field name"),
    ({"name": 5}, "name", "Field name must be text"),
    ({"name": "x" * 201}, "name", "Field name is too long (at most 200 characters)"),
    ({"name": "a\x01b"}, "name", "Field name holds the control character U+0001"),
    ({"season": "winter"}, "season", "Field season must be one of"),
    ({"starts_at": "2026-04-18 09:30"}, "starts_at", "Field starts_at needs a time zone offset"),
    ({"starts_at": "soon"}, "starts_at", "Field starts_at must be an RFC 3339 time"),
    ({"extension_s": 1.5}, "extension_s", "Field extension_s must be a whole number (seconds)"),
    ({"extension_s": 99_999_999}, "extension_s", "Field extension_s must be between 0 and"),
])
async def test_body_checks_say_what_is_wrong_in_english(
    client: httpx.AsyncClient, changes: dict[str, Any], field: str, words: str
) -> None:
    body = {k: v for k, v in {**SESSION, **changes}.items() if v is not None}
    _, en_error, status = await _both(client, "POST", "/api/v1/sessions", headers=ADMIN,
                                      json=body)
    assert status == 400
    assert en_error["field"] == field
    assert en_error["message"].startswith(words), en_error


async def test_unknown_fields_bad_json_and_codes_in_english(client: httpx.AsyncClient) -> None:
    _, err, _ = await _both(client, "POST", "/api/v1/auth/login",
                            json={"username": "u", "password": "p", "colour": 1})
    assert err["message"] == "Unknown field colour"
    _, err, _ = await _both(client, "POST", "/api/v1/auth/login", content=b"{nope",
                            headers={"Content-Type": "application/json"})
    assert err["message"].startswith("The request body is not valid JSON")
    _, err, status = await _both(client, "GET", "/api/v1/sessions/999999999999")
    assert (status, err["code"]) == (404, "not_found")
    _, err, status = await _both(client, "POST", "/api/v1/auth/login",
                                 json={"username": "nobody-here", "password": "wrong-password"})
    assert (status, err["message"]) == (401, "Wrong username or password")


async def test_sign_up_checks_in_english(client: httpx.AsyncClient) -> None:
    """The identity checks by their codes, the password rules by their own words."""
    person = {"kind": "person", "name": "张三", "phone": "13800138000",
              "username": "zhangsan-en", "password": "a-long-enough-password"}
    _, err, _ = await _both(client, "POST", "/api/v1/bidders",
                            json={**person, "resident_id": "110105199001010000"})
    assert err["code"] == "invalid_resident_id"
    assert err["message"].startswith("Not a valid resident identity card number"), err
    _, err, _ = await _both(client, "POST", "/api/v1/bidders",
                            json={**person, "resident_id": "11010519491231002X",
                                  "password": "short"})
    assert (err["field"], err["message"]) == (
        "password", f"The password needs at least {english.MIN_LENGTH} characters")


def test_every_code_the_server_answers_has_english() -> None:
    """Each error code raised in auction/ (and named in the docs' error tables) has its English
    sentence: a new code without one fails here."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "auction").rglob("*.py"))
    raised = set(re.findall(
        r'(?:code=|(?:BadRequest|Conflict|Denied|NotFound|IdentityError|Invalid|Rejection)\(\s*)'
        r'"([a-z_]+)"', source))
    raised -= {"store_error", "migration_failed", "document_error"}  # never answered over HTTP
    protocol = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    table = protocol[protocol.index("Error codes"):]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.MULTILINE))
    missing = sorted((raised | documented) - set(english.BY_CODE))
    assert not missing, missing
    assert not [text for text in english.BY_CODE.values() if CJK.search(text)]


def test_each_fixed_message_with_english_is_one_the_server_says() -> None:
    """Every Chinese message of :data:`english.BY_MESSAGE` is still written so in auction/ (a
    reworded message would silently lose its English)."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "auction").rglob("*.py")
                       if p.name != "english.py")
    stale = [zh for zh in english.BY_MESSAGE if f'"{zh}"' not in source]
    # the one written as an f-string: its template is there instead
    assert stale == [f"密码至少 {english.MIN_LENGTH} 位"], stale
    assert 'f"密码至少 {MIN_LENGTH} 位"' in source
    assert not [en for en in english.BY_MESSAGE.values() if CJK.search(en)]


async def test_the_increment_guideline_warning_in_english(
    client: httpx.AsyncClient, new_session: Any, lot_body: Any
) -> None:
    """A lot whose increment breaks the guideline is made all the same, its warning in the
    language asked for (creation and the edit form's read)."""
    session = await new_session()
    body = lot_body(start_price_fen=200_000_000, increment_fen=10_000_000)  # 5 % > 0.5 %
    made = await client.post(f"/api/v1/sessions/{session['id']}/lots",
                             headers={**ADMIN, **EN}, json=body)
    assert made.status_code == 201, made.text
    (warning,) = made.json()["warnings"]
    assert warning == {"code": "increment_guideline", "message":
                       "The increment exceeds the guideline: for a starting price of "
                       "2,000,000.00 yuan it should be at most 0.5% of it"}
    zh = await client.post(f"/api/v1/sessions/{session['id']}/lots", headers=ADMIN, json=body)
    assert zh.json()["warnings"][0]["message"].startswith("加价幅度超过指导标准")


async def test_a_fixed_message_has_its_own_english(client: httpx.AsyncClient) -> None:
    """A Denied with a message that says more than its code (staff accepting a bidder's
    invitation): that message's English, not the code's."""
    _, err, status = await _both(client, "POST", "/api/v1/registrations/1/accept", json={},
                                 headers=ADMIN)
    assert (status, err["code"], err["message"]) == (
        403, "forbidden", "Only the bidder's own login can do this")
