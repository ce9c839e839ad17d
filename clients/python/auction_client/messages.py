"""Typed server → client messages (docs/protocol.md, "Server → client").

:func:`parse` turns a decoded frame into one of the frozen dataclasses below. Required fields
that are missing or of the wrong type raise :class:`ProtocolError`; unknown extra fields are
ignored (kept in ``Event.fields``), and an unknown ``t`` becomes :class:`Unknown` so that a newer
server does not break an older client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from auction_client.errors import ProtocolError


def _int(d: Mapping[str, Any], name: str) -> int:
    value = d.get(name)
    if type(value) is not int:
        raise ProtocolError(f"field {name!r} must be an integer, got {value!r}")
    return value


def _opt_int(d: Mapping[str, Any], name: str, default: int | None = None) -> int | None:
    value = d.get(name)
    if value is None:
        return default
    if type(value) is not int:
        raise ProtocolError(f"field {name!r} must be an integer, got {value!r}")
    return value


def _str(d: Mapping[str, Any], name: str, default: str | None = None) -> str:
    value = d.get(name, default)
    if not isinstance(value, str):
        raise ProtocolError(f"field {name!r} must be a string, got {value!r}")
    return value


def _opt_bool(d: Mapping[str, Any], name: str) -> bool | None:
    value = d.get(name)
    return None if value is None else bool(value)


@dataclass(frozen=True, slots=True)
class Welcome:
    """First frame of a connection. ``paddle`` for bidders; ``session`` for bidders and staff."""

    server_time: int
    role: str
    paddle: int | None = None
    session: int | None = None
    max_frame: int = 8192


@dataclass(frozen=True, slots=True)
class LotState:
    """The ``state`` of a snapshot. The reserve and bidder identities are never sent."""

    status: str
    mode: str = ""
    start: int = 0
    inc: int = 0
    high: int = 0
    paddle: int = 0
    bids: int = 0
    ends_at: int = 0
    extensions: int = 0
    opened_at: int = 0
    closed_at: int = 0
    seq: int = 0
    high_seq: int = 0
    session: int = 0

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> LotState:
        def num(name: str) -> int:
            value = _opt_int(d, name, 0)
            return 0 if value is None else value

        return cls(
            status=_str(d, "status"),
            mode=_str(d, "mode", ""),
            start=num("start"),
            inc=num("inc"),
            high=num("high"),
            paddle=num("paddle"),
            bids=num("bids"),
            ends_at=num("ends_at"),
            extensions=num("extensions"),
            opened_at=num("opened_at"),
            closed_at=num("closed_at"),
            seq=num("seq"),
            high_seq=num("high_seq"),
            session=num("session"),
        )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The whole state of a lot at ``seq``. ``recovered`` is ``False`` when a resume was asked
    for and could not be served (the client's history is void), ``None`` otherwise."""

    lot: int
    epoch: str
    seq: int
    state: LotState
    recovered: bool | None = None


@dataclass(frozen=True, slots=True)
class Resumed:
    """A resume succeeded: exactly ``count`` ``ev`` frames after ``after`` follow."""

    lot: int
    epoch: str
    after: int
    count: int
    recovered: bool = True


#: Fields of ``ev`` that are not kind-specific.
_EVENT_BASE = frozenset({"t", "lot", "epoch", "seq", "kind", "at"})


@dataclass(frozen=True, slots=True)
class Event:
    """One event of a lot's stream. Kind-specific fields are in ``fields`` (see properties)."""

    lot: int
    epoch: str
    seq: int
    kind: str
    at: int
    fields: Mapping[str, Any] = field(default_factory=dict)

    def get_int(self, name: str, default: int = 0) -> int:
        """A kind field as int, ``default`` when absent or not an int."""
        value = self.fields.get(name)
        return value if type(value) is int else default

    @property
    def paddle(self) -> int:
        return self.get_int("paddle")

    @property
    def amount(self) -> int:
        return self.get_int("amount")

    @property
    def ends_at(self) -> int:
        return self.get_int("ends_at")

    @property
    def reason(self) -> str:
        value = self.fields.get("reason")
        return value if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class Ack:
    """A request was accepted; ``seq`` is the event it produced. ``replay`` for a repeated key."""

    key: str
    lot: int
    seq: int
    at: int = 0
    replay: bool = False


@dataclass(frozen=True, slots=True)
class Nack:
    """A request was refused; nothing changed."""

    key: str
    code: str
    message: str = ""
    lot: int | None = None
    minimum: int | None = None
    retry_after_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Pong:
    """Answer to ``ping``; ``id`` echoed."""

    id: int | None
    server_time: int


@dataclass(frozen=True, slots=True)
class ErrorMsg:
    """A problem not tied to a request key (e.g. a malformed ``sub``)."""

    code: str
    message: str = ""
    lot: int | None = None


@dataclass(frozen=True, slots=True)
class Unknown:
    """A message type this SDK version does not know; kept raw."""

    t: str
    raw: Mapping[str, Any]


ServerMessage = Welcome | Snapshot | Resumed | Event | Ack | Nack | Pong | ErrorMsg | Unknown


def parse(d: Mapping[str, Any]) -> ServerMessage:
    """Turn a decoded server frame into its typed message (see module docstring)."""
    t = _str(d, "t")
    if t == "welcome":
        return Welcome(
            server_time=_int(d, "server_time"),
            role=_str(d, "role", "viewer"),
            paddle=_opt_int(d, "paddle"),
            session=_opt_int(d, "session"),
            max_frame=_opt_int(d, "max_frame", 8192) or 8192,
        )
    if t == "snapshot":
        state = d.get("state")
        if not isinstance(state, Mapping):
            raise ProtocolError("snapshot without a state map")
        return Snapshot(
            lot=_int(d, "lot"),
            epoch=_str(d, "epoch"),
            seq=_int(d, "seq"),
            state=LotState.from_wire(state),
            recovered=_opt_bool(d, "recovered"),
        )
    if t == "resumed":
        return Resumed(
            lot=_int(d, "lot"),
            epoch=_str(d, "epoch"),
            after=_int(d, "after"),
            count=_int(d, "count"),
            recovered=d.get("recovered", True) is not False,
        )
    if t == "ev":
        return Event(
            lot=_int(d, "lot"),
            epoch=_str(d, "epoch"),
            seq=_int(d, "seq"),
            kind=_str(d, "kind"),
            at=_opt_int(d, "at", 0) or 0,
            fields={k: v for k, v in d.items() if k not in _EVENT_BASE},
        )
    if t == "ack":
        return Ack(
            key=_str(d, "key"),
            lot=_opt_int(d, "lot", 0) or 0,
            seq=_opt_int(d, "seq", 0) or 0,
            at=_opt_int(d, "at", 0) or 0,
            replay=bool(d.get("replay", False)),
        )
    if t == "nack":
        return Nack(
            key=_str(d, "key", ""),
            code=_str(d, "code"),
            message=_str(d, "message", ""),
            lot=_opt_int(d, "lot"),
            minimum=_opt_int(d, "minimum"),
            retry_after_ms=_opt_int(d, "retry_after_ms"),
        )
    if t == "pong":
        return Pong(id=_opt_int(d, "id"), server_time=_int(d, "server_time"))
    if t == "error":
        return ErrorMsg(
            code=_str(d, "code"), message=_str(d, "message", ""), lot=_opt_int(d, "lot")
        )
    return Unknown(t=t, raw=dict(d))
