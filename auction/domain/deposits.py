"""Deposit (保证金) rules: states, guarded transitions, coverage and conservation. No I/O.

A deposit belongs to one registration and covers either one lot (``lot_id``) or the session
band (``lot_id is None``: every lot whose requirement is ≤ the amount). Its life::

    required ──► confirmed ──► held ──► released   (lost, after the session: refund)
                    │            ├────► applied    (won: counts towards the price)
                    │            └────► forfeited  (default, 悔拍)
                    └─────────────────► released   (session ended before it was held)
    applied ──► forfeited   (the winner defaults after the hammer)

Money is integer fen. Conservation (per market, at all times): the sum of ``confirmed`` ledger
entries equals the sum of the deposits whose state is past ``required``.

Exception tree::

    DepositError(code, message)   ValueError; code ``wrong_state``
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class DepositState(enum.StrEnum):
    REQUIRED = "required"
    CONFIRMED = "confirmed"
    HELD = "held"
    RELEASED = "released"
    APPLIED = "applied"
    FORFEITED = "forfeited"


#: the states in which the money is on the market's account and the bidder may bid
SPENDABLE = frozenset({DepositState.CONFIRMED, DepositState.HELD})

#: states that hold money (everything past ``required``)
FUNDED = frozenset(DepositState) - {DepositState.REQUIRED}

_MOVES: Mapping[DepositState, frozenset[DepositState]] = {
    DepositState.REQUIRED: frozenset({DepositState.CONFIRMED}),
    DepositState.CONFIRMED: frozenset({DepositState.HELD, DepositState.RELEASED}),
    DepositState.HELD: frozenset(
        {DepositState.RELEASED, DepositState.APPLIED, DepositState.FORFEITED}
    ),
    DepositState.APPLIED: frozenset({DepositState.FORFEITED}),
    DepositState.RELEASED: frozenset(),
    DepositState.FORFEITED: frozenset(),
}


class DepositError(ValueError):
    """A deposit move the rules do not allow; names the state."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


def check_move(current: DepositState, target: DepositState) -> None:
    """Raise :class:`DepositError` unless ``current → target`` is a legal move."""
    if target not in _MOVES[current]:
        raise DepositError("wrong_state", f"保证金状态 {current.value} 不能变为 {target.value}")


def can_move(current: DepositState, target: DepositState) -> bool:
    return target in _MOVES[current]


def default_requirement(start_price_fen: int) -> int:
    """The default deposit of a lot: 10 % of the start price, rounded down to whole fen."""
    return start_price_fen // 10


def covers(
    deposit_lot: int | None, amount_fen: int, state: DepositState, *, lot_id: int,
    requirement_fen: int,
) -> bool:
    """Does this deposit let its bidder bid on ``lot_id`` (requirement ``requirement_fen``)?"""
    if state not in SPENDABLE:
        return False
    if deposit_lot is not None and deposit_lot != lot_id:
        return False
    return amount_fen >= requirement_fen


def after_session(deposit_lot: int | None, won_lots: frozenset[int]) -> DepositState:
    """Where a held deposit goes when the session is over: ``applied`` when it covered a lot its
    bidder won (the band covers all of them), else ``released`` (refund)."""
    if deposit_lot is None:
        return DepositState.APPLIED if won_lots else DepositState.RELEASED
    return DepositState.APPLIED if deposit_lot in won_lots else DepositState.RELEASED


def conserved(received_fen: int, balances: Mapping[str, int]) -> bool:
    """Σ confirmed entries = Σ held + released + applied + forfeited (+ confirmed, not yet
    held): every fen received is in exactly one funded state."""
    return received_fen == sum(v for k, v in balances.items() if k in FUNDED)
