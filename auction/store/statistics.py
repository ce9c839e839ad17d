"""What statistics and subsidy estimates are computed from (:mod:`auction.domain.statistics`,
:mod:`auction.domain.subsidy`): every sold lot of a set of markets with its registration
packet (the figures the office was sent, corrections included) and the office's answer; the
market tree with codes and names; the subsidy rule sets (``subsidy_rules``, migration 0017);
and what the buyer actually paid of each registered contract.

A lot whose buyer defaulted (悔拍, ``lot_defaults``) made no contract and is left out. Read in one
read-only snapshot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from auction.domain.deadlines import CST
from auction.domain.payment import deposit_applied
from auction.domain.registration_form import (
    nature_of_uscc,
    region_of_resident_id,
    region_of_uscc,
)
from auction.domain.statistics import Contract
from auction.domain.subsidy import Claim, Party, Rule, RuleSet
from auction.store.confirmation import applied_in
from auction.store.errors import translated

if TYPE_CHECKING:
    from auction.store import Store

_SOLD = """
SELECT r.lot_id, l.session_id, s.name AS session_name, s.market_id, r.closed_at, r.winner_id,
       r.amount_fen, l.contract_type, l.technology_field, l.transaction_mode, l.result_type,
       l.non_tech_fen, l.holder_uscc, b.kind AS buyer_kind, b.uscc AS buyer_uscc, b.resident_id,
       o.packet, o.status, o.registration_no, o.answered_at,
       coalesce((SELECT sum(p.amount_fen) FROM lot_payments p WHERE p.lot_id = r.lot_id), 0)
           AS payments_fen
FROM lot_results r
JOIN lots l ON l.id = r.lot_id
JOIN sessions s ON s.id = l.session_id
JOIN bidders b ON b.id = r.winner_id
LEFT JOIN registration_outbox o ON o.lot_id = r.lot_id
WHERE r.outcome = 'sold' AND s.market_id = ANY($1::bigint[])
  AND NOT EXISTS (SELECT 1 FROM lot_defaults d WHERE d.lot_id = r.lot_id)
ORDER BY r.lot_id
"""

_MARKETS = "SELECT id, code, name, parent_id FROM markets ORDER BY id"

_RULES = """
SELECT market_code, effective_from, effective_to, name, source, rules FROM subsidy_rules
ORDER BY market_code, effective_from
"""


@dataclass(frozen=True, slots=True)
class MarketRow:
    id: int
    code: str
    name: str
    parent_id: int | None


@dataclass(frozen=True, slots=True)
class Sale:
    """A sold lot: its contract as statistics count it, and as the subsidy rules read it
    (``claim`` is ``None`` until the office registered it)."""

    contract: Contract
    buyer_id: int
    claim: Claim | None


def _json(value: Any) -> dict[str, Any]:
    """A stored JSON object; anything else (none, another JSON value) reads as ``{}``."""
    if isinstance(value, str):
        value = json.loads(value)
    return dict(value) if isinstance(value, dict) else {}


def _part(packet: dict[str, Any], name: str) -> dict[str, Any]:
    """A packet's part (``contract``, ``lot``, ``seller``, ``buyer``): ``{}`` when it is absent
    or not an object, so a packet of another shape falls back to the lot's own columns rather
    than failing every statistics read of the deployment."""
    part = packet.get(name)
    return dict(part) if isinstance(part, dict) else {}


def _amount(part: dict[str, Any], name: str, default: int) -> int:
    value = part.get(name)
    return value if type(value) is int else default


def _party(side: dict[str, Any], uscc: str | None, resident_id: str | None) -> tuple[str, str,
                                                                                   str]:
    """``(key, region, nature)`` from the packet's side, else from the credit code or
    resident identity number."""
    key = str(side.get("uscc") or side.get("resident_id") or uscc or resident_id or "")
    if resident_id and not uscc:
        region, nature = region_of_resident_id(resident_id), "个人"
    else:
        region, nature = region_of_uscc(uscc or ""), nature_of_uscc(uscc or "")
    return key, str(side.get("region") or region), str(side.get("nature") or nature)


async def markets(store: Store) -> list[MarketRow]:
    with translated():
        rows = await store.pool.fetch(_MARKETS)
    return [MarketRow(r["id"], str(r["code"]), r["name"], r["parent_id"]) for r in rows]


async def rule_sets(store: Store) -> list[RuleSet]:
    with translated():
        rows = await store.pool.fetch(_RULES)
    return [RuleSet(
        market_code=str(r["market_code"]), effective_from=r["effective_from"],
        effective_to=r["effective_to"], name=r["name"], source=r["source"],
        rules=tuple(Rule.from_json(x) for x in (
            json.loads(r["rules"]) if isinstance(r["rules"], str) else r["rules"])),
    ) for r in rows]


async def sales(store: Store, market_ids: list[int],
                codes_up: dict[int, tuple[str, ...]]) -> list[Sale]:
    """Every sold lot of the sessions of ``market_ids``. ``codes_up``: per market id, its
    code and its ancestors' (nearest first), for the subsidy rule look-up."""
    out: list[Sale] = []
    with translated():
        async with store.pool.acquire() as conn, conn.transaction(
            isolation="repeatable_read", readonly=True
        ):
            for r in await conn.fetch(_SOLD, market_ids):
                packet = _json(r["packet"])
                contract = _part(packet, "contract")
                lot = _part(packet, "lot")
                price = int(r["amount_fen"])
                seller_key, seller_region, seller_nature = _party(
                    _part(packet, "seller"), r["holder_uscc"], None)
                buyer_key, buyer_region, buyer_nature = _party(
                    _part(packet, "buyer"),
                    None if r["buyer_kind"] == "person" and r["resident_id"] else r["buyer_uscc"],
                    r["resident_id"] if r["buyer_kind"] == "person" else None)
                registered = r["status"] == "registered" and r["registration_no"] is not None
                registered_on: date | None = (
                    r["answered_at"].astimezone(CST).date()
                    if registered and r["answered_at"] is not None else None)
                if registered and registered_on is None:
                    registered = False
                total = _amount(contract, "total_amount_fen", price)
                tech = _amount(contract, "tech_amount_fen", max(price - r["non_tech_fen"], 0))
                c = Contract(
                    lot_id=r["lot_id"], session_id=r["session_id"],
                    session_name=r["session_name"], market_id=r["market_id"],
                    settled_on=r["closed_at"].astimezone(CST).date(),
                    registered_on=registered_on,
                    registration_no=r["registration_no"] if registered else None,
                    contract_type=str(contract.get("type") or r["contract_type"]),
                    technology_field=str(contract.get("technology_field")
                                         or r["technology_field"]),
                    transaction_mode=str(contract.get("transaction_mode")
                                         or r["transaction_mode"]),
                    result_type=str(lot.get("result_type") or r["result_type"]),
                    total_fen=total, tech_fen=tech,
                    seller_region=seller_region, seller_nature=seller_nature,
                    buyer_region=buyer_region, buyer_nature=buyer_nature,
                )
                claim = None
                if registered and registered_on is not None:
                    applied = await applied_in(conn, r["lot_id"], r["session_id"],
                                               r["winner_id"])
                    paid = min(price, deposit_applied(price, applied) + int(r["payments_fen"]))
                    claim = Claim(
                        lot_id=r["lot_id"], registered_on=registered_on,
                        market_codes=codes_up.get(r["market_id"], ()),
                        contract_type=c.contract_type, paid_fen=paid, total_fen=total,
                        tech_fen=tech, seller=Party(seller_key, seller_nature),
                        buyer=Party(buyer_key, buyer_nature),
                    )
                out.append(Sale(c, int(r["winner_id"]), claim))
    return out
