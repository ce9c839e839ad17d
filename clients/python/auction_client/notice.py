"""Client-side, synthetic status notices delivered alongside server events."""

from __future__ import annotations

from dataclasses import dataclass

from auction_client.messages import Event

#: Notice kinds, in the order a session usually sees them.
CONNECTED = "connected"  # a welcome arrived (first connect or reconnect)
SNAPSHOT = "snapshot"  # a lot's state was (re)loaded from a snapshot after a plain subscribe
RESUMED = "resumed"  # a resume succeeded: the missed events follow, nothing was lost
RESYNC = "resync"  # a resume was impossible: state replaced by a snapshot (recovered False)
DISCONNECTED = "disconnected"  # the connection dropped; reconnecting with resume
LINK_LOST = "link_lost"  # no pong within pong_timeout: link taken as lost, reconnecting now
LATE_ANSWER = "late_answer"  # the answer to a request whose caller had stopped waiting
ERROR = "error"  # the server sent an ``error`` frame
CLOSED = "closed"  # the client stopped (close() or a fatal close code); iterators end


@dataclass(frozen=True, slots=True)
class Notice:
    """A status change of the connection (``lot == 0``) or of one lot's stream.

    ``recovered`` is ``True`` for ``resumed``, ``False`` for ``resync``, else ``None``.
    ``code`` carries the close code / error code where there is one; ``key`` the request's
    idempotency key for ``late_answer``.
    """

    kind: str
    lot: int = 0
    message: str = ""
    recovered: bool | None = None
    code: str = ""
    key: str = ""


#: What :meth:`AuctionClient.events` yields.
ClientEvent = Event | Notice
