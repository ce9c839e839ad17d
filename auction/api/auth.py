"""Accounts over HTTP: log in, log out, who am I, staff accounts, and a bidder's session token.

- ``POST /api/v1/auth/login {username, password}`` → a signed token (``AUCTION_TOKEN_TTL_S``)
  carrying the account's role and market; wrong username or password are one answer
  (401 ``bad_credentials``). Failed logins are limited per (username, address) and per address
  (429 ``rate_limited``), never per username alone: a guesser cannot lock the real user out.
  With ``"cookie": true`` (the pages) the token goes into an HttpOnly, SameSite=Strict cookie
  with a readable CSRF cookie beside it instead of into the answer (:mod:`auction.api.cookies`);
  the answer carries ``csrf_token``.
- ``POST /api/v1/auth/logout``: the presented token (header or cookie) is revoked (its open
  websockets close 4401); the login cookies are cleared.
- ``GET /api/v1/auth/me``: the principal, the markets in its scope and, for an account's own
  login, the account (resident id masked).
- ``POST /api/v1/auth/password {old_password, new_password}``: an account's own login changes
  its password; every token of the account issued until then is revoked (as disabling it does:
  its logins, its bid credentials, the staff tokens it minted; their websockets close 4401) and
  the caller gets a new login (in the answer, or in the cookies when it came by cookie).
- ``POST /api/v1/accounts``: staff accounts (platform admin: any; market admin: market_admin /
  auctioneer / finance of its market and below). ``POST /api/v1/accounts/{id}/disable`` disables
  the account and revokes every token it holds.

A bidder's credential for one registration is minted by :mod:`auction.api.registrations`.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction.accounts import limits, passwords, revocation
from auction.accounts.policy import STAFF_ROLES, Action, scope
from auction.api import cookies, guard
from auction.api.guard import Denied
from auction.api.headers import client_address
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
    return client_address(request)


def _cookie_flag(value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadRequest("字段 cookie 应为 true 或 false", "cookie")
    return value


def _login_answer(
    request: HTTPConnection, services: Any, principal: Principal, *, cookie: bool,
    extra: dict[str, Any],
) -> JSONResponse:
    """A new login token for ``principal``: in the answer, or (``cookie``) in the cookies with
    the CSRF value in the answer."""
    ttl = services.settings.token_ttl_s
    token = services.tokens.mint(principal, ttl_s=ttl)
    minted = services.tokens.verify(token)
    if not cookie:
        return JSONResponse({"token": token, "token_type": "Bearer",
                             "expires_at": minted.expires_at, **extra})
    csrf = services.tokens.csrf_of(minted.jti)
    response = JSONResponse({"token_type": "Cookie", "csrf_token": csrf,
                             "expires_at": minted.expires_at, **extra})
    cookies.set_login(response, request, token=token, csrf=csrf,
                      max_age=minted.expires_at - int(time.time()))
    return response


async def login(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    body = await read_body(request)
    username = body.text("username", max_len=64)
    password = body.text("password", max_len=passwords.MAX_LENGTH)
    cookie = _cookie_flag(body.raw("cookie"))
    body.done()
    if cookie and not cookies.origin_allowed(request, services.settings.allowed_origins):
        raise Denied("csrf_failed", "不接受来自其他网站的登录")
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
    principal = _own_login(account)
    return _login_answer(request, services, principal, cookie=cookie,
                         extra={"role": principal.role, "account": account.to_json()})


def _own_login(account: account_store.Account) -> Principal:
    return Principal(
        role=ACCOUNT_ROLES[account.role], subject=account.username, account_id=account.id,
        market_id=account.market_id or 0, bidder_id=account.bidder_id or 0,
    )


async def logout(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    if not who.jti:
        raise BadRequest("该令牌不可注销 (部署配置的管理员令牌)", code="not_revocable")
    await revocation.revoke_token(
        services.redis, account_keys(services), jti=who.jti, expires_at=who.expires_at
    )
    response = JSONResponse({"revoked": True})
    if who.cookie:
        cookies.clear_login(response, request)
    return response


async def change_password(request: Request) -> JSONResponse:
    """The caller's own password (an account's own login only: not a bid credential, a staff
    token or the deployment's admin token). A wrong ``old_password`` is 400 ``wrong_password``
    naming it and counts like a failed login (per username and address: 429 after 5); a weak
    ``new_password`` is 400 naming it. Then every token of the account issued until now is
    revoked, and the caller gets a fresh login the way it came (header: ``token`` in the
    answer; cookie: new cookies and ``csrf_token``)."""
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    if not who.is_own_login:
        raise Denied("forbidden", "只有账号本人的登录可以修改密码")
    body = await read_body(request)
    old_password = body.text("old_password", max_len=passwords.MAX_LENGTH)
    new_password = body.text("new_password", max_len=passwords.MAX_LENGTH)
    body.done()
    account = await account_store.get_account(services.store, who.account_id)
    if account.disabled:
        raise Denied("unauthorized", "账号已停用")
    attempt = (limits.LOGIN_PER_USER_ADDRESS, limits.user_at(account.username, _address(request)))
    await limits.check(services.redis, account_keys(services), attempt)
    if not await passwords.verify_password(account.password_hash, old_password):
        raise BadRequest("原密码不正确", "old_password", code="wrong_password")
    await limits.reset(services.redis, account_keys(services), attempt)
    weak = passwords.weakness(new_password, username=account.username)
    if weak is None and new_password == old_password:
        weak = "新密码不能与原密码相同"
    if weak is not None:
        raise BadRequest(weak, "new_password")
    await account_store.set_password_hash(services.store, account.id, await passwords.hash_password(
        new_password, services.settings.password_profile))
    revoked_at = await revocation.revoke_account(
        services.redis, account_keys(services), account_id=account.id)
    # tokens issued at or before `revoked_at` (whole seconds) are void: the new one is issued
    # in the next second
    while int(time.time()) <= revoked_at:
        await asyncio.sleep(max(0.01, revoked_at + 1 - time.time()))
    answer = _login_answer(request, services, _own_login(account), cookie=who.cookie,
                           extra={"changed": True, "role": who.role})
    return answer


async def me(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    tree = await guard.market_tree(services)
    markets = scope(who.actor, tree)
    codes = await account_store.markets_by_id(services.store, markets)
    account: dict[str, Any] | None = None
    if who.is_own_login:
        account = (await account_store.get_account(services.store, who.account_id)).to_json()
    return JSONResponse({
        "role": who.role, "subject": who.subject, "account_id": who.account_id or None,
        "market_id": who.market_id or None, "session_id": who.session_id or None,
        "bidder_id": who.bidder_id or None, "paddle": who.paddle or None,
        "expires_at": who.expires_at or None, "scope": sorted(codes.values()),
        "via": "cookie" if who.cookie else "bearer", "account": account,
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
    Route("/api/v1/auth/password", change_password, methods=["POST"]),
    Route("/api/v1/accounts", create_account, methods=["POST"]),
    Route("/api/v1/accounts/{account_id:int}/disable", disable_account, methods=["POST"]),
]
