"""Issue 9, parts 1 and 2: a bidder bids only as itself, and separation of duties is enforced.

Real server, PostgreSQL and Redis, raw msgpack sockets. Each test tries to break one rule: only
the bidder's own login obtains a bid credential; finance confirms only approved registrations,
never too little, never a second amount; a desk registration does nothing until the bidder
accepts it; a market sees no bidder that never applied to it; disabling, rejecting,
withdrawing and forfeiting close the credential's sockets with 4401 and stop its bids; a staff
token dies with the account that minted it; malformed tokens are 401 / 4401, never a crash.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import jwt
import msgpack
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from auction.api.tokens import AUDIENCES, ISSUER, Principal, TokenLifetimes, Tokens
from auction.settings import ConfigError, Secret, Settings
from tests.accounts.world import ADMIN, START, World, bearer, build_world, county, ok
from tests.conftest import ADMIN_TOKEN, SECRET
from tests.e2e.harness import BIDDER_PASSWORD, Enrolled, Raw, Server, enrol, raw_client, uscc


async def closed_with(raw: Raw, timeout: float = 5.0) -> int:
    """Read until the server closes the socket; its close code."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await raw.recv(timeout=timeout)
    assert closed.value.rcvd is not None, "closed without a close frame"
    return int(closed.value.rcvd.code)


async def hello_close_code(server: Server, token: str) -> int:
    """``hello`` with ``token``: the code the server closes with."""
    async with connect(server.ws_url) as ws:
        await ws.send(msgpack.packb({"t": "hello", "token": token}))
        with pytest.raises(ConnectionClosed) as refused:
            await asyncio.wait_for(ws.recv(), 5)
    assert refused.value.rcvd is not None, "closed without a close frame"
    return int(refused.value.rcvd.code)


async def answer(raw: Raw, **frame: Any) -> dict[str, Any]:
    await raw.send(**frame)
    return await raw.until(lambda m: m.get("key") == frame["key"])


async def applied(http: httpx.AsyncClient, world: World, name: str) -> tuple[int, int, str]:
    """A new bidder of county A that applied to A's session: ``(bidder, registration,
    account token)``."""
    username = f"ap-{name}-{time.time_ns() % 10**9}"
    await http.post("/api/v1/bidders", json={
        "name": f"申请企业{name}", "uscc": uscc(time.time_ns() % 10**9),
        "username": username, "password": BIDDER_PASSWORD})
    login = await ok(await http.post("/api/v1/auth/login", json={
        "username": username, "password": BIDDER_PASSWORD}))
    token = str(login["token"])
    reg = await ok(await http.post(f"/api/v1/sessions/{world.a.session_id}/registrations",
                                   headers=bearer(token),
                                   json={"bidder_id": login["account"]["bidder_id"]}), 201)
    return int(login["account"]["bidder_id"]), int(reg["id"]), token


async def test_only_the_bidders_own_login_gets_a_bid_credential(
    server: Server, http: httpx.AsyncClient
) -> None:
    """The deposit answer carries no token; staff, the platform admin, another bidder and a bid
    credential itself are refused the credential; the bidder's own login gets one that names
    its account, registration, session and paddle."""
    world = await build_world(http, bidders=2, lots=1)
    a = world.a
    mine = a.bidders[0]
    url = f"/api/v1/registrations/{mine['registration']}/token"
    again = await ok(await http.post(f"/api/v1/registrations/{mine['registration']}/deposit",
                                     headers=bearer(a.tokens["finance"]),
                                     json={"deposit_fen": START // 10}))
    assert set(again) == {"registration", "paddle"}
    others = {
        "market_admin": a.tokens["market_admin"], "finance": a.tokens["finance"],
        "auctioneer": a.tokens["auctioneer"], "city_admin": world.tokens["city_admin"],
        "platform_admin": ADMIN_TOKEN, "other_bidder": a.bidders[1]["account_token"],
        "bid_credential": mine["token"], "other_county_bidder": world.b.bidders[0]["account_token"],
    }
    for who, token in others.items():
        refused = await http.post(url, headers=bearer(token))
        assert refused.status_code == 403, (who, refused.text)
    assert (await http.post(url)).status_code == 401
    got = await ok(await http.post(url, headers=bearer(mine["account_token"])))
    tokens = Tokens(Secret(SECRET), Secret(ADMIN_TOKEN))
    who = tokens.verify(str(got["token"]))
    account = tokens.verify(mine["account_token"])
    assert (who.kind, who.role, who.account_id, who.registration_id, who.session_id,
            who.paddle, who.bidder_id) == (
        "bid", "bidder", account.account_id, mine["registration"], a.session_id,
        mine["paddle"], mine["id"])
    assert got["expires_at"] == who.expires_at
    history = await ok(await http.get(f"/api/v1/registrations/{mine['registration']}/history",
                                      headers=bearer(a.tokens["market_admin"])))
    issued = [s for s in history["steps"] if s["step"] == "credential_issued"]
    assert len(issued) == 2 and all(s["actor_account_id"] == account.account_id for s in issued)
    # an account token never bids; a credential never acts for the account
    async with raw_client(server, a.tokens["auctioneer"]) as console:
        assert (await answer(console, t="cmd", lot=a.lots[0], op="open", key="o"))["t"] == "ack"
    async with raw_client(server, mine["account_token"]) as account_socket:
        refused_bid = await answer(account_socket, t="bid", lot=a.lots[0], amount=START, key="k")
        assert (refused_bid["t"], refused_bid["code"]) == ("nack", "forbidden")
    async with raw_client(server, str(got["token"])) as bidder:
        assert (await answer(bidder, t="bid", lot=a.lots[0], amount=START, key="k"))["t"] == "ack"
    withdraw = await http.post(f"/api/v1/registrations/{mine['registration']}/withdraw",
                               headers=bearer(mine["token"]))
    assert withdraw.status_code == 403


async def test_separation_of_duties_at_the_deposit(http: httpx.AsyncClient) -> None:
    """Finance cannot confirm an unapproved registration (409 wrong_state); a market admin
    cannot confirm at all (403); an amount below the requirement is 422 deposit_insufficient
    and writes nothing; the same amount again is 200 with the same paddle, another is 409."""
    world = await build_world(http, bidders=0, lots=2)
    a = world.a
    _, reg, _ = await applied(http, world, "sod")
    finance = bearer(a.tokens["finance"])
    deposit = f"/api/v1/registrations/{reg}/deposit"
    early = await http.post(deposit, headers=finance, json={"deposit_fen": START})
    assert (early.status_code, early.json()["error"]["code"]) == (409, "wrong_state")
    by_finance = await http.post(f"/api/v1/registrations/{reg}/approve", headers=finance)
    assert by_finance.status_code == 403, "finance does not approve"
    approved = await ok(await http.post(f"/api/v1/registrations/{reg}/approve",
                                        headers=bearer(a.tokens["market_admin"])))
    required = int(approved["deposit_required_fen"])
    assert required == 2 * START // 10  # the largest lot's deposit
    admin_confirms = await http.post(deposit, headers=bearer(a.tokens["market_admin"]),
                                     json={"deposit_fen": required})
    assert admin_confirms.status_code == 403, "the market approves, finance confirms"
    low = await http.post(deposit, headers=finance, json={"deposit_fen": required - 1})
    assert (low.status_code, low.json()["error"]["code"], low.json()["error"]["field"]) == (
        422, "deposit_insufficient", "deposit_fen")
    listed = await ok(await http.get(f"/api/v1/sessions/{a.session_id}/deposits",
                                     headers=finance))
    assert [d["state"] for d in listed["deposits"] if d["registration_id"] == reg] == [
        "required"]
    paid = await ok(await http.post(deposit, headers=finance, json={"deposit_fen": required}))
    same = await ok(await http.post(deposit, headers=finance, json={"deposit_fen": required}))
    assert same == paid and paid["paddle"] == 101
    other = await http.post(deposit, headers=finance, json={"deposit_fen": required + 1})
    assert (other.status_code, other.json()["error"]["code"]) == (409, "conflict")
    ledger = await ok(await http.get(f"/api/v1/markets/{a.code}/ledger", headers=finance))
    assert ledger["markets"][0]["received_fen"] == required and ledger["conserved"]


async def test_desk_registration_takes_effect_only_when_the_bidder_accepts(
    http: httpx.AsyncClient,
) -> None:
    """A market's desk registration is ``invited``: it cannot be approved or paid, shows no
    name, until the bidder's own login accepts it; every step is in the history."""
    world = await build_world(http, bidders=0, lots=1)
    a = world.a
    username = f"desk-{time.time_ns() % 10**9}"
    await http.post("/api/v1/bidders", json={
        "name": "现场报名企业", "uscc": uscc(time.time_ns() % 10**9 + 1),
        "username": username, "password": BIDDER_PASSWORD})
    login = await ok(await http.post("/api/v1/auth/login", json={
        "username": username, "password": BIDDER_PASSWORD}))
    bidder_id, account = int(login["account"]["bidder_id"]), str(login["token"])
    admin = bearer(a.tokens["market_admin"])
    desk = await ok(await http.post(f"/api/v1/sessions/{a.session_id}/registrations",
                                    headers=admin, json={"bidder_id": bidder_id}), 201)
    assert desk["status"] == "invited"
    reg = int(desk["id"])
    early = await http.post(f"/api/v1/registrations/{reg}/approve", headers=admin)
    assert (early.status_code, early.json()["error"]["code"]) == (409, "wrong_state")
    unpaid = await http.post(f"/api/v1/registrations/{reg}/deposit",
                             headers=bearer(a.tokens["finance"]), json={"deposit_fen": START})
    assert unpaid.status_code == 409
    rows = await ok(await http.get(f"/api/v1/sessions/{a.session_id}/registrations",
                                   headers=admin))
    row = next(r for r in rows["registrations"] if r["id"] == reg)
    assert (row["status"], row["bidder_name"], row["bidder_uscc"]) == ("invited", None, None)
    someone_else = world.b.bidders[0]["account_token"] if world.b.bidders else ADMIN_TOKEN
    assert (await http.post(f"/api/v1/registrations/{reg}/accept",
                            headers=bearer(someone_else))).status_code == 403
    accepted = await ok(await http.post(f"/api/v1/registrations/{reg}/accept",
                                        headers=bearer(account)))
    assert accepted["status"] == "applied"
    await ok(await http.post(f"/api/v1/registrations/{reg}/approve", headers=admin))
    rows = await ok(await http.get(f"/api/v1/sessions/{a.session_id}/registrations",
                                   headers=admin))
    row = next(r for r in rows["registrations"] if r["id"] == reg)
    assert row["bidder_name"] == "现场报名企业"
    history = await ok(await http.get(f"/api/v1/registrations/{reg}/history", headers=admin))
    steps = [(s["step"], s["actor_role"]) for s in history["steps"]]
    assert steps == [("invited", "market_admin"), ("accepted", "bidder"),
                     ("approved", "market_admin")]
    assert all(s["at"].endswith("+08:00") for s in history["steps"])


async def test_a_market_cannot_see_a_bidder_that_never_applied_to_it(
    http: httpx.AsyncClient,
) -> None:
    """County B's admin desk-registers county A's bidder by id: it sees no name, cannot
    approve, its finance cannot confirm, and no deposit row (with the name) ever appears."""
    world = await build_world(http, bidders=1, lots=1)
    stranger = world.a.bidders[0]
    b = world.b
    admin = bearer(b.tokens["market_admin"])
    desk = await ok(await http.post(f"/api/v1/sessions/{b.session_id}/registrations",
                                    headers=admin, json={"bidder_id": stranger["id"]}), 201)
    reg = int(desk["id"])
    assert "name" not in str(desk) or desk.get("bidder_name") is None
    rows = await ok(await http.get(f"/api/v1/sessions/{b.session_id}/registrations",
                                   headers=admin))
    row = next(r for r in rows["registrations"] if r["id"] == reg)
    assert row["bidder_name"] is None and row["bidder_uscc"] is None
    assert (await http.post(f"/api/v1/registrations/{reg}/approve",
                            headers=admin)).status_code == 409
    assert (await http.post(f"/api/v1/registrations/{reg}/deposit",
                            headers=bearer(b.tokens["finance"]),
                            json={"deposit_fen": START})).status_code == 409
    deposits = await ok(await http.get(f"/api/v1/sessions/{b.session_id}/deposits",
                                       headers=admin))
    assert all(d["bidder_id"] != stranger["id"] for d in deposits["deposits"])
    # the bidder's token for B's session cannot be had either
    assert (await http.post(f"/api/v1/registrations/{reg}/token",
                            headers=bearer(stranger["account_token"]))).status_code == 403
    # and A's registrations stay A's: B's admin cannot read them
    assert (await http.get(f"/api/v1/sessions/{world.a.session_id}/registrations",
                           headers=admin)).status_code == 403
    assert (await http.get(f"/api/v1/registrations/{stranger['registration']}/history",
                           headers=admin)).status_code == 403


async def _open_lot_with(server: Server, http: httpx.AsyncClient, world: World, *,
                         paid_before_open: bool) -> tuple[Enrolled, int]:
    """County A's lot open and one more bidder enrolled (before or after the opening)."""
    a = world.a
    lot = a.lots[0]

    async def new() -> Enrolled:
        return await enrol(
            http, a.session_id, name="将被撤销的企业", uscc_code=uscc(time.time_ns() % 10**9),
            deposit_fen=START // 10, approver=bearer(a.tokens["market_admin"]),
            finance=bearer(a.tokens["finance"]),
        )

    made = await new() if paid_before_open else None
    async with raw_client(server, a.tokens["auctioneer"]) as console:
        assert (await answer(console, t="cmd", lot=lot, op="open", key="open"))["t"] == "ack"
    if made is None:
        made = await new()
    return made, lot


@pytest.mark.parametrize("how", ["disable", "reject", "withdraw", "forfeit"])
async def test_revoking_closes_the_sockets_and_stops_the_bids(
    server: Server, http: httpx.AsyncClient, how: str
) -> None:
    """Disabling the account, rejecting or withdrawing the registration, or forfeiting its
    deposit: the credential's open socket closes with 4401, a bid sent meanwhile is never
    acknowledged, a new ``hello`` with it is refused with 4401 and HTTP says 401."""
    world = await build_world(http, bidders=1, lots=1)
    a = world.a
    made, lot = await _open_lot_with(server, http, world, paid_before_open=how == "forfeit")
    async with raw_client(server, made.token) as bidder:
        assert (await answer(bidder, t="bid", lot=lot, amount=START, key="b1"))["t"] == "ack"
        if how == "disable":
            account = Tokens(Secret(SECRET), Secret(ADMIN_TOKEN)).verify(made.account_token)
            await ok(await http.post(f"/api/v1/accounts/{account.account_id}/disable",
                                     headers=ADMIN))
        elif how == "reject":
            await ok(await http.post(f"/api/v1/registrations/{made.registration_id}/reject",
                                     headers=bearer(a.tokens["market_admin"]),
                                     json={"reason": "材料造假"}))
        elif how == "withdraw":
            await ok(await http.post(f"/api/v1/registrations/{made.registration_id}/withdraw",
                                     headers=bearer(made.account_token)))
        else:
            deposits = await ok(await http.get(f"/api/v1/sessions/{a.session_id}/deposits",
                                               headers=bearer(a.tokens["finance"])))
            deposit = next(d for d in deposits["deposits"]
                           if d["registration_id"] == made.registration_id)
            assert deposit["state"] == "held"
            await ok(await http.post(f"/api/v1/deposits/{deposit['id']}/forfeit",
                                     headers=bearer(a.tokens["finance"]),
                                     json={"reason": "违约"}))
        # sent at once: refused (or the socket is already closing), never acknowledged
        try:
            await bidder.send(t="bid", lot=lot, amount=START + 10_000, key="b2")
            late = await bidder.until(lambda m: m.get("key") == "b2", timeout=5)
            assert late["t"] == "nack", late
        except ConnectionClosed:
            pass
        else:
            assert await closed_with(bidder) == 4401
    assert await hello_close_code(server, made.token) == 4401
    assert (await http.get("/api/v1/auth/me", headers=bearer(made.token))).status_code == 401
    again = await http.post(f"/api/v1/registrations/{made.registration_id}/token",
                            headers=bearer(made.account_token))
    assert again.status_code in (401, 403)
    bids = await ok(await http.get(f"/api/v1/lots/{lot}/bids"))
    assert all(b["amount_fen"] != START + 10_000 for b in bids["bids"])


async def test_a_staff_token_dies_with_the_account_that_minted_it(
    server: Server, http: httpx.AsyncClient
) -> None:
    """An auctioneer token minted by a market admin's account stops working (socket 4401,
    HTTP 401, commands refused) once that account is disabled."""
    world = await build_world(http, bidders=0, lots=1)
    a = world.a
    minted = await ok(await http.post(f"/api/v1/sessions/{a.session_id}/staff-tokens",
                                      headers=bearer(a.tokens["market_admin"]),
                                      json={"role": "auctioneer", "name": "临时拍卖师"}))
    token = str(minted["token"])
    who = Tokens(Secret(SECRET), Secret(ADMIN_TOKEN)).verify(token)
    assert (who.kind, who.minted_by) == ("staff", a.account_ids["market_admin"])
    assert who.expires_at - who.issued_at == 12 * 3600
    async with raw_client(server, token) as console:
        await ok(await http.post(f"/api/v1/accounts/{a.account_ids['market_admin']}/disable",
                                 headers=bearer(world.tokens["city_admin"])))
        assert await closed_with(console) == 4401
    assert await hello_close_code(server, token) == 4401
    command = await http.post(f"/api/v1/lots/{a.lots[0]}/commands", headers=bearer(token),
                              json={"op": "open", "key": "after-disable"})
    assert command.status_code == 401
    # a token minted by the deployment's admin token has no account to die with
    kept = await ok(await http.post(f"/api/v1/sessions/{a.session_id}/staff-tokens",
                                    headers=ADMIN, json={"role": "auctioneer", "name": "常驻"}))
    assert (await http.get("/api/v1/auth/me", headers=bearer(kept["token"]))).status_code == 200


def _forged(claims: dict[str, Any], key: bytes | None, alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


async def test_malformed_tokens_are_401_and_4401(server: Server, http: httpx.AsyncClient) -> None:
    """Any token bytes that are not a valid token — malformed, non-ASCII, forged, expired,
    another issuer or audience, ``alg: none`` — are 401 over HTTP and close 4401 on hello."""
    now = int(time.time())
    real = Tokens(Secret(SECRET), Secret(ADMIN_TOKEN))
    key = real._key
    base = {"iss": ISSUER, "aud": AUDIENCES["account"], "sub": "x", "role": "market_admin",
            "mkt": 1, "acc": 1, "jti": "j", "iat": now, "exp": now + 600}
    expired = real.mint(Principal(role="finance", subject="f", market_id=1, account_id=1),
                        ttl_s=-10)
    bad = [
        "abc.dé", "abc.d\u00e9.x", "..", "a.b.c", "é" * 40, "x" * 1000, "\u4e2d.\u6587.\u5b57",
        expired,
        _forged({**base, "iss": "someone-else"}, key),
        _forged({**base, "aud": "auction:elsewhere"}, key),
        _forged({**base, "aud": AUDIENCES["bid"]}, key),  # claims that do not fit the audience
        _forged({**base, "role": "emperor"}, key),
        _forged(base, b"another-key-that-is-32-bytes-long!!"),
        _forged(base, None, alg="none"),
        _forged({k: v for k, v in base.items() if k != "jti"}, key),
        real.mint(Principal(role="market_admin", market_id=1, account_id=1))[:-3] + "AAA",
    ]
    for token in bad:
        raw = b"Bearer " + token.encode("utf-8")  # non-ASCII goes as raw UTF-8 bytes
        resp = await http.get("/api/v1/auth/me", headers={"Authorization": raw})
        assert resp.status_code == 401, (token[:80], resp.status_code, resp.text)
        assert resp.json()["error"]["code"] == "unauthorized"
        assert await hello_close_code(server, token) == 4401, token[:80]
    huge = await http.get("/api/v1/auth/me", headers={"Authorization": "Bearer " + "x" * 6000})
    assert huge.status_code == 401


def test_token_lifetimes_are_configurable_and_bounded() -> None:
    """Each kind of token lives as configured (12 h by default); longer than the revocation
    memory (7 days) is refused at start-up."""
    settings = Settings.from_env({
        "AUCTION_SECRET": SECRET, "AUCTION_TOKEN_TTL_S": "3600",
        "AUCTION_BID_TOKEN_TTL_S": "1800", "AUCTION_STAFF_TOKEN_TTL_S": "900"})
    assert (settings.token_ttl_s, settings.bid_token_ttl_s, settings.staff_token_ttl_s) == (
        3600, 1800, 900)
    defaults = Settings.from_env({"AUCTION_SECRET": SECRET})
    assert (defaults.token_ttl_s, defaults.bid_token_ttl_s, defaults.staff_token_ttl_s) == (
        12 * 3600, 12 * 3600, 12 * 3600)
    with pytest.raises(ConfigError, match="AUCTION_BID_TOKEN_TTL_S"):
        Settings.from_env({"AUCTION_SECRET": SECRET, "AUCTION_BID_TOKEN_TTL_S": "604801"})
    tokens = Tokens(Secret(SECRET), Secret(""), TokenLifetimes(account=3600, bid=1800, staff=900))
    for principal, ttl in (
        (Principal(role="finance", market_id=1, account_id=7), 3600),
        (Principal(role="bidder", bidder_id=1, session_id=2, paddle=101, account_id=7,
                   registration_id=3), 1800),
        (Principal(role="auctioneer", market_id=1, session_id=2, minted_by=7), 900),
    ):
        who = tokens.verify(tokens.mint(principal))
        assert who.expires_at - who.issued_at == ttl


async def test_an_agent_logs_in_as_itself_for_its_registration_only(
    http: httpx.AsyncClient,
) -> None:
    """The enterprise's own login gives its agent an account; the agent takes the credential of
    that registration (naming the agent's account), cannot withdraw it, and gets nothing for
    another registration; the market cannot create an agent login."""
    world = await build_world(http, bidders=0, lots=1)
    a = world.a
    made = await enrol(http, a.session_id, name="委托代理企业",
                       uscc_code=uscc(time.time_ns() % 10**9), deposit_fen=START // 10,
                       approver=bearer(a.tokens["market_admin"]),
                       finance=bearer(a.tokens["finance"]))
    agent = {"agent_name": "代理人甲", "agent_resident_id": "11010519491231002X"}
    by_market = await http.post(f"/api/v1/registrations/{made.registration_id}/agent",
                                headers=bearer(a.tokens["market_admin"]),
                                json={**agent, "username": "agent-by-market",
                                      "password": BIDDER_PASSWORD})
    assert by_market.status_code == 403
    username = f"agent-{time.time_ns() % 10**9}"
    recorded = await ok(await http.post(f"/api/v1/registrations/{made.registration_id}/agent",
                                        headers=bearer(made.account_token),
                                        json={**agent, "username": username,
                                              "password": BIDDER_PASSWORD}))
    login = await ok(await http.post("/api/v1/auth/login", json={
        "username": username, "password": BIDDER_PASSWORD}))
    assert login["account"]["registration_id"] == made.registration_id
    agent_token = bearer(str(login["token"]))
    credential = await ok(await http.post(
        f"/api/v1/registrations/{made.registration_id}/token", headers=agent_token))
    who = Tokens(Secret(SECRET), Secret(ADMIN_TOKEN)).verify(str(credential["token"]))
    assert (who.account_id, who.registration_id, who.paddle) == (
        recorded["account_id"], made.registration_id, made.paddle)
    assert (await http.post(f"/api/v1/registrations/{made.registration_id}/withdraw",
                            headers=agent_token)).status_code == 403
    mine = await ok(await http.get("/api/v1/registrations/mine", headers=agent_token))
    assert [r["id"] for r in mine["registrations"]] == [made.registration_id]
    assert (await http.get("/api/v1/registrations/mine",
                           headers=bearer(a.tokens["market_admin"]))).status_code == 403
    assert (await http.get("/api/v1/registrations/mine",
                           headers=bearer(made.token))).status_code == 403
    other_session = await county(http, f"{int(world.b.code) + 2:06d}", world.city, "agent2",
                                 bidders=0, lots=1)
    elsewhere = await http.post(f"/api/v1/sessions/{other_session.session_id}/registrations",
                                headers=agent_token, json={"bidder_id": made.bidder_id})
    assert elsewhere.status_code == 403, "an agent acts for its one registration only"


async def test_each_bid_rechecks_the_revocation(server: Server, http: httpx.AsyncClient) -> None:
    """A revocation that no socket has heard of yet (written to Redis, not published) still
    stops the very next bid on an open socket: each bid re-checks it."""
    from redis.asyncio import Redis

    from auction.accounts.keys import AccountKeys

    world = await build_world(http, bidders=1, lots=1)
    made, lot = await _open_lot_with(server, http, world, paid_before_open=False)
    redis = Redis.from_url(server.settings.redis_url or "")
    try:
        async with raw_client(server, made.token) as bidder:
            assert (await answer(bidder, t="bid", lot=lot, amount=START, key="a"))["t"] == "ack"
            keys = AccountKeys(server.settings.redis_namespace)
            await redis.set(keys.revoked_registration(made.registration_id),
                            str(int(time.time())), ex=60)
            refused = await answer(bidder, t="bid", lot=lot, amount=START + 10_000, key="b")
            assert (refused["t"], refused["code"]) == ("nack", "unauthorized")
    finally:
        await redis.aclose()
