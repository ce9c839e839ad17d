"""The demo: seeds markets, sessions, lots and bidders over the HTTP API, then runs simulated
bidders and an auctioneer over the websocket, exactly like any third-party client would.

It imports only the SDK (``auction_client``), never the server's internals.
"""
