"""成交确认书 facts: the deposit applied to a won lot, the masked buyer, the verification URL."""

from __future__ import annotations

from datetime import UTC, datetime

from auction.domain.confirmation import Buyer, Confirmation, deposit_applied


def test_lot_deposit_goes_to_its_lot() -> None:
    """A deposit paid for one lot is applied to that lot only."""
    won = [(1, 500_00), (2, 800_00)]
    deposits = [(2, 100_00, "applied")]
    assert deposit_applied(2, won, deposits) == 100_00
    assert deposit_applied(1, won, deposits) == 0


def test_band_deposit_is_shared_in_hammer_order_capped_at_price() -> None:
    """A band deposit fills the earliest won lot up to its price, the rest goes to the next."""
    won = [(7, 300_00), (5, 10_000_00)]
    deposits = [(None, 1_000_00, "held")]
    assert deposit_applied(7, won, deposits) == 300_00
    assert deposit_applied(5, won, deposits) == 700_00
    assert deposit_applied(9, won, deposits) == 0


def test_refunded_or_unpaid_deposits_do_not_count() -> None:
    """Released (refunded) and required (never paid) deposits are not applied."""
    won = [(1, 500_00)]
    deposits = [(None, 50_00, "released"), (1, 70_00, "required"), (1, 30_00, "forfeited")]
    assert deposit_applied(1, won, deposits) == 30_00


def _confirmation(kind: str) -> Confirmation:
    person = kind == "person"
    return Confirmation(
        lot_id=42, market_code="370100", market_name="济南市技术市场", session_id=3,
        session_name="春季专场", ordinal=1, title="一种电池", result_type="专利",
        ip_type="发明专利", transaction_mode="转让", holder_name="某大学",
        holder_uscc="12370000MB0000000X",
        buyer=Buyer(kind=kind, name="欧阳娜娜" if person else "某公司",
                    uscc=None if person else "91370100MA3C4HD84X",
                    resident_id="11010519491231002X" if person else None),
        paddle=101, amount_fen=123456789,
        hammer_at=datetime(2026, 11, 30, 2, 30, tzinfo=UTC), deposit_applied_fen=100_00,
        bid_count=4, bid_log_sha256="a" * 64,
    )


def test_public_facts_mask_a_person() -> None:
    """The public answer masks a person's name and resident id; the private one masks the id
    only; an enterprise keeps its name and credit code."""
    public = _confirmation("person").facts(public=True)
    assert public["buyer"]["name"] == "欧***"
    assert public["buyer"]["resident_id"] == "110105********002X"
    private = _confirmation("person").facts(public=False)
    assert private["buyer"]["name"] == "欧阳娜娜"
    assert private["buyer"]["resident_id"] == "110105********002X"
    firm = _confirmation("enterprise").facts(public=True)
    assert firm["buyer"] == {"kind": "enterprise", "name": "某公司",
                             "uscc": "91370100MA3C4HD84X", "resident_id": None}


def test_money_and_dates() -> None:
    """Balance is price less deposit; capitals, hammer time in CST and number are stated."""
    facts = _confirmation("enterprise").facts(public=False)
    assert facts["balance_fen"] == 123456789 - 100_00
    assert facts["amount_capitals"] == "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"
    assert facts["hammer_at"] == "2026-11-30T10:30:00+08:00"
    assert facts["number"] == "370100-20261130-42"
    assert facts["balance_due_on"] > "2026-11-30"

