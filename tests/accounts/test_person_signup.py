"""Sign-up of natural persons and enterprises with their legal representative
(docs/roles.md "Sign-up", "Real-name identity"), and the pages' login cookie on the websocket
(docs/protocol.md "Authentication"). Over a real server; the callers' addresses are given as
``X-Forwarded-For`` from 127.0.0.1 (trusted by the test harness) so that sign-up limits of one
test do not reach another."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import httpx
import msgpack
from websockets.asyncio.client import connect

from auction.api import cookies
from auction.api.catalogue import SIGNUP_ACCEPTED
from auction.domain.identity import resident_id_check_char
from tests.accounts.world import ADMIN, PASSWORD
from tests.e2e.harness import Server, uscc


def resident_id(*, good: bool = True) -> str:
    """A fresh resident identity number (Beijing Chaoyang, born 1950–1999), with its right
    check digit or (``good=False``) a wrong one."""
    body = (f"110105{1950 + secrets.randbelow(50)}{1 + secrets.randbelow(12):02d}"
            f"{1 + secrets.randbelow(28):02d}{secrets.randbelow(1000):03d}")
    check = resident_id_check_char(body)
    if not good:
        check = "0" if check != "0" else "1"
    return body + check


def masked(code: str) -> str:
    return code[:6] + "*" * 8 + code[-4:]


def at() -> dict[str, str]:
    """A fresh caller address (sign-ups are limited per address)."""
    return {"X-Forwarded-For": f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"}


def person(**changes: Any) -> dict[str, Any]:
    body = {"kind": "person", "name": "张三", "resident_id": resident_id(),
            "phone": "138 0013 8000", "username": f"p{uuid.uuid4().hex[:12]}",
            "password": PASSWORD}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


async def login(http: httpx.AsyncClient, username: str, **extra: Any) -> httpx.Response:
    return await http.post("/api/v1/auth/login",
                           json={"username": username, "password": PASSWORD, **extra})


async def test_person_signs_up_and_sees_the_id_masked(http: httpx.AsyncClient) -> None:
    """A natural person's sign-up gets the uniform 202; its login works and every answer that
    shows the resident id shows only its first 6 and last 4 characters."""
    body = person()
    made = await http.post("/api/v1/bidders", headers=at(), json=body)
    assert (made.status_code, made.json()) == (202, SIGNUP_ACCEPTED)
    answer = await login(http, body["username"])
    assert answer.status_code == 200, answer.text
    account = answer.json()["account"]
    assert account["bidder_id"] and account["person_name"] == "张三"
    assert account["resident_id"] == masked(body["resident_id"])
    me = await http.get("/api/v1/auth/me",
                        headers={"Authorization": f"Bearer {answer.json()['token']}"})
    assert me.json()["account"]["resident_id"] == masked(body["resident_id"])
    assert body["resident_id"] not in answer.text + me.text


async def test_bad_person_fields_are_400_naming_the_field_and_make_nothing(
    http: httpx.AsyncClient
) -> None:
    """A wrong check digit, a bad phone, a missing field, or an enterprise's field on a person:
    400 naming the field, and the chosen username never logs in."""
    cases = [
        (person(resident_id=resident_id(good=False)), "resident_id", "invalid_resident_id"),
        (person(resident_id="11010519491331002X"), "resident_id", "invalid_resident_id"),
        (person(phone="12345"), "phone", "invalid_phone"),
        (person(phone=None), "phone", "bad_request"),
        (person(resident_id=None), "resident_id", "bad_request"),
        (person(uscc=uscc(7)), "uscc", "bad_request"),
        (person(kind="robot"), "kind", "bad_request"),
    ]
    for body, field, code in cases:
        refused = await http.post("/api/v1/bidders", headers=at(), json=body)
        assert refused.status_code == 400, (body, refused.text)
        assert (refused.json()["error"]["field"], refused.json()["error"]["code"]) == (
            field, code), body
        assert (await login(http, body["username"])).status_code == 401


async def test_desk_is_told_and_a_taken_resident_id_makes_nothing(
    http: httpx.AsyncClient
) -> None:
    """The platform admin gets the new person (masked id, phone normalised) or 409 naming
    resident_id; an anonymous sign-up with a taken id gets the same 202 and makes nothing."""
    body = person()
    made = await http.post("/api/v1/bidders", headers={**ADMIN, **at()}, json=body)
    assert made.status_code == 201, made.text
    shown = made.json()
    assert (shown["kind"], shown["name"], shown["phone"]) == ("person", "张三", "13800138000")
    assert shown["resident_id"] == masked(body["resident_id"]) and shown["uscc"] is None
    assert shown["account_id"]
    again = person(resident_id=body["resident_id"].lower())
    taken = await http.post("/api/v1/bidders", headers={**ADMIN, **at()}, json=again)
    assert (taken.status_code, taken.json()["error"]["field"]) == (409, "resident_id")
    anonymous = await http.post("/api/v1/bidders", headers=at(), json=again)
    assert (anonymous.status_code, anonymous.json()) == (202, SIGNUP_ACCEPTED)
    assert (await login(http, again["username"])).status_code == 401


async def test_enterprise_with_legal_representative(http: httpx.AsyncClient) -> None:
    """An enterprise may name its legal representative; earlier callers' bodies still work."""
    code = uscc(uuid.uuid4().int % 10**9)
    made = await http.post("/api/v1/bidders", headers={**ADMIN, **at()}, json={
        "name": "济南某科技有限公司", "uscc": code, "contact": "李四 0531-88886666",
        "legal_representative": "王五", "kind": "enterprise"})
    assert made.status_code == 201, made.text
    assert (made.json()["kind"], made.json()["legal_representative"]) == ("enterprise", "王五")
    assert "resident_id" not in made.json()
    plain = await http.post("/api/v1/bidders", headers={**ADMIN, **at()}, json={
        "name": "另一公司", "uscc": uscc(uuid.uuid4().int % 10**9)})
    assert plain.status_code == 201 and plain.json()["legal_representative"] == ""


async def hello(server: Server, cookie: str | None, token: str | None = None) -> dict[str, Any]:
    headers = {"Cookie": f"{cookies.TOKEN_COOKIE}={cookie}"} if cookie else {}
    async with connect(server.ws_url, additional_headers=headers) as ws:
        frame: dict[str, Any] = {"t": "hello"}
        if token is not None:
            frame["token"] = token
        await ws.send(msgpack.packb(frame, use_bin_type=True))
        try:
            data = await ws.recv()
        except Exception:  # closed: report the close code
            return {"closed": ws.close_code}
        answer: dict[str, Any] = msgpack.unpackb(data, raw=False)
        return answer


async def test_websocket_takes_the_login_cookie_when_hello_has_no_token(
    server: Server, http: httpx.AsyncClient
) -> None:
    """A handshake carrying the login cookie and a hello without token is the account; a
    stale cookie leaves it a viewer; a bad hello token is still closed with 4401."""
    body = person()
    assert (await http.post("/api/v1/bidders", headers=at(), json=body)).status_code == 202
    answer = await login(http, body["username"], cookie=True)
    assert answer.status_code == 200, answer.text
    token = http.cookies[cookies.TOKEN_COOKIE]
    assert (await hello(server, token))["role"] == "bidder"
    assert (await hello(server, None))["role"] == "viewer"
    csrf = answer.json()["csrf_token"]
    out = await http.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200, out.text
    assert (await hello(server, token))["role"] == "viewer"
    assert (await hello(server, token, token="not-a-token")) == {"closed": 4401}
