"""Browser tests: the pages of clients/web in Debian's headless Chromium, driven by Playwright.

- ``chromium`` (session): a Playwright browser on ``/usr/bin/chromium`` (``CHROMIUM`` overrides).
  With ``CI`` set a missing browser or Playwright fails the session; otherwise the tests skip
  with the reason.
- ``new_context`` (function): a factory of contexts (own sessionStorage each); on a failing test
  every page they opened is saved as a PNG under ``test-artifacts/browser/``.
- ``browser_context`` (function): one desktop context made by ``new_context``.
- :func:`serve_on`: like ``tests.e2e.harness.running`` but on a given port (a test can stop the
  server and start another where the pages reconnect) and with a bounded shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import uvicorn

from auction.api.app import create_app
from auction.settings import Settings
from auction.wire.codec import MAX_FRAME
from tests.e2e.harness import Server, free_port

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: browser tests must run; see .ci/install-browser)",
                    pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"no Chromium at {CHROMIUM}: run .ci/install-browser "
                     "(apt-get install chromium)")
    try:
        from playwright.async_api import async_playwright
    except ImportError as exc:  # pragma: no cover - depends on the environment
        _unavailable(f"playwright is not installed: {exc}")
    pw = await async_playwright().start()
    try:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                           headless=True)
    except Exception as exc:
        await pw.stop()
        _unavailable(f"Chromium did not start: {exc}")
    try:
        yield browser
    finally:
        await browser.close()
        await pw.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
async def new_context(chromium: Any, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A factory of browser contexts (own sessionStorage each). On a failing test every page of
    every context it made is saved under test-artifacts/browser/, with the pages' console."""
    contexts: list[Any] = []
    logs: list[str] = []

    async def make(**options: Any) -> Any:
        options = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN",
                   "timezone_id": "Asia/Shanghai", **options}
        context = await chromium.new_context(**options)
        context.on("page", lambda page: page.on(
            "console", lambda msg: logs.append(f"{page.url} [{msg.type}] {msg.text}")))
        contexts.append(context)
        return context

    try:
        yield make
    finally:
        failed = any(getattr(request.node, f"rep_{when}", None) is not None
                     and getattr(request.node, f"rep_{when}").failed
                     for when in ("setup", "call"))
        if failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            shots = [page for context in contexts for page in context.pages]
            for i, page in enumerate(shots):
                with contextlib.suppress(Exception):
                    await page.screenshot(path=str(ARTIFACTS / f"{name}-{i}.png"), full_page=True)
            (ARTIFACTS / f"{name}-console.log").write_text("\n".join(logs), encoding="utf-8")
        for context in contexts:
            with contextlib.suppress(Exception):
                await context.close()


@pytest.fixture
async def browser_context(new_context: Any) -> Any:
    """One desktop-sized context (1280 × 900, zh-CN, Asia/Shanghai)."""
    return await new_context()


@contextlib.asynccontextmanager
async def serve_on(settings: Settings, port: int | None = None) -> AsyncIterator[Server]:
    """A real uvicorn server in the test loop (background loops running), on ``port`` (a free
    one when ``None``). Stopping it never hangs the test: if the server is not down 5 s after the
    stop, the asyncio tasks are dumped to test-artifacts/browser/shutdown-*.txt and it is forced.
    """
    port = port or free_port()
    settings = settings.with_changes(port=port)
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, lifespan="on",
                            ws_max_size=MAX_FRAME, log_level="warning",
                            timeout_graceful_shutdown=3)
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield Server(f"http://127.0.0.1:{port}", settings)
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


@pytest.fixture
def settings(settings: Settings) -> Iterator[Settings]:
    """The session's settings with a Redis namespace of this test's own: a server left over by
    an earlier test can never hold this test's drainer lease or see its keys. Removed after."""
    own = settings.with_changes(redis_namespace=f"test-browser-{uuid.uuid4().hex[:10]}")
    yield own
    client = redis.Redis.from_url(own.redis_url or "")
    try:
        for key in client.scan_iter(f"{own.redis_namespace}:*"):
            client.delete(key)
    finally:
        client.close()
