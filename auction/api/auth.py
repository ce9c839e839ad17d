"""Accounts over HTTP: log in, log out, who am I, staff accounts, and a bidder's session token.

- ``POST /api/v1/auth/login {username, password}`` → a signed token (``AUCTION_TOKEN_TTL_S``)
  carrying the account's role and market; wrong username or password are one answer
  (401 ``bad_credentials``). Failed logins are limited per (username, address) and per address
  (429 ``rate_limited``), never per username alone: a guesser cannot lock the real user out.
- ``POST /api/v1/auth/logout``: the presented token is revoked (its open websockets close 4401).
- ``GET /api/v1/auth/me``: the principal and the markets in its scope.
- ``POST /api/v1/accounts``: staff accounts (platform admin: any; market admin: market_admin /
  auctioneer / finance of its market and below). ``POST /api/v1/accounts/{id}/disable`` disables
  the account and revokes every token it holds.

A bidder's credential for one registration is minted by :mod:`auction.api.registrations`.
"""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction.accounts import limits, passwords, revocation
from auction.accounts.policy import STAFF_ROLES, Action, scope
from auction.api import guard
from auction.api.guard import Denied
from auction.api.http_errors import BadRequest, read_body
from auction.api.tokens import Principal, account_keys
from auction.domain.identity import IdentityError, validate_resident_id
from auction.store import accounts as account_store
from auction.store.errors import NotFound
from auction.store.records import CST

#: roles of accounts, and the token role each logs in as
ACCOUNT_ROLES = {
    "platform_admin": "admin", "market_admin": "market_admin", "auctioneer": "auctioneer",
    "finance": "finance", "bidder": "bidder",
}


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else ""


async def login(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    body = await read_body(request)
    username = body.text("username", max_len=64)
    password = body.text("password", max_len=passwords.MAX_LENGTH)
    body.done()
    # each attempt takes a slot first; a right one gives it back (auction/accounts/limits.py)
    address = _address(request)
    attempt = ((limits.LOGIN_PER_ADDRESS, address),
               (limits.LOGIN_PER_USER_ADDRESS, limits.user_at(username, address)))
    await limits.check(services.redis, account_keys(services), *attempt)
    account = await account_store.find_account(services.store, username)
    profile = services.settings.password_profile
    ok = await passwords.verify_password(
        account.password_hash if account else passwords.dummy_hash(profile), password
    )
    if account is None or not ok or account.disabled:
        raise Denied("bad_credentials", "用户名或密码错误")
    await limits.refund(services.redis, account_keys(services), attempt[0])
    await limits.reset(services.redis, account_keys(services), attempt[1])
    if passwords.needs_rehash(account.password_hash, profile):
        await account_store.set_password_hash(
            services.store, account.id, await passwords.hash_password(password, profile)
        )
    ttl = services.settings.token_ttl_s
    principal = Principal(
        role=ACCOUNT_ROLES[account.role], subject=account.username, account_id=account.id,
        market_id=account.market_id or 0, bidder_id=account.bidder_id or 0,
    )
    token = services.tokens.mint(principal, ttl_s=ttl)
    minted = services.tokens.verify(token)
    return JSONResponse({
        "token": token, "token_type": "Bearer", "expires_at": minted.expires_at,
        "role": principal.role, "account": account.to_json(),
    })


async def logout(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    if not who.jti:
        raise BadRequest("该令牌不可注销 (部署配置的管理员令牌)", code="not_revocable")
    await revocation.revoke_token(
        services.redis, account_keys(services), jti=who.jti, expires_at=who.expires_at
    )
    return JSONResponse({"revoked": True})


async def me(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    tree = await guard.market_tree(services)
    markets = scope(who.actor, tree)
    codes = await account_store.markets_by_id(services.store, markets)
    return JSONResponse({
        "role": who.role, "subject": who.subject, "account_id": who.account_id or None,
        "market_id": who.market_id or None, "session_id": who.session_id or None,
        "bidder_id": who.bidder_id or None, "paddle": who.paddle or None,
        "expires_at": who.expires_at or None, "scope": sorted(codes.values()),
    })


async def create_account(request: Request) -> JSONResponse:
    """A staff account (platform admins create any; market admins staff of their subtree).
    Bidder accounts are created with the bidder (``POST /api/v1/bidders``)."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    await guard.require_staff(services, who)
    body = await read_body(request)
    username = body.text("username", max_len=64)
    password = body.text("password", max_len=passwords.MAX_LENGTH)
    role = body.choice("role", ("platform_admin", *STAFF_ROLES))
    market_code = body.optional_text("market_code", max_len=6)
    person_name = body.text("person_name", default="", allow_empty=True, max_len=64)
    raw_resident_id = body.text("resident_id", default="", allow_empty=True, max_len=40)
    body.done()
    weak = passwords.weakness(password, username=username)
    if weak is not None:
        raise BadRequest(weak, "password")
    resident_id = ""
    if raw_resident_id:
        try:
            resident_id = validate_resident_id(raw_resident_id, today=datetime.now(CST).date())
        except IdentityError as exc:
            raise BadRequest(exc.message, "resident_id", code=exc.code) from exc
    market_id: int | None = None
    if role == "platform_admin":
        if market_code is not None:
            raise BadRequest("平台管理员不属于某个技术市场", "market_code")
        if not guard.is_platform_admin(who):
            raise Denied("forbidden", "只有平台管理员可以创建平台管理员")
    else:
        if market_code is None:
            raise BadRequest("缺少字段 market_code", "market_code")
        try:
            market_id = (await services.store.get_market_by_code(market_code)).id
        except NotFound:
            if not guard.is_platform_admin(who):
                raise Denied("forbidden", "无权在该技术市场执行此操作") from None
            raise
        await guard.require(services, who, Action.MANAGE_ACCOUNTS, market_id=market_id)
    account = await account_store.create_account(
        services.store, username=username, password_hash=await passwords.hash_password(
            password, services.settings.password_profile
        ),
        role=role, market_id=market_id, person_name=person_name, resident_id=resident_id,
    )
    return JSONResponse(account.to_json(), status_code=201)


async def disable_account(request: Request) -> JSONResponse:
    """Disable an account and revoke all its tokens (its websockets close with 4401)."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    await guard.require_staff(services, who)
    (await read_body(request, optional=True)).done()
    try:
        target = await account_store.get_account(services.store, request.path_params["account_id"])
    except NotFound:
        if not guard.is_platform_admin(who):
            raise Denied("forbidden", "无权在该技术市场执行此操作") from None
        raise
    if target.market_id is None:
        if not guard.is_platform_admin(who):
            raise Denied("forbidden", "只有平台管理员可以停用该账号")
    else:
        await guard.require(services, who, Action.MANAGE_ACCOUNTS, market_id=target.market_id)
    account = await account_store.set_disabled(services.store, target.id, True)
    await revocation.revoke_account(services.redis, account_keys(services), account_id=target.id)
    return JSONResponse(account.to_json())


routes: list[BaseRoute] = [
    Route("/api/v1/auth/login", login, methods=["POST"]),
    Route("/api/v1/auth/logout", logout, methods=["POST"]),
    Route("/api/v1/auth/me", me, methods=["GET"]),
    Route("/api/v1/accounts", create_account, methods=["POST"]),
    Route("/api/v1/accounts/{account_id:int}/disable", disable_account, methods=["POST"]),
]
