"""Subsidy estimates (auction/domain/subsidy.py): rates, bases, caps per party and year, the
nearest market's rule set in force."""

from __future__ import annotations

from datetime import date

import pytest

from auction.domain.subsidy import Claim, Party, Rule, RuleError, RuleSet, estimate, rule_set_for

WEIHAI = RuleSet("371000", date(2026, 1, 1), None, "威海", "seed 002", (
    Rule("企业吸纳技术", "buyer", ("企业",), ("技术开发", "技术转让"), 500, "paid", 30_000_000),
    Rule("高校、新型研发机构输出技术", "seller", ("高等院校", "科研机构"), ("技术开发", "技术转让"),
         100, "paid", 200_000_000),
))


def claim(lot: int, on: date, *, paid: int, contract: str = "技术转让", buyer: str = "B1",
          seller_nature: str = "高等院校", codes: tuple[str, ...] = ("371002", "371000")
          ) -> Claim:
    return Claim(lot_id=lot, registered_on=on, market_codes=codes, contract_type=contract,
                 paid_fen=paid, total_fen=paid * 2, tech_fen=paid,
                 seller=Party("S1", seller_nature), buyer=Party(buyer, "企业"))


def test_five_percent_to_the_buyer_and_one_percent_to_the_university() -> None:
    """A 100万 paid 技术转让: 5万 to the buying enterprise, 1万 to the selling university."""
    got = estimate([claim(1, date(2026, 3, 1), paid=100_000_000)], [WEIHAI])
    assert [(e.side, e.estimate_fen, e.capped) for e in got] == [
        ("buyer", 5_000_000, False), ("seller", 1_000_000, False)]


def test_the_cap_runs_per_party_per_year_in_registration_order() -> None:
    """Three 300万 contracts of one buyer in 2026 (15万 each): 15万, 15万, then 0 (cap 30万); the
    same buyer in 2027 starts again; another buyer has its own cap."""
    claims = [claim(3, date(2026, 9, 1), paid=300_000_000),
              claim(1, date(2026, 2, 1), paid=300_000_000),
              claim(2, date(2026, 5, 1), paid=300_000_000),
              claim(4, date(2027, 1, 5), paid=300_000_000),
              claim(5, date(2026, 9, 2), paid=300_000_000, buyer="B2")]
    buyer = {e.lot_id: e for e in estimate(claims, [WEIHAI]) if e.side == "buyer"}
    assert [buyer[n].estimate_fen for n in (1, 2, 3, 4, 5)] == [
        15_000_000, 15_000_000, 0, 15_000_000, 15_000_000]
    assert buyer[3].capped and buyer[3].uncapped_fen == 15_000_000


def test_the_seller_cap_is_two_million() -> None:
    """1 % of 3亿 = 300万 is capped at 200万 for a 科研机构."""
    got = estimate([claim(1, date(2026, 3, 1), paid=30_000_000_000, seller_nature="科研机构")],
                   [WEIHAI])
    seller = [e for e in got if e.side == "seller"]
    assert seller[0].estimate_fen == 200_000_000 and seller[0].capped


def test_uncovered_contracts_and_parties_get_nothing() -> None:
    """A 技术许可 contract, an enterprise seller, a market outside Weihai, a day before the rules
    hold: no estimate."""
    assert estimate([claim(1, date(2026, 3, 1), paid=10_000, contract="技术许可")], [WEIHAI]) == []
    only_buyer = estimate([claim(1, date(2026, 3, 1), paid=10_000, seller_nature="企业")],
                          [WEIHAI])
    assert [e.side for e in only_buyer] == ["buyer"]
    assert estimate([claim(1, date(2026, 3, 1), paid=10_000, codes=("370100", "370000"))],
                    [WEIHAI]) == []
    assert estimate([claim(1, date(2025, 12, 31), paid=10_000)], [WEIHAI]) == []


def test_the_nearest_market_rule_set_in_force_wins() -> None:
    """A county's own set beats the city's; a set past its end date is skipped."""
    county = RuleSet("371002", date(2026, 1, 1), date(2026, 7, 1), "县", "x", ())
    assert rule_set_for(("371002", "371000"), date(2026, 3, 1), [WEIHAI, county]) is county
    assert rule_set_for(("371002", "371000"), date(2026, 7, 1), [WEIHAI, county]) is WEIHAI


@pytest.mark.parametrize("data", [
    {"name": "x"}, {"name": "x", "side": "both", "natures": [], "contract_types": [],
                    "rate_bp": 1, "base": "paid", "cap_fen": 1},
    {"name": "x", "side": "buyer", "natures": [], "contract_types": [], "rate_bp": 20_000,
     "base": "paid", "cap_fen": 1},
])
def test_malformed_rules_are_refused(data: dict[str, object]) -> None:
    """Missing fields, an unknown side, a rate above 100 %: RuleError."""
    with pytest.raises(RuleError):
        Rule.from_json(data)
