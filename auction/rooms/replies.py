"""What a room script answers, read once for every caller (:mod:`auction.rooms.service`,
:mod:`auction.rooms.lanes`): :class:`Accepted`, or the :class:`Rejection` it names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auction.domain.errors import Rejection
from auction.domain.room import deposit_required


@dataclass(frozen=True, slots=True)
class Accepted:
    """A script accepted the command. ``seq`` is the command's own event (the bid), ``last_seq``
    the last event it appended (an extension may follow a bid)."""

    seq: int
    last_seq: int
    at: int
    ends_at: int
    outcome: str | None = None
    replay: bool = False
    lot: int | None = None  # the lot acted on, when not the one the request named (``next``)


def decode_reply(reply: list[Any]) -> Accepted:
    parts = [p.decode() if isinstance(p, bytes) else p for p in reply]
    replay = parts[-1] == "replay"
    if replay:
        parts = parts[:-1]
    if parts[0] == "err":
        if parts[1] == "deposit_required":
            refusal = deposit_required(int(parts[3]) if len(parts) > 3 else 0)
            refusal.data["at"] = int(parts[2])
            raise refusal
        data: dict[str, Any] = {}
        if len(parts) > 3 and parts[3]:
            name = "ends_at" if parts[1] in ("not_due", "lot_paused") else "minimum"
            data[name] = int(parts[3])
        if replay:
            data["replay"] = True
        raise Rejection(str(parts[1]), at=int(parts[2]), **data)
    outcome = str(parts[5]) if len(parts) > 5 else None
    return Accepted(
        seq=int(parts[1]), last_seq=int(parts[2]), at=int(parts[3]), ends_at=int(parts[4]),
        outcome=outcome, replay=replay,
    )
