"""The registration packet's pure parts: ids, amounts, time, serialization, signature."""

from __future__ import annotations

import json

from auction.registration.packet import (
    build_packet,
    idempotency_key,
    packet_body,
    rfc3339_cst,
    tech_amount_fen,
)
from auction.registration.signing import signature, verify
from auction.settings import Secret
from auction.store.outbox import BuyerRecord, LotSheet

SHEET = LotSheet(
    lot_id=42, title="一种高效固废资源化处理方法", result_type="专利", ip_type="发明专利",
    technology_field="环境保护与资源综合利用", transaction_mode="转让", contract_type="技术转让",
    holder_name="山东某大学", holder_uscc="12370000MB1234567X", non_tech_fen=30_000_00,
    session_id=7, session_name="2026年春季科技成果竞价活动", market_code="370100",
)
BUYER = BuyerRecord(bidder_id=9, name="济南某科技有限公司", uscc="91370100MA3C000000", paddle=286)


def test_idempotency_key_is_deterministic_per_lot() -> None:
    """The same lot always gets the same key; another lot or market gets another."""
    assert idempotency_key(SHEET) == idempotency_key(SHEET)
    assert idempotency_key(SHEET).startswith("lot-42-")
    other = LotSheet(**{**{f: getattr(SHEET, f) for f in SHEET.__slots__}, "market_code": "370200"})
    assert idempotency_key(other) != idempotency_key(SHEET)


def test_tech_amount_subtracts_non_technical_components() -> None:
    """技术交易额 = total − non-technical part, never negative."""
    assert tech_amount_fen(1_200_000_00, 30_000_00) == 1_170_000_00
    assert tech_amount_fen(10_00, 20_00) == 0


def test_hammer_time_is_rfc3339_in_china_standard_time() -> None:
    """Server ms → RFC 3339 with +08:00 and ms precision."""
    assert rfc3339_cst(0) == "1970-01-01T08:00:00.000+08:00"
    assert rfc3339_cst(1_776_000_000_123) == "2026-04-12T21:20:00.123+08:00"


def test_packet_has_every_key_and_serializes_canonically() -> None:
    """All packet keys are present; the body is sorted, compact, UTF-8 JSON."""
    packet = build_packet(
        SHEET, BUYER, amount_fen=1_200_000_00, winning_seq=17, hammer_at_ms=0,
        bid_log_sha256="ab" * 32,
    )
    assert sorted(packet) == sorted([
        "packet_id", "lot", "session", "contract", "seller", "buyer", "hammer_at",
        "winning_bid", "bid_log_sha256",
    ])
    assert packet["contract"]["tech_amount_fen"] == 1_170_000_00
    assert packet["buyer"] == {"name": "济南某科技有限公司", "uscc": "91370100MA3C000000",
                               "paddle": 286}
    body = packet_body(packet)
    assert "济南".encode() in body and b": " not in body and b", " not in body
    assert packet_body(json.loads(body)) == body


def test_signature_is_hmac_sha256_of_the_body() -> None:
    """The header verifies for the same body and secret and fails for any other."""
    secret = Secret("k")
    header = signature(secret, b"{}")
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify(secret, b"{}", header)
    assert not verify(secret, b"{ }", header)
    assert not verify(Secret("other"), b"{}", header)
