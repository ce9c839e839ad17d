"""The isolation matrix (docs/roles.md): every HTTP route of the app and every websocket message
type, tried against county B's session, lot, registration, deposit, account and market with the
credentials of every role of county A, of every role of B that the action is not for, of
anonymous viewers, and with guessed ids: each is refused, and nothing changed (PostgreSQL rows
and the lot's room are fingerprinted before and after).

A route or message type missing from the tables below fails the test: a new one must be
classified before it ships.
"""

from __future__ import annotations

import asyncio
import hashlib
import typing
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from starlette.routing import Route

from auction.api.app import create_app
from auction.domain.identity import resident_id_check_char
from auction.wire import codec
from tests.accounts.world import ADMIN, START, World, bearer, build_world, ok
from tests.e2e.harness import Server, raw_client

#: reads and self-service any caller may use (public pages, sign-up, own login and logout)
PUBLIC = {
    ("GET", "/healthz"), ("GET", "/openapi.json"), ("GET", "/api/v1/markets"),
    ("GET", "/api/v1/sessions"), ("GET", "/api/v1/sessions/{session_id:int}"),
    ("GET", "/api/v1/sessions/{session_id:int}/lots"), ("GET", "/api/v1/lots/{lot_id:int}"),
    ("GET", "/api/v1/lots/{lot_id:int}/bids"), ("GET", "/api/v1/lots/{lot_id:int}/registration"),
    ("GET", "/api/v1/results"), ("POST", "/api/v1/bidders"), ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"), ("GET", "/api/v1/auth/me"), ("GET", "/metrics"),
    ("GET", "/api/v1/registrations/mine"),  # the caller's own registrations only
    ("POST", "/api/v1/auth/password"),  # the caller's own password only
    ("GET", "/api/v1/lots/{lot_id:int}/attachments/{file_id:int}"),  # public, as the lot
    ("GET", "/api/v1/me/auction"),  # 我的竞拍: the caller's own only
    ("GET", "/api/v1/listing"), ("GET", "/api/v1/publicity"),  # catalogue, 成交公示
    ("GET", "/api/v1/lots/import-template.xlsx"),  # issue 12: the empty template, no data
    # issue 13: a 成交确认书's public verification, answered only with the lot's bid-log digest
    ("GET", "/api/v1/lots/{lot_id:int}/confirmation"),
    ("POST", "/api/v1/lots/{lot_id:int}/objections"),  # issue 13: anyone objects to a 公示
    # issue 13: the registration office's answer, authorised by its signature (no login; a
    # bad signature is refused and recorded: tests/registration/test_answer.py)
    ("POST", "/api/v1/registration/callback"),
    ("GET", "/api/v1/vocabularies"),  # issue 16: the lists, no market's data
    ("GET", "/api/v1/me/subsidy-estimates"),  # issue 16: the caller's own purchases only
    ("GET", "/api/v1/receipts/key"),  # issue 16: the receipts' public key, no market's data
}

#: (method, path) → which of county B's principals the action is for (B's market admin, and
#: the city, province and platform admins above it, always are and are not tried)
SCOPED: dict[tuple[str, str], set[str]] = {
    # issue 13: a market's registration endpoint and a rejected registration's corrected
    # version (who may manage the market's sessions)
    ("GET", "/api/v1/markets/{code}/registration-endpoint"): set(),
    ("PUT", "/api/v1/markets/{code}/registration-endpoint"): set(),
    ("DELETE", "/api/v1/markets/{code}/registration-endpoint"): set(),
    ("POST", "/api/v1/lots/{lot_id:int}/registration/versions"): set(),
    # issue 16: a bid's signed receipt, for the bid's own bidder only (staff too are refused)
    ("GET", "/api/v1/lots/{lot_id:int}/bids/{seq:int}/receipt"): set(),
    ("POST", "/api/v1/markets"): set(),
    ("POST", "/api/v1/sessions"): set(),
    ("POST", "/api/v1/sessions/{session_id:int}/lots"): set(),
    ("POST", "/api/v1/sessions/{session_id:int}/staff-tokens"): set(),
    ("POST", "/api/v1/registrations/{registration_id:int}/approve"): set(),
    ("POST", "/api/v1/registrations/{registration_id:int}/reject"): set(),
    ("POST", "/api/v1/registrations/{registration_id:int}/deposit"): {"b_finance"},
    ("POST", "/api/v1/lots/{lot_id:int}/commands"): {"b_auctioneer"},
    ("POST", "/api/v1/accounts"): set(),
    ("POST", "/api/v1/accounts/{account_id:int}/disable"): set(),
    # the registration tried is B's first bidder's: B's other bidder is refused like anyone
    ("POST", "/api/v1/registrations/{registration_id:int}/token"): set(),
    ("POST", "/api/v1/registrations/{registration_id:int}/agent"): set(),
    ("POST", "/api/v1/registrations/{registration_id:int}/accept"): set(),
    ("POST", "/api/v1/registrations/{registration_id:int}/withdraw"): set(),
    ("GET", "/api/v1/registrations/{registration_id:int}/history"): {"b_finance"},
    ("GET", "/api/v1/sessions/{session_id:int}/registrations"): {"b_finance"},
    ("GET", "/api/v1/sessions/{session_id:int}/deposits"): {"b_finance"},
    ("POST", "/api/v1/sessions/{session_id:int}/deposits/settle"): {"b_finance"},
    ("POST", "/api/v1/deposits/{deposit_id:int}/forfeit"): {"b_finance"},
    ("GET", "/api/v1/markets/{code}/ledger"): {"b_finance"},
    ("POST", "/api/v1/sessions/{session_id:int}/registrations"): set(),
    ("POST", "/api/v1/registration/retry"): set(),
    ("GET", "/api/v1/sessions/{session_id:int}/progress"): {"b_auctioneer"},
    # issue 11: a lot's attachments (staff managing its sessions), a registration's documents
    # (its own bidder uploads; finance of the market reads them)
    ("POST", "/api/v1/lots/{lot_id:int}/attachments"): set(),
    ("PATCH", "/api/v1/sessions/{session_id:int}"): set(),  # the session's texts and facts
    ("POST", "/api/v1/registrations/{registration_id:int}/documents"): set(),
    ("DELETE", "/api/v1/lots/{lot_id:int}/attachments/{file_id:int}"): set(),
    ("DELETE", "/api/v1/registrations/{registration_id:int}/documents/{file_id:int}"): set(),
    ("GET", "/api/v1/registrations/{registration_id:int}/documents/{file_id:int}"):
        {"b_finance"},
    ("GET", "/api/v1/registrations/{registration_id:int}"): {"b_finance"},
    # issue 12: the spreadsheet import (who may create lots); the session report (the
    # session's market staff: admin, finance, auctioneer)
    ("POST", "/api/v1/sessions/{session_id:int}/lots/import"): set(),
    ("GET", "/api/v1/sessions/{session_id:int}/report"): {"b_finance", "b_auctioneer"},
    ("GET", "/api/v1/sessions/{session_id:int}/report.xlsx"): {"b_finance", "b_auctioneer"},
    # issue 12 item 7: the audit trail, for market admins over their subtree only
    ("GET", "/api/v1/markets/{code}/audit"): set(),
    ("GET", "/api/v1/markets/{code}/audit.csv"): set(),
    # issue 12 item 1: staff accounts of a subtree (market admins above them only)
    ("GET", "/api/v1/markets/{code}/accounts"): set(),
    ("POST", "/api/v1/accounts/{account_id:int}/password"): set(),
    ("PATCH", "/api/v1/accounts/{account_id:int}"): set(),
    # issue 13 item 1: the 成交确认书 PDF, for the market's admins and finance (and the buyer's
    # own login, which B's lot, unsold, has not)
    ("GET", "/api/v1/lots/{lot_id:int}/confirmation.pdf"): {"b_finance"},
    # issue 13: the buyer's payments and 悔拍 (finance of the market), 成交公示 settings and
    # objections (market admins)
    ("GET", "/api/v1/lots/{lot_id:int}/payment"): {"b_finance"},
    ("POST", "/api/v1/lots/{lot_id:int}/payments"): {"b_finance"},
    ("POST", "/api/v1/lots/{lot_id:int}/default"): {"b_finance"},
    ("GET", "/api/v1/sessions/{session_id:int}/payments"): {"b_finance"},
    ("PATCH", "/api/v1/markets/{code}"): set(),
    ("GET", "/api/v1/sessions/{session_id:int}/objections"): set(),
    ("POST", "/api/v1/objections/{objection_id:int}/resolution"): set(),
    # issue 12 items 3 and 4: editing and ordering lots (who may create them); the refund list
    # (finance of the market and its admins); the refund account (the registration's own
    # bidder: B's other bidder is refused like anyone)
    ("PATCH", "/api/v1/lots/{lot_id:int}"): set(),
    ("GET", "/api/v1/lots/{lot_id:int}/edit"): set(),
    ("PUT", "/api/v1/sessions/{session_id:int}/order"): set(),
    ("GET", "/api/v1/sessions/{session_id:int}/refunds"): {"b_finance"},
    ("GET", "/api/v1/sessions/{session_id:int}/refunds.csv"): {"b_finance"},
    ("PUT", "/api/v1/registrations/{registration_id:int}/refund-account"): set(),
    # issue 12 item 2: publishing a draft (who may manage the session's market)
    ("POST", "/api/v1/sessions/{session_id:int}/publish"): set(),
    # issue 16: statistics of a subtree (its market admins above, finance of the market itself)
    ("GET", "/api/v1/markets/{code}/statistics"): {"b_finance"},
    ("GET", "/api/v1/markets/{code}/statistics.csv"): {"b_finance"},
    ("GET", "/api/v1/markets/{code}/statistics.xlsx"): {"b_finance"},
    # issue 12 item 6: the hand-off packet to download (market admins: it holds identities)
    ("GET", "/api/v1/lots/{lot_id:int}/registration/packet"): set(),
    # issue 15: relisting a lot (who may manage the lot's market and the target session's)
    ("POST", "/api/v1/lots/{lot_id:int}/relist"): set(),
    # issue 14: a lot's preemptive-right holders (who may manage the lot's session)
    ("GET", "/api/v1/lots/{lot_id:int}/preemptors"): set(),
    ("PUT", "/api/v1/lots/{lot_id:int}/preemptors"): set(),
}

GUESSED = 999_999_999
TABLES = ("markets", "sessions", "lots", "bidders", "registrations", "accounts", "deposits",
          "deposit_entries", "lot_results", "registration_steps", "files", "lot_payments",
          "lot_defaults", "publicity_objections", "market_registration_endpoints",
          "registration_outbox", "registration_versions", "lot_preemptors")


def principals(world: World) -> dict[str, str | None]:
    """Everyone who is not county B's market admin or above."""
    a, b = world.a, world.b
    return {
        "viewer": None,
        "a_market_admin": a.tokens["market_admin"], "a_auctioneer": a.tokens["auctioneer"],
        "a_finance": a.tokens["finance"], "a_bidder_session": a.bidders[0]["token"],
        "a_bidder_account": a.bidders[0]["account_token"],
        "b_auctioneer": b.tokens["auctioneer"], "b_finance": b.tokens["finance"],
        "b_bidder_session": b.bidders[1]["token"],
        "b_bidder_account": b.bidders[1]["account_token"],
    }


def resident_id() -> str:
    body = "11010519491231002"
    return body + resident_id_check_char(body)


def request_for(route: tuple[str, str], world: World, targets: dict[str, Any],
                guessed: bool) -> tuple[str, dict[str, Any] | None]:
    """The URL (B's ids, or guessed ones) and a body that is valid but for who sends it."""
    b = world.b
    ids = {
        "session_id": b.session_id, "lot_id": b.lots[0],
        "registration_id": b.bidders[0]["registration"], "deposit_id": targets["deposit"],
        "account_id": b.account_ids["finance"], "code": b.code, "file_id": 1,
        "objection_id": GUESSED,  # B has no objection: refused like a guessed one
        "seq": 1,
    }
    path = route[1]
    for name, value in ids.items():
        token = "{" + name + (":int}" if name != "code" else "}")
        guess = "999999" if name == "code" else GUESSED
        path = path.replace(token, str(guess if guessed else value))
    tag = uuid.uuid4().hex[:8]
    bodies: dict[str, dict[str, Any]] = {
        "/api/v1/markets": {"code": f"{GUESSED % 10**6:06d}"[:6], "slug": f"x-{tag}",
                            "name": "越权市场", "level": "county", "parent_code": b.code},
        "/api/v1/sessions": {"market_code": b.code, "name": "越权场次", "season": "special",
                             "mode": "live", "starts_at": "2026-11-21T09:00:00+08:00"},
        "/lots": {"title": "越权标的", "result_type": "专利", "ip_type": "发明专利",
                  "technology_field": "电子信息", "transaction_mode": "转让",
                  "contract_type": "技术转让", "holder_name": "某大学",
                  "holder_uscc": "91350100M000100Y43", "start_price_fen": START,
                  "increment_fen": 10_000},
        "/staff-tokens": {"role": "auctioneer", "name": "越权"},
        "/reject": {"reason": "越权驳回"},
        "/deposit": {"deposit_fen": 12_345},
        "/commands": {"op": "hammer", "key": f"k-{tag}"},
        "/api/v1/accounts": {"username": f"intruder-{tag}", "password": "password-123",
                             "role": "market_admin", "market_code": b.code},
        "/agent": {"agent_name": "代理人", "agent_resident_id": resident_id()},
        "/forfeit": {"reason": "越权没收"},
        "/password": {"new_password": f"intruder-password-{tag}"},
        "/registrations": {"bidder_id": b.bidders[0]["id"]},
        "/api/v1/registration/retry": {"lot_id": GUESSED if guessed else b.lots[0]},
        "/payments": {"amount_fen": 1, "paid_on": "2026-05-06", "bank_reference": f"X-{tag}"},
        "/default": {"reason": "越权悔拍"},
        "/resolution": {"resolution": "越权处理"},
        "/versions": {"corrections": {"seller_nature": "企业"}},
        "/registration-endpoint": {"url": "https://intruder.example/r", "secret": "s"},
        "/relist": {"session_id": b.session_id, "start_price_fen": START},
        "/preemptors": {"holders": [{"bidder_id": b.bidders[0]["id"], "order": 1}]},
    }
    body = None
    if route[0] in ("POST", "PUT"):
        for suffix, candidate in bodies.items():
            if path.endswith(suffix) or route[1] == suffix:
                body = candidate
    return path, body


async def fingerprint(database_url: str, server: Server, lot: int) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        parts = [
            str(await conn.fetchval(
                f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
                f" FROM {table} t"))
            for table in TABLES
        ]
    finally:
        await conn.close()
    async with httpx.AsyncClient(base_url=server.base) as http:
        live = (await http.get(f"/api/v1/lots/{lot}")).json()["live"]
    parts.append(repr(sorted(live.items())))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


async def steady_fingerprint(database_url: str, server: Server, lot: int) -> str:
    """The fingerprint once the journal drainer has caught up (two equal reads 0.3 s apart)."""
    last = await fingerprint(database_url, server, lot)
    for _ in range(50):
        await asyncio.sleep(0.3)
        now = await fingerprint(database_url, server, lot)
        if now == last:
            return now
        last = now
    raise AssertionError("the database did not settle")


def app_routes() -> list[tuple[str, str]]:
    from auction.settings import Settings

    app = create_app(Settings.from_env({"DATABASE_URL": "x", "REDIS_URL": "y"}))
    found = []
    for route in app.routes:
        if isinstance(route, Route):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    found.append((method, route.path))
    return found


async def test_http_matrix_has_zero_cross_market_successes(
    server: Server, http: httpx.AsyncClient
) -> None:
    """Every scoped HTTP route × every outsider × (B's ids, guessed ids): refused, unchanged."""
    world = await build_world(http, bidders=2, lots=1)
    routes = app_routes()
    unclassified = [r for r in routes if r not in PUBLIC and r not in SCOPED]
    assert not unclassified, f"classify these routes in the isolation matrix: {unclassified}"
    deposits = await ok(await http.get(f"/api/v1/sessions/{world.b.session_id}/deposits",
                                       headers=ADMIN))
    targets = {"deposit": deposits["deposits"][0]["id"]}
    database_url = server.settings.database_url or ""
    before = await fingerprint(database_url, server, world.b.lots[0])
    successes: list[str] = []
    tried = 0
    for route in routes:
        if route not in SCOPED:
            continue
        for who, token in principals(world).items():
            for guessed in (False, True):
                if who in SCOPED[route] and not guessed:
                    continue
                path, body = request_for(route, world, targets, guessed)
                headers = bearer(token) if token else {}
                resp = await http.request(route[0], path, json=body, headers=headers)
                tried += 1
                if resp.status_code not in (401, 403, 404):
                    successes.append(f"{who} {route[0]} {path} → {resp.status_code} {resp.text}")
    assert not successes, "\n".join(successes)
    assert tried > 200
    assert await fingerprint(database_url, server, world.b.lots[0]) == before


WS_PUBLIC = {"Hello", "Sub", "Unsub", "Ping"}  # viewers may watch: nothing scoped to try


async def test_ws_matrix_has_zero_cross_market_successes(
    server: Server, http: httpx.AsyncClient
) -> None:
    """``bid`` and ``cmd`` on county B's open lot by every outsider: nack unauthorized or
    forbidden, and the room is unchanged."""
    world = await build_world(http, bidders=2, lots=1)
    lot = world.b.lots[0]
    types = {cls.__name__ for cls in typing.get_args(codec.ClientMessage)}
    frames: dict[str, tuple[set[str], Callable[[str], dict[str, Any]]]] = {
        "Bid": ({"b_bidder_session"},
                lambda key: {"t": "bid", "lot": lot, "amount": START, "key": key}),
        "Cmd": ({"b_auctioneer"}, lambda key: {"t": "cmd", "lot": lot, "op": "pass", "key": key}),
        # issue 14: a proxy maximum and a Dutch acceptance are bids (B's own bidders only)
        "Proxy": ({"b_bidder_session"},
                  lambda key: {"t": "proxy", "lot": lot, "max": START * 2, "key": key}),
        "Accept": ({"b_bidder_session"}, lambda key: {"t": "accept", "lot": lot, "key": key}),
    }
    assert types == WS_PUBLIC | set(frames), f"classify these message types: {types}"
    # every console op, with valid arguments, is a command outsiders may not run
    op_args: dict[str, dict[str, Any]] = {
        "warn": {"n": 1}, "announce": {"text": "注意"}, "withdraw": {"reason": "撤回"},
        "floor": {"paddle": 1, "amount": START, "source": "floor"},
        "increment": {"op": "double"},
    }
    assert set(op_args) <= set(codec.COMMAND_OPS)
    for op in codec.COMMAND_OPS:
        frames[f"Cmd {op}"] = ({"b_auctioneer"}, lambda key, op=op: {
            "t": "cmd", "lot": lot, "op": op, "key": key, "args": op_args.get(op)})
    async with raw_client(server, world.b.tokens["auctioneer"]) as console:
        await console.send(t="cmd", lot=lot, op="open", key="open")
        assert (await console.until(lambda m: m.get("key") == "open"))["t"] == "ack"
    database_url = server.settings.database_url or ""
    before = await steady_fingerprint(database_url, server, lot)
    successes = []
    for who, token in principals(world).items():
        # one connection per principal (per-address connect limits), every frame on it
        async with raw_client(server, token) as raw:
            for name, (allowed, frame) in frames.items():
                if who in allowed:
                    continue
                for target in (lot, GUESSED):
                    message = {**frame(f"{who}-{name.replace(' ', '-')}-{target}"),
                               "lot": target}
                    await raw.send(**message)
                    answer = await raw.until(lambda m, k=message["key"]: m.get("key") == k)
                    if not (answer["t"] == "nack" and answer["code"] in
                            ("unauthorized", "forbidden", "unknown_lot")):
                        successes.append(f"{who} {name} lot {target} → {answer}")
    assert not successes, "\n".join(successes)
    assert await fingerprint(database_url, server, lot) == before
