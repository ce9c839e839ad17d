"""The websocket codec: msgpack frames ⇄ typed messages (docs/protocol.md).

Exception tree::

    WireError                 the frame cannot be acted on; ``code`` is stable
    ├── FrameError            not msgpack / not a map / no ``t``: the connection is closed (4400)
    └── (code, not subclass)  bad_request, unknown_type, bad_amount: answered with nack/error

Client messages parse themselves (``from_map``); server messages are built by the ``encode_*``
functions so the hot path (one ``ev`` frame fanned out to every watcher) encodes once.
Decoder limits are explicit (house style rule 9): a hostile frame cannot make the unpacker
allocate more than the frame's own size allows. Field bounds follow
:mod:`auction.domain.inputs`: a ``lot`` is an integer, and one outside ``1 .. 2^63 − 1`` is
decoded as ``UNKNOWN_ID`` (answered ``unknown_lot`` like any lot that does not exist, never
reaching PostgreSQL or Redis out of range); a ``seq`` is in ``0 .. 2^63 − 1``; ``key`` and
``epoch`` have no control characters (msgpack strings are valid UTF-8 by construction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import msgpack

from auction.domain.inputs import MAX_ID, as_id, text_problem
from auction.domain.money import MAX_FEN

MAX_FRAME = 8 * 1024
MAX_STR = 1024
MAX_ITEMS = 64
MAX_KEY_LEN = 64
MAX_EPOCH_LEN = 32
#: the console's ops (docs/protocol.md "Console commands"); the arguments of each are checked by
#: :func:`command_arg`, the one place for them (the socket's ``cmd`` and HTTP's commands alike)
COMMAND_OPS = (
    "open", "hammer", "pass", "warn", "announce", "pause", "resume", "withdraw", "next",
    "reopen", "undo", "floor", "increment",
)
#: longest announcement or withdrawal reason, in characters
MAX_COMMAND_TEXT = 200
#: the arguments each op takes inside ``args``; the others take none
_COMMAND_ARGS: dict[str, tuple[str, ...]] = {
    "warn": ("n",), "announce": ("text",), "withdraw": ("reason",),
    "floor": ("paddle", "amount", "source"), "increment": ("op", "amount"),
}
#: ``floor`` ``args.source``
FLOOR_SOURCES = ("floor", "phone")
#: ``increment`` ``args.op``
INCREMENT_OPS = ("set", "halve", "double", "reset")
_MAX_PADDLE = 2**31 - 1

CLOSE_BAD_FRAME = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_HELLO_TIMEOUT = 4408
CLOSE_TOO_SLOW = 4429


class WireError(Exception):
    def __init__(self, code: str, message: str, *, key: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.key = key


class FrameError(WireError):
    """The frame is not a msgpack map with a string ``t``: close with 4400."""


class ArgError(ValueError):
    """A command's ``args`` are not what its op takes; ``field`` names the culprit
    (``args`` or ``args.<name>``). Answered ``bad_request`` on the socket and over HTTP."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def command_arg(op: str, args: object) -> str:
    """The argument string ``op`` passes to its script, from the request's ``args`` (absent or
    ``None`` = no arguments): ``warn`` ``{n: 1|2|3}`` → ``"1"``..``"3"``; ``announce``
    ``{text}`` and ``withdraw`` ``{reason}``: 1–200 characters without control characters;
    ``floor`` ``{paddle, amount, source}`` → ``"<paddle>:<amount>:<source>"``; ``increment``
    ``{op, amount?}`` → ``"set:<amount>"`` / ``"halve"`` / ``"double"`` / ``"reset"``; every
    other op takes none (``""``). Anything else raises :class:`ArgError`."""
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise ArgError("args", "字段 args 必须是映射")
    names = _COMMAND_ARGS.get(op, ())
    for field in args:
        if field not in names:
            shown = field if isinstance(field, str) else repr(field)
            raise ArgError(f"args.{shown[:32]}", f"操作 {op} 不接受参数 args.{shown[:32]}")
    if not names:
        return ""
    if op == "warn":
        value = args.get("n")
        if type(value) is not int or value not in (1, 2, 3):
            raise ArgError("args.n", "字段 args.n 必须是 1、2 或 3")
        return str(value)
    if op == "floor":
        paddle = _whole(args, "paddle", _MAX_PADDLE)
        amount = _whole(args, "amount", MAX_FEN)
        source = args.get("source")
        if source not in FLOOR_SOURCES:
            raise ArgError("args.source", "字段 args.source 必须是 floor (场内) 或 phone (电话)")
        return f"{paddle}:{amount}:{source}"
    if op == "increment":
        which = args.get("op")
        if which not in INCREMENT_OPS:
            raise ArgError("args.op", f"字段 args.op 必须是 {'/'.join(INCREMENT_OPS)} 之一")
        if which != "set":
            if "amount" in args:
                raise ArgError("args.amount", f"操作 increment {which} 不接受参数 args.amount")
            return str(which)
        return f"set:{_whole(args, 'amount', MAX_FEN)}"
    name = names[0]
    value = args.get(name)
    if (
        not isinstance(value, str) or not value.strip()
        or text_problem(value, max_len=MAX_COMMAND_TEXT) is not None
    ):
        raise ArgError(
            f"args.{name}", f"字段 args.{name} 必须是 1–{MAX_COMMAND_TEXT} 个字符, 不含控制字符"
        )
    return value


def _whole(args: dict[Any, Any], name: str, maximum: int) -> int:
    value = args.get(name)
    if type(value) is not int or not 1 <= value <= maximum:
        raise ArgError(f"args.{name}", f"字段 args.{name} 必须是 1 … {maximum} 的整数")
    return value


@dataclass(frozen=True, slots=True)
class Hello:
    token: str | None
    resume: dict[int, tuple[str, int]]


@dataclass(frozen=True, slots=True)
class Sub:
    lot: int
    epoch: str | None
    seq: int | None


@dataclass(frozen=True, slots=True)
class Unsub:
    lot: int


class Bid(NamedTuple):
    """``bid {lot, amount, key}``. A named tuple, not a frozen dataclass like the other messages
    (house style rule 3): one is built per bid frame, the hottest path, and :func:`decode` builds
    the tuple in ≈ 0.1 µs where the dataclass's ``__init__`` took ≈ 0.55 µs (it sets each field
    through ``object.__setattr__``). As immutable and hashable as before; unlike the dataclass it
    also equals the plain tuple ``(lot, amount, key)``, which no caller compares it with."""

    lot: int
    amount: int
    key: str


@dataclass(frozen=True, slots=True)
class Proxy:
    """``proxy {lot, max, key}``: set or change the sender's secret maximum (english lots)."""

    lot: int
    max: int
    key: str


@dataclass(frozen=True, slots=True)
class Accept:
    """``accept {lot, key}``: take a Dutch lot at its current price."""

    lot: int
    key: str


@dataclass(frozen=True, slots=True)
class Cmd:
    lot: int
    op: str
    key: str
    arg: str = ""  # the op's one argument, checked by command_arg ("" for none)


@dataclass(frozen=True, slots=True)
class Ping:
    id: int | None


ClientMessage = Hello | Sub | Unsub | Bid | Proxy | Accept | Cmd | Ping


#: builds a :class:`Bid` from its three fields without the named tuple's ``__new__`` (a Python
#: function that makes the same call)
_new_tuple = tuple.__new__


def _too_deep(m: dict[str, Any]) -> bool:
    """More than 4 levels of maps and arrays. Most frames are flat maps (a ``bid``): those are
    told in one pass over their values, without the recursive walk."""
    for v in m.values():
        if type(v) is dict or type(v) is list:  # what msgpack builds: exact types
            return _depth(m) > 4
    return False


def _depth(value: Any, level: int = 0) -> int:
    if level > 4:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def _int(m: dict[str, Any], name: str, key: str | None, *, optional: bool = False) -> int | None:
    value = m.get(name)
    if value is None and optional:
        return None
    if type(value) is not int:
        raise WireError("bad_request", f"字段 {name} 必须是整数", key=key)
    return value


def _str(
    m: dict[str, Any], name: str, key: str | None, *, optional: bool = False, limit: int = MAX_STR
) -> str | None:
    value = m.get(name)
    if value is None and optional:
        return None
    if (
        not isinstance(value, str) or not value
        or text_problem(value, max_len=limit) is not None
    ):
        raise WireError(
            "bad_request", f"字段 {name} 必须是 1–{limit} 个字符的字符串, 不含控制字符", key=key
        )
    return value


def _lot(m: dict[str, Any], key: str | None) -> int:
    """The frame's lot id; out of range → ``UNKNOWN_ID`` (see the module docstring)."""
    lot = _int(m, "lot", key)
    assert lot is not None
    return as_id(lot)


def _seq(value: object) -> bool:
    """A resume position: an integer in ``0 .. 2^63 − 1``."""
    return type(value) is int and 0 <= value <= MAX_ID


def decode(frame: bytes) -> ClientMessage:
    """Parse one client frame or raise :class:`WireError` / :class:`FrameError`."""
    if len(frame) > MAX_FRAME:
        raise FrameError("bad_frame", "帧过大")
    try:
        # the limits of docs/protocol.md "Decoder limits", as literal keywords: a ``**`` dict
        # made this call take 0.9 µs instead of 0.5 µs
        m = msgpack.unpackb(
            frame, raw=False, strict_map_key=False, max_str_len=MAX_STR, max_bin_len=MAX_STR,
            max_array_len=MAX_ITEMS, max_map_len=MAX_ITEMS, max_ext_len=0,
        )
    except Exception:
        raise FrameError("bad_frame", "不是有效的 msgpack 数据") from None
    if type(m) is dict and len(m) == 4:
        # A well-formed bid, the frame that comes by the thousand, told in one expression: its
        # four entries are exactly t, lot, amount and key, so it is flat (no depth to check),
        # and each check is one the general path makes or a stricter one (an in-range lot;
        # ``isprintable`` refuses every character text_problem refuses and more: separators,
        # format, private-use, unassigned). Anything else falls through to the general path,
        # which answers it as it always did; this one only returns what that path would return.
        t, lot, amount, key = m.get("t"), m.get("lot"), m.get("amount"), m.get("key")
        if (
            type(t) is str and t == "bid"
            and type(lot) is int and 0 < lot <= MAX_ID
            and type(amount) is int and 0 < amount <= MAX_FEN
            and type(key) is str and 0 < len(key) <= MAX_KEY_LEN and key.isprintable()
        ):
            bid: Bid = _new_tuple(Bid, (lot, amount, key))
            return bid
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
        return Bid(lot=lot, amount=amount, key=key)
    if t == "proxy":
        key = _str(m, "key", None, limit=MAX_KEY_LEN)
        lot = _lot(m, key)
        maximum = m.get("max")
        if type(maximum) is not int or not 0 < maximum <= MAX_FEN:
            raise WireError("bad_amount", "最高出价必须是正整数(单位: 分)", key=key)
        assert key is not None
        return Proxy(lot=lot, max=maximum, key=key)
    if t == "accept":
        key = _str(m, "key", None, limit=MAX_KEY_LEN)
        lot = _lot(m, key)
        assert key is not None
        return Accept(lot=lot, key=key)
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
        return Cmd(lot=lot, op=str(op), key=key, arg=arg)
    if t == "sub":
        lot = _lot(m, None)
        epoch = _str(m, "epoch", None, optional=True, limit=MAX_EPOCH_LEN)
        seq = _int(m, "seq", None, optional=True)
        if (epoch is None) != (seq is None) or (seq is not None and not _seq(seq)):
            raise WireError("bad_request", "epoch 与 seq 须同时给出, 0 ≤ seq < 2^63")
        return Sub(lot=lot, epoch=epoch, seq=seq)
    if t == "unsub":
        return Unsub(lot=_lot(m, None))
    if t == "ping":
        return Ping(id=_int(m, "id", None, optional=True))
    if t == "hello":
        # any string goes to the token check (4401 when it is not a token), control
        # characters included: they are a bad credential, not a bad frame
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
        return Hello(token=token, resume=resume)
    raise WireError("unknown_type", f"未知的消息类型 {t[:32]!r}", key=key)


def pack(message: dict[str, Any]) -> bytes:
    out: bytes = msgpack.packb(message, use_bin_type=True)
    return out


def encode_event(lot: int, epoch: str, event: dict[str, Any]) -> bytes:
    """One ``ev`` frame. ``event`` is the stream map; the bidder id is internal and dropped."""
    frame = {"t": "ev", "lot": lot, "epoch": epoch}
    for k, v in event.items():
        if k != "bidder":
            frame[k] = v
    return pack(frame)


def encode_ack(key: str, lot: int, seq: int, at: int, replay: bool, **extra: Any) -> bytes:
    """``extra``: what only the sender may see (a ``proxy``'s ``max``)."""
    return pack({"t": "ack", "key": key, "lot": lot, "seq": seq, "at": at, "replay": replay,
                 **extra})


def encode_nack(key: str | None, code: str, message: str, **extra: Any) -> bytes:
    return pack({"t": "nack", "key": key, "code": code, "message": message, **extra})


#: the fixed parts of an ``overloaded`` nack, in :func:`encode_nack`'s key order
_NACK_HEAD = b"\x86" + b"".join(msgpack.packb(s) for s in ("t", "nack", "key"))
_OVERLOADED_CODE = b"".join(msgpack.packb(s) for s in ("code", "overloaded", "message"))
_LOT_NAME = msgpack.packb("lot")
_RETRY_NAME = msgpack.packb("retry_after_ms")
#: one packer for :func:`encode_overloaded` (``packb`` builds a packer per call); the event
#: loop's thread only, like everything that encodes frames
_PACKER = msgpack.Packer(use_bin_type=True)
#: a refusal's message, packed (a handful of texts: one per ``retry_after_ms``)
_PACKED_TEXT: dict[str, bytes] = {}


def encode_overloaded(key: str, lot: int, retry_after_ms: int, message: str) -> bytes:
    """``encode_nack(key, "overloaded", message, lot=lot, retry_after_ms=retry_after_ms)``,
    the same bytes, from ready-packed parts: at twice a server's capacity most bids are refused
    at the door, and this answer is most of what the server writes (docs/performance.md,
    "Issue 17, ninth pass")."""
    text = _PACKED_TEXT.get(message)
    if text is None:
        if len(_PACKED_TEXT) >= 2048:
            _PACKED_TEXT.clear()
        text = _PACKED_TEXT[message] = msgpack.packb(message)
    packed = _PACKER.pack
    return b"".join((_NACK_HEAD, packed(key), _OVERLOADED_CODE, text, _LOT_NAME, packed(lot),
                     _RETRY_NAME, packed(retry_after_ms)))


def encode_error(code: str, message: str) -> bytes:
    return pack({"t": "error", "code": code, "message": message})
