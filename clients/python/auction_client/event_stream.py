"""An async iterator over a client's events and notices (``async for ev in client.events()``)."""

from __future__ import annotations

import asyncio
from types import TracebackType

from auction_client.notice import CLOSED, ClientEvent, Notice


class EventStream:
    """Receives every :data:`ClientEvent` from the moment it is created (nothing is missed
    between creating it and iterating). With ``lot`` set, only that lot's items and the
    connection-level notices (``lot == 0``) are delivered.

    The iteration ends after the client closes (the final ``closed`` notice is delivered
    first). The client holds streams weakly; call :meth:`close` (or use ``async with``) to stop
    receiving early.
    """

    __slots__ = ("__weakref__", "_done", "_lot", "_queue")

    def __init__(self, lot: int | None = None) -> None:
        self._lot = lot
        self._queue: asyncio.Queue[ClientEvent | None] = asyncio.Queue()
        self._done = False

    def offer(self, item: ClientEvent) -> None:
        """Called by the client for every item; filters by lot."""
        if self._done:
            return
        if self._lot is not None and item.lot not in (0, self._lot):
            return
        self._queue.put_nowait(item)
        if isinstance(item, Notice) and item.kind == CLOSED:
            self.close()

    def close(self) -> None:
        """Stop receiving; the iterator ends after the items already queued."""
        if not self._done:
            self._done = True
            self._queue.put_nowait(None)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> ClientEvent:
        item = await self._queue.get()
        if item is None:
            raise StopAsyncIteration
        return item

    async def get(self, timeout: float | None = None) -> ClientEvent:
        """The next item; ``TimeoutError`` after ``timeout`` s, ``StopAsyncIteration`` at end."""
        async with asyncio.timeout(timeout):
            return await self.__anext__()

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
