"""The audit trail (docs/http-api.md "Audit trail"): successful writes over HTTP and acked
console commands over the socket are recorded with their actor, route and redacted body; a
market admin reads its subtree's (JSON and CSV), nobody else does; the table is append-only."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest

from auction import metrics
from auction.api.audit import created_ids, redact
from auction.store import audit as audit_store
from tests.accounts import conftest as accounts_fixtures
from tests.accounts.world import ADMIN, PASSWORD, START, World, bearer, build_world, ok
from tests.api.people import PNG
from tests.e2e.harness import Server, raw_client, uscc
from tests.isolation.test_matrix import resident_id

# the real server (uvicorn, background loops) and a client on it, as tests/accounts uses
server = accounts_fixtures.server
http = accounts_fixtures.http


async def trail(http: httpx.AsyncClient, code: str, token: str | dict[str, str],
                **query: Any) -> list[dict[str, Any]]:
    headers = token if isinstance(token, dict) else bearer(token)
    body = await ok(await http.get(f"/api/v1/markets/{code}/audit", headers=headers,
                                   params=query))
    entries: list[dict[str, Any]] = body["entries"]
    return entries


def one(entries: list[dict[str, Any]], route: str, **ids: Any) -> dict[str, Any]:
    found = [e for e in entries if e["route"] == route
             and all(e["ids"].get(k) == v for k, v in ids.items())]
    assert found, f"no {route} {ids} in {[e['route'] for e in entries]}"
    return found[0]


async def admin_writes(http: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """B's market admin creates a session and a lot and records an agent; B's auctioneer opens
    B's lot over HTTP."""
    b = world.b
    me = bearer(b.tokens["market_admin"])
    session = await ok(await http.post("/api/v1/sessions", headers={
        **me, "X-Forwarded-For": "10.9.8.7"}, json={
        "market_code": b.code, "name": "审计专场", "season": "special", "mode": "live",
        "starts_at": "2026-11-01T09:00:00+08:00"}), 201)
    lot = await ok(await http.post(f"/api/v1/sessions/{session['id']}/lots", headers=me, json={
        "title": "审计标的", "result_type": "专利", "ip_type": "发明专利",
        "technology_field": "电子信息", "transaction_mode": "转让", "contract_type": "技术转让",
        "holder_name": "某大学", "holder_uscc": uscc(4242), "start_price_fen": START,
        "increment_fen": 10_000}), 201)
    agent_id = resident_id()
    registration = b.bidders[0]["registration"]
    await ok(await http.post(f"/api/v1/registrations/{registration}/agent", headers=me,
                             json={"agent_name": "代理人", "agent_resident_id": agent_id}))
    command = await ok(await http.post(
        f"/api/v1/lots/{b.lots[0]}/commands", headers=bearer(b.tokens["auctioneer"]),
        json={"op": "open", "key": "audit-open"}))
    return {"session": session, "lot": lot, "agent_resident_id": agent_id, "command": command}


async def test_writes_are_recorded_with_actor_route_and_redacted_body(
    server: Server, http: httpx.AsyncClient
) -> None:
    """Creating a session and a lot, approving, a console command over HTTP, creating accounts
    and logging in: each is an entry with its actor, route template, ids, market and created id;
    passwords, tokens and resident ids never appear."""
    world = await build_world(http, bidders=1, lots=1)
    b = world.b
    made = await admin_writes(http, world)
    entries = await trail(http, b.code, b.tokens["market_admin"])
    admin_account = b.account_ids["market_admin"]

    created = one(entries, "POST /api/v1/sessions")
    assert created["actor"]["role"] == "market_admin"
    assert created["actor"]["account_id"] == admin_account
    assert created["actor"]["market_id"] == b.market_id
    assert created["actor"]["address"] == "10.9.8.7"
    assert created["market_code"] == b.code and created["status"] == 201
    assert created["created"]["id"] == made["session"]["id"]
    assert created["body"]["name"] == "审计专场"

    lot = one(entries, "POST /api/v1/sessions/{session_id}/lots",
              session_id=made["session"]["id"])
    assert lot["created"]["id"] == made["lot"]["id"] and lot["market_code"] == b.code

    approve = one(entries, "POST /api/v1/registrations/{registration_id}/approve",
                  registration_id=b.bidders[0]["registration"])
    assert approve["actor"]["account_id"] == admin_account and approve["status"] == 200

    command = one(entries, "POST /api/v1/lots/{lot_id}/commands", lot_id=b.lots[0])
    assert command["actor"]["role"] == "auctioneer"
    assert command["actor"]["account_id"] == b.account_ids["auctioneer"]
    assert command["body"] == {"op": "open", "key": "audit-open"}
    assert command["created"]["seq"] == made["command"]["seq"]

    agent = one(entries, "POST /api/v1/registrations/{registration_id}/agent")
    raw_id = made["agent_resident_id"]
    assert agent["body"]["agent_resident_id"] == raw_id[:6] + "*" * 8 + raw_id[-4:]

    account = one(entries, "POST /api/v1/accounts")
    assert account["actor"]["role"] == "admin" and account["body"]["password"] == "***"
    assert account["market_code"] == b.code

    logins = [e for e in entries if e["route"] == "POST /api/v1/auth/login"]
    assert logins and all(e["body"]["password"] == "***" for e in logins)
    assert {e["actor"]["account_id"] for e in logins} >= {admin_account}

    text = json.dumps(entries, ensure_ascii=False)
    assert PASSWORD not in text and raw_id not in text
    assert b.tokens["market_admin"] not in text


async def test_cookie_logins_patches_uploads_and_deletes_are_recorded(
    server: Server, http: httpx.AsyncClient
) -> None:
    """A pages' login (cookie) is recorded as its account; a PATCH made with the cookie, an
    upload (recorded as its type and size) and a DELETE are entries with their route."""
    world = await build_world(http, bidders=0, lots=1)
    b = world.b
    accounts = await trail(http, b.code, ADMIN, actor=str(b.account_ids["market_admin"]))
    username = accounts[0]["actor"]["subject"]
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as pages:
        login = await ok(await pages.post("/api/v1/auth/login", json={
            "username": username, "password": PASSWORD, "cookie": True}))
        csrf = {"X-CSRF-Token": login["csrf_token"]}
        await ok(await pages.patch(f"/api/v1/sessions/{b.session_id}", headers=csrf,
                                   json={"contact_phone": "0591-12345678"}))
        upload = await ok(await pages.post(
            f"/api/v1/lots/{b.lots[0]}/attachments", params={"filename": "样机.png"},
            headers={**csrf, "Content-Type": "image/png"}, content=PNG), 201)
        gone = await pages.delete(f"/api/v1/lots/{b.lots[0]}/attachments/{upload['id']}",
                                  headers=csrf)
        assert gone.status_code in (200, 204), gone.text
    entries = await trail(http, b.code, b.tokens["market_admin"])
    cookie_login = [e for e in entries if e["route"] == "POST /api/v1/auth/login"
                    and e["body"].get("cookie") is True]
    assert cookie_login and cookie_login[0]["actor"]["account_id"] == b.account_ids[
        "market_admin"]
    patch = one(entries, "PATCH /api/v1/sessions/{session_id}", session_id=b.session_id)
    assert patch["body"] == {"contact_phone": "0591-12345678"}
    assert patch["actor"]["account_id"] == b.account_ids["market_admin"]
    posted = one(entries, "POST /api/v1/lots/{lot_id}/attachments", lot_id=b.lots[0])
    assert posted["body"] == {"content_type": "image/png", "bytes": len(PNG)}
    assert posted["query"] == {"filename": "样机.png"} and posted["created"]["id"] == upload["id"]
    deleted = one(entries, "DELETE /api/v1/lots/{lot_id}/attachments/{file_id}",
                  file_id=upload["id"])
    assert deleted["market_code"] == b.code
    assert login["csrf_token"] not in json.dumps(entries)


async def test_socket_commands_are_recorded_and_bids_are_not(
    server: Server, http: httpx.AsyncClient
) -> None:
    """An acked ``cmd`` on the socket is an entry (``WS cmd``); an acked bid is not."""
    world = await build_world(http, bidders=1, lots=1)
    b = world.b
    lot = b.lots[0]
    async with raw_client(server, b.tokens["auctioneer"]) as console:
        await console.send(t="cmd", lot=lot, op="open", key="ws-open")
        assert (await console.until(lambda m: m.get("key") == "ws-open"))["t"] == "ack"
    async with raw_client(server, b.bidders[0]["token"]) as bidder:
        await bidder.send(t="bid", lot=lot, amount=START, key="audit-bid")
        assert (await bidder.until(lambda m: m.get("key") == "audit-bid"))["t"] == "ack"
    for _ in range(50):  # the socket's row is written after the ack, in a task of its own
        entries = await trail(http, b.code, b.tokens["market_admin"])
        if any(e["route"] == "cmd" for e in entries):
            break
        await asyncio.sleep(0.1)
    socket = [e for e in entries if e["method"] == "WS"]
    assert len(socket) == 1, socket
    assert socket[0]["body"]["op"] == "open" and socket[0]["ids"] == {"lot_id": lot}
    assert socket[0]["actor"]["role"] == "auctioneer" and socket[0]["market_code"] == b.code
    assert not any("bid" == e["body"].get("t") or "audit-bid" in json.dumps(e) for e in entries)


async def test_only_the_subtree_admins_read_it(server: Server, http: httpx.AsyncClient) -> None:
    """County A's admin sees none of B's entries and is refused B's trail; B's finance and
    auctioneer are refused; the city above B sees them; bad filters are 400."""
    world = await build_world(http, bidders=1, lots=1)
    a, b = world.a, world.b
    made = await admin_writes(http, world)
    for token in (a.tokens["market_admin"], b.tokens["finance"], b.tokens["auctioneer"],
                  a.tokens["finance"], b.bidders[0]["account_token"]):
        for suffix in ("audit", "audit.csv"):
            resp = await http.get(f"/api/v1/markets/{b.code}/{suffix}", headers=bearer(token))
            assert resp.status_code == 403, resp.text
    assert (await http.get(f"/api/v1/markets/{b.code}/audit")).status_code == 401
    assert (await http.get("/api/v1/markets/999999/audit",
                           headers=bearer(a.tokens["market_admin"]))).status_code == 403
    theirs = await trail(http, a.code, a.tokens["market_admin"])
    assert theirs and all(e["market_code"] == a.code for e in theirs)
    assert not any(made["session"]["id"] == e["created"].get("id")
                   and e["route"] == "POST /api/v1/sessions" for e in theirs)
    city = await trail(http, world.city, world.tokens["city_admin"])
    assert {e["market_code"] for e in city} >= {a.code, b.code}
    everything = await trail(http, world.province, ADMIN, limit=1000)
    assert {e["market_code"] for e in everything} >= {a.code, b.code, world.city}
    # filters
    me = b.tokens["market_admin"]
    mine = await trail(http, b.code, me, actor=str(b.account_ids["market_admin"]))
    assert mine and all(e["actor"]["account_id"] == b.account_ids["market_admin"] for e in mine)
    assert len(await trail(http, b.code, me, limit=1)) == 1
    assert await trail(http, b.code, me, **{"from": "2999-01-01"}) == []
    assert await trail(http, b.code, me, to="2000-01-01T00:00:00+08:00") == []
    for bad in ({"from": "yesterday"}, {"limit": "0"}, {"limit": "1001"}):
        resp = await http.get(f"/api/v1/markets/{b.code}/audit", headers=bearer(me), params=bad)
        assert resp.status_code == 400, resp.text


async def test_csv_export_opens_in_excel(server: Server, http: httpx.AsyncClient) -> None:
    """The CSV is UTF-8 with a BOM, one row per entry, Chinese kept."""
    world = await build_world(http, bidders=1, lots=1)
    await admin_writes(http, world)
    resp = await http.get(f"/api/v1/markets/{world.b.code}/audit.csv",
                          headers=bearer(world.b.tokens["market_admin"]))
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/csv")
    assert "attachment" in resp.headers["content-disposition"]
    assert resp.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[0] == "id" and len(body) == len(
        await trail(http, world.b.code, world.b.tokens["market_admin"], limit=1000))
    routes = {row[header.index("请求 route")] for row in body}
    assert "POST /api/v1/sessions" in routes
    assert any("审计专场" in row[header.index("请求体 body")] for row in body)
    assert PASSWORD not in resp.content.decode("utf-8-sig")


async def test_the_table_is_append_only(server: Server, http: httpx.AsyncClient) -> None:
    """UPDATE, DELETE and TRUNCATE on audit_log are refused by PostgreSQL itself."""
    world = await build_world(http, bidders=0, lots=1)
    assert await trail(http, world.b.code, world.b.tokens["market_admin"])
    conn = await asyncpg.connect(server.settings.database_url)
    try:
        count = await conn.fetchval("SELECT count(*) FROM audit_log")
        for statement in ("UPDATE audit_log SET status = 500", "DELETE FROM audit_log",
                          "TRUNCATE audit_log"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(statement)
        assert await conn.fetchval("SELECT count(*) FROM audit_log") == count
    finally:
        await conn.close()


async def test_a_lost_row_leaves_the_write_and_is_counted(
    server: Server, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """When the row cannot be written the write still answers 201; the row is logged at ERROR
    (secrets redacted) and auction_audit_failures_total counts it."""
    world = await build_world(http, bidders=0, lots=1)

    async def broken(store: Any, entry: Any) -> int:
        raise OSError("disk on fire")

    before = metrics.AUDIT_FAILURES._value.get()
    monkeypatch.setattr(audit_store, "append", broken)
    resp = await http.post("/api/v1/accounts", headers=ADMIN, json={
        "username": f"lost-{world.b.code}", "password": PASSWORD, "role": "finance",
        "market_code": world.b.code})
    assert resp.status_code == 201, resp.text
    assert metrics.AUDIT_FAILURES._value.get() == before + 1
    lost = [r for r in caplog.records if r.name == "auction.audit"]
    assert lost and "POST /api/v1/accounts" in lost[-1].getMessage()
    assert PASSWORD not in lost[-1].getMessage()
    scraped = (await http.get("/metrics")).text
    assert "auction_audit_failures_total" in scraped


def test_redaction_and_created_ids() -> None:
    """Secrets are redacted at any depth; created ids are the answer's id, seq and lots."""
    body = {"password": "x", "nested": [{"new_password": "y", "client_secret": "z",
                                         "resident_id": "110105194912310029"}],
            "token": "t", "name": "张三"}
    assert redact(body) == {"password": "***", "nested": [{
        "new_password": "***", "client_secret": "***", "resident_id": "110105********0029"}],
        "token": "***", "name": "张三"}
    assert created_ids({"id": 7, "token": "t", "lots": [{"id": 8}, {"id": 9}]}) == {
        "id": 7, "lot_ids": [8, 9]}
    assert created_ids([1, 2]) == {}
