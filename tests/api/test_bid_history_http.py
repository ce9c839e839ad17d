"""The public bid history of a lot: each bid's source (online / floor / phone) and whether the
auctioneer retracted it; retracted bids stay listed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx

from auction.store import Store
from tests.api.conftest import NewLot


async def test_bid_history_shows_source_and_retraction(
    client: httpx.AsyncClient, store: Store, new_lot: NewLot,
) -> None:
    """Journal rows without ``source`` are online; floor and phone bids say so; a bid named by
    a ``bid_retracted`` event's ``bid_seq`` is retracted and still listed, the others are not
    (a retraction's own paddle and amount do not make another bid of the same amount
    retracted)."""
    lot = await new_lot()
    bidder = await store.create_bidder(name="保密的竞买企业", uscc=f"R{lot['id']:017d}")
    at = datetime(2026, 4, 18, 2, 0, tzinfo=UTC)
    rows = [
        (1, "opened", None, None, None, {"start": 200_000_000, "inc": 10_000_000}),
        (2, "bid", bidder.id, 101, 200_000_000, {}),
        (3, "bid", bidder.id, 102, 210_000_000, {"source": "floor"}),
        (4, "bid", bidder.id, 103, 220_000_000, {"source": "phone"}),
        (5, "bid_retracted", None, 103, 220_000_000,
         {"bid_seq": 4, "high": 210_000_000, "high_paddle": 102, "bids": 2}),
        (6, "bid", bidder.id, 104, 220_000_000, {"source": "online"}),
        (7, "bid_retracted", None, 104, 220_000_000,
         {"bid_seq": 6, "high": 210_000_000, "high_paddle": 102, "bids": 2}),
        (8, "bid_retracted", None, 102, 210_000_000,
         {"bid_seq": "3", "high": 200_000_000, "high_paddle": 101, "bids": 1}),
        (9, "bid", bidder.id, 105, 230_000_000, {"source": "telepathy"}),
    ]
    async with store.pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO lot_events (lot_id, seq, epoch, kind, at, bidder_id, paddle, amount_fen,"
            " data) VALUES ($1, $2, 'e', $3, $4, $5, $6, $7, $8::text::jsonb)",
            [(lot["id"], seq, kind, at, who, paddle, amount, json.dumps(data))
             for seq, kind, who, paddle, amount, data in rows],
        )
    resp = await client.get(f"/api/v1/lots/{lot['id']}/bids")
    assert resp.status_code == 200, resp.text
    bids = resp.json()["bids"]
    assert [(b["seq"], b["paddle"], b["amount_fen"], b["source"], b["retracted"])
            for b in bids] == [
        (2, 101, 200_000_000, "online", False),
        (3, 102, 210_000_000, "floor", False),  # bid_seq "3" (a string) names no bid
        (4, 103, 220_000_000, "phone", True),
        (6, 104, 220_000_000, "online", True),
        (9, 105, 230_000_000, "online", False),  # an unknown source is not repeated
    ]
    assert all("bidder" not in b and "bidder_id" not in b for b in bids)
