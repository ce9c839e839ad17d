"""The msgpack codec of the wire protocol: one binary frame = one msgpack map with a ``t`` field.

Encoding refuses floats on purpose (money is integer fen; the server refuses floats too).
Decoding mirrors the server's limits loosely (the server is trusted more than clients are, but a
frame that is not a map with a string ``t`` is a :class:`ProtocolError`).
"""

from __future__ import annotations

from typing import Any

import msgpack

from auction_client.errors import ProtocolError

#: The server closes the connection on frames larger than this (close code 1009).
MAX_FRAME = 8192


def _no_floats(value: object, depth: int = 0) -> None:
    if depth > 8:
        raise ValueError("message nested too deeply")
    if isinstance(value, float):
        raise TypeError("floats are not allowed on the wire; use integer fen / milliseconds")
    if isinstance(value, dict):
        for k, v in value.items():
            _no_floats(k, depth + 1)
            _no_floats(v, depth + 1)
    elif isinstance(value, list | tuple):
        for v in value:
            _no_floats(v, depth + 1)


def encode(message: dict[str, Any]) -> bytes:
    """Pack one client message. Raises ``ValueError`` without ``t`` or when over :data:`MAX_FRAME`
    bytes, ``TypeError`` on floats."""
    if not isinstance(message.get("t"), str):
        raise ValueError("a message needs a string field 't'")
    _no_floats(message)
    data: bytes = msgpack.packb(message, use_bin_type=True)
    if len(data) > MAX_FRAME:
        raise ValueError(f"frame of {len(data)} bytes exceeds {MAX_FRAME}")
    return data


def decode(frame: bytes | bytearray | memoryview | str) -> dict[str, Any]:
    """Unpack one server frame into a dict. Raises :class:`ProtocolError` on text frames, bad
    msgpack, a non-map or a map without a string ``t``."""
    if isinstance(frame, str):
        raise ProtocolError("text frame received; the protocol uses binary frames only")
    try:
        value = msgpack.unpackb(bytes(frame), raw=False, strict_map_key=False)
    except Exception as exc:  # msgpack raises several unrelated types
        raise ProtocolError(f"frame is not msgpack: {exc}") from None
    if not isinstance(value, dict):
        raise ProtocolError("frame is not a map")
    if not isinstance(value.get("t"), str):
        raise ProtocolError("frame has no string field 't'")
    return value
