"""Server → client websocket frames, built once per message (RFC 6455 §5.2).

A lot event goes to every watcher of the lot as the same bytes: :class:`Frame` holds the msgpack
message (``payload``, what the codec made) and, made once beside it, the same message as one
complete websocket frame (``wire``: FIN, opcode binary, not masked — a server never masks) that a
connection's outbox can hand to its socket as it is (auction/api/outbox.py). Frames a server
sends are never masked and carry no extension bits, so every watcher's copy of a message is
byte-for-byte the same frame, whatever the connection.

With ``permessage-deflate`` negotiated these frames go out uncompressed (RSV1 clear), which
RFC 7692 §6 allows message by message: the receiver only inflates messages whose RSV1 is set,
and the compression context of both sides only ever sees compressed messages.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_FIN_BINARY = 0x82
_SHORT = struct.Struct("!BB")
_MEDIUM = struct.Struct("!BBH")
_LONG = struct.Struct("!BBQ")


def binary_frame(payload: bytes) -> bytes:
    """``payload`` as one unmasked, final binary frame, header included."""
    n = len(payload)
    if n < 126:
        header = _SHORT.pack(_FIN_BINARY, n)
    elif n < 1 << 16:
        header = _MEDIUM.pack(_FIN_BINARY, 126, n)
    else:
        header = _LONG.pack(_FIN_BINARY, 127, n)
    return header + payload


@dataclass(frozen=True, slots=True)
class Frame:
    """One message for many sockets: the msgpack ``payload`` and its framed ``wire`` bytes."""

    payload: bytes
    wire: bytes

    @classmethod
    def of(cls, payload: bytes) -> Frame:
        return cls(payload, binary_frame(payload))
