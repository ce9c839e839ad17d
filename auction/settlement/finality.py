"""Which closed lots are final and may be settled (rule C9), for many lots in one round trip.

A live lot's hammer or pass becomes final (``finalize.lua``) once the reopen window passed since
its close, or once another lot of its session opened; until then the auctioneer may reopen it
(C5). The drainer asks for every closed lot of a batch at once: one pipeline of ``finalize.lua``
calls (the script is loaded first if Redis lacks it, through the recovery's fence).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from auction.rooms.keys import Keys
    from auction.rooms.scripts import RoomScript

log = logging.getLogger(__name__)


async def final_lots(
    redis: Redis, keys: Keys, finalize: RoomScript, lot_ids: list[int], window_ms: int
) -> tuple[list[int], list[int]]:
    """``(final, reopened)``: the lots whose close is final, and those reopened since (not
    closed any more). A lot still within its reopen window is in neither; so is a lot whose call
    failed (the next tick asks again). A lot without a room (lost in Redis; the recovery
    rebuilds it) counts as final: the journal decides."""
    async with redis.pipeline(transaction=False) as pipe:
        for i, lot_id in enumerate(lot_ids):
            lot_keys, args = keys.lot(lot_id).script_keys(), [window_ms]
            if i == 0:  # makes sure Redis has the script; the others then call it by SHA
                await finalize(keys=lot_keys, args=args, client=pipe)
            else:
                # EVALSHA by name: a Redis Cluster's pipeline refuses its ``evalsha`` method
                # (with two or more closed lots in a batch the cluster's drainer never settled)
                pipe.execute_command("EVALSHA", finalize.sha, len(lot_keys), *lot_keys, *args)
        replies = await pipe.execute(raise_on_error=False)
    final: list[int] = []
    reopened: list[int] = []
    for lot_id, reply in zip(lot_ids, replies, strict=True):
        if isinstance(reply, Exception):
            # e.g. the script vanished from a Redis that restarted meanwhile
            log.debug("lot %d: finalize failed (%s); next tick", lot_id, reply)
            continue
        parts = [p.decode() if isinstance(p, bytes) else p for p in reply]
        if parts[0] == "ok" or parts[1] == "unknown_lot":
            final.append(lot_id)
        elif parts[1] == "wrong_state":
            reopened.append(lot_id)
        # not_due: still within the reopen window
    return final, reopened
