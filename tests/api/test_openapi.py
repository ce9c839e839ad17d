"""The OpenAPI document."""

from __future__ import annotations

import httpx
from starlette.routing import Route

from auction.api import admin, catalogue, registration_answer
from auction.api.openapi import document


async def test_openapi_lists_every_route(client: httpx.AsyncClient) -> None:
    """Every catalogue and admin route appears in /openapi.json with its method."""
    doc = (await client.get("/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    for route in [*catalogue.routes, *admin.routes, *registration_answer.routes]:
        assert isinstance(route, Route)
        path = route.path.replace(":int", "")
        for method in route.methods or ():
            if method != "HEAD":
                assert method.lower() in doc["paths"][path], (method, path)


def test_openapi_references_resolve() -> None:
    """Every $ref in the document names a schema in components."""
    doc = document()
    schemas = doc["components"]["schemas"]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                assert ref.rsplit("/", 1)[-1] in schemas, ref
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)


def test_each_operation_is_documented_once() -> None:
    """No (method, path) is listed twice in the description (merges once copied a block)."""
    from collections import Counter

    from auction.api import openapi

    counts = Counter((o.method, o.path) for o in openapi.OPERATIONS)
    assert [key for key, n in counts.items() if n > 1] == []
