"""Reading and tearing a Redis 7 AOF (``appendonlydir/*.incr.aof``, RESP commands).

The rooms' Lua scripts are replicated to the AOF by their effects, one ``MULTI … EXEC`` block
per script call, in which an event is an ``XADD <ns>:{lot:<id>}:events <seq>-0 e <msgpack>``.
:func:`tear_before_last_events` truncates the file in the middle of the ``MULTI`` of the n-th
last such block: a torn tail, as a crash of the disk or of the host would leave it, that costs
the last ``n`` events (and whatever came after them). Redis loads it with ``aof-load-truncated
yes`` (it truncates the file to the last complete command and says so in its log).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msgpack


@dataclass(frozen=True)
class Command:
    offset: int
    end: int
    argv: list[bytes]


def parse(data: bytes) -> list[Command]:
    """Every complete command of ``data``; stops at a torn tail."""
    out: list[Command] = []
    i = 0
    while i < len(data):
        if data[i:i + 1] == b"#":  # an annotation line (aof-timestamp-enabled)
            nl = data.find(b"\r\n", i)
            if nl < 0:
                break
            i = nl + 2
            continue
        start = i
        try:
            assert data[i:i + 1] == b"*", f"not a RESP array at offset {i}"
            nl = data.index(b"\r\n", i)
            count = int(data[i + 1:nl])
            i = nl + 2
            argv = []
            for _ in range(count):
                assert data[i:i + 1] == b"$", f"not a bulk string at offset {i}"
                nl = data.index(b"\r\n", i)
                size = int(data[i + 1:nl])
                i = nl + 2
                if i + size + 2 > len(data):
                    raise ValueError("torn")
                argv.append(data[i:i + size])
                i += size + 2
        except ValueError:
            break
        out.append(Command(start, i, argv))
    return out


@dataclass(frozen=True)
class LostEvent:
    lot: int
    seq: int
    kind: str
    paddle: int | None
    amount: int | None


@dataclass(frozen=True)
class Torn:
    path: Path
    size_before: int
    size_after: int
    lost: list[LostEvent]


def _lot_of(key: bytes) -> int:
    text = key.decode()
    start = text.index("{lot:") + 5
    return int(text[start:text.index("}", start)])


def tear_before_last_events(path: Path, namespace: str, events: int) -> Torn:
    """Truncate ``path`` inside the ``MULTI`` that opens the ``events``-th last event block."""
    data = path.read_bytes()
    commands = parse(data)
    prefix = f"{namespace}:".encode()
    xadds = [i for i, c in enumerate(commands)
             if c.argv and c.argv[0].upper() == b"XADD" and c.argv[1].startswith(prefix)
             and c.argv[1].endswith(b":events")]
    assert len(xadds) >= events, f"only {len(xadds)} events in {path}"
    first = xadds[-events]
    multi = first
    while multi >= 0 and commands[multi].argv[0].upper() != b"MULTI":
        multi -= 1
    assert multi >= 0 and first - multi < 10, "the event is not in a MULTI block"
    lost = []
    for i in xadds[-events:]:
        argv = commands[i].argv
        fields = dict(zip(argv[3::2], argv[4::2], strict=True))
        ev = msgpack.unpackb(fields[b"e"], raw=False, strict_map_key=False)
        lost.append(LostEvent(_lot_of(argv[1]), int(argv[2].split(b"-")[0]), str(ev["kind"]),
                              ev.get("paddle"), ev.get("amount")))
    cut = commands[multi].offset + 9  # "*1\r\n$5\r\nM": torn in the middle of a command
    with path.open("r+b") as f:
        f.truncate(cut)
    return Torn(path, len(data), cut, lost)
