"""Registration with its answer (issue 13 item 3): endpoints per market, the office's answer in
the response or by signed callback, correct and resend — against real HTTP receivers, the
API in process and a private PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

import httpx
from registration_factory import (
    SECRET,
    Answer,
    Receiver,
    configured,
    deliver_until_settled,
    fast,
    outbox_row,
    serve_receiver,
    sold_lot,
)

from auction.api.audit import redact
from auction.registration.signing import HEADER, signature
from auction.settings import Secret, Settings
from auction.store import Store
from auction.store.records import Market
from tests.api.people import staff
from tests.codes import new_market

ADMIN = {"Authorization": "Bearer test-admin-token"}
NUMBER = "2026370100000001"


def registered(number: str = NUMBER) -> str:
    return json.dumps({"registration_no": number, "status": "registered"})


async def market(store: Store, level: str, parent: Market | None = None) -> Market:
    tag = secrets.token_hex(3)
    return await new_market(
        store, slug=f"m-{tag}", name=f"{level}市场{tag}",
        level=level, parent_code=parent.code if parent is not None else None,
    )


async def callback(api: httpx.AsyncClient, body: dict[str, Any], secret: Secret,
                   *, sign: bytes | None = None) -> httpx.Response:
    raw = json.dumps(body, ensure_ascii=False).encode()
    return await api.post("/api/v1/registration/callback", content=raw, headers={
        "Content-Type": "application/json", HEADER: signature(secret, sign or raw)})


async def callbacks(store: Store, lot_id: int) -> list[tuple[str, int]]:
    rows = await store.pool.fetch(
        "SELECT outcome, http_status FROM registration_callbacks WHERE lot_id = $1 ORDER BY id",
        lot_id)
    return [(r["outcome"], r["http_status"]) for r in rows]


async def test_hammer_to_registered_with_the_office_number_on_the_result(
    outbox_store: Store, settings: Settings, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    """The office answers the delivery with its number: the lot's result, the results list
    and the hand-off all say 已登记 with it."""
    lot = await sold_lot(outbox_store)
    receiver.default_body = registered()
    deliverer = fast(outbox_store, configured(settings, receiver.url))
    try:
        await deliver_until_settled(deliverer, outbox_store, lot.lot_id)
    finally:
        await deliverer.aclose()
    row = await outbox_row(outbox_store, lot.lot_id)
    assert (row["status"], row["attempts"]) == ("registered", 1)
    assert row["delivered_at"] is not None
    packet = json.loads(receiver.packets[lot.key])
    assert packet["schema_version"] == 2 and packet["contract"]["subtype"] == "LIC_OTHER_IP"
    assert packet["seller"]["region"] == "410000" and packet["buyer"]["nature"] == "企业"

    shown = (await api.get(f"/api/v1/lots/{lot.lot_id}")).json()["result"]["registration"]
    assert (shown["status"], shown["status_text"], shown["registration_no"]) == (
        "registered", "已登记", NUMBER)
    hand_off = (await api.get(f"/api/v1/lots/{lot.lot_id}/registration")).json()
    assert (hand_off["shown"], hand_off["registration_no"], hand_off["version"]) == (
        "registered", NUMBER, 1)
    results = (await api.get("/api/v1/results")).json()["results"]
    assert [r["registration"]["registration_no"] for r in results
            if r["lot_id"] == lot.lot_id] == [NUMBER]


async def test_a_malformed_number_in_the_response_leaves_the_packet_delivered(
    outbox_store: Store, settings: Settings, receiver: Receiver
) -> None:
    """A 2xx whose number is not 16 digits: delivered (待登记), the number not stored, why in
    last_error; a 2xx without an answer body stays plain delivered."""
    bad, plain = await sold_lot(outbox_store), await sold_lot(outbox_store)
    receiver.script[bad.key] = [Answer(201, registered("12345"))]
    deliverer = fast(outbox_store, configured(settings, receiver.url))
    try:
        await deliver_until_settled(deliverer, outbox_store, bad.lot_id)
        await deliver_until_settled(deliverer, outbox_store, plain.lot_id)
    finally:
        await deliverer.aclose()
    row = await outbox_row(outbox_store, bad.lot_id)
    assert row["status"] == "delivered" and "not 16 digits" in row["last_error"]
    assert (await outbox_row(outbox_store, plain.lot_id))["status"] == "delivered"
    view = await outbox_store.registration_status(bad.lot_id)
    assert (view.registration_no, view.to_json()["status_text"]) == (None, "待登记")


async def test_a_rejected_registration_is_corrected_and_resent_as_version_2(
    outbox_store: Store, settings: Settings, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    """未予登记 with a reason; the market corrects the seller's nature and the technology
    amount; version 2 goes out under '<key>:v2' with the corrections and is registered; the
    first version is kept. Correcting anything but a rejected registration is 409."""
    lot = await sold_lot(outbox_store)
    v2 = f"{lot.key}:v2"
    receiver.script[lot.key] = [Answer(200, json.dumps(
        {"status": "rejected", "reason": "卖方主体性质应为高等院校"}, ensure_ascii=False))]
    receiver.script[v2] = [Answer(201, registered())]
    deliverer = fast(outbox_store, configured(settings, receiver.url))
    body = {"corrections": {"seller_nature": "高等院校", "tech_amount_fen": 1_000_000_00}}
    try:
        await deliver_until_settled(deliverer, outbox_store, lot.lot_id)
        shown = (await api.get(f"/api/v1/lots/{lot.lot_id}")).json()["result"]["registration"]
        assert (shown["status_text"], shown["reason"]) == ("未予登记", "卖方主体性质应为高等院校")

        for bad, field in [({"corrections": {}}, "corrections"),
                           ({"corrections": {"buyer_nature": "公司"}}, "corrections.buyer_nature"),
                           ({"corrections": {"seller_region": "37010"}},
                            "corrections.seller_region"),
                           ({"corrections": {"tech_amount_fen": 2_000_000_00}},
                            "corrections.tech_amount_fen"),
                           ({"corrections": {"price": 1}}, "corrections.price")]:
            refused = await api.post(f"/api/v1/lots/{lot.lot_id}/registration/versions",
                                     json=bad, headers=ADMIN)
            assert refused.status_code == 400, refused.text
            assert refused.json()["error"]["field"] == field
        assert (await api.post(f"/api/v1/lots/{lot.lot_id}/registration/versions",
                               json=body)).status_code == 401
        made = await api.post(f"/api/v1/lots/{lot.lot_id}/registration/versions", json=body,
                              headers=ADMIN)
        assert made.status_code == 201, made.text
        assert (made.json()["version"], made.json()["idempotency_key"],
                made.json()["status_text"]) == (2, v2, "待登记")
        again = await api.post(f"/api/v1/lots/{lot.lot_id}/registration/versions", json=body,
                               headers=ADMIN)
        assert (again.status_code, again.json()["error"]["code"]) == (409, "wrong_state")

        await deliver_until_settled(deliverer, outbox_store, lot.lot_id)
    finally:
        await deliverer.aclose()

    row = await outbox_row(outbox_store, lot.lot_id)
    assert row["status"] == "registered"
    assert [r.key for r in receiver.requests] == [lot.key, v2]
    first, second = (json.loads(r.body) for r in receiver.requests)
    assert (first["version"], second["version"]) == (1, 2)
    assert second["seller"]["nature"] == "高等院校" and first["seller"]["nature"] == "其他事业单位"
    assert second["contract"]["tech_amount_fen"] == 1_000_000_00
    assert second["corrections"] == body["corrections"]
    assert second["winning_bid"] == first["winning_bid"]
    kept = await outbox_store.pool.fetchrow(
        "SELECT version, status, answer_reason, idempotency_key FROM registration_versions"
        " WHERE lot_id = $1", lot.lot_id)
    assert dict(kept) == {"version": 1, "status": "rejected",
                          "answer_reason": "卖方主体性质应为高等院校", "idempotency_key": lot.key}
    shown = (await api.get(f"/api/v1/lots/{lot.lot_id}")).json()["result"]["registration"]
    assert (shown["registration_no"], shown["version"]) == (NUMBER, 2)
    # a late answer about version 1 is refused: version 2 replaced it
    stale = await callback(api, {"idempotency_key": lot.key, "status": "registered",
                                 "registration_no": NUMBER}, SECRET)
    assert (stale.status_code, stale.json()["error"]["code"]) == (409, "superseded")


async def test_the_office_answers_later_by_signed_callback(
    outbox_store: Store, settings: Settings, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    """Delivered without an answer; a callback with a bad signature is refused (401) and
    recorded; a malformed number is 400; the signed answer is stored, the same again is a
    duplicate, another answer is 409 — each callback a row of registration_callbacks."""
    lot = await sold_lot(outbox_store)
    deliverer = fast(outbox_store, configured(settings, receiver.url))
    try:
        await deliver_until_settled(deliverer, outbox_store, lot.lot_id)
    finally:
        await deliverer.aclose()
    assert (await outbox_row(outbox_store, lot.lot_id))["status"] == "delivered"
    answer = {"idempotency_key": lot.key, "status": "registered", "registration_no": NUMBER}

    forged = await callback(api, answer, Secret("not-the-secret"))
    assert (forged.status_code, forged.json()["error"]["code"]) == (401, "bad_signature")
    tampered = await callback(api, answer, SECRET, sign=b'{"other": "body"}')
    assert tampered.status_code == 401
    assert (await outbox_row(outbox_store, lot.lot_id))["status"] == "delivered"

    short = await callback(api, {**answer, "registration_no": "202637010000001"}, SECRET)
    assert (short.status_code, short.json()["error"]["code"]) == (400, "invalid_registration_no")
    unknown = await callback(api, {**answer, "idempotency_key": "lot-0-nothing"}, SECRET)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "unknown_key")

    taken = await callback(api, answer, SECRET)
    assert taken.status_code == 200, taken.text
    assert (taken.json()["lot_id"], taken.json()["outcome"]) == (lot.lot_id, "accepted")
    assert (await callback(api, answer, SECRET)).json()["outcome"] == "duplicate"
    other = await callback(api, {**answer, "registration_no": "2026370100000002"}, SECRET)
    assert (other.status_code, other.json()["error"]["code"]) == (409, "already_answered")

    row = await outbox_row(outbox_store, lot.lot_id)
    assert row["status"] == "registered"
    shown = (await api.get(f"/api/v1/lots/{lot.lot_id}")).json()["result"]["registration"]
    assert (shown["status_text"], shown["registration_no"]) == ("已登记", NUMBER)
    assert await callbacks(outbox_store, lot.lot_id) == [
        ("bad_signature", 401), ("bad_signature", 401), ("invalid", 400), ("accepted", 200),
        ("duplicate", 200), ("conflict", 409)]
    forged_row = await outbox_store.pool.fetchrow(
        "SELECT idempotency_key, detail, body_excerpt FROM registration_callbacks"
        " WHERE lot_id = $1 ORDER BY id LIMIT 1", lot.lot_id)
    assert forged_row["idempotency_key"] == lot.key and NUMBER in forged_row["body_excerpt"]


async def test_a_county_with_its_own_endpoint_and_one_inheriting_its_citys(
    outbox_store: Store, settings: Settings, api: httpx.AsyncClient
) -> None:
    """City → endpoint A; county 1 → its own endpoint B; county 2 sets none and inherits A;
    a lone market falls back to the deployment's default C. Each receiver gets only its own
    lots, each signed with its own secret; GET shows where the URL comes from, never the
    secret; DELETE goes back to inheriting."""
    city = await market(outbox_store, "city")
    own, inheriting = await market(outbox_store, "county", city), await market(
        outbox_store, "county", city)
    secret_a, secret_b, secret_c = Secret("city-secret"), Secret("county-secret"), SECRET
    async with (serve_receiver(secret_a) as a, serve_receiver(secret_b) as b,
                serve_receiver(secret_c) as c):
        put = await api.put(f"/api/v1/markets/{city.code}/registration-endpoint",
                            json={"url": a.url, "secret": secret_a.value}, headers=ADMIN)
        assert put.status_code == 200, put.text
        assert put.json() == {"market_code": city.code, "url": a.url, "source": "own",
                              "inherited_from": None, "has_secret": True}
        put = await api.put(f"/api/v1/markets/{own.code}/registration-endpoint",
                            json={"url": b.url, "secret": secret_b.value}, headers=ADMIN)
        assert put.status_code == 200 and "county-secret" not in put.text
        got = await api.get(f"/api/v1/markets/{inheriting.code}/registration-endpoint",
                            headers=ADMIN)
        assert got.json() == {"market_code": inheriting.code, "url": a.url,
                              "source": "inherited", "inherited_from": city.code,
                              "has_secret": True}
        assert (await api.get(f"/api/v1/markets/{own.code}/registration-endpoint")
                ).status_code == 401
        bad = await api.put(f"/api/v1/markets/{own.code}/registration-endpoint",
                            json={"url": "ftp://x", "secret": "s"}, headers=ADMIN)
        assert (bad.status_code, bad.json()["error"]["field"]) == (400, "url")

        lots = {name: await sold_lot(outbox_store, market=m) for name, m in
                [("city", city), ("own", own), ("inheriting", inheriting)]}
        lone = await sold_lot(outbox_store)
        deliverer = fast(outbox_store, configured(settings, c.url))
        try:
            for lot in [*lots.values(), lone]:
                await deliver_until_settled(deliverer, outbox_store, lot.lot_id)
        finally:
            await deliverer.aclose()

        assert sorted(a.packets) == sorted([lots["city"].key, lots["inheriting"].key])
        assert list(b.packets) == [lots["own"].key]
        assert list(c.packets) == [lone.key]
        for receiver in (a, b, c):
            assert all(r.signature == signature(receiver.secret, r.body)
                       for r in receiver.requests)
        stored = await outbox_store.pool.fetchval(
            "SELECT market_id FROM registration_outbox WHERE lot_id = $1", lots["own"].lot_id)
        assert stored == own.id

        gone = await api.delete(f"/api/v1/markets/{own.code}/registration-endpoint",
                                headers=ADMIN)
        assert (gone.json()["deleted"], gone.json()["source"], gone.json()["url"]) == (
            True, "inherited", a.url)
    # the audit trail never records the secret of a PUT body
    assert redact({"url": a.url, "secret": "county-secret"}) == {"url": a.url, "secret": "***"}


async def test_the_callback_through_the_whole_app(
    outbox_store: Store, outbox_settings: Settings, tmp_path: Any
) -> None:
    """Behind the real middleware (inbound checks, audit trail): a forged callback is 401 and
    recorded, a signed one 200 and in the audit trail; a PUT of an endpoint is audited with
    its secret as ***."""
    from tests.e2e.harness import running

    lot = await sold_lot(outbox_store)
    await outbox_store.pool.execute(
        "UPDATE registration_outbox SET status = 'filed', next_attempt_at = now() + interval"
        " '1 hour' WHERE lot_id = $1", lot.lot_id)
    own = outbox_settings.with_changes(
        redis_namespace=f"test-cb-{secrets.token_hex(5)}", data_dir=tmp_path,
        registration_url=None, registration_secret=SECRET)
    answer = {"idempotency_key": lot.key, "status": "rejected", "reason": "缺少合同文本"}
    raw = json.dumps(answer, ensure_ascii=False).encode()
    async with running(own) as server, httpx.AsyncClient(base_url=server.base) as http:
        forged = await http.post("/api/v1/registration/callback", content=raw, headers={
            "Content-Type": "application/json", HEADER: "sha256=" + "0" * 64})
        assert (forged.status_code, forged.json()["error"]["code"]) == (401, "bad_signature")
        taken = await http.post("/api/v1/registration/callback", content=raw, headers={
            "Content-Type": "application/json", HEADER: signature(SECRET, raw)})
        assert taken.status_code == 200, taken.text
        code = await outbox_store.pool.fetchval(
            "SELECT m.code FROM lots l JOIN sessions s ON s.id = l.session_id"
            " JOIN markets m ON m.id = s.market_id WHERE l.id = $1", lot.lot_id)
        put = await http.put(f"/api/v1/markets/{code}/registration-endpoint", headers=ADMIN,
                             json={"url": "https://office.example/r", "secret": "hush-123"})
        assert put.status_code == 200, put.text
    assert await callbacks(outbox_store, lot.lot_id) == [("bad_signature", 401),
                                                         ("accepted", 200)]
    assert (await outbox_row(outbox_store, lot.lot_id))["status"] == "rejected"
    audited = [json.loads(r["body"]) for r in await outbox_store.pool.fetch(
        "SELECT body::text AS body FROM audit_log WHERE route LIKE '%registration%'"
        " ORDER BY id")]
    assert {"url": "https://office.example/r", "secret": "***"} in audited
    assert not any("hush-123" in json.dumps(b) for b in audited)


async def test_a_flood_of_forged_callbacks_is_cut_off_but_the_office_still_answers(
    outbox_store: Store, settings: Settings, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    """From one address, the 61st refusal in 10 minutes is 429 and no longer recorded; a
    correctly signed answer from the same address is still taken."""
    lot = await sold_lot(outbox_store)
    deliverer = fast(outbox_store, configured(settings, receiver.url))
    try:
        await deliver_until_settled(deliverer, outbox_store, lot.lot_id)
    finally:
        await deliverer.aclose()
    answer = {"idempotency_key": lot.key, "status": "registered", "registration_no": NUMBER}
    codes = [(await callback(api, answer, Secret("guess"))).status_code for _ in range(62)]
    assert codes == [401] * 60 + [429, 429]
    assert len(await callbacks(outbox_store, lot.lot_id)) == 60
    assert (await callback(api, answer, SECRET)).status_code == 200
    assert (await outbox_row(outbox_store, lot.lot_id))["status"] == "registered"


async def test_who_may_set_a_markets_endpoint(
    outbox_store: Store, api: httpx.AsyncClient
) -> None:
    """A city's market admin sets its own and its county's endpoint; the county's market admin
    may not touch the city's; finance may not set one."""
    city = await market(outbox_store, "city")
    county = await market(outbox_store, "county", city)
    city_admin = await staff(api, "market_admin", city.code)
    county_admin = await staff(api, "market_admin", county.code)
    finance = await staff(api, "finance", city.code)
    body = {"url": "https://office.example/register", "secret": "s3cret"}
    path = "/api/v1/markets/{}/registration-endpoint"
    assert (await api.put(path.format(county.code), json=body,
                          headers=city_admin)).status_code == 200
    assert (await api.put(path.format(city.code), json=body,
                          headers=city_admin)).status_code == 200
    for who, code in [(county_admin, city.code), (finance, city.code), (finance, county.code)]:
        refused = await api.put(path.format(code), json=body, headers=who)
        assert refused.status_code == 403, refused.text
        assert (await api.get(path.format(code), headers=who)).status_code == 403
        assert (await api.delete(path.format(code), headers=who)).status_code == 403
    assert (await api.get(path.format(county.code), headers=county_admin)).json()["source"] == (
        "own")
    assert (await api.get(path.format("999999"), headers=county_admin)).status_code == 403
    assert (await api.get(path.format("999999"), headers=ADMIN)).status_code == 404


async def test_a_late_response_about_a_replaced_version_changes_nothing(
    outbox_store: Store, settings: Settings, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    """Version 1 is in flight when the office's callback rejects it and the market corrects
    it: version 1's late 201 leaves version 2 pending, and version 2 is then sent."""
    lot = await sold_lot(outbox_store)
    receiver.script[lot.key] = [Answer(201, delay_s=0.5)]
    deliverer = fast(outbox_store, configured(settings, receiver.url))
    try:
        in_flight = asyncio.create_task(deliverer.deliver_due())
        while not receiver.requests:
            await asyncio.sleep(0.01)
        rejected = await callback(api, {"idempotency_key": lot.key, "status": "rejected",
                                        "reason": "技术交易额有误"}, SECRET)
        assert rejected.status_code == 200, rejected.text
        made = await api.post(f"/api/v1/lots/{lot.lot_id}/registration/versions", headers=ADMIN,
                              json={"corrections": {"tech_amount_fen": 1}})
        assert made.status_code == 201, made.text
        await in_flight
        row = await outbox_row(outbox_store, lot.lot_id)
        assert (row["status"], row["attempts"]) == ("pending", 0)
        await deliver_until_settled(deliverer, outbox_store, lot.lot_id)
    finally:
        await deliverer.aclose()
    assert [r.key for r in receiver.requests] == [lot.key, f"{lot.key}:v2"]
    assert (await outbox_row(outbox_store, lot.lot_id))["status"] == "delivered"
