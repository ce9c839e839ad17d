"""Staff accounts in the back office (issue 12 item 1; docs/http-api.md "Accounts"): the list of a
market's subtree, a password reset and a change of role or market by a market admin above the
account, each revoking the account's tokens; over real PostgreSQL and Redis."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from auction.api import admin, auth, catalogue, http_errors, staff_accounts
from auction.services import Services
from tests.api.conftest import ADMIN, error_of, new_city_with_counties
from tests.api.people import PASSWORD, bearer

NEW_PASSWORD = "river-lantern-orchard-42"


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process app with the market, account and staff-account routes."""
    app = Starlette(routes=[*admin.routes, *auth.routes, *catalogue.routes,
                            *staff_accounts.routes],
                    exception_handlers=http_errors.exception_handlers())
    app.state.services = services
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as http:
        yield http


async def account(client: httpx.AsyncClient, role: str, code: str) -> dict[str, Any]:
    """A new staff account at ``code``, with its login's header under ``headers``."""
    username = f"{role[:6]}-{secrets.token_hex(5)}"
    resp = await client.post("/api/v1/accounts", headers=ADMIN, json={
        "username": username, "password": PASSWORD, "role": role, "market_code": code,
        "person_name": "张三"})
    assert resp.status_code == 201, resp.text
    made: dict[str, Any] = resp.json()
    login = await client.post("/api/v1/auth/login",
                              json={"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    made["headers"] = bearer(login.json()["token"])
    return made


@pytest.fixture
async def tree(client: httpx.AsyncClient) -> dict[str, str]:
    """A city with two counties (A and B), all three made now."""
    city, (a, b) = await new_city_with_counties(client, ("01", "02"), "m")
    return {"city": city, "a": a, "b": b}


async def test_list_shows_the_subtree_and_a_sibling_sees_nothing(
    client: httpx.AsyncClient, tree: dict[str, str]
) -> None:
    """The city admin lists both counties' staff; county A's admin is refused B's list and
    sees only A's; finance, auctioneers and bidders' markets are refused; no hash is shown."""
    city_admin = await account(client, "market_admin", tree["city"])
    a_admin = await account(client, "market_admin", tree["a"])
    b_finance = await account(client, "finance", tree["b"])
    listed = await client.get(f"/api/v1/markets/{tree['city']}/accounts",
                              headers=city_admin["headers"])
    assert listed.status_code == 200, listed.text
    rows = {r["id"]: r for r in listed.json()["accounts"]}
    assert {city_admin["id"], a_admin["id"], b_finance["id"]} <= set(rows)
    row = rows[b_finance["id"]]
    assert row["role"] == "finance" and row["market_code"] == tree["b"]
    assert row["name"] == "张三" and row["market_name"] == f"{tree['b']}市场"
    assert row["disabled"] is False and row["created_at"]
    assert "password_hash" not in listed.text and "argon2" not in listed.text
    refused = await client.get(f"/api/v1/markets/{tree['b']}/accounts",
                               headers=a_admin["headers"])
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"
    own = await client.get(f"/api/v1/markets/{tree['a']}/accounts", headers=a_admin["headers"])
    assert {r["market_code"] for r in own.json()["accounts"]} == {tree["a"]}
    for who in (b_finance,):
        resp = await client.get(f"/api/v1/markets/{tree['b']}/accounts", headers=who["headers"])
        assert resp.status_code == 403
    guessed = await client.get("/api/v1/markets/999999/accounts", headers=a_admin["headers"])
    assert guessed.status_code == 403
    assert (await client.get(f"/api/v1/markets/{tree['b']}/accounts")).status_code == 401


async def test_reset_revokes_the_old_token_and_the_new_password_logs_in(
    client: httpx.AsyncClient, tree: dict[str, str]
) -> None:
    """The city admin resets B's auctioneer: the answer carries no password, the old login is
    401, the old password is refused and the new one logs in."""
    city_admin = await account(client, "market_admin", tree["city"])
    target = await account(client, "auctioneer", tree["b"])
    resp = await client.post(f"/api/v1/accounts/{target['id']}/password",
                             headers=city_admin["headers"], json={"new_password": NEW_PASSWORD})
    assert resp.status_code == 200, resp.text
    assert resp.json()["password_reset"] is True and NEW_PASSWORD not in resp.text
    assert "password_hash" not in resp.json()
    old = await client.get("/api/v1/auth/me", headers=target["headers"])
    assert old.status_code == 401
    wrong = await client.post("/api/v1/auth/login",
                              json={"username": target["username"], "password": PASSWORD})
    assert wrong.status_code == 401
    right = await client.post("/api/v1/auth/login",
                              json={"username": target["username"], "password": NEW_PASSWORD})
    assert right.status_code == 200, right.text
    me = await client.get("/api/v1/auth/me", headers=bearer(right.json()["token"]))
    assert me.status_code == 200


async def test_a_weak_password_is_400_naming_new_password(
    client: httpx.AsyncClient, tree: dict[str, str]
) -> None:
    """Too short, the username, or a common password: 400 naming ``new_password``; the old
    login still works."""
    a_admin = await account(client, "market_admin", tree["a"])
    target = await account(client, "finance", tree["a"])
    for weak in ("short", target["username"], "password123"):
        resp = await client.post(f"/api/v1/accounts/{target['id']}/password",
                                 headers=a_admin["headers"], json={"new_password": weak})
        assert resp.status_code == 400, (weak, resp.text)
        assert error_of(resp)["field"] == "new_password"
    assert (await client.get("/api/v1/auth/me", headers=target["headers"])).status_code == 200


async def test_role_and_market_change_revokes_and_takes_effect(
    client: httpx.AsyncClient, tree: dict[str, str]
) -> None:
    """The city admin makes A's finance B's auctioneer: old login 401, the new login carries the
    new role and market; A's admin may not move an account into B."""
    city_admin = await account(client, "market_admin", tree["city"])
    a_admin = await account(client, "market_admin", tree["a"])
    target = await account(client, "finance", tree["a"])
    denied = await client.patch(f"/api/v1/accounts/{target['id']}", headers=a_admin["headers"],
                                json={"market_code": tree["b"]})
    assert denied.status_code == 403
    bad = await client.patch(f"/api/v1/accounts/{target['id']}", headers=a_admin["headers"],
                             json={"role": "platform_admin"})
    assert bad.status_code == 400 and error_of(bad)["field"] == "role"
    resp = await client.patch(f"/api/v1/accounts/{target['id']}", headers=city_admin["headers"],
                              json={"role": "auctioneer", "market_code": tree["b"]})
    assert resp.status_code == 200, resp.text
    assert resp.json()["role"] == "auctioneer" and resp.json()["market_code"] == tree["b"]
    assert (await client.get("/api/v1/auth/me", headers=target["headers"])).status_code == 401
    login = await client.post("/api/v1/auth/login",
                              json={"username": target["username"], "password": PASSWORD})
    assert login.status_code == 200
    me = (await client.get("/api/v1/auth/me", headers=bearer(login.json()["token"]))).json()
    assert me["role"] == "auctioneer" and me["scope"] == [tree["b"]]


async def test_refusals(
    client: httpx.AsyncClient, tree: dict[str, str], new_uscc: Any
) -> None:
    """A sibling county's admin, finance and the account itself are 403 on both writes; a bidder
    account is nobody's to reset, not even the platform admin's; a guessed id is 403 (404 for
    the platform admin)."""
    a_admin = await account(client, "market_admin", tree["a"])
    b_admin = await account(client, "market_admin", tree["b"])
    b_finance = await account(client, "finance", tree["b"])
    target = await account(client, "auctioneer", tree["b"])
    url = f"/api/v1/accounts/{target['id']}"
    for who in (a_admin, b_finance, target):
        reset = await client.post(f"{url}/password", headers=who["headers"],
                                  json={"new_password": NEW_PASSWORD})
        assert reset.status_code == 403, reset.text
        patch = await client.patch(url, headers=who["headers"], json={"role": "finance"})
        assert patch.status_code == 403, patch.text
    own = await client.post(f"/api/v1/accounts/{b_admin['id']}/password",
                            headers=b_admin["headers"], json={"new_password": NEW_PASSWORD})
    assert own.status_code == 403
    username = f"bid-{secrets.token_hex(5)}"
    made = await client.post("/api/v1/bidders", headers=ADMIN, json={
        "name": "济南某科技有限公司", "uscc": new_uscc(), "username": username,
        "password": PASSWORD})
    assert made.status_code == 201, made.text
    bidder_account = (await client.post("/api/v1/auth/login", json={
        "username": username, "password": PASSWORD})).json()["account"]["id"]
    for who in (b_admin["headers"], ADMIN):
        resp = await client.post(f"/api/v1/accounts/{bidder_account}/password", headers=who,
                                 json={"new_password": NEW_PASSWORD})
        assert resp.status_code == 403, resp.text
    guessed = await client.post("/api/v1/accounts/999999999/password",
                                headers=b_admin["headers"], json={"new_password": NEW_PASSWORD})
    assert guessed.status_code == 403
    unknown = await client.post("/api/v1/accounts/999999999/password", headers=ADMIN,
                                json={"new_password": NEW_PASSWORD})
    assert unknown.status_code == 404
