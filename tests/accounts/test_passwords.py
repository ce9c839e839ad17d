"""New passwords (auction/accounts/passwords.py): at least 10 characters, not the username, not
in the vendored list of common passwords; refused with 400 naming ``password``."""

from __future__ import annotations

import uuid

import httpx
import pytest

from auction.accounts import passwords
from tests.accounts.world import ADMIN


def test_the_common_list_is_vendored_and_loaded() -> None:
    """The list ships in the package, lowercased, and holds the classics."""
    common = passwords.common_passwords()
    assert passwords.COMMON_PASSWORDS.is_file() and len(common) > 19_000
    assert {"password", "password123", "1234567890", "qwertyuiop"} <= common
    assert all(p == p.lower() for p in common)


@pytest.mark.parametrize(("password", "refused"), [
    ("short-1", True),  # 7 characters
    ("abcdefghi", True),  # 9
    ("password", True),
    ("Password123", True),  # the list, whatever the case
    (" 1234567890 ", True),
    ("Qwertyuiop", True),
    ("staff-someone", True),  # the username
    ("correct-horse-battery", False),
    ("拍卖师的长密码不好猜吧", False),  # 10 characters, not ASCII
])
def test_weakness(password: str, refused: bool) -> None:
    """Short, common (any case) and username-equal passwords are refused; others are not."""
    assert (passwords.weakness(password, username="Staff-Someone") is not None) is refused


async def test_weak_staff_passwords_are_refused_naming_the_field(http: httpx.AsyncClient) -> None:
    """POST /accounts with `password`, a 9-character one, a common one or the username is
    400 bad_request on ``password``; a good one makes the account."""
    username = f"staff-{uuid.uuid4().hex[:8]}"
    for weak in ("password", "abcdefghi", "iloveyou123", "Qwerty123456", username.upper()):
        answer = await http.post("/api/v1/accounts", headers=ADMIN, json={
            "username": username, "password": weak, "role": "platform_admin"})
        error = answer.json()["error"]
        assert (answer.status_code, error["code"], error["field"]) == (
            400, "bad_request", "password"), (weak, answer.text)
        assert error["message"]
    made = await http.post("/api/v1/accounts", headers=ADMIN, json={
        "username": username, "password": "a-long-unusual-phrase", "role": "platform_admin"})
    assert made.status_code == 201, made.text
