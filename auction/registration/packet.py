"""The registration packet of a sold lot (技术合同认定登记 hand-off) and its one serialization.

:func:`build_packet` is pure: records in, a JSON-ready dict out. :func:`packet_body` is the only
way the packet becomes bytes, so the body stored at settlement, the body signed and the body sent
on every retry are byte for byte the same (the receiver may hash it to dedup).

Packet keys::

    packet_id, lot {id, title, result_type, ip_type, technology_field, transaction_mode},
    session {id, name, market_code},
    contract {type, total_amount_fen, tech_amount_fen, currency},
    seller {name, uscc}, buyer {name, uscc, paddle},
    hammer_at, winning_bid {seq, amount_fen}, bid_log_sha256

``hammer_at`` is RFC 3339 in China Standard Time (+08:00), ms precision. Money is integer fen.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from auction.store.outbox import BuyerRecord, LotSheet

#: Fixed namespace for packet ids: uuid5 of it and the lot's coordinates gives the same id for
#: the same lot on every run, and different ids for equal lot numbers of different markets.
PACKET_NAMESPACE = uuid.UUID("5b6f1d2e-8a43-5c1e-9f0b-7e2d4c3a1b60")

CST = timezone(timedelta(hours=8), "CST")


def packet_id(sheet: LotSheet) -> str:
    """Deterministic per lot: market code, session id and lot id."""
    name = f"{sheet.market_code}/{sheet.session_id}/{sheet.lot_id}"
    return str(uuid.uuid5(PACKET_NAMESPACE, name))


def idempotency_key(sheet: LotSheet) -> str:
    """The ``Idempotency-Key`` of the lot's delivery: one per lot, the same on every retry."""
    return f"lot-{sheet.lot_id}-{packet_id(sheet)}"


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


def build_packet(
    sheet: LotSheet,
    buyer: BuyerRecord,
    *,
    amount_fen: int,
    winning_seq: int,
    hammer_at_ms: int,
    bid_log_sha256: str,
) -> dict[str, Any]:
    """The packet for a lot sold to ``buyer`` at ``amount_fen`` (see module docstring)."""
    return {
        "packet_id": packet_id(sheet),
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
        "contract": {
            "type": sheet.contract_type,
            "total_amount_fen": amount_fen,
            "tech_amount_fen": tech_amount_fen(amount_fen, sheet.non_tech_fen),
            "currency": "CNY",
        },
        "seller": {"name": sheet.holder_name, "uscc": sheet.holder_uscc},
        "buyer": {"name": buyer.name, "uscc": buyer.uscc, "paddle": buyer.paddle},
        "hammer_at": rfc3339_cst(hammer_at_ms),
        "winning_bid": {"seq": winning_seq, "amount_fen": amount_fen},
        "bid_log_sha256": bid_log_sha256,
    }


def packet_body(packet: dict[str, Any]) -> bytes:
    """The one serialization: sorted keys, no spaces, UTF-8 (Chinese text kept as is).

    Deterministic, so the JSONB copy in the outbox re-serializes to the same bytes (the packet
    holds only strings, integers and objects, which JSONB keeps exactly).
    """
    text = json.dumps(packet, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text.encode("utf-8")
