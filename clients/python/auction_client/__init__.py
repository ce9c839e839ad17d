"""Python SDK of the technology-results auction engine (科技成果竞价/拍卖).

For third parties: depends only on ``websockets``, ``msgpack`` and ``httpx``, never on the server
package. See docs/sdk.md and docs/protocol.md.
"""

from __future__ import annotations

from auction_client.client import AuctionClient, local_ms, new_key
from auction_client.errors import (
    AmountError,
    ApiError,
    AuctionClientError,
    BidRejected,
    CommandRejected,
    NotConnected,
    ProtocolError,
    Rejected,
)
from auction_client.event_stream import EventStream
from auction_client.http_api import AuctionHTTP, enrol_bidder
from auction_client.lot_view import LotView, Verdict
from auction_client.messages import (
    Ack,
    ErrorMsg,
    Event,
    LotState,
    Nack,
    Pong,
    Resumed,
    ServerMessage,
    Snapshot,
    Unknown,
    Welcome,
)
from auction_client.money import parse_amount, parse_yuan, wan, yuan
from auction_client.notice import ClientEvent, Notice

__all__ = [
    "Ack",
    "AmountError",
    "ApiError",
    "AuctionClient",
    "AuctionClientError",
    "AuctionHTTP",
    "BidRejected",
    "ClientEvent",
    "CommandRejected",
    "ErrorMsg",
    "Event",
    "EventStream",
    "LotState",
    "LotView",
    "Nack",
    "NotConnected",
    "Notice",
    "Pong",
    "ProtocolError",
    "Rejected",
    "Resumed",
    "ServerMessage",
    "Snapshot",
    "Unknown",
    "Verdict",
    "Welcome",
    "enrol_bidder",
    "local_ms",
    "new_key",
    "parse_amount",
    "parse_yuan",
    "wan",
    "yuan",
]
