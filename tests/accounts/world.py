"""A two-county world for the accounts, ledger and isolation tests, built through the HTTP API:
province → city → counties A and B, each with a live session, lots, staff accounts (market admin,
auctioneer, finance) and bidders with accounts and confirmed deposits, each through the whole
registration flow (:func:`tests.e2e.harness.enrol`): ``token`` is the bid credential its own
login took, ``account_token`` its login."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.codes import claim
from tests.e2e.harness import enrol, uscc

ADMIN = {"Authorization": "Bearer test-admin-token"}
PASSWORD = "correct-horse-battery"
START = 1_000_000
INC = 10_000


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def ok(resp: httpx.Response, *status: int) -> dict[str, Any]:
    assert resp.status_code in (status or (200, 201)), resp.text
    body: dict[str, Any] = resp.json()
    return body


@dataclass
class County:
    code: str
    market_id: int
    session_id: int
    lots: list[int]
    tokens: dict[str, str] = field(default_factory=dict)  # role → token
    account_ids: dict[str, int] = field(default_factory=dict)
    bidders: list[dict[str, Any]] = field(default_factory=list)  # id, registration, token…


@dataclass
class World:
    province: str
    city: str
    a: County
    b: County
    tokens: dict[str, str]  # city_admin, province_admin


async def login(http: httpx.AsyncClient, username: str) -> str:
    body = await ok(await http.post("/api/v1/auth/login",
                                    json={"username": username, "password": PASSWORD}))
    return str(body["token"])


async def staff(http: httpx.AsyncClient, role: str, market_code: str, tag: str) -> tuple[int, str]:
    username = f"{role}-{tag}"
    account = await ok(await http.post("/api/v1/accounts", headers=ADMIN, json={
        "username": username, "password": PASSWORD, "role": role, "market_code": market_code}),
        201)
    return int(account["id"]), await login(http, username)


async def county(
    http: httpx.AsyncClient, code: str, city: str, tag: str, *, bidders: int = 2, lots: int = 2,
    deposit_fen: int | None = None,
) -> County:
    market = await ok(await http.post("/api/v1/markets", headers=ADMIN, json={
        "code": code, "slug": f"c-{tag}", "name": f"县市场{tag}", "level": "county",
        "parent_code": city}), 201)
    session = await ok(await http.post("/api/v1/sessions", headers=ADMIN, json={
        "market_code": code, "name": f"专场{tag}", "season": "special", "mode": "live",
        "starts_at": "2026-11-21T09:00:00+08:00"}), 201)
    lot_ids = []
    for i in range(lots):
        lot = await ok(await http.post(f"/api/v1/sessions/{session['id']}/lots", headers=ADMIN,
                                       json={
            "title": f"技术{tag}-{i}", "result_type": "专利", "ip_type": "发明专利",
            "technology_field": "电子信息", "transaction_mode": "转让",
            "contract_type": "技术转让", "holder_name": "某大学",
            "holder_uscc": uscc(secrets.randbelow(10**8)), "start_price_fen": START * (i + 1),
            "increment_fen": INC}), 201)
        lot_ids.append(int(lot["id"]))
    made = County(code, int(market["id"]), int(session["id"]), lot_ids)
    for role in ("market_admin", "auctioneer", "finance"):
        made.account_ids[role], made.tokens[role] = await staff(http, role, code, f"{tag}")
    for n in range(bidders):
        enrolled = await enrol(
            http, made.session_id, name=f"企业{tag}-{n}", uscc_code=uscc(secrets.randbelow(10**9)),
            deposit_fen=deposit_fen if deposit_fen is not None else START * lots // 10,
            approver=bearer(made.tokens["market_admin"]), finance=bearer(made.tokens["finance"]),
            username=f"bidder-{tag}-{n}",
        )
        made.bidders.append({"id": enrolled.bidder_id, "registration": enrolled.registration_id,
                             "paddle": enrolled.paddle, "token": enrolled.token,
                             "account_token": enrolled.account_token,
                             "username": enrolled.username})
    return made


async def build_world(http: httpx.AsyncClient, **county_args: Any) -> World:
    tag = uuid.uuid4().hex[:6]
    # a province of its own (PP0000), its city PP0100 and counties PP0111, PP0112: codes of the
    # levels' forms, each inside its parent (auction/domain/divisions.py)
    taken = {m["code"] for m in (await ok(await http.get("/api/v1/markets")))["markets"]}
    free = [pp for pp in range(11, 100)
            if not {f"{pp}{rest}" for rest in ("0000", "0100", "0111", "0112")} & taken]
    secrets.SystemRandom().shuffle(free)
    pp = next((pp for pp in free
               if claim(*(f"{pp}{rest}" for rest in ("0000", "0100", "0111", "0112")))), None)
    assert pp is not None, "every province code of the test database is taken"
    base = pp * 10_000 + 100
    province, city = f"{base - 100:06d}", f"{base:06d}"
    await ok(await http.post("/api/v1/markets", headers=ADMIN, json={
        "code": province, "slug": f"p-{tag}", "name": "省技术市场", "level": "province"}), 201)
    await ok(await http.post("/api/v1/markets", headers=ADMIN, json={
        "code": city, "slug": f"ct-{tag}", "name": "市技术市场", "level": "city",
        "parent_code": province}), 201)
    a = await county(http, f"{base + 11:06d}", city, f"{tag}a", **county_args)
    b = await county(http, f"{base + 12:06d}", city, f"{tag}b", **county_args)
    _, city_admin = await staff(http, "market_admin", city, f"city-{tag}")
    _, province_admin = await staff(http, "market_admin", province, f"prov-{tag}")
    return World(province, city, a, b, {"city_admin": city_admin,
                                        "province_admin": province_admin})
