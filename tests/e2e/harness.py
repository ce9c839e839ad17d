"""Helpers for whole auctions through real sockets: a real uvicorn server in the test
loop, real PostgreSQL and Redis, and clients that speak raw msgpack over websockets (so the tests
check the protocol as documented, not a wrapper's view of it)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import secrets
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgpack
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from auction.api.app import create_app
from auction.api.ws_server import PROTOCOL
from auction.domain.identity import uscc_check_char
from auction.settings import Settings
from auction.wire.codec import MAX_FRAME
from tests.codes import reserve
from tests.ports import free_port

ADMIN = {"Authorization": "Bearer test-admin-token"}


@contextlib.asynccontextmanager
async def serving_app(app: Any) -> AsyncIterator[int]:
    """A small ASGI app (a registration office, a test's own routes) served by uvicorn on a
    free local port, in this event loop: its port."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off",
                                           log_level="warning"))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


@dataclass
class Server:
    base: str
    settings: Settings
    #: the in-process uvicorn server (:func:`running`), for tests that reach a connection's socket
    uvicorn_server: uvicorn.Server | None = None

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/ws"


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@contextlib.asynccontextmanager
async def running(settings: Settings, port: int | None = None, *,
                  trusted_proxies: tuple[str, ...] | None = None,
                  ws_protocol: str | None = None) -> AsyncIterator[Server]:
    """A real server in this loop (background loops running); ``port`` to restart one on the
    same address. Stopping never hangs a test: a server not down 5 s after the stop has its
    asyncio tasks dumped to test-artifacts/shutdown-<port>.txt and is forced down.

    ``trusted_proxies`` (``AUCTION_TRUSTED_PROXIES``): by default the settings' own, else
    127.0.0.1, so that :func:`raw_client`'s ``address`` is believed; ``()`` believes no one.
    ``ws_protocol``: a uvicorn websocket implementation by name instead of ``auction serve``'s
    (``"websockets-sansio"``: no direct writes, the outbox's ASGI path)."""
    port = port or free_port()
    if trusted_proxies is None:
        trusted_proxies = settings.trusted_proxies or ("127.0.0.1",)
    settings = settings.with_changes(port=port, trusted_proxies=trusted_proxies)
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, lifespan="on",
                            ws=ws_protocol or PROTOCOL, ws_max_size=MAX_FRAME, log_level="warning",
                            timeout_graceful_shutdown=3, proxy_headers=False)
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield Server(f"http://127.0.0.1:{port}", settings, server)
    finally:
        server.should_exit = True
        done, _ = await asyncio.wait({task}, timeout=5)
        if not done:
            _dump_tasks(f"shutdown-{port}")
            server.force_exit = True
        await task


def _dump_tasks(name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = io.StringIO()
    for t in asyncio.all_tasks():
        out.write(f"--- {t!r}\n")
        t.print_stack(file=out)
    (ARTIFACTS / f"{name}.txt").write_text(out.getvalue(), encoding="utf-8")
    print(f"server did not stop in 5 s: tasks in {ARTIFACTS / name}.txt", file=sys.stderr)


@dataclass
class Raw:
    """A bare protocol client: send maps, read maps."""

    ws: ClientConnection
    inbox: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, **m: Any) -> None:
        await self.ws.send(msgpack.packb(m, use_bin_type=True))

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        data = await asyncio.wait_for(self.ws.recv(), timeout)
        assert isinstance(data, bytes), "server sent a text frame"
        msg: dict[str, Any] = msgpack.unpackb(data, raw=False, strict_map_key=False)
        self.inbox.append(msg)
        return msg

    async def until(self, pred: Any, timeout: float = 10.0) -> dict[str, Any]:
        """Read frames until one satisfies ``pred``; return it."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            assert left > 0, f"timed out; last frames: {self.inbox[-5:]}"
            msg = await self.recv(left)
            if pred(msg):
                return msg

    def events(self, lot: int) -> list[dict[str, Any]]:
        return [m for m in self.inbox if m.get("t") == "ev" and m.get("lot") == lot]

    async def close(self) -> None:
        await self.ws.close()


@contextlib.asynccontextmanager
async def raw_client(server: Server, token: str | None = None,
                     resume: dict[int, list[Any]] | None = None,
                     address: str | None = None) -> AsyncIterator[Raw]:
    """``address``: sent as ``X-Forwarded-For`` (believed from 127.0.0.1, see :func:`running`),
    so that many test clients do not share one address's connect rate limit."""
    headers = {"X-Forwarded-For": address} if address else None
    async with connect(server.ws_url, max_size=2**20, additional_headers=headers) as ws:
        raw = Raw(ws)
        hello: dict[str, Any] = {"t": "hello"}
        if token:
            hello["token"] = token
        if resume:
            hello["resume"] = resume
        await raw.send(**hello)
        welcome = await raw.recv()
        assert welcome["t"] == "welcome", welcome
        yield raw


@dataclass
class Sale:
    """One market, one session, lots, and bidders with tokens, created through the HTTP API."""

    session_id: int
    lots: list[int]
    tokens: list[str]
    bidder_ids: list[int]
    paddles: list[int]
    auctioneer: str
    #: the bidders' own logins (password: :data:`BIDDER_PASSWORD`)
    usernames: list[str] = field(default_factory=list)


#: the password of every bidder account the harnesses sign up
BIDDER_PASSWORD = "harness-Bidder-passw0rd-7319"


@dataclass
class Enrolled:
    """A bidder through the whole registration flow: its account, registration and the bid
    credential its own login took."""

    bidder_id: int
    username: str
    account_token: str
    registration_id: int
    paddle: int
    token: str


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def enrol(
    http: httpx.AsyncClient, session_id: int, *, name: str, uscc_code: str, deposit_fen: int,
    approver: dict[str, str] = ADMIN, finance: dict[str, str] = ADMIN,
    username: str | None = None, lot_id: int | None = None, agreed: bool = False,
) -> Enrolled:
    """The documented flow (docs/roles.md "Registration and deposits"): the bidder signs up
    with an account and logs in, applies with its own login, the market approves
    (``approver``), finance confirms the deposit (``finance``), and the bidder's own login takes
    its bid credential; ``agreed`` sends ``agreed: true`` with the application (a session with
    an announcement or terms needs it). Sign-up and login come from an address of their own
    (``X-Forwarded-For``, believed from 127.0.0.1 by :func:`running`), so that many bidders do
    not share one address's limits."""
    username = username or f"b{uuid.uuid4().hex[:16]}"
    own = {"X-Forwarded-For": f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}."
                              f"{secrets.randbelow(250) + 1}"}
    r = await http.post("/api/v1/bidders", headers=own, json={
        "name": name, "uscc": uscc_code, "username": username, "password": BIDDER_PASSWORD})
    assert r.status_code in (200, 201, 202), r.text
    r = await http.post("/api/v1/auth/login", headers=own,
                        json={"username": username, "password": BIDDER_PASSWORD})
    assert r.status_code == 200, r.text
    account_token = r.json()["token"]
    bidder_id = int(r.json()["account"]["bidder_id"])
    mine = _bearer(account_token)
    application: dict[str, Any] = {"bidder_id": bidder_id}
    if agreed:
        application["agreed"] = True
    r = await http.post(f"/api/v1/sessions/{session_id}/registrations", headers=mine,
                        json=application)
    assert r.status_code == 201, r.text
    reg = int(r.json()["id"])
    r = await http.post(f"/api/v1/registrations/{reg}/approve", headers=approver)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = {"deposit_fen": deposit_fen}
    if lot_id is not None:
        body["lot_id"] = lot_id
    r = await http.post(f"/api/v1/registrations/{reg}/deposit", headers=finance, json=body)
    assert r.status_code == 200, r.text
    r = await http.post(f"/api/v1/registrations/{reg}/token", headers=mine)
    assert r.status_code == 200, r.text
    return Enrolled(bidder_id, username, account_token, reg, int(r.json()["paddle"]),
                    str(r.json()["token"]))


def uscc(n: int) -> str:
    """A valid 统一社会信用代码 with a body derived from ``n`` (GB 32100-2015 check character)."""
    body = f"91370100{n:09d}"
    return body + uscc_check_char(body)


async def create_sale(
    server: Server, *, mode: str = "live", lots: int = 1, bidders: int = 3,
    duration_s: int = 0, window_s: int = 300, extension_s: int = 300, reserve_fen: int = 0,
    start_fen: int = 1_000_000, inc_fen: int = 10_000, lot_terms: dict[str, Any] | None = None,
) -> Sale:
    """``lot_terms``: more fields of every lot's creation body (``format`` and its terms)."""
    tag = uuid.uuid4().int % 10**6
    async with httpx.AsyncClient(base_url=server.base, headers=ADMIN, timeout=10) as http:
        code = f"37{10 + tag % 90:02d}00"  # a city's form (auction/domain/divisions.py)
        reserve(code)  # shared on purpose: no random draw of a test gives it
        r = await http.get("/api/v1/markets")
        existing = {m["code"]: m for m in r.json()["markets"]}
        if code not in existing:
            r = await http.post("/api/v1/markets", json={
                "code": code, "slug": f"m-{tag}", "name": f"测试市场{tag}", "level": "city"})
            assert r.status_code == 201, r.text
        r = await http.post("/api/v1/sessions", json={
            "market_code": code, "name": f"测试场次{tag}", "season": "spring", "mode": mode,
            "starts_at": "2026-11-21T09:00:00+08:00", "extension_window_s": window_s,
            "extension_s": extension_s})
        assert r.status_code == 201, r.text
        session_id = r.json()["id"]
        lot_ids = []
        for i in range(lots):
            r = await http.post(f"/api/v1/sessions/{session_id}/lots", json={
                "title": f"一种测试技术{i} 发明专利", "result_type": "专利", "ip_type": "发明专利",
                "technology_field": "电子信息", "transaction_mode": "转让",
                "contract_type": "技术转让", "holder_name": "山东测试大学",
                "holder_uscc": uscc(900_000 + tag), "start_price_fen": start_fen,
                "increment_fen": inc_fen, "reserve_fen": reserve_fen, "duration_s": duration_s,
                **(lot_terms or {})})
            assert r.status_code == 201, r.text
            lot_ids.append(r.json()["id"])
        tokens, ids, paddles, usernames = [], [], [], []
        for b in range(bidders):
            made = await enrol(http, session_id, name=f"测试科技有限公司{tag}-{b}",
                               uscc_code=uscc(tag * 100 + b), deposit_fen=start_fen // 10)
            tokens.append(made.token)
            paddles.append(made.paddle)
            ids.append(made.bidder_id)
            usernames.append(made.username)
        r = await http.post(f"/api/v1/sessions/{session_id}/staff-tokens",
                            json={"role": "auctioneer", "name": "拍卖师甲"})
        assert r.status_code in (200, 201), r.text
        return Sale(session_id, lot_ids, tokens, ids, paddles, r.json()["token"], usernames)
