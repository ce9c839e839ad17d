"""The registration packet of a sold lot (技术合同认定登记 hand-off) and its serializations.

:func:`build_packet` is pure: records in, a JSON-ready dict out. :func:`packet_body` is the only
way the packet becomes the bytes that are stored, signed and sent, so the body stored at
settlement, the body signed and the body sent on every retry are byte for byte the same (the
receiver may hash it to dedup). :func:`packet_file_text` is the other purpose, for people: a
packet filed to disk (no endpoint configured) is indented UTF-8 JSON with the Chinese as is.

Packet keys (``schema_version`` 2, docs/formats.md "Registration packet")::

    schema_version, packet_id, version, idempotency_key,
    lot {id, title, result_type, ip_type, technology_field, transaction_mode},
    session {id, name, market_code}, market {code, name},
    contract {type, subtype, subtype_label, technology_field, transaction_mode,
              total_amount_fen, tech_amount_fen, currency, deal, deal_label},
    seller {name, kind, uscc, resident_id, region, nature},
    buyer {name, kind, uscc, resident_id, region, nature, paddle},
    broker (null: the data model has no broker),
    corrections {…} (what the market corrected, cumulative; {} in version 1),
    hammer_at, winning_bid {seq, amount_fen}, bid_log_sha256

``hammer_at`` is RFC 3339 in China Standard Time (+08:00), ms precision. Money is integer fen.
A person's ``resident_id`` is in full: the office registers the contract under it (the packet
goes only to the office, signed, or to the operator's data directory).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from auction.domain.listing_sale import DEAL_LABELS
from auction.domain.registration_form import (
    PERSON,
    SUBTYPES,
    contract_subtype,
    nature_of_uscc,
    region_of_resident_id,
    region_of_uscc,
    subtype_label,
)
from auction.store.outbox import BuyerRecord, LotSheet

#: the packet layout; 1 had no parties' regions and natures, no sub-type, no versions
SCHEMA_VERSION = 2

#: Fixed namespace for packet ids: uuid5 of it and the lot's coordinates gives the same id for
#: the same lot on every run, and different ids for equal lot numbers of different markets.
PACKET_NAMESPACE = uuid.UUID("5b6f1d2e-8a43-5c1e-9f0b-7e2d4c3a1b60")

CST = timezone(timedelta(hours=8), "CST")

#: the fields a market may correct in a new version (``corrections``)
CORRECTABLE = ("contract_subtype", "tech_amount_fen", "seller_nature", "buyer_nature",
               "seller_region", "buyer_region")


def packet_id(sheet: LotSheet) -> str:
    """Deterministic per lot: market code, session id and lot id."""
    name = f"{sheet.market_code}/{sheet.session_id}/{sheet.lot_id}"
    return str(uuid.uuid5(PACKET_NAMESPACE, name))


def idempotency_key(sheet: LotSheet) -> str:
    """The ``Idempotency-Key`` of the lot's first version: the same on every retry."""
    return f"lot-{sheet.lot_id}-{packet_id(sheet)}"


def version_key(base_key: str, version: int) -> str:
    """The key of version ``version``: the base key for 1, ``<base>:v<n>`` after, so the
    receiver dedups retries of one version and takes each version once."""
    return base_key if version == 1 else f"{base_key}:v{version}"


def base_key(key: str) -> str:
    """The first version's key of any version's key."""
    return key.split(":v", 1)[0]


def rfc3339_cst(at_ms: int) -> str:
    """Server time in ms → ``2025-04-18T10:05:00.123+08:00``."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=at_ms)
    return moment.astimezone(CST).isoformat(timespec="milliseconds")


def tech_amount_fen(total_fen: int, non_tech_fen: int) -> int:
    """技术交易额 = contract total − non-technical components (DOMAIN.md "Amounts").

    Never below zero: a lot whose declared non-technical part exceeds the hammer price still
    registers, with a technology amount of 0 for the office to query.
    """
    return max(total_fen - non_tech_fen, 0)


def _organisation(name: str, uscc: str) -> dict[str, Any]:
    return {"name": name, "kind": "enterprise", "uscc": uscc, "resident_id": None,
            "region": region_of_uscc(uscc), "nature": nature_of_uscc(uscc)}


def _party(buyer: BuyerRecord) -> dict[str, Any]:
    if buyer.kind == "person" and buyer.resident_id:
        return {"name": buyer.name, "kind": "person", "uscc": None,
                "resident_id": buyer.resident_id,
                "region": region_of_resident_id(buyer.resident_id), "nature": PERSON}
    return _organisation(buyer.name, buyer.uscc or "")


def build_packet(
    sheet: LotSheet,
    buyer: BuyerRecord,
    *,
    amount_fen: int,
    winning_seq: int,
    hammer_at_ms: int,
    bid_log_sha256: str,
) -> dict[str, Any]:
    """Version 1 of the packet for a lot sold to ``buyer`` at ``amount_fen`` (module
    docstring)."""
    subtype = contract_subtype(sheet.contract_type, sheet.result_type, sheet.ip_type)
    return {
        "schema_version": SCHEMA_VERSION,
        "packet_id": packet_id(sheet),
        "version": 1,
        "idempotency_key": idempotency_key(sheet),
        "lot": {
            "id": sheet.lot_id,
            "title": sheet.title,
            "result_type": sheet.result_type,
            "ip_type": sheet.ip_type,
            "technology_field": sheet.technology_field,
            "transaction_mode": sheet.transaction_mode,
        },
        "session": {
            "id": sheet.session_id,
            "name": sheet.session_name,
            "market_code": sheet.market_code,
        },
        "market": {"code": sheet.market_code, "name": sheet.market_name},
        "contract": {
            "type": sheet.contract_type,
            "subtype": subtype,
            "subtype_label": subtype_label(subtype),
            "technology_field": sheet.technology_field,
            "transaction_mode": sheet.transaction_mode,
            "total_amount_fen": amount_fen,
            "tech_amount_fen": tech_amount_fen(amount_fen, sheet.non_tech_fen),
            "currency": "CNY",
            # how the sale came about: 拍卖, or 协议成交 with a listing's one buyer
            "deal": sheet.deal,
            "deal_label": DEAL_LABELS[sheet.deal],
        },
        "seller": _organisation(sheet.holder_name, sheet.holder_uscc),
        "buyer": {**_party(buyer), "paddle": buyer.paddle},
        "broker": None,
        "corrections": {},
        "hammer_at": rfc3339_cst(hammer_at_ms),
        "winning_bid": {"seq": winning_seq, "amount_fen": amount_fen},
        "bid_log_sha256": bid_log_sha256,
    }


def corrected_packet(
    previous: dict[str, Any], previous_key: str, version: int, corrections: dict[str, Any]
) -> dict[str, Any]:
    """The packet of ``version``: ``previous`` (sent under ``previous_key``) with
    ``corrections`` (keys of :data:`CORRECTABLE`, already validated) applied and recorded,
    cumulatively, under ``corrections``, and the key of ``version``. Everything else (the sale
    itself) stays as it was."""
    packet: dict[str, Any] = json.loads(json.dumps(previous))
    packet["schema_version"] = SCHEMA_VERSION
    packet["version"] = version
    packet["idempotency_key"] = version_key(base_key(previous_key), version)
    contract = packet["contract"]
    for name, value in corrections.items():
        if name == "contract_subtype":
            contract["subtype"] = value
            contract["subtype_label"] = subtype_label(value)
            contract["type"] = SUBTYPES[value].contract_type
        elif name == "tech_amount_fen":
            contract["tech_amount_fen"] = value
        else:
            side, field = name.split("_", 1)  # seller_nature → seller, nature
            packet[side][field] = value
    packet["corrections"] = {**dict(previous.get("corrections") or {}), **corrections}
    return packet


def packet_body(packet: dict[str, Any]) -> bytes:
    """The one serialization for the wire and the store: sorted keys, no spaces, UTF-8
    (Chinese text kept as is).

    Deterministic, so the JSONB copy in the outbox re-serializes to the same bytes (the packet
    holds only strings, integers, null and objects, which JSONB keeps exactly).
    """
    text = json.dumps(packet, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text.encode("utf-8")


def packet_file_text(packet: dict[str, Any]) -> str:
    """The serialization for people (a filed packet): indented, sorted, Chinese as is."""
    return json.dumps(packet, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
