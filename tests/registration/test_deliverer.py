"""The deliverer against a real HTTP receiver and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from registration_factory import (
    SECRET,
    Answer,
    Receiver,
    configured,
    deliver_until_settled,
    fast,
    outbox_row,
    sold_lot,
)

from auction import metrics, outage
from auction.registration.deliverer import RETRY_WINDOW_S, Deliverer
from auction.registration.packet import packet_body
from auction.settings import Settings
from auction.store import Store


async def age_retry_window(store: Store, lot_id: int, seconds: float) -> None:
    """Drive time: the row's first attempt was ``seconds`` ago, and it is due now."""
    await store.pool.execute(
        "UPDATE registration_outbox SET first_attempt_at = now() - $2 * interval '1 second',"
        " next_attempt_at = now() WHERE lot_id = $1",
        lot_id, float(seconds),
    )


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    return f"http://127.0.0.1:{closed_port}/register"


async def test_503_is_deferred_with_the_same_key_and_body_then_delivered(
    outbox_store: Store, settings: Settings, receiver: Receiver
) -> None:
    """A 503 then a 201: two signed POSTs with one Idempotency-Key and one body; one packet
    kept; the 503 is a deferral, not an attempt."""
    lot = await sold_lot(outbox_store)
    receiver.script[lot.key] = [Answer(503, "maintenance")]
    deliverer = fast(outbox_store, configured(settings, receiver.url))
    try:
        assert await deliverer.deliver_due() == 1
        first = await outbox_row(outbox_store, lot.lot_id)
        assert (first["status"], first["attempts"], first["deferrals"]) == ("pending", 0, 1)
        assert first["last_error"] == "HTTP 503: maintenance"
        assert first["first_attempt_at"] is not None

        await deliver_until_settled(deliverer, outbox_store, lot.lot_id)
    finally:
        await deliverer.aclose()

    row = await outbox_row(outbox_store, lot.lot_id)
    assert (row["status"], row["attempts"], row["deferrals"]) == ("delivered", 1, 1)
    assert row["last_error"] == ""
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
    assert (status.status, status.attempts) == ("delivered", 1)


async def test_other_5xx_is_retried_as_an_attempt(
    outbox_store: Store, settings: Settings, receiver: Receiver
) -> None:
    """A 500 (not 503) counts as a failed attempt and is retried with the backoff."""
    lot = await sold_lot(outbox_store)
    receiver.script[lot.key] = [Answer(500, "oops\nstack trace")]
    deliverer = fast(outbox_store, configured(settings, receiver.url))
    try:
        await deliverer.deliver_due()
        row = await outbox_row(outbox_store, lot.lot_id)
        assert (row["status"], row["attempts"], row["deferrals"]) == ("pending", 1, 0)
        assert row["last_error"] == "HTTP 500: oops stack trace"
        await deliver_until_settled(deliverer, outbox_store, lot.lot_id)
    finally:
        await deliverer.aclose()
    row = await outbox_row(outbox_store, lot.lot_id)
    assert (row["status"], row["attempts"], row["deferrals"]) == ("delivered", 2, 0)


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


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_seconds_is_honoured_without_using_an_attempt(
    outbox_store: Store, settings: Settings, receiver: Receiver, status: int
) -> None:
    """429 or 503 with Retry-After: 120: the next try is 120–132 s out (never earlier; up to
    10 % jitter), counted as a deferral, not an attempt."""
    lot = await sold_lot(outbox_store)
    receiver.script[lot.key] = [Answer(status, "slow down", {"Retry-After": "120"})]
    deliverer = fast(outbox_store, configured(settings, receiver.url))
    try:
        await deliverer.deliver_due()
    finally:
        await deliverer.aclose()

    row = await outbox_row(outbox_store, lot.lot_id)
    assert (row["status"], row["attempts"], row["deferrals"]) == ("pending", 0, 1)
    wait = (row["next_attempt_at"] - row["db_now"]).total_seconds()
    assert 118 < wait <= 132


async def test_retry_after_http_date_is_honoured(
    outbox_store: Store, settings: Settings, receiver: Receiver
) -> None:
    """A Retry-After given as an HTTP date five minutes ahead schedules the next try then."""
    lot = await sold_lot(outbox_store)
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=300), usegmt=True)
    receiver.script[lot.key] = [Answer(429, "", {"Retry-After": when})]
    deliverer = fast(outbox_store, configured(settings, receiver.url))
    try:
        await deliverer.deliver_due()
    finally:
        await deliverer.aclose()

    row = await outbox_row(outbox_store, lot.lot_id)
    assert (row["status"], row["attempts"], row["deferrals"]) == ("pending", 0, 1)
    wait = (row["next_attempt_at"] - row["db_now"]).total_seconds()
    assert 297 < wait <= 331


async def test_sustained_429_and_503_never_use_up_attempts(
    outbox_store: Store, settings: Settings, receiver: Receiver
) -> None:
    """Forty 429 (Retry-After: 0) and 503 answers in a row — far past the old 12-attempt
    budget — leave the row pending with no attempt used; it is delivered when they stop."""
    lot = await sold_lot(outbox_store)
    receiver.script[lot.key] = [
        Answer(429, "busy", {"Retry-After": "0"}) if i % 2 else Answer(503, "down")
        for i in range(40)
    ]
    deliverer = fast(outbox_store, configured(settings, receiver.url), min_retry_after_s=0.0)
    try:
        for _ in range(400):
            await deliverer.deliver_due()
            row = await outbox_row(outbox_store, lot.lot_id)
            assert (row["status"], row["attempts"]) == ("pending", 0)
            if row["deferrals"] == 40:
                break
            await asyncio.sleep(0.005)
        assert row["deferrals"] == 40
        await deliver_until_settled(deliverer, outbox_store, lot.lot_id)
    finally:
        await deliverer.aclose()

    row = await outbox_row(outbox_store, lot.lot_id)
    assert (row["status"], row["attempts"], row["deferrals"]) == ("delivered", 1, 40)
    assert len(receiver.requests) == 41 and list(receiver.packets) == [lot.key]
    assert {r.body for r in receiver.requests} == {receiver.packets[lot.key]}


async def test_retry_after_pauses_the_deliverer(
    outbox_store: Store, settings: Settings, receiver: Receiver
) -> None:
    """After a Retry-After the deliverer claims nothing until it has passed: the rest of the
    backlog is not sent to a receiver that asked for air."""
    first, second = await sold_lot(outbox_store), await sold_lot(outbox_store)
    for lot in (first, second):
        receiver.script[lot.key] = [Answer(429, "", {"Retry-After": "60"})]
    deliverer = Deliverer(outbox_store, configured(settings, receiver.url), batch=1)
    try:
        assert await deliverer.deliver_due() == 1
        assert await deliverer.deliver_due() == 0
        assert len(receiver.requests) == 1
        deliverer.paused_until = 0.0  # time passes
        assert await deliverer.deliver_due() == 1
    finally:
        await deliverer.aclose()
    assert sorted(r.key for r in receiver.requests) == sorted([first.key, second.key])


async def test_failing_longer_than_the_old_attempt_budget_is_not_dead_lettered(
    outbox_store: Store, settings: Settings
) -> None:
    """Nothing listening: 25 failed attempts in a row (the old limit was 12) and six days and
    23 hours of failing keep the row pending; only past 7 days is it dead-lettered."""
    lot = await sold_lot(outbox_store)
    deliverer = fast(outbox_store, configured(settings, closed_port_url()))
    try:
        for _ in range(400):
            await deliverer.deliver_due()
            row = await outbox_row(outbox_store, lot.lot_id)
            assert row["status"] == "pending"
            if row["attempts"] >= 25:
                break
            await asyncio.sleep(0.005)
        assert row["attempts"] >= 25
        assert row["last_error"].startswith("network: ConnectError")

        await age_retry_window(outbox_store, lot.lot_id, RETRY_WINDOW_S - 3600)
        assert await deliverer.deliver_due() == 1
        row = await outbox_row(outbox_store, lot.lot_id)
        assert row["status"] == "pending"
        assert (row["next_attempt_at"] - row["db_now"]).total_seconds() <= 0.02

        await age_retry_window(outbox_store, lot.lot_id, RETRY_WINDOW_S + 1)
        assert await deliverer.deliver_due() == 1
    finally:
        await deliverer.aclose()

    row = await outbox_row(outbox_store, lot.lot_id)
    assert row["status"] == "dead"
    assert row["last_error"].startswith(
        f"gave up after 7.0 days ({row['attempts']} attempts, 0 deferrals); last: network: "
        "ConnectError"
    )


async def test_deferrals_past_the_retry_window_are_dead_lettered(
    outbox_store: Store, settings: Settings, receiver: Receiver
) -> None:
    """A receiver that answers 429 for more than 7 days does get the row dead-lettered (an
    operator can re-queue it), with the deferral counted as such."""
    lot = await sold_lot(outbox_store)
    receiver.script[lot.key] = [Answer(429, "quota", {"Retry-After": "1"})] * 2
    deliverer = fast(outbox_store, configured(settings, receiver.url))
    try:
        await deliverer.deliver_due()
        await age_retry_window(outbox_store, lot.lot_id, RETRY_WINDOW_S + 60)
        deliverer.paused_until = 0.0
        await deliverer.deliver_due()
    finally:
        await deliverer.aclose()
    row = await outbox_row(outbox_store, lot.lot_id)
    assert (row["status"], row["attempts"], row["deferrals"]) == ("dead", 0, 2)
    assert row["last_error"] == (
        "gave up after 7.0 days (0 attempts, 2 deferrals); last: HTTP 429: quota"
    )


async def test_lost_response_is_retried_with_the_same_bytes_and_key(
    outbox_store: Store, settings: Settings, receiver: Receiver
) -> None:
    """The receiver keeps the packet but its answer never arrives (timeout): the retry sends the
    same key, body and signature, and the receiver ends with one packet."""
    lot = await sold_lot(outbox_store)
    receiver.script[lot.key] = [Answer(201, applied=True, delay_s=1.0)]
    deliverer = fast(outbox_store, configured(settings, receiver.url), timeout_s=0.2)
    try:
        await deliverer.deliver_due()
        row = await outbox_row(outbox_store, lot.lot_id)
        assert (row["status"], row["attempts"]) == ("pending", 1)
        assert row["last_error"].startswith("network: ReadTimeout")
        await deliver_until_settled(deliverer, outbox_store, lot.lot_id)
    finally:
        await deliverer.aclose()

    row = await outbox_row(outbox_store, lot.lot_id)
    assert (row["status"], row["attempts"]) == ("delivered", 2)
    first, second = receiver.requests
    assert (first.key, first.body, first.signature) == (second.key, second.body, second.signature)
    assert list(receiver.packets) == [lot.key] and receiver.packets[lot.key] == first.body


async def test_backoff_is_exponential_capped_and_jittered(store: Store, settings: Settings) -> None:
    """Delay = min(cap, base·2^failures)·jitter with jitter in [0.5, 1); the cap is 10 minutes
    by default."""
    deliverer = Deliverer(store, settings)
    for failures, ceiling in [(0, 2.0), (1, 4.0), (5, 64.0), (9, 600.0), (40, 600.0)]:
        delay = deliverer.backoff_s(failures)
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
    """No AUCTION_REGISTRATION_URL: the packet is written to <data_dir>/registration as
    readable UTF-8 JSON (indented, Chinese as is), only its owner may read it."""
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
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == json.loads(row["packet"])
    assert "\\u" not in text and "水稻新品种" in text and "\n  \"buyer\": {" in text
    assert path.stat().st_mode & 0o777 == 0o600
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


async def test_run_refreshes_the_backlog_gauges(
    outbox_store: Store, settings: Settings, receiver: Receiver
) -> None:
    """Each pass of ``run()`` sets the outbox gauges: here one dead row and nothing pending."""
    lot = await sold_lot(outbox_store)
    receiver.script[lot.key] = [Answer(422, "no such buyer")]
    deliverer = fast(outbox_store, configured(settings, receiver.url), interval_s=0.02)
    metrics.OUTBOX_DEAD.set(-1)
    task = asyncio.create_task(deliverer.run())
    try:
        for _ in range(200):
            if metrics.REGISTRY.get_sample_value("auction_outbox_dead") == 1:
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert metrics.REGISTRY.get_sample_value("auction_outbox_dead") == 1
    assert metrics.REGISTRY.get_sample_value("auction_outbox_pending") == 0
    assert metrics.REGISTRY.get_sample_value("auction_outbox_oldest_pending_seconds") == 0


async def test_postgres_down_is_one_outage_line_not_one_per_pass(
    outbox_database_url: str, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """With PostgreSQL unusable the loop keeps passing and logs one warning, no tracebacks."""
    gone = await Store.connect(outbox_database_url, max_size=1)
    await gone.close()  # every call now fails as Unavailable
    deliverer = fast(gone, configured(settings, None), interval_s=0.01)
    before = metrics.REGISTRY.get_sample_value("auction_postgres_errors_total") or 0.0
    caplog.set_level(logging.INFO)
    task = asyncio.create_task(deliverer.run())
    try:
        await asyncio.sleep(0.3)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        outage.POSTGRES.ok()  # leave the process-wide outage state as we found it
    failed_passes = (metrics.REGISTRY.get_sample_value("auction_postgres_errors_total") or 0.0)
    assert failed_passes - before >= 5
    unreachable = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(unreachable) == 1 and "PostgreSQL" in unreachable[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info or r.name.startswith("auction.reg")]
