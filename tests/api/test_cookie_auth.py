"""Cookie login for the pages (docs/http-api.md "Cookie login"): the HttpOnly login cookie and
its CSRF value, the double-submit check on every cookie request that may change state, bearer
tokens unchanged, logout clearing and revoking, and changing one's password (docs/roles.md
"Accounts and tokens"). In-process app over real PostgreSQL and Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from auction.api import admin, auth, catalogue, cookies, http_errors, registrations
from auction.services import Services
from tests.api.conftest import ADMIN, NewSession, error_of

PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "another-long-passphrase"

Staff = Callable[[], Awaitable[dict[str, Any]]]


@pytest.fixture
def staff(client: httpx.AsyncClient, new_session: NewSession) -> Staff:
    """Factory: a market admin account of a new market (``username``, ``market_code``)."""

    async def make() -> dict[str, Any]:
        session = await new_session()
        username = f"ma-{uuid.uuid4().hex[:10]}"
        made = await client.post("/api/v1/accounts", headers=ADMIN, json={
            "username": username, "password": PASSWORD, "role": "market_admin",
            "market_code": session["market_code"]})
        assert made.status_code == 201, made.text
        return {"username": username, "market_code": session["market_code"]}

    return make


@pytest.fixture
async def browser(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """A second client on the same app (its own cookie jar), as a browser would be."""
    app = Starlette(routes=[*auth.routes, *admin.routes, *registrations.routes,
                            *catalogue.routes],
                    exception_handlers=http_errors.exception_handlers())
    app.state.services = services
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as http:
        yield http


async def cookie_login(http: httpx.AsyncClient, username: str,
                       password: str = PASSWORD) -> httpx.Response:
    return await http.post("/api/v1/auth/login", json={
        "username": username, "password": password, "cookie": True})


def session_body(code: str) -> dict[str, Any]:
    return {"market_code": code, "name": "秋季竞价活动", "season": "autumn", "mode": "live",
            "starts_at": "2026-10-18T09:30:00+08:00"}


async def session_count(http: httpx.AsyncClient, code: str) -> int:
    return len((await http.get("/api/v1/sessions", params={"market": code})).json()["sessions"])


def cookie_header(token: str) -> dict[str, str]:
    """An explicit Cookie header with ``token`` (it takes the place of the client's jar)."""
    return {"Cookie": f"{cookies.TOKEN_COOKIE}={token}"}


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Set-Cookie headers of an answer by cookie name."""
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


async def test_cookie_login_sets_httponly_token_and_readable_csrf(
    browser: httpx.AsyncClient, staff: Staff
) -> None:
    """A cookie login answers without the token, sets it HttpOnly and SameSite=Strict (not
    Secure over plain HTTP) beside a readable CSRF cookie, and /auth/me works by the cookie."""
    who = await staff()
    answer = await cookie_login(browser, who["username"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "token" not in body and body["token_type"] == "Cookie"
    assert body["account"]["username"] == who["username"]
    jar = set_cookies(answer)
    token_cookie, csrf_cookie = jar[cookies.TOKEN_COOKIE], jar[cookies.CSRF_COOKIE]
    assert "HttpOnly" in token_cookie and "HttpOnly" not in csrf_cookie
    for header in (token_cookie, csrf_cookie):
        assert "SameSite=strict" in header and "Path=/" in header
        assert "Secure" not in header and "Max-Age=" in header
    assert browser.cookies[cookies.CSRF_COOKIE] == body["csrf_token"]
    me = await browser.get("/api/v1/auth/me")
    assert me.status_code == 200, me.text
    assert (me.json()["subject"], me.json()["via"]) == (who["username"], "cookie")
    assert me.json()["account"]["username"] == who["username"]


async def test_cookie_is_secure_over_https(services: Services, staff: Staff) -> None:
    """Over HTTPS both cookies are Secure."""
    who = await staff()
    app = Starlette(routes=auth.routes, exception_handlers=http_errors.exception_handlers())
    app.state.services = services
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="https://test") as http:
        answer = await cookie_login(http, who["username"])
    assert answer.status_code == 200, answer.text
    assert all("Secure" in h for h in set_cookies(answer).values())


async def test_cookie_write_without_or_with_wrong_csrf_is_refused_and_changes_nothing(
    browser: httpx.AsyncClient, client: httpx.AsyncClient, staff: Staff
) -> None:
    """A cookie request that changes state with no X-CSRF-Token, an empty one, a wrong one or
    another login's is 403 csrf_failed and nothing is made; with the right one it works."""
    who, other = await staff(), await staff()
    other_csrf = (await cookie_login(client, other["username"])).json()["csrf_token"]
    csrf = (await cookie_login(browser, who["username"])).json()["csrf_token"]
    code = who["market_code"]
    before = await session_count(client, code)
    wrong = csrf[:-1] + ("B" if csrf.endswith("A") else "A")
    for headers in ({}, {"X-CSRF-Token": ""}, {"X-CSRF-Token": wrong},
                    {"X-CSRF-Token": other_csrf}, {"X-CSRF-Token": "é".encode() * 22}):
        for path, body in (("/api/v1/sessions", session_body(code)),
                           ("/api/v1/auth/logout", None)):
            refused = await browser.post(path, json=body, headers=headers)
            assert refused.status_code == 403, (headers, refused.text)
            assert error_of(refused)["code"] == "csrf_failed"
    # the login is still valid (logout did nothing) and no session was made
    assert (await browser.get("/api/v1/auth/me")).status_code == 200
    assert await session_count(client, code) == before


async def test_cookie_write_with_csrf_header_works(
    browser: httpx.AsyncClient, staff: Staff
) -> None:
    """Cookie plus the right X-CSRF-Token: a write goes through (a session is created)."""
    who = await staff()
    csrf = (await cookie_login(browser, who["username"])).json()["csrf_token"]
    code = who["market_code"]
    before = await session_count(browser, code)
    made = await browser.post("/api/v1/sessions", json=session_body(code),
                              headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201, made.text
    assert await session_count(browser, code) == before + 1


async def test_bearer_needs_no_csrf_and_wins_over_the_cookie(
    client: httpx.AsyncClient, staff: Staff
) -> None:
    """A bearer token works without X-CSRF-Token, also when a login cookie is present (the
    header is what counts), and its login answer still carries the token."""
    who, other = await staff(), await staff()
    login = await client.post("/api/v1/auth/login", json={
        "username": who["username"], "password": PASSWORD})
    assert login.status_code == 200 and login.json()["token_type"] == "Bearer"
    assert not login.headers.get_list("set-cookie")
    token = login.json()["token"]
    await cookie_login(client, other["username"])  # the jar now holds another login's cookie
    code = who["market_code"]
    made = await client.post("/api/v1/sessions", json=session_body(code),
                             headers={"Authorization": f"Bearer {token}"})
    assert made.status_code == 201, made.text
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert (me.json()["subject"], me.json()["via"]) == (who["username"], "bearer")


async def test_logout_by_cookie_clears_cookies_and_revokes(
    browser: httpx.AsyncClient, staff: Staff
) -> None:
    """Logout with cookie and CSRF revokes the token and expires both cookies; the old cookie
    value is refused afterwards."""
    who = await staff()
    csrf = (await cookie_login(browser, who["username"])).json()["csrf_token"]
    old = browser.cookies[cookies.TOKEN_COOKIE]
    out = await browser.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200, out.text
    jar = set_cookies(out)
    assert all("Max-Age=0" in jar[name] for name in (cookies.TOKEN_COOKIE,
                                                      cookies.CSRF_COOKIE))
    assert cookies.TOKEN_COOKIE not in browser.cookies
    again = await browser.get("/api/v1/auth/me", headers=cookie_header(old))
    assert again.status_code == 401
    # a bearer use of the same token is refused too: it was revoked, not just forgotten
    assert (await browser.get("/api/v1/auth/me", headers={
        "Authorization": f"Bearer {old}"})).status_code == 401


async def test_stale_cookie_is_anonymous_where_anonymity_is_allowed(
    browser: httpx.AsyncClient
) -> None:
    """A forged cookie does not break a public page read, and a required login is 401."""
    browser.cookies.set(cookies.TOKEN_COOKIE, "not-a-token")
    assert (await browser.get("/api/v1/markets")).status_code == 200
    assert (await browser.get("/api/v1/auth/me")).status_code == 401


async def test_cookie_login_from_another_origin_is_refused(
    browser: httpx.AsyncClient, staff: Staff
) -> None:
    """A cookie login posted from another site's page (login CSRF) is 403 and sets nothing;
    from this origin it works; a bad ``cookie`` value is 400 naming it."""
    who = await staff()
    body = {"username": who["username"], "password": PASSWORD, "cookie": True}
    refused = await browser.post("/api/v1/auth/login", json=body,
                                 headers={"Origin": "https://evil.example"})
    assert (refused.status_code, error_of(refused)["code"]) == (403, "csrf_failed")
    assert not refused.headers.get_list("set-cookie")
    same = await browser.post("/api/v1/auth/login", json=body, headers={"Origin": "http://test"})
    assert same.status_code == 200, same.text
    bad = await browser.post("/api/v1/auth/login", json={**body, "cookie": "yes"})
    assert (bad.status_code, error_of(bad)["field"]) == (400, "cookie")


async def test_change_password_by_bearer_revokes_old_tokens(
    client: httpx.AsyncClient, staff: Staff
) -> None:
    """A wrong old password or a weak new one changes nothing (400 naming the field); the
    right change revokes every earlier token, answers a new one, and only the new password
    logs in."""
    who = await staff()
    name = who["username"]

    async def login(password: str) -> httpx.Response:
        return await client.post("/api/v1/auth/login",
                                 json={"username": name, "password": password})

    first = (await login(PASSWORD)).json()["token"]
    second = (await login(PASSWORD)).json()["token"]
    auth_first = {"Authorization": f"Bearer {first}"}
    for body, field in (
        ({"old_password": "wrong-password-1", "new_password": NEW_PASSWORD}, "old_password"),
        ({"old_password": PASSWORD, "new_password": "short"}, "new_password"),
        ({"old_password": PASSWORD, "new_password": PASSWORD}, "new_password"),
        ({"old_password": PASSWORD, "new_password": name}, "new_password"),
        ({"old_password": PASSWORD}, "new_password"),
    ):
        refused = await client.post("/api/v1/auth/password", headers=auth_first, json=body)
        assert (refused.status_code, error_of(refused)["field"]) == (400, field), refused.text
    assert (await client.get("/api/v1/auth/me", headers=auth_first)).status_code == 200
    assert (await login(PASSWORD)).status_code == 200

    changed = await client.post("/api/v1/auth/password", headers=auth_first, json={
        "old_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200, changed.text
    fresh = changed.json()["token"]
    assert changed.json()["changed"] is True
    for old in (first, second):
        assert (await client.get("/api/v1/auth/me", headers={
            "Authorization": f"Bearer {old}"})).status_code == 401
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {fresh}"})
    assert me.status_code == 200 and me.json()["subject"] == name
    assert (await login(PASSWORD)).status_code == 401
    assert (await login(NEW_PASSWORD)).status_code == 200


async def test_change_password_by_cookie_needs_csrf_and_renews_cookies(
    browser: httpx.AsyncClient, staff: Staff
) -> None:
    """By cookie: without CSRF nothing changes; with it the password changes, the old cookie
    token is revoked and new cookies (and CSRF value) are set."""
    who = await staff()
    csrf = (await cookie_login(browser, who["username"])).json()["csrf_token"]
    old = browser.cookies[cookies.TOKEN_COOKIE]
    body = {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    refused = await browser.post("/api/v1/auth/password", json=body)
    assert (refused.status_code, error_of(refused)["code"]) == (403, "csrf_failed")
    changed = await browser.post("/api/v1/auth/password", json=body,
                                 headers={"X-CSRF-Token": csrf})
    assert changed.status_code == 200, changed.text
    assert "token" not in changed.json() and changed.json()["csrf_token"] != csrf
    assert browser.cookies[cookies.TOKEN_COOKIE] != old
    assert (await browser.get("/api/v1/auth/me")).status_code == 200
    assert (await browser.get("/api/v1/auth/me", headers=cookie_header(old))).status_code == 401


async def test_only_an_own_login_changes_a_password(client: httpx.AsyncClient) -> None:
    """The deployment's admin token and no token at all cannot change a password."""
    body = {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    refused = await client.post("/api/v1/auth/password", headers=ADMIN, json=body)
    assert (refused.status_code, error_of(refused)["code"]) == (403, "forbidden")
    assert (await client.post("/api/v1/auth/password", json=body)).status_code == 401
