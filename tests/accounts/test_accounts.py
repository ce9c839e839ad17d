"""Accounts over real HTTP and websockets: argon2 passwords, login, logout and revocation (the
open socket closes with 4401), scope of the market tree, identity fields, Origin allow-list."""

from __future__ import annotations

import asyncio

import httpx
import msgpack
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from auction.store import Store
from auction.store import accounts as account_store
from tests.accounts.world import ADMIN, PASSWORD, bearer, build_world, ok
from tests.e2e.harness import Server, raw_client


async def test_passwords_are_argon2_and_login_refuses_wrong_ones(
    http: httpx.AsyncClient, store: Store
) -> None:
    """The stored hash is argon2id; a wrong password and an unknown user get one answer."""
    world = await build_world(http, bidders=1, lots=1)
    account = await account_store.get_account(store, world.a.account_ids["finance"])
    assert account.password_hash.startswith("$argon2id$")
    wrong = await http.post("/api/v1/auth/login",
                            json={"username": account.username, "password": "nope-nope"})
    unknown = await http.post("/api/v1/auth/login",
                              json={"username": "nobody-here", "password": PASSWORD})
    assert [wrong.status_code, unknown.status_code] == [401, 401]
    assert wrong.json()["error"]["code"] == unknown.json()["error"]["code"] == "bad_credentials"


async def test_scope_rolls_up_the_market_tree(http: httpx.AsyncClient) -> None:
    """A county sees itself, the city admin sees both counties, the province sees all three."""
    world = await build_world(http, bidders=1, lots=1)
    a = await ok(await http.get("/api/v1/auth/me", headers=bearer(world.a.tokens["finance"])))
    city = await ok(await http.get("/api/v1/auth/me",
                                   headers=bearer(world.tokens["city_admin"])))
    prov = await ok(await http.get("/api/v1/auth/me",
                                   headers=bearer(world.tokens["province_admin"])))
    assert a["scope"] == [world.a.code]
    assert city["scope"] == sorted([world.city, world.a.code, world.b.code])
    assert prov["scope"] == sorted([world.province, world.city, world.a.code, world.b.code])
    ledger = await ok(await http.get(f"/api/v1/markets/{world.city}/ledger",
                                     headers=bearer(world.tokens["city_admin"])))
    assert {m["market_code"] for m in ledger["markets"]} == {world.city, world.a.code,
                                                            world.b.code}


async def test_logout_revokes_the_token_and_closes_its_socket(
    server: Server, http: httpx.AsyncClient
) -> None:
    """After logout the token is refused over HTTP and its open websocket closes with 4401."""
    world = await build_world(http, bidders=1, lots=1)
    token = world.a.tokens["auctioneer"]
    async with raw_client(server, token) as raw:
        out = await http.post("/api/v1/auth/logout", headers=bearer(token))
        assert out.status_code == 200, out.text
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await raw.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    again = await http.get("/api/v1/auth/me", headers=bearer(token))
    assert again.status_code == 401
    async with connect(server.ws_url) as ws:  # a revoked token on hello: 4401
        await ws.send(msgpack.packb({"t": "hello", "token": token}))
        with pytest.raises(ConnectionClosed) as refused:
            await asyncio.wait_for(ws.recv(), 5)
        assert refused.value.rcvd is not None and refused.value.rcvd.code == 4401


async def test_disabling_an_account_revokes_all_its_tokens(
    server: Server, http: httpx.AsyncClient
) -> None:
    """A disabled account cannot log in and every token it held is refused."""
    world = await build_world(http, bidders=1, lots=1)
    second = world.a.tokens["finance"]
    resp = await http.post(f"/api/v1/accounts/{world.a.account_ids['finance']}/disable",
                           headers=bearer(world.a.tokens["market_admin"]))
    assert resp.status_code == 200, resp.text
    assert (await http.get("/api/v1/auth/me", headers=bearer(second))).status_code == 401
    other = await http.post(f"/api/v1/accounts/{world.b.account_ids['finance']}/disable",
                            headers=bearer(world.a.tokens["market_admin"]))
    assert other.status_code == 403


async def test_identity_errors_name_the_field(http: httpx.AsyncClient) -> None:
    """A wrong USCC check character and a wrong resident-id check digit are 400s naming the
    failing field."""
    bad_uscc = await http.post("/api/v1/bidders", json={"name": "某公司",
                                                       "uscc": "91350100M000100Y44"})
    assert (bad_uscc.status_code, bad_uscc.json()["error"]["field"],
            bad_uscc.json()["error"]["code"]) == (400, "uscc", "invalid_uscc")
    bad_id = await http.post("/api/v1/accounts", headers=ADMIN, json={
        "username": "person-x", "password": PASSWORD, "role": "platform_admin",
        "resident_id": "11010519491231002Y"})
    assert (bad_id.status_code, bad_id.json()["error"]["field"],
            bad_id.json()["error"]["code"]) == (400, "resident_id", "invalid_resident_id")


async def test_foreign_origin_is_refused(server: Server) -> None:
    """A browser handshake from another origin is refused; the server's own origin works."""
    with pytest.raises(InvalidStatus) as refused:
        async with connect(server.ws_url, origin="http://evil.example"):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403
    async with connect(server.ws_url, origin=server.base) as ws:  # type: ignore[arg-type]
        await ws.send(msgpack.packb({"t": "hello"}))
        welcome = msgpack.unpackb(await asyncio.wait_for(ws.recv(), 5))
        assert welcome["t"] == "welcome"
