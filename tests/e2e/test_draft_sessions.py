"""A draft session's lots over real sockets (docs/http-api.md "Publishing a session"): watching
one (``sub``) is ``error unknown_lot`` for a viewer and another market's staff, a snapshot for
the platform admin; a console ``cmd open`` is ``nack not_published``; once the session is
published the viewer watches it and the lot opens."""

from __future__ import annotations

import secrets
import uuid

import httpx

from tests.codes import market_code
from tests.e2e.harness import ADMIN, Server, raw_client, uscc

ADMIN_TOKEN = ADMIN["Authorization"].removeprefix("Bearer ")


async def test_a_drafts_lot_is_neither_watched_nor_opened_until_published(
    server: Server,
) -> None:
    """Viewer: unknown_lot; platform admin: snapshot and nack not_published on open; after
    publishing: the viewer's snapshot and the open acked."""
    tag = uuid.uuid4().int % 10**6
    code = market_code(lambda: f"64{secrets.randbelow(80) + 10:02d}"
                               f"{secrets.randbelow(80) + 11:02d}")
    async with httpx.AsyncClient(base_url=server.base, headers=ADMIN, timeout=10) as http:
        r = await http.post("/api/v1/markets", json={
            "code": code, "slug": f"d-{code}", "name": "草稿县技术市场", "level": "county"})
        assert r.status_code == 201, r.text
        r = await http.post("/api/v1/sessions", json={
            "market_code": code, "name": "草稿场次", "season": "special", "mode": "timed",
            "starts_at": "2026-11-18T09:30:00+08:00", "draft": True})
        assert r.status_code == 201, r.text
        session = r.json()["id"]
        r = await http.post(f"/api/v1/sessions/{session}/lots", json={
            "title": "草稿标的", "result_type": "专利", "ip_type": "发明专利",
            "technology_field": "农业", "transaction_mode": "转让", "contract_type": "技术转让",
            "holder_name": "某大学", "holder_uscc": uscc(tag), "start_price_fen": 1_000_000,
            "increment_fen": 10_000, "duration_s": 600})
        assert r.status_code == 201, r.text
        lot = r.json()["id"]

        async with raw_client(server, address="10.6.0.1") as viewer:
            await viewer.send(t="sub", lot=lot)
            refused = await viewer.until(lambda m: m["t"] in ("error", "snapshot"))
            assert refused["t"] == "error" and refused["code"] == "unknown_lot", refused
        async with raw_client(server, ADMIN_TOKEN, address="10.6.0.2") as staff:
            await staff.send(t="sub", lot=lot)
            snap = await staff.until(lambda m: m["t"] in ("error", "snapshot"))
            assert snap["t"] == "snapshot" and snap["state"]["status"] == "scheduled", snap
            await staff.send(t="cmd", lot=lot, op="open", key="open-draft")
            nack = await staff.until(lambda m: m["t"] in ("ack", "nack"))
            assert nack["t"] == "nack" and nack["code"] == "not_published", nack

        r = await http.post(f"/api/v1/sessions/{session}/publish")
        assert r.status_code == 200 and r.json()["published"] is True, r.text
        async with raw_client(server, address="10.6.0.1") as viewer:
            await viewer.send(t="sub", lot=lot)
            snap = await viewer.until(lambda m: m["t"] in ("error", "snapshot"))
            assert snap["t"] == "snapshot", snap
            async with raw_client(server, ADMIN_TOKEN, address="10.6.0.2") as staff:
                await staff.send(t="cmd", lot=lot, op="open", key="open-published")
                ack = await staff.until(lambda m: m["t"] in ("ack", "nack"))
                assert ack["t"] == "ack", ack
            opened = await viewer.until(lambda m: m["t"] == "ev")
            assert opened["lot"] == lot, opened
