"""The registration packet's pure parts: ids, amounts, time, serialization, signature."""

from __future__ import annotations

import json

from auction.registration.packet import (
    base_key,
    build_packet,
    corrected_packet,
    idempotency_key,
    packet_body,
    packet_file_text,
    rfc3339_cst,
    tech_amount_fen,
    version_key,
)
from auction.registration.signing import signature, verify
from auction.settings import Secret
from auction.store.outbox import BuyerRecord, LotSheet

SHEET = LotSheet(
    lot_id=42, title="一种高效固废资源化处理方法", result_type="专利", ip_type="发明专利",
    technology_field="环境保护与资源综合利用", transaction_mode="转让", contract_type="技术转让",
    holder_name="山东某大学", holder_uscc="12370000MB1234567X", non_tech_fen=30_000_00,
    session_id=7, session_name="2026年春季科技成果竞价活动", market_code="370100",
    market_id=3, market_name="济南市技术市场",
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
        "schema_version", "packet_id", "version", "idempotency_key", "lot", "session",
        "market", "contract", "seller", "buyer", "broker", "corrections", "hammer_at",
        "winning_bid", "bid_log_sha256",
    ])
    assert (packet["schema_version"], packet["version"]) == (2, 1)
    assert packet["idempotency_key"] == idempotency_key(SHEET)
    assert packet["contract"] == {
        "type": "技术转让", "subtype": "TRF_PATENT", "subtype_label": "专利权转让",
        "technology_field": "环境保护与资源综合利用", "transaction_mode": "转让",
        "total_amount_fen": 1_200_000_00, "tech_amount_fen": 1_170_000_00, "currency": "CNY",
        "deal": "auction", "deal_label": "拍卖",
    }
    assert packet["market"] == {"code": "370100", "name": "济南市技术市场"}
    assert packet["buyer"] == {"name": "济南某科技有限公司", "kind": "enterprise",
                               "uscc": "91370100MA3C000000", "resident_id": None,
                               "region": "370100", "nature": "企业", "paddle": 286}
    assert packet["seller"] == {"name": "山东某大学", "kind": "enterprise",
                                "uscc": "12370000MB1234567X", "resident_id": None,
                                "region": "370000", "nature": "其他事业单位"}
    assert packet["broker"] is None and packet["corrections"] == {}
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


def test_a_person_buyer_carries_the_full_resident_id_its_region_and_nature() -> None:
    """A natural person: kind person, the resident id in full (the office needs it), the
    address code as region, nature 个人."""
    person = BuyerRecord(bidder_id=3, name="张三", uscc=None, paddle=101, kind="person",
                         resident_id="11010519491231002X")
    packet = build_packet(SHEET, person, amount_fen=100, winning_seq=1, hammer_at_ms=0,
                          bid_log_sha256="00" * 32)
    assert packet["buyer"] == {"name": "张三", "kind": "person", "uscc": None,
                               "resident_id": "11010519491231002X", "region": "110105",
                               "nature": "个人", "paddle": 101}


def test_a_corrected_version_changes_only_what_is_corrected_under_its_own_key() -> None:
    """Version 2 carries the corrections (cumulative), its key is the base key + ':v2', and
    the sale itself is unchanged."""
    first = build_packet(SHEET, BUYER, amount_fen=1_200_000_00, winning_seq=17,
                         hammer_at_ms=0, bid_log_sha256="ab" * 32)
    second = corrected_packet(first, first["idempotency_key"], 2, {
        "seller_nature": "高等院校", "tech_amount_fen": 1_100_000_00})
    third = corrected_packet(second, second["idempotency_key"], 3,
                             {"contract_subtype": "TRF_PATENT_APP"})
    assert second["idempotency_key"] == idempotency_key(SHEET) + ":v2"
    assert third["idempotency_key"] == idempotency_key(SHEET) + ":v3"
    assert base_key(third["idempotency_key"]) == idempotency_key(SHEET)
    assert version_key(idempotency_key(SHEET), 1) == idempotency_key(SHEET)
    assert third["seller"]["nature"] == "高等院校"
    assert third["contract"]["tech_amount_fen"] == 1_100_000_00
    assert (third["contract"]["subtype"], third["contract"]["subtype_label"]) == (
        "TRF_PATENT_APP", "专利申请权转让")
    assert third["corrections"] == {"seller_nature": "高等院校", "tech_amount_fen": 1_100_000_00,
                                    "contract_subtype": "TRF_PATENT_APP"}
    assert third["winning_bid"] == first["winning_bid"] and third["version"] == 3
    assert first["corrections"] == {} and first["seller"]["nature"] == "其他事业单位"


def test_the_file_text_is_readable_and_the_wire_body_is_not_changed_by_it() -> None:
    """Filed JSON is indented with the Chinese as is; the wire body stays compact."""
    packet = build_packet(SHEET, BUYER, amount_fen=1, winning_seq=1, hammer_at_ms=0,
                          bid_log_sha256="ab" * 32)
    text = packet_file_text(packet)
    assert "一种高效固废资源化处理方法" in text and "\\u" not in text
    assert text.startswith("{\n  \"bid_log_sha256\"") and text.endswith("}\n")
    assert json.loads(text) == packet
    assert b"\n" not in packet_body(packet)


def test_a_packet_from_before_versions_is_corrected_under_its_rows_key() -> None:
    """A schema-1 packet (no key, no parties' natures) gets version 2 under '<row key>:v2'
    with the corrected field added."""
    old = {"packet_id": "p", "contract": {"type": "技术转让", "total_amount_fen": 100},
           "seller": {"name": "某大学", "uscc": "12370000MB1234567X"}, "buyer": {}}
    second = corrected_packet(old, "lot-5-p", 2, {"seller_nature": "高等院校"})
    assert (second["idempotency_key"], second["schema_version"]) == ("lot-5-p:v2", 2)
    assert second["seller"] == {"name": "某大学", "uscc": "12370000MB1234567X",
                                "nature": "高等院校"}
