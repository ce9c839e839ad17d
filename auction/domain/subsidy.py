"""Subsidy estimates (补贴预估) for registered technology contracts, from rules kept as versioned
data per market (``subsidy_rules``, migration 0017; the first example is 威海市's draft, seed
002). Pure: no I/O.

A :class:`RuleSet` belongs to a market code and holds from ``effective_from`` until
``effective_to`` (exclusive). A contract is judged by the rule set of the nearest market, up
from its session's market, that has one in force on the day the contract was registered
(:func:`rule_set_for`). Each :class:`Rule` of that set pays one side of the contract
(``seller``: 输出方, ``buyer``: 吸纳方) when the contract's type and that party's nature are
listed::

    estimate = base × rate_bp / 10 000 (floored to the fen), where base is
               paid  — what the buyer actually paid of the price (deposit applied + payments)
               total — 合同交易总额;   tech — 技术交易额

capped per party (its credit code, or its resident identity number), per rule and per
calendar year of registration: contracts are taken in order of registration (then lot id), each
gets what is left under the cap. Everything this module answers is an estimate (预估): the
authority decides the real subsidy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

SIDES = ("seller", "buyer")
BASES = ("paid", "total", "tech")
SIDE_LABELS = {"seller": "输出方", "buyer": "吸纳方"}
#: the word every page and export puts next to these figures
ESTIMATE_LABEL = "预估"


class RuleError(ValueError):
    """A rule set whose data cannot be read (names the rule and what is wrong)."""


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    side: str
    natures: tuple[str, ...]
    contract_types: tuple[str, ...]
    rate_bp: int
    base: str
    cap_fen: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rule:
        """A rule of ``subsidy_rules.rules``; :class:`RuleError` when a field is missing or
        out of range."""
        try:
            rule = cls(
                name=str(data["name"]), side=str(data["side"]),
                natures=tuple(str(n) for n in data["natures"]),
                contract_types=tuple(str(t) for t in data["contract_types"]),
                rate_bp=int(data["rate_bp"]), base=str(data["base"]),
                cap_fen=int(data["cap_fen"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RuleError(f"补贴规则格式有误: {exc}") from exc
        if rule.side not in SIDES or rule.base not in BASES:
            raise RuleError(f"补贴规则 {rule.name}: side 或 base 不可识别")
        if not 0 <= rule.rate_bp <= 10_000 or rule.cap_fen < 0:
            raise RuleError(f"补贴规则 {rule.name}: rate_bp 或 cap_fen 超出范围")
        return rule

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "side": self.side, "natures": list(self.natures),
                "contract_types": list(self.contract_types), "rate_bp": self.rate_bp,
                "base": self.base, "cap_fen": self.cap_fen}


@dataclass(frozen=True, slots=True)
class RuleSet:
    market_code: str
    effective_from: date
    effective_to: date | None
    name: str
    source: str
    rules: tuple[Rule, ...]

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on < self.effective_to)

    def to_json(self) -> dict[str, Any]:
        return {"market_code": self.market_code,
                "effective_from": self.effective_from.isoformat(),
                "effective_to": self.effective_to.isoformat() if self.effective_to else None,
                "name": self.name, "source": self.source,
                "rules": [r.to_json() for r in self.rules]}


@dataclass(frozen=True, slots=True)
class Party:
    key: str  # credit code or resident identity number
    nature: str


@dataclass(frozen=True, slots=True)
class Claim:
    """A registered contract as the rules read it. ``market_codes``: its session's market and
    every market above it, nearest first."""

    lot_id: int
    registered_on: date
    market_codes: tuple[str, ...]
    contract_type: str
    paid_fen: int
    total_fen: int
    tech_fen: int
    seller: Party
    buyer: Party


@dataclass(frozen=True, slots=True)
class Estimate:
    """One rule's estimate for one party of one contract (``capped``: the cap cut it)."""

    lot_id: int
    year: int
    market_code: str
    rule: str
    side: str
    party_key: str
    base_fen: int
    uncapped_fen: int
    estimate_fen: int

    @property
    def capped(self) -> bool:
        return self.estimate_fen < self.uncapped_fen

    def to_json(self) -> dict[str, Any]:
        return {"lot_id": self.lot_id, "year": self.year, "market_code": self.market_code,
                "rule": self.rule, "side": self.side, "side_label": SIDE_LABELS[self.side],
                "base_fen": self.base_fen, "uncapped_fen": self.uncapped_fen,
                "estimate_fen": self.estimate_fen, "capped": self.capped,
                "label": ESTIMATE_LABEL}


def rule_set_for(
    market_codes: Sequence[str], on: date, sets: Iterable[RuleSet]
) -> RuleSet | None:
    """The rule set of the nearest market in ``market_codes`` with one in force on ``on``."""
    in_force = {s.market_code: s for s in sets if s.in_force(on)}
    for code in market_codes:
        if code in in_force:
            return in_force[code]
    return None


def _base(rule: Rule, claim: Claim) -> int:
    amount = {"paid": claim.paid_fen, "total": claim.total_fen, "tech": claim.tech_fen}
    return max(amount[rule.base], 0)


def estimate(claims: Iterable[Claim], sets: Sequence[RuleSet]) -> list[Estimate]:
    """Every rule's estimate for every party of ``claims`` (module docstring), caps applied
    per (rule set, rule, party, year) in order of registration. Contracts no rule covers get
    no entry; an entry may be 0 when the cap is used up."""
    used: dict[tuple[str, str, str, int], int] = {}
    out: list[Estimate] = []
    for claim in sorted(claims, key=lambda c: (c.registered_on, c.lot_id)):
        rule_set = rule_set_for(claim.market_codes, claim.registered_on, sets)
        if rule_set is None:
            continue
        year = claim.registered_on.year
        for rule in rule_set.rules:
            party = claim.seller if rule.side == "seller" else claim.buyer
            if claim.contract_type not in rule.contract_types or party.nature not in rule.natures:
                continue
            base = _base(rule, claim)
            uncapped = base * rule.rate_bp // 10_000
            key = (rule_set.market_code, rule.name, party.key, year)
            granted = min(uncapped, max(rule.cap_fen - used.get(key, 0), 0))
            used[key] = used.get(key, 0) + granted
            out.append(Estimate(
                lot_id=claim.lot_id, year=year, market_code=rule_set.market_code,
                rule=rule.name, side=rule.side, party_key=party.key, base_fen=base,
                uncapped_fen=uncapped, estimate_fen=granted,
            ))
    return out
