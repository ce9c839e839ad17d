"""Integer fields say what they count: money in fen, durations in seconds, ids nothing more."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.api.conftest import ADMIN, error_of


async def test_a_non_integer_says_what_the_field_counts(
    client: httpx.AsyncClient, new_session: Callable[..., Awaitable[dict[str, Any]]],
    lot_body: Callable[..., dict[str, Any]],
) -> None:
    """``duration_s: 1.5`` is refused in seconds, ``start_price_fen: "100"`` in fen."""
    session = await new_session("timed")
    url = f"/api/v1/sessions/{session['id']}/lots"
    seconds = await client.post(url, headers=ADMIN, json=lot_body(duration_s=1.5))
    money = await client.post(url, headers=ADMIN, json=lot_body(start_price_fen="100"))
    assert (seconds.status_code, error_of(seconds)["field"]) == (400, "duration_s")
    assert "秒" in error_of(seconds)["message"] and "金额" not in error_of(seconds)["message"]
    assert (money.status_code, error_of(money)["field"]) == (400, "start_price_fen")
    assert "金额以分计" in error_of(money)["message"]
