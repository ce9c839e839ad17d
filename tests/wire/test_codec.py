"""The wire codec parses exactly the documented messages and refuses everything else."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from auction.domain.inputs import UNKNOWN_ID
from auction.wire import codec


def frame(**m: object) -> bytes:
    return msgpack.packb(m, use_bin_type=True)


def test_bid_parses() -> None:
    """A well-formed bid becomes a Bid with integer fen."""
    msg = codec.decode(frame(t="bid", lot=3, amount=100_000, key="k1"))
    assert msg == codec.Bid(lot=3, amount=100_000, key="k1")


@pytest.mark.parametrize("amount", [1.5, 100.0, -5, 0, True, "100", None, 10**15 + 1, 2**64 - 1])
def test_bad_amounts_are_refused_with_the_key(amount: object) -> None:
    """Floats, negatives, zero, booleans, strings and oversize amounts are bad_amount."""
    with pytest.raises(codec.WireError) as info:
        codec.decode(frame(t="bid", lot=3, amount=amount, key="k1"))
    assert info.value.code == "bad_amount"
    assert info.value.key == "k1"
    assert not isinstance(info.value, codec.FrameError)


@pytest.mark.parametrize(
    "raw",
    [b"\xc1", b"not msgpack at all \xff", msgpack.packb([1, 2]), msgpack.packb({"x": 1}),
     msgpack.packb({"t": 5}), b"", b"\x92\x01"],
)
def test_non_maps_are_frame_errors(raw: bytes) -> None:
    """Undecodable frames, arrays, and maps without a string t close the connection."""
    with pytest.raises(codec.FrameError):
        codec.decode(raw)


def test_oversize_frame_is_refused() -> None:
    """A frame over the limit is refused before it is unpacked."""
    with pytest.raises(codec.FrameError):
        codec.decode(frame(t="ping", pad="x" * codec.MAX_FRAME))


def test_deep_nesting_is_refused() -> None:
    """Nesting deeper than the limit is a frame error."""
    with pytest.raises(codec.FrameError):
        codec.decode(frame(t="hello", resume={1: [[[[["e"]]]], 1]}))


def test_nesting_is_checked_in_every_value_not_only_the_first() -> None:
    """Flat maps take a shorter check: a deep value after flat ones is still refused, and
    nesting within the limit is still accepted."""
    with pytest.raises(codec.FrameError):
        codec.decode(frame(t="bid", key="k1", lot=1, amount=100, x=[[[["e"]]]]))
    assert codec.decode(frame(t="bid", key="k1", lot=1, amount=100, x=[[["e"]]])) == codec.Bid(
        lot=1, amount=100, key="k1")


def test_unknown_type() -> None:
    """An unknown t is answered, not closed, and carries the key when there is one."""
    with pytest.raises(codec.WireError) as info:
        codec.decode(frame(t="teleport", key="k9"))
    assert info.value.code == "unknown_type" and info.value.key == "k9"


@pytest.mark.parametrize(
    "m",
    [dict(t="bid", lot="3", amount=1, key="k"), dict(t="bid", lot=3, amount=1),
     dict(t="bid", lot=3, amount=1, key="x" * 65), dict(t="cmd", lot=3, op="explode", key="k"),
     dict(t="sub", lot=1, epoch="e"), dict(t="hello", resume=[1]), dict(t="hello", token=5),
     dict(t="sub", lot=1, epoch="e", seq=-1), dict(t="sub", lot=1, epoch="e", seq=2**63),
     dict(t="hello", resume={1: ["e", -1]}), dict(t="hello", resume={1: ["e", 2**64 - 1]}),
     dict(t="hello", resume={1: ["", 1]}), dict(t="hello", resume={1: ["e\x00", 1]}),
     dict(t="bid", lot=3, amount=1, key="k\x00"), dict(t="cmd", lot=3, op="open", key="\x1b[2J"),
     dict(t="sub", lot=1, epoch="e\n", seq=1), dict(t="hello", token=b"tok")],
)
def test_wrong_field_types_are_bad_request(m: dict[str, object]) -> None:
    """Wrong or missing fields are bad_request naming the field."""
    with pytest.raises(codec.WireError) as info:
        codec.decode(frame(**m))
    assert info.value.code == "bad_request"


@pytest.mark.parametrize("lot", [0, -1, -(2**63), 2**63, 2**64 - 1])
def test_lot_ids_out_of_range_name_no_lot(lot: int) -> None:
    """A lot outside 1..2^63-1 decodes as UNKNOWN_ID (answered unknown_lot like any missing
    lot), so it never reaches Redis or PostgreSQL out of range."""
    assert codec.decode(frame(t="bid", lot=lot, amount=1, key="k")) == codec.Bid(
        lot=UNKNOWN_ID, amount=1, key="k")
    assert codec.decode(frame(t="cmd", lot=lot, op="open", key="k")) == codec.Cmd(
        lot=UNKNOWN_ID, op="open", key="k")
    assert codec.decode(frame(t="sub", lot=lot)) == codec.Sub(lot=UNKNOWN_ID, epoch=None,
                                                              seq=None)
    assert codec.decode(frame(t="unsub", lot=lot)) == codec.Unsub(lot=UNKNOWN_ID)
    hello = codec.decode(frame(t="hello", resume={lot: ["e", 0]}))
    assert hello == codec.Hello(token=None, resume={UNKNOWN_ID: ("e", 0)})


def test_largest_ids_and_seqs_pass() -> None:
    """2^63-1 is a valid lot id and resume seq."""
    top = 2**63 - 1
    assert codec.decode(frame(t="sub", lot=top, epoch="e", seq=top)) == codec.Sub(top, "e", top)


@pytest.mark.parametrize("token", ["abc.dé", "", "a\x00b", "\u2028"])
def test_any_token_string_goes_to_the_token_check(token: str) -> None:
    """Whatever string a hello's token is, it is handed on (and refused there with 4401), not
    refused as a bad frame."""
    assert codec.decode(frame(t="hello", token=token)) == codec.Hello(token=token, resume={})


def test_hello_resume() -> None:
    """hello carries a resume map of lot → [epoch, seq]."""
    msg = codec.decode(frame(t="hello", token="tok", resume={7: ["ab12", 41]}))
    assert msg == codec.Hello(token="tok", resume={7: ("ab12", 41)})


def test_event_frame_drops_bidder_identity() -> None:
    """ev frames never carry the internal bidder id."""
    out = msgpack.unpackb(codec.encode_event(5, "ep", {"seq": 2, "kind": "bid", "at": 1,
                                                       "bidder": 99, "paddle": 286, "amount": 7}))
    assert out == {"t": "ev", "lot": 5, "epoch": "ep", "seq": 2, "kind": "bid", "at": 1,
                   "paddle": 286, "amount": 7}


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash(raw: bytes) -> None:
    """Any byte string either parses or raises a WireError, never anything else."""
    try:
        codec.decode(raw)
    except codec.WireError:
        pass


@pytest.mark.parametrize(("op", "args", "arg"), [
    ("warn", {"n": 1}, "1"), ("warn", {"n": 3}, "3"), ("announce", {"text": "注意 | 最后"},
    "注意 | 最后"), ("withdraw", {"reason": "委托方撤回"}, "委托方撤回"), ("pause", None, ""),
    ("resume", {}, ""), ("hammer", None, ""),
])
def test_command_args_parse(op: str, args: object, arg: str) -> None:
    """Each op's one argument is taken from ``args``; ops without arguments take none."""
    m: dict[str, object] = {"t": "cmd", "lot": 3, "op": op, "key": "k"}
    if args is not None:
        m["args"] = args
    assert codec.decode(frame(**m)) == codec.Cmd(lot=3, op=op, key="k", arg=arg)


@pytest.mark.parametrize(("op", "args", "field"), [
    ("warn", {"n": 0}, "args.n"), ("warn", {"n": 4}, "args.n"), ("warn", {"n": True}, "args.n"),
    ("warn", {"n": "1"}, "args.n"), ("warn", None, "args.n"), ("warn", {"n": 1, "x": 2}, "args.x"),
    ("announce", {"text": ""}, "args.text"), ("announce", {"text": "a" * 201}, "args.text"),
    ("announce", {"text": "a\x00b"}, "args.text"), ("announce", {"text": "a\nb"}, "args.text"),
    ("withdraw", {}, "args.reason"), ("withdraw", {"reason": 5}, "args.reason"),
    ("pause", {"n": 1}, "args.n"), ("open", [1], "args"), ("hammer", "x", "args"),
])
def test_bad_command_args_name_the_field(op: str, args: object, field: str) -> None:
    """Wrong, missing or extra arguments are bad_request naming the field, with the key."""
    with pytest.raises(codec.ArgError) as direct:
        codec.command_arg(op, args)
    assert direct.value.field == field
    m: dict[str, object] = {"t": "cmd", "lot": 3, "op": op, "key": "k"}
    if args is not None:
        m["args"] = args
    with pytest.raises(codec.WireError) as info:
        codec.decode(frame(**m))
    assert (info.value.code, info.value.key) == ("bad_request", "k")
    assert field in info.value.message


@given(key=st.text(max_size=300), lot=st.integers(1, 2**63 - 1),
       retry_after_ms=st.integers(1, 1000), message=st.text(max_size=100))
def test_overloaded_nack_is_the_general_nack_byte_for_byte(
        key: str, lot: int, retry_after_ms: int, message: str) -> None:
    """The door's ready-made ``overloaded`` answer is exactly what ``encode_nack`` writes."""
    fast = codec.encode_overloaded(key, lot, retry_after_ms, message)
    assert fast == codec.encode_nack(key, "overloaded", message, lot=lot,
                                     retry_after_ms=retry_after_ms)
    assert msgpack.unpackb(fast) == {"t": "nack", "key": key, "code": "overloaded",
                                     "message": message, "lot": lot,
                                     "retry_after_ms": retry_after_ms}
