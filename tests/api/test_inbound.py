"""The app's own middleware (auction/api/inbound.py), on a real uvicorn: request-line checks,
and a 500 that leaves the keep-alive connection usable with one traceback, not two."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from auction.api import http_errors, inbound
from tests.e2e.harness import serving_app


async def boom(request: Request) -> JSONResponse:
    raise RuntimeError("a bug")


async def echo(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.path_params["id"], "q": dict(request.query_params)})


@contextlib.asynccontextmanager
async def serving() -> AsyncIterator[int]:
    app = Starlette(
        routes=[Route("/boom", boom), Route("/items/{id:int}", echo)],
        exception_handlers=http_errors.exception_handlers(),
        middleware=[Middleware(inbound.Inbound)],
    )
    async with serving_app(app) as port:
        yield port


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   target: str, extra: str = "") -> tuple[int, dict[str, str], Any]:
    """One HTTP/1.1 request on an open connection: status, headers, JSON body (``extra``:
    more header lines, each ending in CRLF)."""
    writer.write(f"GET {target} HTTP/1.1\r\nHost: test\r\n{extra}\r\n".encode("latin-1"))
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
    body = await reader.readexactly(int(headers["content-length"]))
    return int(status_line.split()[1]), headers, json.loads(body)


async def test_a_500_keeps_the_connection_and_logs_one_traceback() -> None:
    """An unmapped exception is answered 500 internal_error on a connection that stays usable
    (no Connection: close, the next request on it is answered), with one traceback logged."""
    recorder = Recorder()
    async with serving() as port:
        for name in ("auction", "uvicorn"):
            logging.getLogger(name).addHandler(recorder)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            status, headers, body = await exchange(reader, writer, "/boom")
            assert status == 500 and body["error"]["code"] == "internal_error"
            assert headers.get("connection", "").lower() != "close"
            status, _, body = await exchange(reader, writer, "/items/7")
            assert status == 200 and body["id"] == 7
            writer.close()
        finally:
            for name in ("auction", "uvicorn"):
                logging.getLogger(name).removeHandler(recorder)
    tracebacks = [r for r in recorder.records if r.exc_info]
    assert len(tracebacks) == 1 and tracebacks[0].name == "auction.api", recorder.records
    assert not [r for r in recorder.records if "ASGI application" in r.getMessage()]


@pytest.mark.parametrize(
    ("target", "field"),
    [("/items/1?q=%00", "q"), ("/items/1?a%00=1", "a\x00"), ("/items/1?q=%1b%5b2J", "q"),
     ("/items/%00", "path"), ("/items/1?q=" + "x" * 300, "q"), ("/boom%0a", "path"),
     ("/items/" + "9" * 3000, "path")],
)
async def test_control_characters_in_the_request_line_are_400(target: str, field: str) -> None:
    """NUL, escapes or overlong values in the path (over 2,048 characters) or a query
    parameter: 400 naming it."""
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        status, _, body = await exchange(reader, writer, target)
        writer.close()
    assert status == 400 and body["error"]["code"] == "bad_request"
    assert body["error"]["field"] == (field if field.isprintable() else ascii(field))


async def test_the_request_lines_refusals_and_500s_in_english() -> None:
    """With ``X-Auction-Lang: en`` the same answers, their messages in English."""
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        en = "X-Auction-Lang: en\r\n"
        status, _, body = await exchange(reader, writer, "/items/1?q=%00", en)
        assert (status, body["error"]["field"], body["error"]["message"]) == (
            400, "q", "Query parameter q holds the control character U+0000")
        status, _, body = await exchange(reader, writer, "/items/" + "9" * 3000, en)
        assert (status, body["error"]["message"]) == (
            400, "The path is too long (at most 2048 characters)")
        status, _, body = await exchange(reader, writer, "/boom", en)
        assert (status, body["error"]["message"]) == (500, "Server error, try again")
        writer.close()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", 1), ("9223372036854775807", 2**63 - 1), ("9223372036854775808", 0), ("0", 0),
     ("-1", 0), ("9" * 2000, 0)],
)
async def test_path_ids_out_of_range_reach_the_handler_as_unknown(raw: str, expected: int) -> None:
    """The int convertor of every route: out-of-range ids become 0, which names no row."""
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        status, _, body = await exchange(reader, writer, f"/items/{raw}")
        writer.close()
    assert (status, body["id"]) == (200, expected)
