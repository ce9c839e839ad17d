"""Exceptions raised by the SDK. Every server-side refusal carries the stable ``code``."""

from __future__ import annotations


class AuctionClientError(Exception):
    """Base class of every SDK error."""


class ProtocolError(AuctionClientError):
    """The server sent a frame the SDK cannot read (not msgpack, not a map, missing fields)."""


class NotConnected(AuctionClientError):
    """The client is closed, or gave up: ``code`` says why (``closed``, ``unauthorized`` …)."""

    def __init__(self, message: str, code: str = "closed") -> None:
        super().__init__(message)
        self.code = code


class Rejected(AuctionClientError):
    """The server answered a request with ``nack`` (or an HTTP call with an error body).

    ``code`` is the stable error code of docs/protocol.md; ``message`` is Chinese; ``minimum`` is
    the lowest valid bid when the server gave one; ``retry_after_ms`` for ``rate_limited`` and
    ``overloaded``.
    """

    def __init__(
        self,
        code: str,
        message: str = "",
        *,
        minimum: int | None = None,
        retry_after_ms: int | None = None,
        lot: int | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.minimum = minimum
        self.retry_after_ms = retry_after_ms
        self.lot = lot


class BidRejected(Rejected):
    """A ``bid`` was refused (``too_low``, ``lot_closed``, ``already_leading`` …)."""


class CommandRejected(Rejected):
    """A console ``cmd`` was refused (``no_bids``, ``wrong_state`` …)."""


class AmountError(AuctionClientError, ValueError):
    """An amount as a person wrote it could not be read (:func:`auction_client.money.
    parse_amount`); the message is Chinese and says what is accepted."""


class ApiError(AuctionClientError):
    """An HTTP call failed: ``status`` is the HTTP status, ``code`` the stable error code."""

    def __init__(self, status: int, code: str, message: str = "", field: str | None = None) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field
