"""Sign-up and login against guessing (docs/roles.md "Sign-up", "Rate limits"): sign-up tells an
anonymous caller nothing about which credit codes and usernames exist and is limited per
address; login slows guessing per (username, address) and per address and never locks the real
user out; ``X-Forwarded-For`` counts only from a trusted proxy. Over a real server, the callers'
addresses given as ``X-Forwarded-For`` from 127.0.0.1 (trusted by the test harness)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from auction.accounts import limits
from auction.api.catalogue import SIGNUP_ACCEPTED
from auction.settings import Settings
from tests.accounts.world import ADMIN, PASSWORD
from tests.e2e.harness import running, uscc


def at(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def fresh() -> tuple[str, str]:
    """A new (credit code, username)."""
    n = uuid.uuid4().int
    return uscc(n % 10**9), f"u{n % 10**12:012d}"


async def sign_up(http: httpx.AsyncClient, address: str, code: str, username: str | None = None,
                  **extra: Any) -> httpx.Response:
    body: dict[str, Any] = {"name": "某科技有限公司", "uscc": code, **extra}
    if username is not None:
        body |= {"username": username, "password": PASSWORD}
    return await http.post("/api/v1/bidders", headers=at(address), json=body)


async def login(http: httpx.AsyncClient, address: str, username: str,
                password: str = PASSWORD) -> httpx.Response:
    return await http.post("/api/v1/auth/login", headers=at(address),
                           json={"username": username, "password": password})


async def test_sign_up_answers_anyone_the_same_whatever_exists(http: httpx.AsyncClient) -> None:
    """A new enterprise, a taken credit code and a taken username all get the same 202 answer;
    only the new account's owner learns the outcome (by logging in), and a refused sign-up
    leaves nothing behind. The platform admin's desk is told (201 / 409 naming the field)."""
    code, username = fresh()
    other_code, other_user = fresh()
    answers = [
        await sign_up(http, "198.51.100.1", code, username),  # new: made
        await sign_up(http, "198.51.100.1", code, other_user),  # credit code taken
        await sign_up(http, "198.51.100.1", other_code, username),  # username taken
        await sign_up(http, "198.51.100.1", fresh()[0]),  # an enterprise alone
    ]
    assert {r.status_code for r in answers} == {202}
    assert all(r.json() == SIGNUP_ACCEPTED for r in answers)
    assert len({tuple(sorted(k for k in r.headers if k != "date")) for r in answers}) == 1

    owner = await login(http, "198.51.100.1", username)
    assert owner.status_code == 200, owner.text
    assert owner.json()["account"]["bidder_id"]
    assert (await login(http, "198.51.100.1", other_user)).status_code == 401

    # nothing of the refused ones was made: the username and the credit code are still free
    desk = {**ADMIN, **at("198.51.100.2")}
    made = await http.post("/api/v1/bidders", headers=desk, json={
        "name": "另一公司", "uscc": other_code, "username": other_user, "password": PASSWORD})
    assert made.status_code == 201, made.text
    assert made.json()["uscc"] == other_code and made.json()["account_id"]
    taken = await http.post("/api/v1/bidders", headers=desk,
                            json={"name": "又一公司", "uscc": code})
    assert (taken.status_code, taken.json()["error"]["field"]) == (409, "uscc")
    taken = await http.post("/api/v1/bidders", headers=desk, json={
        "name": "又一公司", "uscc": fresh()[0], "username": username, "password": PASSWORD})
    assert (taken.status_code, taken.json()["error"]["field"]) == (409, "username")


async def test_malformed_sign_ups_still_name_the_field(http: httpx.AsyncClient) -> None:
    """What is wrong with the request itself (a bad check character, a weak password) is still
    a 400 naming the field: it says nothing about anyone else."""
    bad = await sign_up(http, "198.51.100.3", "91350100M000100Y44")
    assert (bad.status_code, bad.json()["error"]["field"]) == (400, "uscc")
    code, username = fresh()
    weak = await http.post("/api/v1/bidders", headers=at("198.51.100.3"), json={
        "name": "某公司", "uscc": code, "username": username, "password": "password123"})
    assert (weak.status_code, weak.json()["error"]["field"]) == (400, "password")


async def test_sign_up_is_limited_per_address(http: httpx.AsyncClient) -> None:
    """The 11th sign-up from one address in 10 minutes is 429 with Retry-After; another address
    and the platform admin's desk are not held up."""
    limit = limits.SIGNUP_PER_ADDRESS.count
    for _ in range(limit):
        assert (await sign_up(http, "203.0.113.50", fresh()[0])).status_code == 202
    refused = await sign_up(http, "203.0.113.50", fresh()[0])
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) > 0
    assert refused.json()["error"]["retry_after_ms"] > 0
    assert (await sign_up(http, "203.0.113.51", fresh()[0])).status_code == 202
    desk = await http.post("/api/v1/bidders", headers={**ADMIN, **at("203.0.113.50")},
                           json={"name": "窗口登记", "uscc": fresh()[0]})
    assert desk.status_code == 201, desk.text


@pytest.fixture
async def untrusting(settings: Settings, tmp_path: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A server with no trusted proxy (the default of AUCTION_TRUSTED_PROXIES)."""
    own = settings.with_changes(redis_namespace=f"test-{uuid.uuid4().hex[:10]}",
                                data_dir=tmp_path, password_profile="fast")
    async with running(own, trusted_proxies=()) as server:
        async with httpx.AsyncClient(base_url=server.base, timeout=10) as client:
            yield client


async def test_forwarded_for_counts_only_from_a_trusted_proxy(
    untrusting: httpx.AsyncClient, http: httpx.AsyncClient
) -> None:
    """Without AUCTION_TRUSTED_PROXIES a client on the same host cannot pick an address per
    request: every sign-up counts against 127.0.0.1, whatever X-Forwarded-For says; behind a
    trusted proxy (the harness trusts 127.0.0.1) each forwarded address has its own count."""
    limit = limits.SIGNUP_PER_ADDRESS.count
    answers = [await sign_up(untrusting, f"192.0.2.{i + 1}", fresh()[0]) for i in range(limit + 1)]
    assert [r.status_code for r in answers] == [202] * limit + [429]
    answers = [await sign_up(http, f"192.0.2.{i + 1}", fresh()[0]) for i in range(limit + 1)]
    assert {r.status_code for r in answers} == {202}


async def test_guessing_from_elsewhere_never_locks_the_real_user_out(
    http: httpx.AsyncClient,
) -> None:
    """A known staff username hammered with wrong passwords from one address: that address is
    slowed (429 after 5 failures, even for the right password), while the real user logs in from
    their own address throughout."""
    username = f"staff-{uuid.uuid4().hex[:8]}"
    made = await http.post("/api/v1/accounts", headers=ADMIN, json={
        "username": username, "password": PASSWORD, "role": "platform_admin"})
    assert made.status_code == 201, made.text
    per_pair = limits.LOGIN_PER_USER_ADDRESS.count
    attacker, user = "203.0.113.66", "198.51.100.77"
    codes = [(await login(http, attacker, username, f"guess-{i}-abcdef")).status_code
             for i in range(per_pair + 5)]
    assert codes == [401] * per_pair + [429] * 5
    refused = await login(http, attacker, username)
    assert refused.status_code == 429 and refused.json()["error"]["retry_after_ms"] > 0
    for _ in range(3):
        assert (await login(http, user, username)).status_code == 200
        assert (await login(http, attacker, username, "another-guess")).status_code == 429
    # another guesser's address has its own few tries, no more
    codes = [(await login(http, "203.0.113.67", username, f"g{i}-xyzxyz")).status_code
             for i in range(per_pair + 1)]
    assert codes == [401] * per_pair + [429]
    assert (await login(http, user, username)).status_code == 200


async def test_login_failures_per_address_and_what_a_success_forgives(
    http: httpx.AsyncClient,
) -> None:
    """One address spraying many usernames is stopped after 30 failures; logins that succeed
    never count (a hall behind one address logs everyone in); a user's own typos are forgiven
    by their next right password."""
    username = f"staff-{uuid.uuid4().hex[:8]}"
    made = await http.post("/api/v1/accounts", headers=ADMIN, json={
        "username": username, "password": PASSWORD, "role": "platform_admin"})
    assert made.status_code == 201, made.text
    hall = "198.51.100.88"
    for _ in range(3):  # typos, then the right one: never held up
        for i in range(limits.LOGIN_PER_USER_ADDRESS.count - 1):
            assert (await login(http, hall, username, f"typo-{i}-abcdef")).status_code == 401
        assert (await login(http, hall, username)).status_code == 200
    for _ in range(limits.LOGIN_PER_ADDRESS.count):  # successes are free
        assert (await login(http, hall, username)).status_code == 200

    sprayer = "203.0.113.99"
    budget = limits.LOGIN_PER_ADDRESS.count
    codes = [(await login(http, sprayer, f"nobody-{i}", "Spring2026!xx")).status_code
             for i in range(budget + 1)]
    assert codes == [401] * budget + [429]
    assert (await login(http, sprayer, username)).status_code == 429
    assert (await login(http, hall, username)).status_code == 200
