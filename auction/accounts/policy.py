"""Who may do what, on which market: the one table of permissions (docs/roles.md). Pure.

Markets form a tree (province → city → county). A role's *scope* is a set of markets:

==============  ==========================================================================
role            scope and actions
==============  ==========================================================================
admin           platform admin: every staff action on every market (``AUCTION_ADMIN_TOKEN``
                too)
market_admin    its market and every market below it: every staff action but confirming a
                deposit (separation of duties: the market approves, finance confirms)
auctioneer      its own market (or the one session a session-bound token names): the console
finance         its own market: deposits (confirm, settle, forfeit, lists), the ledger,
                reading registrations and their steps, and the buyers' payments of the
                balance and defaults (悔拍)
bidder          its own enterprise, with its own login: apply for sessions, accept a desk
                registration, withdraw, take its bid credential, record its agent; bid (with
                that credential) in the session it holds a paddle in
viewer          nothing but public reads and streams
==============  ==========================================================================

:data:`BIDDER_ONLY` actions are never allowed to staff, the platform admin included: nobody but
the bidder's own login acts for the bidder or receives its credential (issue 9).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class Action(enum.StrEnum):
    CREATE_MARKET = "create_market"  # market_id: the parent
    MANAGE_ACCOUNTS = "manage_accounts"
    MANAGE_SESSIONS = "manage_sessions"  # sessions, lots, staff tokens
    REVIEW_REGISTRATIONS = "review_registrations"  # approve, reject, record an agent
    RUN_CONSOLE = "run_console"
    MANAGE_DEPOSITS = "manage_deposits"  # confirm, settle, forfeit, list, refunds
    VIEW_LEDGER = "view_ledger"
    REGISTER = "register"  # apply for a session (bidder) or register one at the desk (staff)
    CONFIRM_DEPOSIT = "confirm_deposit"  # finance: the deposit of an approved registration
    VIEW_REGISTRATIONS = "view_registrations"  # a session's registrations and their steps
    OWN_REGISTRATION = "own_registration"  # accept, withdraw, take the credential, agent
    BID = "bid"
    MANAGE_PAYMENTS = "manage_payments"  # the buyer's payments of the balance, defaults (悔拍)
    MANAGE_PUBLICITY = "manage_publicity"  # 成交公示: notice period, objections and their answers
    VIEW_STATISTICS = "view_statistics"  # a market's statistics and subsidy estimates, exports


STAFF_ROLES = ("market_admin", "auctioneer", "finance")
ROLES = ("viewer", "bidder", "auctioneer", "finance", "market_admin", "admin")

#: the bidder's own actions: never a staff member's, not even the platform admin's
BIDDER_ONLY = frozenset({Action.BID, Action.OWN_REGISTRATION})

_EXACT: Mapping[str, frozenset[Action]] = {
    "auctioneer": frozenset({Action.RUN_CONSOLE}),
    "finance": frozenset({
        Action.MANAGE_DEPOSITS, Action.CONFIRM_DEPOSIT, Action.VIEW_LEDGER,
        Action.VIEW_REGISTRATIONS, Action.MANAGE_PAYMENTS, Action.VIEW_STATISTICS,
    }),
}
_SUBTREE: Mapping[str, frozenset[Action]] = {
    "market_admin": frozenset(Action) - BIDDER_ONLY - {Action.CONFIRM_DEPOSIT},
}


@dataclass(frozen=True, slots=True)
class MarketTree:
    """``parent`` maps each market id to its parent's id (``None`` at the top)."""

    parent: Mapping[int, int | None]

    def __contains__(self, market_id: object) -> bool:
        return market_id in self.parent

    def ancestors(self, market_id: int) -> list[int]:
        """``market_id`` and every market above it, nearest first."""
        chain: list[int] = []
        current: int | None = market_id
        while current is not None and current not in chain:
            chain.append(current)
            current = self.parent.get(current)
        return chain

    def within(self, market_id: int, root: int) -> bool:
        """Is ``market_id`` the market ``root`` or below it?"""
        return root in self.ancestors(market_id)

    def subtree(self, root: int) -> list[int]:
        """``root`` and every market below it."""
        return [m for m in self.parent if self.within(m, root)]


@dataclass(frozen=True, slots=True)
class Actor:
    """The parts of a principal the policy reads."""

    role: str
    market_id: int = 0
    session_id: int = 0
    bidder_id: int = 0
    paddle: int = 0
    #: ``account`` (an account's own login), ``bid`` (a bid credential) or ``staff``
    kind: str = ""


def allows(
    actor: Actor, action: Action, *, market_id: int, tree: MarketTree, session_id: int = 0,
    bidder_id: int = 0,
) -> bool:
    """May ``actor`` do ``action`` on market ``market_id`` (and ``session_id`` / ``bidder_id``
    where the action is about one)? Unknown markets are refused to everyone but the admin."""
    if action is Action.BID:
        return (
            actor.role == "bidder" and actor.kind == "bid" and actor.paddle > 0
            and session_id > 0 and actor.session_id == session_id
        )
    if action is Action.OWN_REGISTRATION or (action is Action.REGISTER
                                             and actor.role == "bidder"):
        return (
            actor.role == "bidder" and actor.kind == "account" and actor.bidder_id > 0
            and actor.bidder_id == bidder_id
        )
    if actor.role == "admin":
        return True
    if actor.role == "auctioneer" and actor.session_id and not actor.market_id:
        # a session token minted before tokens carried the market: that session only
        return action is Action.RUN_CONSOLE and session_id == actor.session_id
    if market_id not in tree or actor.market_id not in tree:
        return False
    if action in _SUBTREE.get(actor.role, ()):
        return tree.within(market_id, actor.market_id)
    if action in _EXACT.get(actor.role, ()):
        if market_id != actor.market_id:
            return False
        # a session-bound auctioneer token (issued per session) runs that session only
        return not (actor.session_id and session_id and actor.session_id != session_id)
    return False


def scope(actor: Actor, tree: MarketTree) -> list[int]:
    """The markets whose staff pages ``actor`` may see (empty for bidders and viewers)."""
    if actor.role == "admin":
        return list(tree.parent)
    if actor.role == "market_admin" and actor.market_id in tree:
        return tree.subtree(actor.market_id)
    if actor.role in _EXACT and actor.market_id in tree:
        return [actor.market_id]
    return []


def tree_of(rows: Iterable[tuple[int, int | None]]) -> MarketTree:
    return MarketTree({market_id: parent for market_id, parent in rows})
