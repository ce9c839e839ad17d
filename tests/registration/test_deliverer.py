"""The deliverer against a real HTTP receiver and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import socket
from datetime import datetime
from typing import Any

from registration_factory import SECRET, Answer, Receiver, sold_lot

from auction.registration.deliverer import Deliverer
from auction.registration.packet import packet_body
from auction.settings import Settings
from auction.store import Store


def configured(settings: Settings, url: str | None) -> Settings:
    return settings.with_changes(registration_url=url, registration_secret=SECRET)


def fast(store: Store, settings: Settings, **kwargs: Any) -> Deliverer:
    """A deliverer whose backoff is milliseconds, so retries need no long sleeps."""
    options: dict[str, Any] = {"backoff_base_s": 0.005, "backoff_cap_s": 0.02}
    options.update(kwargs)
    return Deliverer(store, settings, rng=random.Random(7), **options)


async def outbox_row(store: Store, lot_id: int) -> dict[str, Any]:
    row = await store.pool.fetchrow(
        "SELECT status, attempts, last_error, next_attempt_at, delivered_at,"
        " packet::text AS packet, now() AS db_now FROM registration_outbox WHERE lot_id = $1",
        lot_id,
    )
    return dict(row)


async def deliver_until_settled(deliverer: Deliverer, store: Store, lot_id: int) -> None:
    for _ in range(200):
        await deliverer.deliver_due()
        if (await outbox_row(store, lot_id))["status"] != "pending":
            return
        await asyncio.sleep(0.01)
    raise AssertionError("outbox row still pending")


async def test_503_is_retried_with_the_same_key_and_body_then_delivered(
    outbox_store: Store, settings: Settings, receiver: Receiver
) -> None:
    """A 503 then a 201: two signed POSTs with one Idempotency-Key and one body; one packet kept."""
    lot = await sold_lot(outbox_store)
    receiver.script[lot.key] = [Answer(503, "maintenance")]
    deliverer = fast(outbox_store, configured(settings, receiver.url))
    try:
        assert await deliverer.deliver_due() == 1
        first = await outbox_row(outbox_store, lot.lot_id)
        assert (first["status"], first["attempts"]) == ("pending", 1)
        assert first["last_error"] == "HTTP 503: maintenance"

        await deliver_until_settled(deliverer, outbox_store, lot.lot_id)
    finally:
        await deliverer.aclose()

    row = await outbox_row(outbox_store, lot.lot_id)
    assert (row["status"], row["attempts"], row["last_error"]) == ("delivered", 2, "")
    assert row["delivered_at"] is not None
    assert [r.key for r in receiver.requests] == [lot.key, lot.key]
    first_req, second_req = receiver.requests
    assert first_req.body == second_req.body == packet_body(json.loads(row["packet"]))
    expected = "sha256=" + hmac.new(
        SECRET.value.encode(), first_req.body, hashlib.sha256
    ).hexdigest()
    assert first_req.signature == second_req.signature == expected
    assert first_req.content_type.startswith("application/json")
    assert list(receiver.packets) == [lot.key]
    assert json.loads(receiver.packets[lot.key])["contract"]["total_amount_fen"] == lot.amount_fen
    status = await outbox_store.registration_status(lot.lot_id)
    assert (status.status, status.attempts) == ("delivered", 2)


async def test_400_is_dead_lettered_with_the_reason(
    outbox_store: Store, settings: Settings, receiver: Receiver
) -> None:
    """A 4xx other than 429 is not retried: status dead, last_error carries code and body."""
    lot = await sold_lot(outbox_store)
    receiver.script[lot.key] = [Answer(400, "buyer.uscc: 校验码错误")]
    deliverer = fast(outbox_store, configured(settings, receiver.url))
    try:
        assert await deliverer.deliver_due() == 1
        assert await deliverer.deliver_due() == 0
    finally:
        await deliverer.aclose()

    row = await outbox_row(outbox_store, lot.lot_id)
    assert (row["status"], row["attempts"]) == ("dead", 1)
    assert row["last_error"] == "HTTP 400: buyer.uscc: 校验码错误"
    assert len(receiver.requests) == 1 and not receiver.packets
    status = await outbox_store.registration_status(lot.lot_id)
    assert (status.status, status.last_error) == ("dead", "HTTP 400: buyer.uscc: 校验码错误")


async def test_429_honours_retry_after(
    outbox_store: Store, settings: Settings, receiver: Receiver
) -> None:
    """A 429 with Retry-After: 120 schedules the next attempt two minutes out."""
    lot = await sold_lot(outbox_store)
    receiver.script[lot.key] = [Answer(429, "slow down", {"Retry-After": "120"})]
    deliverer = fast(outbox_store, configured(settings, receiver.url))
    try:
        await deliverer.deliver_due()
    finally:
        await deliverer.aclose()

    row = await outbox_row(outbox_store, lot.lot_id)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    wait = (row["next_attempt_at"] - row["db_now"]).total_seconds()
    assert 118 < wait <= 120


async def test_network_errors_are_retried_until_max_attempts_then_dead(
    outbox_store: Store, settings: Settings
) -> None:
    """Nothing listening: each attempt is counted and retried; after max_attempts it is dead."""
    lot = await sold_lot(outbox_store)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{closed_port}/register"
    deliverer = fast(outbox_store, configured(settings, url), max_attempts=3)
    try:
        await deliverer.deliver_due()
        row = await outbox_row(outbox_store, lot.lot_id)
        assert (row["status"], row["attempts"]) == ("pending", 1)
        assert row["last_error"].startswith("network: ConnectError")
        await deliver_until_settled(deliverer, outbox_store, lot.lot_id)
    finally:
        await deliverer.aclose()

    row = await outbox_row(outbox_store, lot.lot_id)
    assert (row["status"], row["attempts"]) == ("dead", 3)
    assert row["last_error"].startswith("gave up after 3 attempts; last: network: ConnectError")


async def test_backoff_is_exponential_capped_and_jittered(store: Store, settings: Settings) -> None:
    """Delay = min(cap, base·2^attempts)·jitter with jitter in [0.5, 1)."""
    deliverer = Deliverer(store, settings, backoff_base_s=2.0, backoff_cap_s=600.0)
    for attempts, ceiling in [(0, 2.0), (1, 4.0), (5, 64.0), (9, 600.0), (40, 600.0)]:
        delay = deliverer.backoff_s(attempts)
        assert ceiling / 2 <= delay <= ceiling


async def test_two_deliverers_send_each_packet_once(
    outbox_store: Store, settings: Settings, receiver: Receiver
) -> None:
    """Deliverers in parallel claim rows with SKIP LOCKED: one POST per lot."""
    lots = [await sold_lot(outbox_store) for _ in range(6)]
    config = configured(settings, receiver.url)
    a, b = fast(outbox_store, config, batch=2), fast(outbox_store, config, batch=2)
    try:
        for _ in range(3):
            await asyncio.gather(a.deliver_due(), b.deliver_due())
    finally:
        await a.aclose()
        await b.aclose()

    assert sorted(r.key for r in receiver.requests) == sorted(lot.key for lot in lots)
    for lot in lots:
        assert (await outbox_row(outbox_store, lot.lot_id))["status"] == "delivered"


async def test_without_url_the_packet_is_filed_for_manual_upload(
    outbox_store: Store, settings: Settings
) -> None:
    """No AUCTION_REGISTRATION_URL: the exact body is written to <data_dir>/registration."""
    lot = await sold_lot(outbox_store)
    config = configured(settings, None)
    deliverer = fast(outbox_store, config)
    try:
        assert await deliverer.deliver_due() == 1
    finally:
        await deliverer.aclose()

    row = await outbox_row(outbox_store, lot.lot_id)
    assert (row["status"], row["attempts"]) == ("filed", 0)
    path = config.data_dir / "registration" / f"{lot.key}.json"
    assert path.read_bytes() == packet_body(json.loads(row["packet"]))
    assert isinstance(row["delivered_at"], datetime)
    assert (await outbox_store.registration_status(lot.lot_id)).status == "filed"


async def test_run_delivers_in_the_background_until_cancelled(
    outbox_store: Store, settings: Settings, receiver: Receiver
) -> None:
    """``run()`` picks up a new outbox row on its own and stops cleanly when cancelled."""
    deliverer = fast(outbox_store, configured(settings, receiver.url), interval_s=0.02)
    task = asyncio.create_task(deliverer.run())
    try:
        lot = await sold_lot(outbox_store)
        for _ in range(200):
            if lot.key in receiver.packets:
                break
            await asyncio.sleep(0.01)
        assert lot.key in receiver.packets
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
