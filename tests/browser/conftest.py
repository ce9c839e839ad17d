"""Browser tests: the pages of clients/web in Debian's headless Chromium, driven by Playwright.

- ``chromium`` (session): a Playwright browser on ``/usr/bin/chromium`` (``CHROMIUM`` overrides).
  With ``CI`` set a missing browser or Playwright fails the session; otherwise the tests skip
  with the reason.
- ``new_context`` (function): a factory of contexts (own sessionStorage each); on a failing test
  every page they opened is saved as a PNG under ``test-artifacts/browser/``.
- ``browser_context`` (function): one desktop context made by ``new_context``.
- ``settings`` (function): the session's settings with a Redis namespace of the test's own.
  Servers come from ``tests.e2e.harness.running`` (a given port lets a test restart the server
  where the pages reconnect).
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from auction.settings import Settings

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
EXPECT_TIMEOUT_MS = 10_000

#: ``page.evaluate(UNNAMED)``: the visible inputs without a label and visible buttons without a
#: name (every page's tests expect none)
UNNAMED = """() => {
  const shown = (e) => e.offsetParent !== null;
  const inputs = [...document.querySelectorAll("input, select, textarea")]
    .filter((e) => e.type !== "hidden" && shown(e))
    .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label")
      && !e.getAttribute("aria-labelledby"))
    .map((e) => `input#${e.id}`);
  const buttons = [...document.querySelectorAll("button")].filter(shown)
    .filter((b) => !(b.textContent.trim() || b.getAttribute("aria-label")))
    .map((b) => `button#${b.id}`);
  return inputs.concat(buttons);
}"""


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
        from playwright.async_api import async_playwright, expect
    except ImportError as exc:  # pragma: no cover - depends on the environment
        _unavailable(f"playwright is not installed: {exc}")
    # an ``expect`` waits up to 10 s (Playwright's default: 5 s): the suite runs on two workers
    # (pytest -n 2), and a page's navigation can take seconds when both run a browser at once
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
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


async def refusing_phone_page(new_context: Any, timeout_ms: int) -> tuple[Any, Any, list[str]]:
    """A 375 px touch phone's context, its first page (``timeout_ms`` its default wait) and the
    list its console errors and page errors go to, failed loads left out: the refusals (4xx) a
    test provokes on purpose are logged by Chromium as failed loads, not errors of the pages."""
    context = await new_context(viewport={"width": 375, "height": 812}, is_mobile=True,
                                has_touch=True)
    errors: list[str] = []
    context.on("console", lambda m: errors.append(m.text) if m.type == "error"
               and "Failed to load resource" not in m.text else None)
    page = await context.new_page()
    page.set_default_timeout(timeout_ms)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page, errors
