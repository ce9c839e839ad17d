"""Bids taken straight from the socket (auction/api/direct_read.py): the same answers, in the
same order, as through the ASGI receive queue; a malformed bid, a ``sub`` and a ``ping`` still
go through the receive loop, and the loop's order holds (the ``sub``'s snapshot before the next
bid's answer, the ``pong`` after every earlier bid's)."""

from __future__ import annotations

from typing import Any

from auction import metrics
from auction.settings import Settings
from tests.e2e.conftest import fresh_server
from tests.e2e.harness import Server, create_sale, raw_client

START, INC = 1_000_000, 10_000


def _direct() -> int:
    return metrics.bids_direct_count()


async def _exchange(server: Server) -> list[tuple[str, ...]]:
    """A burst on one socket, sent without waiting; what came back, in order."""
    sale = await create_sale(server, bidders=1, start_fen=START, inc_fen=INC)
    lot = sale.lots[0]
    async with raw_client(server, sale.auctioneer) as console:
        await console.send(t="cmd", lot=lot, op="open", key="open")
        assert (await console.until(lambda m: m.get("key") == "open"))["t"] == "ack"
    got: list[tuple[str, ...]] = []
    async with raw_client(server, sale.tokens[0], address="10.78.0.1") as bidder:
        # idle loop: one bid at a time, each answered before the next is sent
        await bidder.send(t="bid", lot=lot, amount=START, key="alone")
        first = await bidder.until(lambda m: m.get("key") == "alone")
        got.append((first["t"], first.get("code", "")))
        # a burst: a sub, bids (one malformed), a ping barrier
        burst: list[dict[str, Any]] = [{"t": "sub", "lot": lot}]
        burst += [{"t": "bid", "lot": lot, "amount": START + k * INC, "key": f"k{k}"}
                  for k in range(1, 5)]
        burst.append({"t": "bid", "lot": lot, "key": "no-amount"})
        burst += [{"t": "bid", "lot": lot, "amount": START + k * INC, "key": f"k{k}"}
                  for k in range(5, 8)]
        burst.append({"t": "ping", "id": 7})
        for m in burst:
            await bidder.send(**m)
        while True:
            msg = await bidder.recv(10)
            t = msg.get("t")
            if t == "snapshot":
                got.append(("snapshot",))
            elif t in ("ack", "nack"):
                got.append((t, msg["key"], msg.get("code", "")))
            elif t == "pong":
                got.append(("pong",))
                break
        # after the barrier, idle again: a bid straight from the socket
        await bidder.send(t="bid", lot=lot, amount=START + 20 * INC, key="after")
        last = await bidder.until(lambda m: m.get("key") == "after")
        got.append((last["t"], last.get("code", "")))
    return got


async def test_direct_bids_answer_like_the_receive_loop(settings: Settings, tmp_path: Any) -> None:
    before = _direct()
    async with fresh_server(settings, tmp_path / "direct") as server:
        direct = await _exchange(server)
    taken = _direct() - before
    async with fresh_server(settings, tmp_path / "queued", ws_protocol="websockets-sansio") as srv:
        queued_before = _direct()
        queued = await _exchange(srv)
        assert _direct() == queued_before  # the stock protocol has no direct reads
    assert direct == queued
    # the bid sent after the pong reaches an idle loop (it set itself idle before the pong
    # was written); the first may come before the loop is reading
    assert taken >= 1
    # the rules' answers, in the order sent: the leader cannot outbid itself
    assert direct[0] == ("ack", "")
    snapshot = direct.index(("snapshot",))
    answers = [a for a in direct[1:-1] if a[0] in ("ack", "nack")]
    assert snapshot == 1 and direct[-2] == ("pong",)
    # the lane answers the bids in the order sent; the malformed one is answered at once
    assert [a[1] for a in answers if a[1] != "no-amount"] == [f"k{k}" for k in range(1, 8)]
    assert [a[1] for a in answers].count("no-amount") == 1
    assert {a[2] for a in answers if a[1] != "no-amount"} == {"already_leading"}
    assert dict((a[1], a[2]) for a in answers)["no-amount"] not in ("", "already_leading")
    assert direct[-1] == ("nack", "already_leading")
