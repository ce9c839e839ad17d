"""Which registration endpoint a market's packets go to (each county or city has its own
office). Pure: tables in, an endpoint out.

A market's own endpoint (``PUT /api/v1/markets/{code}/registration-endpoint``) wins; a market
without one inherits the nearest ancestor's (county → city → province); with none up the tree,
the deployment's ``AUCTION_REGISTRATION_URL`` / ``AUCTION_REGISTRATION_SECRET`` is the default;
with no URL there either, packets are filed to disk. The secret that signs a packet (and
verifies the office's callbacks about it) is the resolved endpoint's.
"""

from __future__ import annotations

from dataclasses import dataclass

from auction.settings import Secret, Settings
from auction.store.answers import EndpointTable


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A resolved endpoint. ``url`` ``None``: file to disk. ``source_market_id`` is the
    market that set it (``None``: the deployment's default)."""

    url: str | None
    secret: Secret
    source_market_id: int | None


def resolve(table: EndpointTable, market_id: int | None, settings: Settings) -> Endpoint:
    """The endpoint for ``market_id`` (module docstring)."""
    seen: set[int] = set()
    current = market_id
    while current is not None and current not in seen:
        seen.add(current)
        own = table.own.get(current)
        if own is not None:
            return Endpoint(own.url, Secret(own.secret), current)
        current = table.parent.get(current)
    return Endpoint(settings.registration_url, settings.registration_secret, None)
