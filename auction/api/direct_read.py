"""The ``auction.direct_read`` ASGI extension: bids taken from the socket without the ASGI
receive queue.

Why: through ASGI every frame a client sends is one ``websocket.receive`` message: uvicorn puts it
on the connection's queue, stops reading the socket until the app takes it, and the app's
receive loop wakes up for it (an ``epoll_ctl`` pair and a task switch per frame). On a hot lot
most frames are ``bid``s, and a ``bid`` needs no awaiting at all (``Connection._bid`` queues it
on its lot's lane or refuses it at the door, synchronously). At twice a server's capacity that
per-frame overhead is what the bids refused ``overloaded`` cost (docs/performance.md).

How: ``auction serve``'s uvicorn protocol (auction/api/ws_server.py) offers, in the scope,
an object with :meth:`DirectReader.read_with`. The connection installs a reader once its
``hello`` is done; for each complete binary message the protocol calls ``reader(data)`` first,
**only when its receive queue is empty**, and queues the message as usual when the reader
returns ``False``. The reader takes a message only when the connection's receive loop is waiting
for the next frame with nothing else in hand, and only a well-formed ``bid``: anything else
(every other message type, a malformed frame, a dropped connection) goes through the queue and
the loop as before. So frames are handled in the order they came, exactly as the loop would,
minus the queue. Servers without the extension (other implementations, ``TestClient``) use the
queue for everything. ``auction serve``'s protocol also offers a bid frame before the
``websockets`` parser sees it (its framer: :class:`auction.api.ws_server.AuctionWebSocketProtocol`).

The protocol side overrides uvicorn's ``send_receive_event_to_app`` and reads its ``frames``,
``curr_msg_data_type``, ``close_sent`` and ``queue``: internals of uvicorn's sans-I/O
implementation, as ``auction.direct_write`` already uses. Every e2e and fuzz test goes through
this path, and tests/e2e/test_direct_read.py compares it with the stock protocol, so a uvicorn
release that changes them fails the suite rather than the bids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

#: the scope extension's name
DIRECT_READ = "auction.direct_read"

#: ``reader(data) -> taken``: called by the protocol with one complete binary message
Reader = Callable[[bytes], bool]


class DirectReader(Protocol):
    """What ``scope["extensions"]["auction.direct_read"]`` must be."""

    def read_with(self, reader: Reader | None) -> None:
        """Offer each binary message to ``reader`` first (``None``: stop)."""
