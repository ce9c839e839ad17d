"""AuctionHTTP's own costs: making a client must not read the CA bundle again."""

from __future__ import annotations

import ssl
from typing import Any

import pytest
from auction_client import AuctionHTTP


async def test_clients_share_one_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx reads the whole CA bundle for every new client by default (≈ 80 ms of blocked
    event loop here); a load generator makes four clients a bidder, and the stalls let the
    server close idle keep-alive connections under its requests. Twenty clients read it at
    most once."""
    loads: list[Any] = []
    original = ssl.SSLContext.load_verify_locations

    def counted(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(args or kwargs)
        original(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    clients = [AuctionHTTP("http://127.0.0.1:9") for _ in range(10)]
    clients += [client.with_token(f"t{i}") for i, client in enumerate(clients)]
    try:
        assert len(loads) <= 1
    finally:
        for client in clients:
            await client.aclose()
