"""Every client message type of the socket protocol, fuzzed: no input drops the socket, closes it
with 1006/1011, or writes a traceback.

Each example is one connection: a first frame (most often a ``hello`` with any token: none, the
platform admin, the auctioneer, a bidder, bogus text such as ``abc.dé``; and a ``resume`` map with
edge lots and seqs, negative ones included), then up to six frames drawn from every client type
of docs/protocol.md (``hello`` again, ``sub``, ``unsub``, ``bid``, ``cmd``, ``ping``), with each
field sometimes of any msgpack type, unknown types, arbitrary maps, and raw frames (garbage
bytes, msgpack with invalid UTF-8 inside, extension types, deep nesting, 9 KiB frames, text
frames, text frames that are not UTF-8). A closing ``ping`` is the barrier: the server handles a
connection's frames in order, so its ``pong`` means every frame before it was answered.

Asserted: the pong arrives, or the server closed with a documented code and a close frame (never
1006, 1011 or 1013); every frame the server sent is a msgpack map of a documented type; no
``nack``/``error`` says ``internal_error`` or ``unavailable``; and the server's log has no
warning, error or traceback (``app_log``). Derandomized, so CI runs the same examples each time.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.fuzz import strategies as hs
from tests.fuzz.conftest import Collect, World, no_tracebacks

EXAMPLES_PER_KIND = 40
BARRIER = 7_777_777
#: close codes a server may end a fuzzed connection with (docs/protocol.md "Close codes")
DOCUMENTED_CLOSES = {1000, 1007, 1009, 4400, 4401, 4429, 4430}
SERVER_TYPES = {"welcome", "snapshot", "resumed", "ev", "ack", "nack", "pong", "error", "viewers",
                "presence", "reserve", "missed_bid"}
WIRE_LO, WIRE_HI = -(2**63), 2**64 - 1

#: a frame to send: ``("bin", bytes)``, ``("text", str)`` or ``("badtext", bytes)``, the last a
#: text frame whose payload is not UTF-8
Frame = tuple[str, Any]

RAW_FRAMES: tuple[Frame, ...] = (
    ("bin", b""), ("bin", b"\xc1"), ("bin", b"\x92\x01"),
    ("bin", b"\x82\xa1t\xa3bid\xa3key\xa2\xff\xfe"),  # a str that is not UTF-8
    ("bin", b"\x81\xa1t\xd4\x01\x02"),  # an extension type
    ("bin", msgpack.packb({"t": "hello", "resume": {1: [[[[["e"]]]], 1]}})),  # too deep
    ("bin", msgpack.packb({"t": "bid", "pad": "x" * 9000})),  # over 8 KiB
    ("bin", b"\xdf\xff\xff\xff\xff"),  # a map claiming 4 billion entries
    ("text", "hello"), ("text", '{"t": "hello"}'),
    ("badtext", b"\xff\xfe\xfd"), ("badtext", b"\xed\xa0\x80"), ("badtext", b"ok\xc3"),
)


#: the kinds of frame the test is parametrized by: every client type, unknown types, any map,
#: raw frames, and hostile first frames (before any hello)
KINDS = ("hello", "sub", "unsub", "bid", "cmd", "ping", "unknown", "map", "raw", "first")


def field(world: World, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Most often ``strategy``, sometimes any msgpack value (nil: as if missing)."""
    return hs.weighted((strategy, 3), (hs.msgpack_values(world.ids), 1))


def lots(world: World) -> st.SearchStrategy[int]:
    """A real lot, an id at a bound (out of range most often), or any wire integer."""
    return hs.weighted(
        (st.sampled_from(world.sale.lots), 2),
        (st.sampled_from((0, -1, 2**63, 2**64 - 1, -(2**63), 2**63 - 1, 10**12)), 2),
        (st.integers(WIRE_LO, WIRE_HI), 1),
    )


def seqs() -> st.SearchStrategy[int]:
    return hs.weighted(
        (st.sampled_from((-2, -1, 0, 1, 3, -(2**63), 2**63 - 1, 2**63, 2**64 - 1)), 2),
        (st.integers(-10, 10), 1), (st.integers(WIRE_LO, WIRE_HI), 1),
    )


def epochs(world: World) -> st.SearchStrategy[str]:
    """A lot's real epoch half of the time (so a resume reaches the stream), else any text."""
    return hs.weighted((st.sampled_from(world.epochs), 1), (hs.any_text(surrogates=False), 1))


def resumes(world: World) -> st.SearchStrategy[dict[int, list[Any]]]:
    """``{lot: [epoch, seq]}`` with seqs around every bound (-1, -2, -2^63, 2^63 …)."""
    return st.dictionaries(lots(world), st.tuples(epochs(world), seqs()).map(list),
                           min_size=1, max_size=3)


def hellos(world: World) -> st.SearchStrategy[dict[str, Any]]:
    """A hello with a valid token most often (so bids and commands get past it), else none or
    any text (``abc.dé`` among the edges), and any resume."""
    tokens = hs.weighted((st.sampled_from(world.tokens), 4), (st.none(), 1),
                         (hs.any_text(surrogates=False), 2))
    return st.fixed_dictionaries({
        "t": st.just("hello"), "token": tokens,
        "resume": hs.weighted((st.none(), 2), (resumes(world), 2),
                              (hs.msgpack_values(world.ids), 1)),
    })


def messages(world: World, kind: str) -> st.SearchStrategy[dict[Any, Any]]:
    """Maps of one client type; each field most often of its type, sometimes anything."""
    text = hs.any_text(surrogates=False)
    keys = st.one_of(st.sampled_from(("k1", "k2")), text)
    amounts = st.one_of(st.sampled_from((1_000_000, 1_010_000, 0, -1, 10**15, 10**15 + 1)),
                        seqs())
    if kind == "hello":
        return hellos(world)
    if kind == "sub":
        return st.one_of(
            st.fixed_dictionaries({"t": st.just("sub"), "lot": field(world, lots(world))}),
            resumes(world).map(lambda r: {"t": "sub", "lot": (lot := next(iter(r))),
                                          "epoch": r[lot][0], "seq": r[lot][1]}),
            st.fixed_dictionaries({"t": st.just("sub"), "lot": field(world, lots(world)),
                                   "epoch": field(world, epochs(world)),
                                   "seq": field(world, seqs())}),
        )
    if kind == "unsub":
        return st.fixed_dictionaries({"t": st.just("unsub"), "lot": field(world, lots(world))})
    if kind == "bid":
        return st.fixed_dictionaries({
            "t": st.just("bid"), "lot": field(world, lots(world)),
            "amount": field(world, amounts), "key": field(world, keys)})
    if kind == "cmd":
        return st.fixed_dictionaries({
            "t": st.just("cmd"), "lot": field(world, lots(world)),
            "op": field(world, st.sampled_from(("open", "hammer", "pass", "close"))),
            "key": field(world, keys)})
    if kind == "ping":
        return st.fixed_dictionaries({"t": st.just("ping"), "id": field(world, seqs())})
    if kind == "unknown":
        return st.tuples(text, st.dictionaries(text, hs.msgpack_values(world.ids), max_size=3)
                         ).map(lambda pair: {**pair[1], "t": pair[0]})
    # "map": any map at all, keys from the protocol's field names among others
    names = st.sampled_from(("t", "lot", "key", "amount", "op", "seq", "epoch", "token",
                             "resume", "id"))
    return st.dictionaries(st.one_of(names, text, seqs()), hs.msgpack_values(world.ids),
                           max_size=5)


def frames(world: World, kind: str) -> st.SearchStrategy[Frame]:
    if kind == "raw":
        return st.one_of(st.sampled_from(RAW_FRAMES),
                         st.binary(max_size=48).map(lambda b: ("bin", b)))
    if kind == "first":
        return st.one_of(*(frames(world, k) for k in KINDS if k not in ("first", "hello")))
    return messages(world, kind).map(lambda m: ("bin", msgpack.packb(m, use_bin_type=True)))


async def send(ws: Any, frame: Frame) -> None:
    kind, payload = frame
    await ws.send(payload, text=kind != "bin")


def check_frame(data: str | bytes, sent: list[Frame]) -> dict[Any, Any]:
    assert isinstance(data, bytes), f"a text frame from the server after {sent}"
    msg = msgpack.unpackb(data, raw=False, strict_map_key=False)
    assert isinstance(msg, dict) and msg.get("t") in SERVER_TYPES, (msg, sent)
    if msg["t"] in ("nack", "error"):
        assert msg.get("code") not in ("internal_error", "unavailable"), (msg, sent)
    return msg


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=EXAMPLES_PER_KIND, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
async def test_any_frames_get_answers_or_a_documented_close(
    world: World, app_log: Collect, kind: str, data: st.DataObject
) -> None:
    """Whatever a client sends, each request is answered or the socket is closed with a
    documented code and a close frame, and the server logs nothing at WARNING or above."""
    if kind == "first":
        sent = [data.draw(frames(world, kind), label="first")]
    else:
        hello = data.draw(hellos(world), label="hello")
        sent = [("bin", msgpack.packb(hello, use_bin_type=True))]
    sent += data.draw(st.lists(frames(world, kind), min_size=1, max_size=4), label="frames")
    address = data.draw(st.ip_addresses(v=4), label="address").exploded
    closed: ConnectionClosed | None = None
    async with connect(world.server.ws_url, max_size=None,
                       additional_headers={"X-Forwarded-For": address}) as ws:
        try:
            for frame in sent:
                await send(ws, frame)
            await ws.send(msgpack.packb({"t": "ping", "id": BARRIER}))
            async with asyncio.timeout(10):
                while True:
                    msg = check_frame(await ws.recv(), sent)
                    if msg["t"] == "pong" and msg.get("id") == BARRIER:
                        break
        except ConnectionClosed as exc:
            closed = exc
        except TimeoutError:
            raise AssertionError(f"no pong within 10 s after {sent}") from None
    if closed is not None:
        assert closed.rcvd is not None, f"dropped without a close frame (1006) after {sent}"
        assert closed.rcvd.code in DOCUMENTED_CLOSES, f"closed {closed.rcvd} after {sent}"
    await asyncio.sleep(0)  # let the server finish logging the connection's end
    no_tracebacks(app_log, sent)
