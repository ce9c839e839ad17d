"""A lot that does not exist is refused exactly like another market's (docs/roles.md): bids and
console commands, over the websocket and over HTTP, get the same answer for a guessed lot id as
for a real lot of county B; only the platform admin is told ``unknown_lot``."""

from __future__ import annotations

from typing import Any

import httpx

from tests.accounts.world import ADMIN, bearer, build_world
from tests.e2e.harness import Server, raw_client

GUESSED = 987_654_321


def comparable(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer without what the request itself put in it (its key and lot)."""
    return {k: v for k, v in answer.items() if k not in ("key", "lot")}


async def answer_to(server: Server, token: str, frame: dict[str, Any]) -> dict[str, Any]:
    async with raw_client(server, token) as raw:
        await raw.send(**frame)
        return await raw.until(lambda m: m.get("key") == frame["key"])


async def test_unknown_and_foreign_lots_are_refused_the_same_way(
    server: Server, http: httpx.AsyncClient
) -> None:
    """County A's bidder and auctioneer, and A's market admin over HTTP, get one answer for B's
    lot and for a lot that does not exist; their own lot is not refused that way."""
    world = await build_world(http, bidders=1, lots=1)
    foreign, own = world.b.lots[0], world.a.lots[0]
    bidder, auctioneer = world.a.bidders[0]["token"], world.a.tokens["auctioneer"]

    bids = [await answer_to(server, bidder, {"t": "bid", "lot": lot, "amount": 1_000_000,
                                             "key": f"bid-{lot}"}) for lot in (foreign, GUESSED)]
    assert bids[0]["t"] == "nack" and bids[0]["code"] == "forbidden", bids
    assert comparable(bids[0]) == comparable(bids[1]), bids
    mine = await answer_to(server, bidder, {"t": "bid", "lot": own, "amount": 1_000_000,
                                            "key": "own"})
    assert mine["code"] != "forbidden", mine  # its own lot, not open yet

    cmds = [await answer_to(server, auctioneer, {"t": "cmd", "lot": lot, "op": "open",
                                                 "key": f"cmd-{lot}"})
            for lot in (foreign, GUESSED)]
    assert cmds[0]["t"] == "nack" and cmds[0]["code"] == "forbidden", cmds
    assert comparable(cmds[0]) == comparable(cmds[1]), cmds

    for token in (auctioneer, world.a.tokens["market_admin"]):
        answers = [await http.post(f"/api/v1/lots/{lot}/commands", headers=bearer(token),
                                   json={"op": "open", "key": "k1"}) for lot in (foreign, GUESSED)]
        assert [r.status_code for r in answers] == [403, 403]
        assert answers[0].json() == answers[1].json()
        assert answers[0].json()["error"]["code"] == "forbidden"

    # the platform admin may touch every lot, so it is told what does not exist
    unknown = await http.post(f"/api/v1/lots/{GUESSED}/commands", headers=ADMIN,
                              json={"op": "open", "key": "k1"})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "unknown_lot")
