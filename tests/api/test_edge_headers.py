"""The edge (auction/api/headers.py): security headers on every answer of a real server, and
``X-Forwarded-For`` believed only from ``AUCTION_TRUSTED_PROXIES``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from auction.api.app import WEB_ROOT
from auction.api.headers import CONTENT_SECURITY_POLICY, EdgeApp
from auction.settings import ConfigError, Settings
from tests.e2e.harness import ADMIN, Server, running

PAGES = sorted(p.name for p in WEB_ROOT.glob("*.html"))


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Server]:
    async with running(settings) as srv:
        yield srv


def assert_secured(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path} → {response.status_code}"
    csp = response.headers.get("content-security-policy", "")
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert directives.get("script-src") == "script-src 'self'", where
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", where
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy") == "no-referrer", where
    assert response.headers.get("x-frame-options") == "DENY", where


async def test_every_page_and_api_answer_carries_the_security_headers(server: Server) -> None:
    """Pages, scripts, styles, JSON answers, errors (400/401/404/405/429-free) and health all
    carry the CSP, nosniff, Referrer-Policy and frame protection."""
    assert {"index.html", "lot.html", "console.html", "results.html", "screen.html"} <= set(PAGES)
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        answers = [await http.get("/")]
        answers += [await http.get(f"/{page}") for page in PAGES]
        answers += [await http.get(path) for path in (
            "/js/common.js", "/css/style.css", "/vendor/msgpack.min.js", "/nope.html",
            "/healthz", "/metrics", "/openapi.json", "/api/v1/markets", "/api/v1/lots/999999999",
            "/api/v1/sessions?market=xx",
        )]
        answers.append(await http.post("/api/v1/markets", json={}))  # 401
        answers.append(await http.post("/api/v1/markets", headers=ADMIN, content=b"{"))  # 400
        answers.append(await http.delete("/api/v1/markets"))  # 405
        answers.append(await http.post("/api/v1/auth/login",
                                       json={"username": "nobody", "password": "x" * 12}))
    statuses = {r.status_code for r in answers}
    assert {200, 400, 401, 404, 405} <= statuses
    for response in answers:
        assert_secured(response)
    assert answers[0].headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def _echo_app(trusted: tuple[str, ...]) -> EdgeApp:
    async def whoami(request: Request) -> PlainTextResponse:
        host = request.client.host if request.client else ""
        return PlainTextResponse(f"{host} {request.url.scheme}")

    return EdgeApp(routes=[Route("/", whoami)], trusted_proxies=trusted)


async def _seen(app: EdgeApp, peer: str, headers: dict[str, str]) -> str:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/", headers=headers)
    assert_secured(response)
    return response.text


async def test_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    """Without AUCTION_TRUSTED_PROXIES nobody's X-Forwarded-For counts, not even 127.0.0.1's;
    with it, only the listed peers' (addresses or networks), and then X-Forwarded-Proto too."""
    forged = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    assert await _seen(_echo_app(()), "127.0.0.1", forged) == "127.0.0.1 http"
    assert await _seen(_echo_app(()), "10.1.2.3", forged) == "10.1.2.3 http"
    proxied = _echo_app(("10.0.0.0/8", "192.0.2.1"))
    assert await _seen(proxied, "10.1.2.3", forged) == "203.0.113.7 https"
    assert await _seen(proxied, "192.0.2.1", forged) == "203.0.113.7 https"
    assert await _seen(proxied, "127.0.0.1", forged) == "127.0.0.1 http"
    # a client cannot hide behind the proxy's own entry: the rightmost untrusted hop counts
    chained = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
    assert await _seen(proxied, "10.1.2.3", chained) == "203.0.113.7 http"


def test_trusted_proxies_setting() -> None:
    """AUCTION_TRUSTED_PROXIES defaults to none; addresses, networks and * are accepted; anything
    else is a one-line configuration error naming the variable."""
    base = {"DATABASE_URL": "postgresql://x/y", "REDIS_URL": "redis://x",
            "AUCTION_SECRET": "s" * 20}
    assert Settings.from_env(base).trusted_proxies == ()
    given = Settings.from_env({**base, "AUCTION_TRUSTED_PROXIES": " 127.0.0.1, 10.0.0.0/8 ,::1"})
    assert given.trusted_proxies == ("127.0.0.1", "10.0.0.0/8", "::1")
    assert Settings.from_env({**base, "AUCTION_TRUSTED_PROXIES": "*"}).trusted_proxies == ("*",)
    with pytest.raises(ConfigError, match="AUCTION_TRUSTED_PROXIES"):
        Settings.from_env({**base, "AUCTION_TRUSTED_PROXIES": "proxy.internal"})
    # a network with host bits would be read by uvicorn as no network at all (trusting nobody)
    with pytest.raises(ConfigError, match=r"10\.0\.0\.0/8"):
        Settings.from_env({**base, "AUCTION_TRUSTED_PROXIES": "127.0.0.1,10.0.0.1/8"})


def test_password_profile_setting() -> None:
    """AUCTION_PASSWORD_PROFILE: default or fast; anything else (a typo) is a configuration
    error naming the variable, not the default in silence."""
    base = {"DATABASE_URL": "postgresql://x/y", "REDIS_URL": "redis://x",
            "AUCTION_SECRET": "s" * 20}
    assert Settings.from_env(base).password_profile == "default"
    assert Settings.from_env({**base, "AUCTION_PASSWORD_PROFILE": "fast"}).password_profile \
        == "fast"
    with pytest.raises(ConfigError, match="AUCTION_PASSWORD_PROFILE"):
        Settings.from_env({**base, "AUCTION_PASSWORD_PROFILE": "Fast"})
