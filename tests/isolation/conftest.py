"""The isolation matrix runs on the same real server and client as tests/accounts."""

from tests.accounts.conftest import http, server

__all__ = ["http", "server"]
