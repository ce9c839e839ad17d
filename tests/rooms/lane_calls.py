"""Counting the ``bid.lua`` calls a process's lanes make (the real calls still run): on the
ordered link (one Redis) each call written, otherwise (a Redis Cluster) each
:meth:`BidLanes._call`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgpack

from auction.rooms.lanes import BidLanes


@contextmanager
def counting_calls(lanes: BidLanes) -> Iterator[list[int]]:
    """The number of bids of every script call made inside the block, in order."""
    sizes: list[int] = []
    real_call = lanes._call

    async def call(lot: int, batch: Any) -> list[Any]:
        sizes.append(len(batch))
        return await real_call(lot, batch)

    link = lanes._link
    real_send = link.send if link is not None else None

    async def send(*args: Any) -> Any:
        assert real_send is not None
        if args[0] == "EVALSHA":
            sizes.append(len(msgpack.unpackb(args[-3])))
        return await real_send(*args)

    lanes._call = call  # type: ignore[method-assign]
    if link is not None:
        link.send = send  # type: ignore[method-assign]
    try:
        yield sizes
    finally:
        del lanes._call
        if link is not None:
            del link.send
