"""The hostile inputs of issue 9 ("Why" 3), one by one, through a real server: each is answered
like any unknown id or with a 400 naming the field, closes a socket with its documented code, and
writes no traceback. (tests/fuzz runs the same families at random over every route and frame.)"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import msgpack
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.harness import ADMIN, Server, create_sale, raw_client

BIG = 2**63
NO_SUCH = 999_999_999  # an id in range that no row has


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def tracebacks(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()}" for r in self.records
                if r.exc_info or r.levelno >= logging.ERROR]


@contextlib.contextmanager
def server_log() -> Iterator[Records]:
    """WARNING+ records of the app and uvicorn while the block runs (attached after the server
    started: uvicorn's logging setup drops handlers attached before)."""
    handler = Records()
    loggers = [logging.getLogger(name) for name in ("auction", "uvicorn", "starlette")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def answer(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.json()["error"]["code"] if r.status_code >= 400 else ""


PUBLIC_READS = ["/api/v1/lots/{}", "/api/v1/lots/{}/bids", "/api/v1/lots/{}/registration",
                "/api/v1/sessions/{}", "/api/v1/sessions/{}/lots"]
WRITES: list[tuple[str, dict[str, Any] | None]] = [
    ("/api/v1/sessions/{}/lots", {"title": "x"}),
    ("/api/v1/sessions/{}/staff-tokens", {"name": "x"}),
    ("/api/v1/sessions/{}/registrations", {"bidder_id": 1}),
    ("/api/v1/sessions/{}/deposits/settle", None),
    ("/api/v1/registrations/{}/approve", None),
    ("/api/v1/registrations/{}/reject", {"reason": "x"}),
    ("/api/v1/registrations/{}/deposit", {"deposit_fen": 1}),
    ("/api/v1/registrations/{}/agent", {"agent_name": "x", "agent_resident_id": "x"}),
    ("/api/v1/deposits/{}/forfeit", {"reason": "x"}),
    ("/api/v1/accounts/{}/disable", None),
    ("/api/v1/lots/{}/commands", {"op": "open", "key": "k"}),
]


async def test_path_ids_out_of_range_are_answered_like_unknown_ids(server: Server) -> None:
    """Path ids ≥ 2^63 (and 0, -1, 2^64, 30 digits) get exactly the answer of an id no row has,
    on every public read and every write, over one keep-alive connection, with no traceback."""
    with server_log() as log:
        async with httpx.AsyncClient(base_url=server.base, timeout=10,
                                     limits=httpx.Limits(max_connections=1)) as http:
            for template in PUBLIC_READS:
                expected = answer(await http.get(template.format(NO_SUCH)))
                assert expected == (404, "not_found"), template
                for bad in (BIG, 2**64, 10**30, 0, -1):
                    r = await http.get(template.format(bad))
                    assert answer(r) == expected, (template, bad, r.text)
                    assert r.headers.get("connection") != "close"
            for template, body in WRITES:
                for headers in (ADMIN, {}):
                    expected = answer(await http.post(template.format(NO_SUCH), json=body,
                                                      headers=headers))
                    assert expected[0] < 500, template
                    r = await http.post(template.format(BIG), json=body, headers=headers)
                    assert answer(r) == expected, (template, headers, r.text)
    assert not log.tracebacks and not log.records, log.records


async def test_query_ids_and_text(server: Server) -> None:
    """``?session=`` out of range is an unknown session (no results); NUL in ``?market=`` is a
    400 naming it; a non-integer session stays a 400."""
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        r = await http.get("/api/v1/results", params={"session": str(BIG)})
        assert (r.status_code, r.json()) == (200, {"results": []})
        r = await http.get("/api/v1/results?session=" + "9" * 200)
        assert (r.status_code, r.json()) == (200, {"results": []})
        r = await http.get("/api/v1/results", params={"session": "abc"})
        assert answer(r) == (400, "bad_request") and r.json()["error"]["field"] == "session"
        r = await http.get("/api/v1/sessions?market=%00")
        assert answer(r) == (400, "bad_request") and r.json()["error"]["field"] == "market"
        r = await http.get("/api/v1/markets/%00/ledger", headers=ADMIN)
        assert answer(r) == (400, "bad_request") and r.json()["error"]["field"] == "path"


@pytest.mark.parametrize("bad", ["a\\u0000b", "\\ud800", "x\\udfffy", "\\u001b[2J"],
                         ids=["nul", "lone-high", "lone-low", "escape"])
async def test_bad_text_in_anonymous_routes_is_a_400_naming_the_field(
    server: Server, bad: str
) -> None:
    """NUL, lone surrogates and control characters in sign-up and login fields are a 400 that
    names the field (the JSON carries them as \\u escapes), never a 500."""
    cases = [
        ("/api/v1/bidders", '{"name": "%s", "uscc": "x"}', "name"),
        ("/api/v1/bidders", '{"name": "甲", "uscc": "x", "contact": "%s"}', "contact"),
        ("/api/v1/auth/login", '{"username": "%s", "password": "0123456789ab"}', "username"),
        ("/api/v1/auth/login", '{"username": "someone", "password": "0123%s"}', "password"),
    ]
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        for path, template, field in cases:
            r = await http.post(path, content=(template % bad).encode(),
                                headers={"content-type": "application/json",
                                         "x-forwarded-for": "10.9.9.9"})
            assert answer(r) == (400, "bad_request"), (path, field, r.text)
            assert r.json()["error"]["field"] == field


async def test_bad_text_in_staff_writes_and_odd_bodies(server: Server) -> None:
    """A lot's title with NUL is refused naming it while its description may hold line breaks;
    an unknown field named by a lone surrogate, deep nesting and invalid UTF-8 are 400s."""
    sale = await create_sale(server, lots=1, bidders=0)
    lot = {
        "title": "一种技术", "result_type": "专利", "ip_type": "发明专利",
        "technology_field": "电子信息", "transaction_mode": "转让", "contract_type": "技术转让",
        "holder_name": "山东测试大学", "holder_uscc": "91350100M000100Y43",
        "start_price_fen": 100, "increment_fen": 10,
    }
    path = f"/api/v1/sessions/{sale.session_id}/lots"
    async with httpx.AsyncClient(base_url=server.base, timeout=10, headers=ADMIN) as http:
        r = await http.post(path, json={**lot, "title": "一种\x00技术"})
        assert answer(r) == (400, "bad_request") and r.json()["error"]["field"] == "title"
        r = await http.post(path, json={**lot, "description": "第一段\n\n第二段\t完"})
        assert r.status_code == 201, r.text
        assert r.json()["description"] == "第一段\n\n第二段\t完"
        r = await http.post(path, json={**lot, "description": "a\x00"})
        assert r.json()["error"]["field"] == "description"
        for raw in (b'{"\\ud800": 1}', b"[" * 20_000 + b"]" * 20_000, b'{"title": "\xff"}'):
            r = await http.post(path, content=raw, headers={"content-type": "application/json"})
            assert answer(r) == (400, "bad_request"), (raw[:20], r.text)


async def test_a_token_with_a_dot_and_non_ascii_is_refused(server: Server) -> None:
    """``abc.dé`` (and its Latin-1 form) as a bearer token is 401; in a hello it closes 4401."""
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        for raw in (b"Bearer abc.d\xc3\xa9", b"Bearer abc.d\xe9", b"Bearer ..", b"Bearer a.b.c"):
            r = await http.get("/api/v1/auth/me", headers=[(b"authorization", raw)])
            assert answer(r) == (401, "unauthorized"), (raw, r.text)
    for token in ("abc.dé", "", "a\x00.b", "é" * 400):
        async with connect(server.ws_url) as ws:
            await ws.send(msgpack.packb({"t": "hello", "token": token}))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401, token


async def test_lots_out_of_range_in_bid_and_cmd_are_unknown_lots(server: Server) -> None:
    """``bid``/``cmd`` with lot ≥ 2^63 (and 0, -1, 2^64 − 1) get the nack of a lot that does
    not exist, and the socket stays open."""
    sale = await create_sale(server, lots=1, bidders=1)
    with server_log() as log:
        for token, frame in ((sale.tokens[0], {"t": "bid", "amount": 1_000_000}),
                             (sale.auctioneer, {"t": "cmd", "op": "open"}),
                             ("test-admin-token", {"t": "cmd", "op": "hammer"})):
            async with raw_client(server, token) as client:
                await client.send(**frame, lot=NO_SUCH, key="unknown")
                unknown = await client.until(lambda m: m.get("key") == "unknown")
                assert unknown["t"] == "nack", unknown
                for i, lot in enumerate((BIG, 2**64 - 1, 0, -1, -(2**63))):
                    await client.send(**frame, lot=lot, key=f"k{i}")
                    reply = await client.until(lambda m, k=f"k{i}": m.get("key") == k)
                    assert (reply["t"], reply["code"]) == ("nack", unknown["code"]), reply
                await client.send(t="ping", id=1)
                assert (await client.until(lambda m: m["t"] == "pong"))["id"] == 1
    assert not log.records, log.records


async def test_negative_resume_seq_is_bad_request(server: Server) -> None:
    """A negative seq in ``sub`` is ``error bad_request`` (the socket stays); in
    ``hello.resume`` it is ``error bad_request`` then close 4400; never a dropped socket."""
    sale = await create_sale(server, lots=1, bidders=0)
    lot = sale.lots[0]
    with server_log() as log:
        async with raw_client(server) as client:
            await client.send(t="sub", lot=lot)
            epoch = (await client.until(lambda m: m["t"] == "snapshot"))["epoch"]
            for seq in (-1, -5, -(2**63), 2**63):
                await client.send(t="sub", lot=lot, epoch=epoch, seq=seq)
                error = await client.until(lambda m: m["t"] == "error")
                assert error["code"] == "bad_request", error
            await client.send(t="ping", id=2)
            assert (await client.until(lambda m: m["t"] == "pong"))["id"] == 2
        for seq in (-1, -5):
            async with connect(server.ws_url) as ws:
                await ws.send(msgpack.packb({"t": "hello", "resume": {lot: [epoch, seq]}}))
                error = msgpack.unpackb(await asyncio.wait_for(ws.recv(), 5))
                assert (error["t"], error["code"]) == ("error", "bad_request"), error
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 5)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
    assert not log.records, log.records


@pytest.mark.parametrize(
    ("payload", "text", "code"),
    [(b"\xff\xfe", True, 1007), (b"\xed\xa0\x80", True, 1007), (b"ok\xc3", True, 1007),
     (b"plain text", True, 4400), (b"\xc1", False, 4400), (b"x" * 9000, False, 1009),
     (b"\x82\xa1t\xa3bid\xa3key\xa2\xff\xfe", False, 4400)],
    ids=["utf8-ff", "utf8-surrogate", "utf8-cut", "text", "garbage", "oversize", "bad-str"],
)
async def test_bad_frames_close_with_their_code_and_no_traceback(
    server: Server, payload: bytes, text: bool, code: int
) -> None:
    """Text frames that are not UTF-8 close 1007, other bad frames 4400 / 1009, each with a
    close frame and nothing at WARNING or above in the log (uvicorn's traceback included)."""
    with server_log() as log:
        async with connect(server.ws_url) as ws:
            await ws.send(msgpack.packb({"t": "hello"}))
            await ws.recv()
            await ws.send(payload, text=text)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == code
        await asyncio.sleep(0.05)
    assert not log.records, [r.getMessage() for r in log.records]
