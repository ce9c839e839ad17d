"""Staff accounts in the back office (issue 12 item 1): list, reset a password, change role or
market. Creating and disabling are in :mod:`auction.api.auth`.

- ``GET /api/v1/markets/{code}/accounts``: the staff accounts of the market and every market
  below it within the caller's scope (market admins of that market or above, the platform
  admin); never a hash or a resident id.
- ``POST /api/v1/accounts/{id}/password {new_password}``: the password rule of sign-up; every
  token of the account is revoked (as disabling does). Bidder accounts are refused to every
  staff member, the platform admin included: nobody but the bidder acts for the bidder
  (docs/roles.md), and a password set by staff would let them log in as the bidder.
- ``PATCH /api/v1/accounts/{id} {role?, market_code?}``: a market admin whose scope holds both
  the old and the new market; every token of the account is revoked.

The caller's own account is refused on both writes (its own password goes through
``POST /auth/password``, which asks for the old one; changing one's own role or market is
nobody's to do alone). Authorisation comes before the body is read, so a refused caller learns
nothing from validation errors.
"""

from __future__ import annotations

import asyncio
import time

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from auction.accounts import passwords, revocation
from auction.accounts.policy import STAFF_ROLES, Action, allows
from auction.api import guard
from auction.api.admin import missing
from auction.api.guard import Denied
from auction.api.http_errors import BadRequest, read_body
from auction.api.tokens import Principal, account_keys
from auction.services import Services
from auction.store import accounts as account_store
from auction.store.errors import NotFound

_FORBIDDEN = "无权在该技术市场执行此操作"


async def list_staff(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    code = request.path_params["code"]
    try:
        market = await services.store.get_market_by_code(code)
    except NotFound:
        raise missing(who, "技术市场不存在", "code") from None
    await guard.require(services, who, Action.MANAGE_ACCOUNTS, market_id=market.id)
    tree = await guard.market_tree(services)
    visible = [m for m in tree.subtree(market.id)
               if allows(who.actor, Action.MANAGE_ACCOUNTS, market_id=m, tree=tree)]
    rows = await account_store.staff_of(services.store, visible)
    return JSONResponse({"market_code": code, "accounts": [r.to_json() for r in rows]})


async def _staff_target(
    request: Request, services: Services, who: Principal
) -> account_store.Account:
    """The path's account, if ``who`` manages it: a staff account of a market in its scope,
    not its own."""
    await guard.require_staff(services, who)
    try:
        target = await account_store.get_account(services.store, request.path_params["account_id"])
    except NotFound:
        raise missing(who, "账号不存在", "account_id") from None
    if target.role == "bidder":
        raise Denied("forbidden", "竞买人账号只能由竞买人本人修改密码")
    if target.market_id is None:
        if not guard.is_platform_admin(who):
            raise Denied("forbidden", _FORBIDDEN)
    else:
        await guard.require(services, who, Action.MANAGE_ACCOUNTS, market_id=target.market_id)
    if who.account_id and who.account_id == target.id:
        raise Denied("forbidden", "不能在此修改自己的账号 (修改本人密码请用 /auth/password)")
    return target


async def _revoke(services: Services, account_id: int) -> None:
    """Every token of the account issued until now is void; returns in the next whole second,
    so a login made after the answer is not caught by the revocation."""
    revoked_at = await revocation.revoke_account(
        services.redis, account_keys(services), account_id=account_id)
    while int(time.time()) <= revoked_at:
        await asyncio.sleep(max(0.01, revoked_at + 1 - time.time()))


async def reset_password(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    target = await _staff_target(request, services, who)
    body = await read_body(request)
    new_password = body.text("new_password", max_len=passwords.MAX_LENGTH)
    body.done()
    weak = passwords.weakness(new_password, username=target.username)
    if weak is not None:
        raise BadRequest(weak, "new_password")
    await account_store.set_password_hash(services.store, target.id, await passwords.hash_password(
        new_password, services.settings.password_profile))
    await _revoke(services, target.id)
    return JSONResponse({**target.to_json(), "password_reset": True})


async def change_role(request: Request) -> JSONResponse:
    services = guard.services_of(request)
    who = await guard.principal_of(request)
    target = await _staff_target(request, services, who)
    if target.market_id is None or target.market_code is None:
        raise Denied("forbidden", "只有技术市场的工作人员账号可以修改角色或市场")
    body = await read_body(request)
    role = body.choice("role", STAFF_ROLES, default=target.role)
    market_code = body.optional_text("market_code", max_len=6)
    body.done()
    market_id = target.market_id
    if market_code is not None and market_code != target.market_code:
        try:
            market_id = (await services.store.get_market_by_code(market_code)).id
        except NotFound:
            raise missing(who, "技术市场不存在", "market_code") from None
        await guard.require(services, who, Action.MANAGE_ACCOUNTS, market_id=market_id)
    account = await account_store.set_staff_role(
        services.store, target.id, role=role, market_id=market_id)
    await _revoke(services, target.id)
    return JSONResponse(account.to_json())


routes: list[BaseRoute] = [
    Route("/api/v1/markets/{code}/accounts", list_staff, methods=["GET"]),
    Route("/api/v1/accounts/{account_id:int}/password", reset_password, methods=["POST"]),
    Route("/api/v1/accounts/{account_id:int}", change_role, methods=["PATCH"]),
]
