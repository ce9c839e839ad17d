"""Every route of the app's route table, fuzzed: no input gives a 5xx or a traceback.

The routes are read from ``create_app(...).routes`` (so a route added later is fuzzed too). For
each route and method, Hypothesis draws path parameters (real ids, 0, -1, 2^63 − 1, 2^63, 2^64,
10^30, huge digit strings, NUL, lone surrogates as invalid UTF-8, odd Unicode), a query string,
an ``Authorization`` header (none, the platform admin, an auctioneer, a bidder, bogus bytes such
as ``abc.dé``, a tampered token) and a body (none, raw bytes, deep nesting, oversize, JSON of any
shape keyed by the documented field names, with ``\\ud800`` escapes, NaN, edge ids and amounts).

Asserted for every request: a status below 500, an ``{"error": {code, message}}`` body for every
API error, and no ERROR record or traceback in the server's log (``app_log``). Requests share one
keep-alive connection, as an attacker's would. Derandomized: CI runs the same examples every
time (about a minute for the whole table).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Mount, Route

from auction.api.app import create_app
from auction.settings import Settings
from tests.fuzz import strategies as hs
from tests.fuzz.conftest import Collect, World, no_tracebacks

EXAMPLES_PER_ROUTE = 25
EXTRA_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")


@dataclass(frozen=True)
class Target:
    method: str
    path: str  # with {name} placeholders
    params: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def route_table() -> list[Target]:
    """Every (method, path) of the app, plus the static mount and one method per route that it
    does not allow; built from an app that is never started."""
    unused = Settings.from_env({
        "DATABASE_URL": "postgresql://unused", "REDIS_URL": "redis://unused",
        "AUCTION_SECRET": "fuzz-" + "0" * 40, "AUCTION_DATA_DIR": tempfile.gettempdir(),
    })
    targets: list[Target] = []
    for route in create_app(unused, background=False).routes:
        if isinstance(route, Route):
            params = tuple(route.param_convertors)
            path = route.path
            for name, convertor in route.param_convertors.items():
                path = path.replace(f"{{{name}:{_convertor_name(convertor)}}}", f"{{{name}}}")
            methods = sorted((route.methods or {"GET"}) - {"HEAD"})
            targets += [Target(m, path, params) for m in methods]
            other = next(m for m in EXTRA_METHODS if m not in methods)
            targets.append(Target(other, path, params))
        elif isinstance(route, Mount):
            targets.append(Target("GET", route.path + "/{path}", ("path",)))
    return list(dict.fromkeys(targets))  # a GET and a POST route may share a path


def _convertor_name(convertor: Any) -> str:
    from starlette.convertors import CONVERTOR_TYPES

    return next(name for name, c in CONVERTOR_TYPES.items() if c is convertor)


TARGETS = route_table()


@pytest.fixture(scope="module")
async def http(world: World) -> Any:
    """One keep-alive connection for the whole module."""
    async with httpx.AsyncClient(base_url=world.server.base, timeout=15,
                                 limits=httpx.Limits(max_connections=1)) as client:
        yield client


def test_the_route_table_is_all_here() -> None:
    """The fuzzed table holds every documented kind of route (a sanity check of the walk)."""
    paths = {t.path for t in TARGETS}
    assert "/api/v1/lots/{lot_id}" in paths and "/api/v1/auth/login" in paths
    assert "/api/v1/lots/{lot_id}/commands" in paths and "/{path}" in paths
    assert len(TARGETS) > 40


@pytest.mark.parametrize("target", TARGETS, ids=str)
@settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
async def test_any_input_to_any_route_gets_an_answer_below_500(
    world: World, http: httpx.AsyncClient, app_log: Collect, target: Target, data: st.DataObject
) -> None:
    """Hostile path ids and text, queries, tokens and bodies never give a 5xx or a traceback."""
    real = world.ids
    path = target.path
    for name in target.params:
        path = path.replace(f"{{{name}}}", data.draw(hs.path_values(real), label=name))
    query = data.draw(hs.query_strings(real), label="query")
    url = path + (f"?{query}" if query else "")
    headers: list[tuple[bytes, bytes]] = [
        (b"x-forwarded-for", data.draw(st.ip_addresses(v=4), label="address").exploded.encode()),
    ]
    auth = data.draw(hs.header_tokens(world.tokens), label="authorization")
    if auth is not None and auth.strip():
        headers.append((b"authorization", auth.strip()))  # h11 sends no edge whitespace
    body = data.draw(hs.bodies(real), label="body") if target.method != "GET" else None
    if body is not None:
        headers.append((b"content-type", b"application/json"))
    try:
        r = await http.request(target.method, httpx.URL(world.server.base + url),
                               headers=headers, content=body)
    except httpx.InvalidURL:
        return  # a URL httpx will not send (not the server's business)
    assert r.status_code < 500, f"{target.method} {url[:300]} → {r.status_code} {r.text[:300]}"
    if r.status_code >= 400 and path.startswith("/api/"):
        error = r.json()["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str), r.text
    no_tracebacks(app_log, f"{target.method} {url[:200]}")
