"""POST /api/v1/markets enforces division codes (auction/domain/divisions.py): 400 naming
``code`` when the level is not the code's form, ``parent_code`` when the code is not inside its
parent; the 省直辖县级 exception is accepted."""

from __future__ import annotations

from typing import Any

import httpx

from auction.domain.divisions import MUNICIPALITIES
from tests.api.conftest import ADMIN, error_of
from tests.codes import claim


async def _free_province(client: httpx.AsyncClient) -> int:
    codes = {m["code"] for m in (await client.get("/api/v1/markets")).json()["markets"]}
    for pp in range(11, 99):
        if str(pp) in MUNICIPALITIES:  # their districts may sit under them (exception 2)
            continue
        mine = {f"{pp}{rest}" for rest in ("0000", "0100", "0102", "0103", "9001")}
        theirs = {f"{pp + 1}{rest}" for rest in ("0000", "0100", "0102")}
        if not (mine | theirs) & codes and claim(*mine, *theirs):
            return pp
    raise AssertionError("no free province code in the test database")


async def test_market_codes_follow_the_division_rules(client: httpx.AsyncClient) -> None:
    """Form vs level and parent prefix are enforced; province → city → county and a 90-code
    county directly under its province are made."""
    pp = await _free_province(client)
    other = pp + 1
    n = iter(range(100))

    async def post(code: str, level: str, parent: str | None = None) -> httpx.Response:
        body: dict[str, Any] = {"code": code, "slug": f"dv-{code}-{next(n)}", "name": "市场",
                                "level": level}
        if parent is not None:
            body["parent_code"] = parent
        return await client.post("/api/v1/markets", headers=ADMIN, json=body)

    refused = [
        (f"{pp}0000", "city", None, "code"),
        (f"{pp}0100", "county", None, "code"),
        (f"{pp}0102", "city", None, "code"),
        (f"{pp}0001", "county", None, "code"),
    ]
    for code, level, parent, field in refused:
        answer = await post(code, level, parent)
        assert (answer.status_code, error_of(answer)["field"]) == (400, field), answer.text
    assert (await post(f"{pp}0000", "province")).status_code == 201
    assert (await post(f"{pp}0100", "city", f"{pp}0000")).status_code == 201
    assert (await post(f"{pp}0102", "county", f"{pp}0100")).status_code == 201
    assert (await post(f"{pp}9001", "county", f"{pp}0000")).status_code == 201  # 省直辖县级
    assert (await post(f"{other}0000", "province")).status_code == 201
    refused = [
        (f"{pp}0103", "county", f"{pp}0000"),  # a county directly under a province
        (f"{other}0102", "county", f"{pp}0100"),  # another city's county
        (f"{pp}0200", "city", f"{pp}0100"),  # a city under a city
        (f"{other}0100", "city", f"{pp}0000"),  # another province's city
        (f"{pp}0103", "county", f"{pp}0102"),  # a county under a county
    ]
    for code, level, parent in refused:
        answer = await post(code, level, parent)
        assert (answer.status_code, error_of(answer)["field"]) == (400, "parent_code"), (
            code, parent, answer.text)
    markets = {m["code"] for m in (await client.get("/api/v1/markets")).json()["markets"]}
    assert not {f"{pp}0103", f"{other}0102", f"{pp}0200", f"{other}0100"} & markets
