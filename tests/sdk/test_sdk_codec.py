"""SDK codec and message parsing: msgpack maps with ``t``, no floats, typed messages."""

from __future__ import annotations

import msgpack
import pytest
from auction_client.codec import MAX_FRAME, decode, encode
from auction_client.errors import ProtocolError
from auction_client.messages import (
    Ack,
    ErrorMsg,
    Event,
    Nack,
    Pong,
    Resumed,
    Snapshot,
    Unknown,
    Welcome,
    parse,
)


def test_round_trip_keeps_int_keys_and_values() -> None:
    frame = encode({"t": "hello", "token": "x", "resume": {17: ["7de602dc", 4]}})
    assert decode(frame) == {"t": "hello", "token": "x", "resume": {17: ["7de602dc", 4]}}


def test_encode_refuses_floats_missing_t_and_big_frames() -> None:
    with pytest.raises(TypeError):
        encode({"t": "bid", "lot": 1, "amount": 1.5, "key": "k"})
    with pytest.raises(ValueError):
        encode({"lot": 1})
    with pytest.raises(ValueError):
        encode({"t": "x", "pad": "a" * MAX_FRAME})


@pytest.mark.parametrize(
    "raw",
    [b"\xc1", msgpack.packb([1, 2]), msgpack.packb({"x": 1}), msgpack.packb({"t": 5})],
)
def test_decode_rejects_non_protocol_frames(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode(raw)


def test_decode_rejects_text_frames() -> None:
    with pytest.raises(ProtocolError):
        decode("hello")


def test_parse_every_server_message() -> None:
    assert parse({"t": "welcome", "server_time": 5, "role": "bidder", "paddle": 286}) == Welcome(
        5, "bidder", 286
    )
    viewer = parse({"t": "welcome", "server_time": 5, "role": "viewer", "paddle": None})
    assert isinstance(viewer, Welcome) and viewer.paddle is None
    snap = parse({"t": "snapshot", "lot": 3, "epoch": "e", "seq": 4, "state": {"status": "open"}})
    assert isinstance(snap, Snapshot) and snap.state.status == "open" and snap.recovered is None
    assert parse({"t": "resumed", "lot": 3, "epoch": "e", "after": 2, "count": 1}) == Resumed(
        3, "e", 2, 1, True
    )
    ev = parse(
        {
            "t": "ev",
            "lot": 3,
            "epoch": "e",
            "seq": 5,
            "kind": "bid",
            "at": 9,
            "paddle": 286,
            "amount": 104000000,
        }
    )
    assert isinstance(ev, Event) and ev.paddle == 286 and ev.amount == 104000000
    assert parse({"t": "ack", "key": "k", "lot": 3, "seq": 5, "at": 9, "replay": True}) == Ack(
        "k", 3, 5, 9, True
    )
    nack = parse({"t": "nack", "key": "k", "code": "too_low", "message": "低", "minimum": 7})
    assert nack == Nack("k", "too_low", "低", None, 7, None)
    assert parse({"t": "pong", "id": 1, "server_time": 8}) == Pong(1, 8)
    assert parse({"t": "error", "code": "unknown_lot", "message": "m"}) == ErrorMsg(
        "unknown_lot", "m"
    )
    assert isinstance(parse({"t": "future_thing"}), Unknown)


def test_parse_rejects_wrong_types() -> None:
    with pytest.raises(ProtocolError):
        parse({"t": "ev", "lot": "3", "epoch": "e", "seq": 1, "kind": "bid"})
    with pytest.raises(ProtocolError):
        parse({"t": "snapshot", "lot": 3, "epoch": "e", "seq": 1})
    with pytest.raises(ProtocolError):
        parse({"t": "ack", "key": "k", "lot": 1, "seq": 1.0})
