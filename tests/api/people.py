"""Helpers of the issue-11 API tests: staff accounts of a market, and a bidder with its own login,
made through the API with the platform admin's token (tests/api/conftest.py's in-process app)."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from auction.domain.identity import USCC_CHARSET, uscc_check_char
from tests.api.conftest import ADMIN

PASSWORD = "correct-horse-battery"

#: the smallest files of each allowed type that pass the magic-byte check
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 24
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(client: httpx.AsyncClient, username: str) -> dict[str, Any]:
    resp = await client.post("/api/v1/auth/login",
                             json={"username": username, "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def staff(client: httpx.AsyncClient, role: str, market_code: str) -> dict[str, str]:
    """A new staff account of ``role`` at the market; its login's Authorization header."""
    username = f"{role[:6]}-{secrets.token_hex(6)}"
    resp = await client.post("/api/v1/accounts", headers=ADMIN, json={
        "username": username, "password": PASSWORD, "role": role, "market_code": market_code,
    })
    assert resp.status_code == 201, resp.text
    return bearer(str((await login(client, username))["token"]))


def new_uscc() -> str:
    body = "913701" + "".join(secrets.choice(USCC_CHARSET) for _ in range(11))
    return body + uscc_check_char(body)


async def bidder(
    client: httpx.AsyncClient, name: str = "济南某科技有限公司"
) -> tuple[int, dict[str, str]]:
    """A new enterprise with an account: ``(bidder_id, its own login's header)``."""
    username = f"bid-{secrets.token_hex(6)}"
    resp = await client.post("/api/v1/bidders", headers=ADMIN, json={
        "name": name, "uscc": new_uscc(), "username": username, "password": PASSWORD,
    })
    assert resp.status_code == 201, resp.text
    account = await login(client, username)
    return int(resp.json()["id"]), bearer(str(account["token"]))
