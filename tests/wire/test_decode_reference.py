"""``codec.decode`` against the implementation it replaced (kept below as :func:`reference`):
for every frame, the same message, or the same exception type, code, message and key.

The bid path of ``decode`` was made cheaper (literal unpacker limits, a one-expression check of a
well-formed bid, a named tuple for :class:`~auction.wire.codec.Bid`); nothing it answers may
change. The frames: every combination of edge values of a bid's fields (missing, wrong type,
bool, float, negative, zero, out of range, keys empty, too long, with control or other
non-printable characters), then generated ones (extra fields, nested values, other message types,
maps with non-string keys, non-maps, truncated frames, trailing bytes, garbage, frames around the
size limit).
"""

from __future__ import annotations

import itertools
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auction.domain.inputs import MAX_ID, as_id, text_problem
from auction.domain.money import MAX_FEN
from auction.wire import codec
from auction.wire.codec import (
    COMMAND_OPS,
    MAX_EPOCH_LEN,
    MAX_FRAME,
    MAX_ITEMS,
    MAX_KEY_LEN,
    MAX_STR,
    ArgError,
    FrameError,
    WireError,
    command_arg,
)

# ---- the reference: decode and its helpers as they were before the bid path was made cheaper

_LIMITS = {
    "max_str_len": MAX_STR,
    "max_bin_len": MAX_STR,
    "max_array_len": MAX_ITEMS,
    "max_map_len": MAX_ITEMS,
    "max_ext_len": 0,
}


# the helpers the general path still shares with the reference (unchanged by the bid path)
_too_deep, _int, _str, _lot, _seq = codec._too_deep, codec._int, codec._str, codec._lot, codec._seq


def reference(frame: bytes) -> codec.ClientMessage:
    if len(frame) > MAX_FRAME:
        raise FrameError("bad_frame", "帧过大")
    try:
        m = msgpack.unpackb(frame, raw=False, strict_map_key=False, **_LIMITS)
    except Exception:
        raise FrameError("bad_frame", "不是有效的 msgpack 数据") from None
    if not isinstance(m, dict) or not isinstance(m.get("t"), str):
        raise FrameError("bad_frame", "帧必须是带字符串字段 t 的 msgpack 映射")
    if _too_deep(m):
        raise FrameError("bad_frame", "嵌套过深")
    t = m["t"]
    raw_key = m.get("key")
    key = raw_key if isinstance(raw_key, str) and 0 < len(raw_key) <= MAX_KEY_LEN else None
    if t == "bid":
        key = _str(m, "key", None, limit=MAX_KEY_LEN)
        lot = _lot(m, key)
        amount = m.get("amount")
        if type(amount) is not int or not 0 < amount <= MAX_FEN:
            raise WireError("bad_amount", "出价金额必须是正整数(单位: 分)", key=key)
        assert key is not None
        return codec.Bid(lot=lot, amount=amount, key=key)
    if t == "proxy":
        key = _str(m, "key", None, limit=MAX_KEY_LEN)
        lot = _lot(m, key)
        maximum = m.get("max")
        if type(maximum) is not int or not 0 < maximum <= MAX_FEN:
            raise WireError("bad_amount", "最高出价必须是正整数(单位: 分)", key=key)
        assert key is not None
        return codec.Proxy(lot=lot, max=maximum, key=key)
    if t == "accept":
        key = _str(m, "key", None, limit=MAX_KEY_LEN)
        lot = _lot(m, key)
        assert key is not None
        return codec.Accept(lot=lot, key=key)
    if t == "cmd":
        key = _str(m, "key", None, limit=MAX_KEY_LEN)
        lot = _lot(m, key)
        op = m.get("op")
        if op not in COMMAND_OPS:
            raise WireError("bad_request", f"字段 op 必须是 {'/'.join(COMMAND_OPS)} 之一", key=key)
        assert key is not None
        try:
            arg = command_arg(str(op), m.get("args"))
        except ArgError as exc:
            raise WireError("bad_request", exc.message, key=key) from None
        return codec.Cmd(lot=lot, op=str(op), key=key, arg=arg)
    if t == "sub":
        lot = _lot(m, None)
        epoch = _str(m, "epoch", None, optional=True, limit=MAX_EPOCH_LEN)
        seq = _int(m, "seq", None, optional=True)
        if (epoch is None) != (seq is None) or (seq is not None and not _seq(seq)):
            raise WireError("bad_request", "epoch 与 seq 须同时给出, 0 ≤ seq < 2^63")
        return codec.Sub(lot=lot, epoch=epoch, seq=seq)
    if t == "unsub":
        return codec.Unsub(lot=_lot(m, None))
    if t == "ping":
        return codec.Ping(id=_int(m, "id", None, optional=True))
    if t == "hello":
        token = m.get("token")
        if token is not None and (not isinstance(token, str) or len(token) > MAX_STR):
            raise WireError("bad_request", f"字段 token 必须是至多 {MAX_STR} 个字符的字符串")
        resume: dict[int, tuple[str, int]] = {}
        raw = m.get("resume") or {}
        if not isinstance(raw, dict):
            raise WireError("bad_request", "字段 resume 必须是映射")
        for lot_key, pos in raw.items():
            if (
                type(lot_key) is not int
                or not isinstance(pos, list)
                or len(pos) != 2
                or not isinstance(pos[0], str)
                or not pos[0]
                or text_problem(pos[0], max_len=MAX_EPOCH_LEN) is not None
                or not _seq(pos[1])
            ):
                raise WireError(
                    "bad_request", "resume 的格式为 {lot: [epoch, seq]}, 0 ≤ seq < 2^63"
                )
            resume[as_id(lot_key)] = (pos[0], pos[1])
        return codec.Hello(token=token, resume=resume)
    raise WireError("unknown_type", f"未知的消息类型 {t[:32]!r}", key=key)


# ---- the comparison


def outcome(decode: Any, frame: bytes) -> tuple[Any, ...]:
    """What ``decode`` makes of ``frame``: the message and its exact type, or the exception's
    type, code, message, key and text."""
    try:
        msg = decode(frame)
    except Exception as exc:
        return ("raised", type(exc), getattr(exc, "code", None), getattr(exc, "message", None),
                getattr(exc, "key", None), str(exc))
    return ("returned", type(msg), msg)


def assert_same(frame: bytes) -> None:
    assert outcome(codec.decode, frame) == outcome(reference, frame), frame


def pack(value: Any) -> bytes:
    out: bytes = msgpack.packb(value, use_bin_type=True)
    return out


MISSING = object()
EDGE_INTS = (0, 1, -1, 2, 12345, MAX_FEN - 1, MAX_FEN, MAX_FEN + 1, MAX_ID - 1, MAX_ID,
             MAX_ID + 1, 2**64 - 1, -(2**63))
WRONG_TYPES = (MISSING, None, True, False, 1.0, 0.5, float("nan"), "1", "", b"1", [], [1], {},
               {"a": 1}, msgpack.ExtType(1, b""))
EDGE_KEYS = (
    "k", "b-1234567890-123456", "", "x" * (MAX_KEY_LEN - 1), "x" * MAX_KEY_LEN,
    "x" * (MAX_KEY_LEN + 1), "键" * MAX_KEY_LEN, "键" * (MAX_KEY_LEN + 1), " ", "k k",
    # control characters (refused), then other characters str.isprintable() refuses but
    # text_problem takes: separators, format, private use, unassigned
    "k\x00", "\x1b[2J", "k\t", "k\n", "k\x7f", "k\x85", "k\x9f", "k\u3000", "k\u00a0",
    "k\u2028", "k\u2029", "k\u200b", "k\ufeff", "k\ue000", "k\U000f0000", "k\u0378",
    "k\U000e0001", "ключ", "🙂",
)


def test_every_combination_of_edge_fields_decodes_as_before() -> None:
    """Each of a bid's lot, amount and key missing, of a wrong type, or at an edge (every
    combination, with ``t`` the bid's, another type's or missing): the same answer."""
    ints = (*EDGE_INTS, *WRONG_TYPES)
    ts = ("bid", "proxy", "accept", "cmd", "sub", MISSING, b"bid", 1)
    for t, lot, amount, key in itertools.product(ts, ints, ints, (*EDGE_KEYS, *WRONG_TYPES)):
        m = {name: value for name, value in (("t", t), ("lot", lot), ("amount", amount),
                                             ("key", key)) if value is not MISSING}
        assert_same(pack(m))


def test_bids_with_extra_fields_decode_as_before() -> None:
    """A bid with one more field (flat, nested within the limit, nested too deep, under a key
    that is not a string, or replacing ``t``), with good and bad fields: the same answer."""
    extras: tuple[tuple[Any, Any], ...] = (
        ("x", 1), ("x", [[["e"]]]), ("x", [[[["e"]]]]), ("x", {"a": {"b": {"c": 1}}}),
        ("x", {"a": {"b": {"c": {"d": 1}}}}), ("x", []), ("x", {}), (7, "v"), (None, [[[[1]]]]),
        ("t", "bid"), ("t", "proxy"), ("max", 5), ("op", "open"),
    )
    for lot, amount, key, (extra, extra_value) in itertools.product(
        (1, 0, MAX_ID + 1, True, "1", MISSING), (1, MAX_FEN, 0, MAX_FEN + 1, False, MISSING),
        ("k", "", "k\x00", "k\u3000", "x" * (MAX_KEY_LEN + 1), 5, MISSING), extras,
    ):
        m = {name: value for name, value in (("t", "bid"), ("lot", lot), ("amount", amount),
                                             ("key", key)) if value is not MISSING}
        m[extra] = extra_value
        assert_same(pack(m))


# ---- generated frames

ints = st.one_of(st.sampled_from(EDGE_INTS), st.integers(-(2**63), 2**64 - 1))
texts = st.text(st.characters(codec="utf-8"), max_size=70)
keys = st.one_of(st.sampled_from(EDGE_KEYS), texts)
scalars = st.one_of(
    st.none(), st.booleans(), ints, st.floats(), st.text(max_size=6), st.binary(max_size=6),
    st.builds(msgpack.ExtType, st.integers(0, 127), st.binary(max_size=2)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.one_of(st.text(max_size=3), ints), inner,
                                            max_size=3)),
    max_leaves=10,
)


@st.composite
def nested(draw: st.DrawFn) -> Any:
    """A value wrapped in 0–6 lists or maps: around the depth limit."""
    value = draw(scalars)
    for _ in range(draw(st.integers(0, 6))):
        value = [value] if draw(st.booleans()) else {"n": value}
    return value


anything = st.one_of(values, nested())


@st.composite
def bid_maps(draw: st.DrawFn) -> dict[Any, Any]:
    """Bid maps, most of them well-formed: each field sometimes missing or anything at all;
    sometimes extra fields (which may replace a bid's own)."""
    m: dict[Any, Any] = {}
    fields = (("t", st.just("bid")), ("lot", ints), ("amount", ints), ("key", keys))
    for name, good in fields:
        pick = draw(st.integers(0, 9))
        if pick == 0:
            continue
        m[name] = draw(good if pick > 2 else anything)
    if draw(st.integers(0, 3)) == 0:
        extra = draw(st.dictionaries(st.one_of(st.sampled_from(("t", "lot", "amount", "key", "x")),
                                               st.text(max_size=4), ints),
                                     anything, min_size=1, max_size=3))
        m.update(extra)
    return m


other_maps = st.fixed_dictionaries(
    {"t": st.one_of(st.sampled_from(("proxy", "accept", "cmd", "sub", "unsub", "ping", "hello",
                                     "teleport", "")), anything)},
    optional={"lot": ints, "key": keys, "max": ints, "op": st.sampled_from(COMMAND_OPS),
              "args": anything, "epoch": keys, "seq": ints, "id": ints, "token": keys,
              "resume": anything, "amount": ints},
)


@st.composite
def around_the_size_limit(draw: st.DrawFn) -> bytes:
    """A bid padded with strings to within a few bytes of MAX_FRAME, either side."""
    frame = pack({"t": "bid", "lot": 1, "amount": 1, "key": "k"})
    pad_len = MAX_FRAME - len(frame) - 40 + draw(st.integers(0, 80))
    pads, size = [], 0
    while size < pad_len:
        piece = min(MAX_STR - 10, pad_len - size)
        pads.append("x" * piece)
        size += piece + 3
    return pack({"t": "bid", "lot": 1, "amount": 1, "key": "k", "pad": pads})


@st.composite
def cut_or_extended(draw: st.DrawFn) -> bytes:
    """A packed bid cut short, or followed by more bytes."""
    frame = pack(draw(bid_maps()))
    if draw(st.booleans()):
        return frame[:draw(st.integers(0, len(frame)))]
    return frame + draw(st.binary(min_size=1, max_size=8))


frames = st.one_of(
    bid_maps().map(pack), bid_maps().map(pack), other_maps.map(pack), anything.map(pack),
    st.binary(max_size=64), cut_or_extended(), around_the_size_limit(),
)


@settings(max_examples=2000, deadline=None, derandomize=True, database=None)
@given(bid_maps())
def test_generated_bid_maps_decode_as_before(m: dict[Any, Any]) -> None:
    """Generated bid maps: the same message or the same error."""
    assert_same(pack(m))


@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(frames)
def test_generated_frames_decode_as_before(frame: bytes) -> None:
    """Any frame (other types, non-maps, garbage, cut, extended, near the size limit): the
    same message or the same error."""
    assert_same(frame)


def test_a_bid_is_immutable_hashable_and_equal_by_value() -> None:
    """What callers may rely on: fields by name, equality by value, a hash, no assignment."""
    bid = codec.decode(pack({"t": "bid", "lot": 12345, "amount": 1234500, "key": "b-1"}))
    assert type(bid) is codec.Bid
    assert (bid.lot, bid.amount, bid.key) == (12345, 1234500, "b-1")
    assert bid == codec.Bid(lot=12345, amount=1234500, key="b-1")
    assert hash(bid) == hash(codec.Bid(12345, 1234500, "b-1"))
    assert repr(bid) == "Bid(lot=12345, amount=1234500, key='b-1')"
    with pytest.raises(AttributeError):
        bid.lot = 1  # type: ignore[misc]
