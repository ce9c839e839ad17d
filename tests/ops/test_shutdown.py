"""SIGTERM and Ctrl-C: a clean stop with exit code 0 and no traceback; open websockets are
closed with 1001 (going away) before the server goes."""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path
from typing import Any

import msgpack
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from auction.api import shutdown
from auction.api.app import create_app
from auction.settings import Settings
from tests.e2e.harness import free_port
from tests.ops.conftest import Process, serving

pytestmark = pytest.mark.slow

BAD_WORDS = ("Traceback", "Task exception", "Exception in", "SystemExit", " ERROR ", " CRITICAL ")


async def _hello(url: str) -> ClientConnection:
    ws = await connect(url)
    await ws.send(msgpack.packb({"t": "hello"}))
    welcome = msgpack.unpackb(await asyncio.wait_for(ws.recv(), 5))
    assert welcome["t"] == "welcome", welcome
    return ws


async def _close_code(ws: ClientConnection, timeout: float = 10) -> int | None:
    """Read until the server closes; the close code it sent."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None


def _clean(process: Process) -> None:
    text = process.stderr()
    for word in BAD_WORDS:
        assert word not in text, f"{word!r} in stderr:\n{text}"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_signal_stops_serve_cleanly_and_sockets_get_1001(
    auction_env: dict[str, str], sig: signal.Signals
) -> None:
    """`auction serve` stopped by SIGTERM or Ctrl-C: clients get 1001, exit code 0, no
    traceback or "Task exception" in stderr."""
    async with serving(auction_env) as server:
        clients = [await _hello(server.ws_url) for _ in range(3)]
        codes = asyncio.gather(*(_close_code(ws) for ws in clients))
        assert await server.stop(sig) == 0, server.stderr()
        assert await codes == [1001, 1001, 1001]
    _clean(server)
    assert "closed 3 websocket(s) with 1001" in server.stderr()


async def test_sigterm_with_embedded_redis_says_what_and_stops_it(
    auction_env: dict[str, str]
) -> None:
    """DATABASE_URL set, REDIS_URL unset: stderr names the embedded Valkey started, its data
    dir and the Redis namespace; SIGTERM stops the server and the Valkey it started."""
    del auction_env["REDIS_URL"]
    data_dir = Path(auction_env["AUCTION_DATA_DIR"])
    async with serving(auction_env) as server:
        text = server.stderr()
        said = [line for line in text.splitlines() if line.startswith("REDIS_URL 未设置")]
        assert len(said) == 1, text
        assert "启动内置 Valkey" in said[0]
        assert str(data_dir / "redis") in said[0]
        assert auction_env["AUCTION_REDIS_NAMESPACE"] in said[0]
        ws = await _hello(server.ws_url)
        code = asyncio.ensure_future(_close_code(ws))
        assert await server.stop() == 0, server.stderr()
        assert await code == 1001
    _clean(server)
    assert not (data_dir / "redis" / "valkey.port").exists(), "the embedded Valkey was stopped"


async def test_second_process_reusing_embedded_redis_is_told(
    auction_env: dict[str, str]
) -> None:
    """A second process on the same data dir reuses the running Valkey and is warned that it
    shares it (and the namespace) with another process."""
    del auction_env["REDIS_URL"]
    async with serving(auction_env) as first:
        second_env = {**auction_env, "AUCTION_PORT": str(free_port())}
        async with serving(second_env) as second:
            text = second.stderr()
            assert "复用已在运行的内置 Valkey" in text, text
            assert "注意: 这个 Valkey 由另一个进程启动" in text
            assert await second.stop() == 0
        assert await first.stop() == 0
    _clean(first)
    _clean(second)


async def test_demo_stops_cleanly_on_sigterm(auction_env: dict[str, str]) -> None:
    """`auction demo` (simulated bidders connected) stopped by SIGTERM: exit 0, no traceback."""
    async with serving(auction_env, "--fast", command="demo") as demo:
        await asyncio.sleep(3)  # bidders connected and bidding
        assert await demo.stop() == 0, demo.stderr()
    _clean(demo)


async def test_graceful_server_closes_sockets_with_1001(settings: Settings, tmp_path: Any) -> None:
    """In process: the app's server (GracefulServer) sends 1001 before uvicorn's own 1012,
    and the socket registry is empty afterwards."""
    own = settings.with_changes(redis_namespace=f"test-ops-{uuid.uuid4().hex[:10]}",
                                data_dir=tmp_path)
    port = free_port()
    app = create_app(own)
    server = shutdown.GracefulServer(uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="on", log_level="warning",
        timeout_graceful_shutdown=3))
    server.capture_signals = _no_signals  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done()
        await asyncio.sleep(0.02)
    try:
        ws = await _hello(f"ws://127.0.0.1:{port}/ws")
        assert shutdown.open_count(app) == 1
        code = asyncio.ensure_future(_close_code(ws))
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
    assert await code == 1001
    assert shutdown.open_count(app) == 0


def _no_signals() -> Any:
    import contextlib

    return contextlib.nullcontext()
