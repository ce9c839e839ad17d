"""A session's increment table over HTTP: given or defaulted at creation, shown on the session,
checked field by field, handed to every lot's room; the guideline warning of lot creation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auction.api.admin import _increment_table
from auction.api.http_errors import BadRequest
from auction.domain import increments
from auction.services import Services
from tests.api.conftest import ADMIN, LotBody, NewSession, error_of

DEFAULT_JSON = [
    {"from_fen": 0, "inc_fen": 200_000},
    {"from_fen": 10_000_000, "inc_fen": 1_000_000},
    {"from_fen": 100_000_000, "inc_fen": 5_000_000},
]


async def _bands(services: Services, lot_id: int) -> str | None:
    raw = await services.redis.hget(services.keys.lot(lot_id).state, "bands")  # type: ignore[misc]
    return None if raw is None else (raw.decode() if isinstance(raw, bytes) else str(raw))


async def test_a_session_without_a_table_gets_the_default(
    client: httpx.AsyncClient, new_session: NewSession,
) -> None:
    """No ``increments`` (or null): the DESIGN §6 table, in the answer and in every read."""
    session = await new_session()
    assert session["increments"] == DEFAULT_JSON
    again = await client.get(f"/api/v1/sessions/{session['id']}")
    assert again.json()["increments"] == DEFAULT_JSON
    listed = await client.get("/api/v1/sessions", params={"market": session["market_code"]})
    assert [s["increments"] for s in listed.json()["sessions"]] == [DEFAULT_JSON]
    nulled = await new_session(increments=None)
    assert nulled["increments"] == DEFAULT_JSON


@pytest.mark.parametrize("table", [
    [],
    [{"from_fen": 0, "inc_fen": 100}],
    [{"from_fen": 0, "inc_fen": 50_000}, {"from_fen": 5_000_000, "inc_fen": 100_000},
     {"from_fen": 50_000_000, "inc_fen": 500_000}],
])
async def test_a_given_table_is_kept(
    client: httpx.AsyncClient, new_session: NewSession, table: list[dict[str, int]],
) -> None:
    """A valid table (``[]``: none) is stored and shown as given."""
    session = await new_session(increments=table)
    assert session["increments"] == table
    again = await client.get(f"/api/v1/sessions/{session['id']}")
    assert again.json()["increments"] == table


@pytest.mark.parametrize(("table", "field"), [
    ({"from_fen": 0, "inc_fen": 1}, "increments"),
    ("0:200000", "increments"),
    (12, "increments"),
    (True, "increments"),
    ([{"from_fen": 0, "inc_fen": 1}] * (increments.MAX_BANDS + 1), "increments"),
    ([[0, 200_000]], "increments[0]"),
    ([None], "increments[0]"),
    ([{"from_fen": 0}], "increments[0]"),
    ([{"from_fen": 0, "inc_fen": 1, "to_fen": 5}], "increments[0]"),
    ([{"from_fen": 100, "inc_fen": 1}], "increments[0].from_fen"),
    ([{"from_fen": -1, "inc_fen": 1}], "increments[0].from_fen"),
    ([{"from_fen": 0.0, "inc_fen": 1}], "increments[0].from_fen"),
    ([{"from_fen": False, "inc_fen": 1}], "increments[0].from_fen"),
    ([{"from_fen": 0, "inc_fen": 0}], "increments[0].inc_fen"),
    ([{"from_fen": 0, "inc_fen": "100"}], "increments[0].inc_fen"),
    ([{"from_fen": 0, "inc_fen": 10**15 + 1}], "increments[0].inc_fen"),
    ([{"from_fen": 0, "inc_fen": 2**70}], "increments[0].inc_fen"),
    ([{"from_fen": 0, "inc_fen": 1}, {"from_fen": 0, "inc_fen": 2}],
     "increments[1].from_fen"),
    ([{"from_fen": 0, "inc_fen": 1}, {"from_fen": 500, "inc_fen": 2},
      {"from_fen": 400, "inc_fen": 3}], "increments[2].from_fen"),
    ([{"from_fen": 0, "inc_fen": 1}, {"from_fen": 10**15 + 1, "inc_fen": 2}],
     "increments[1].from_fen"),
])
async def test_a_bad_table_is_a_400_naming_the_field(
    client: httpx.AsyncClient, new_session: NewSession, table: Any, field: str,
) -> None:
    """Each malformed table is refused with bad_request naming the offending field, and no
    session is made."""
    session = await new_session()
    before = (await client.get("/api/v1/sessions",
                               params={"market": session["market_code"]})).json()["sessions"]
    resp = await client.post("/api/v1/sessions", headers=ADMIN, json={
        "market_code": session["market_code"], "name": "坏的加价表", "season": "spring",
        "mode": "live", "starts_at": "2026-04-18T09:30:00+08:00", "increments": table,
    })
    assert resp.status_code == 400, resp.text
    assert (error_of(resp)["code"], error_of(resp)["field"]) == ("bad_request", field)
    assert error_of(resp)["message"]
    after = (await client.get("/api/v1/sessions",
                              params={"market": session["market_code"]})).json()["sessions"]
    assert after == before


async def test_lot_rooms_get_the_sessions_table(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, lot_body: LotBody,
) -> None:
    """Lot creation hands the session's table to the room as text; ``[]`` hands none."""
    cases = [(None, increments.to_text(increments.DEFAULT_TABLE)), ([], ""),
             ([{"from_fen": 0, "inc_fen": 100_000},
               {"from_fen": 300_000_000, "inc_fen": 1_000_000}], "0:100000,300000000:1000000")]
    for table, text in cases:
        extra = {} if table is None else {"increments": table}
        session = await new_session(**extra)
        resp = await client.post(f"/api/v1/sessions/{session['id']}/lots", headers=ADMIN,
                                 json=lot_body())
        assert resp.status_code == 201, resp.text
        assert await _bands(services, resp.json()["id"]) == text


@pytest.mark.parametrize(("start", "inc", "warned"), [
    (10_000_000, 200_000, False),  # 10万元, 2 %: at the limit
    (10_000_000, 200_100, True),
    (50_000_000, 500_000, False),  # 50万元, 1 %
    (50_000_000, 600_000, True),
    (200_000_000, 1_000_000, False),  # 200万元, 0.5 %
    (200_000_000, 10_000_000, True),
])
async def test_guideline_warning_at_lot_creation(
    client: httpx.AsyncClient, new_session: NewSession, lot_body: LotBody, start: int, inc: int,
    warned: bool,
) -> None:
    """A lot whose increment breaks the guideline is still created (201), with one
    increment_guideline warning; one within it gets ``warnings: []``."""
    session = await new_session()
    resp = await client.post(f"/api/v1/sessions/{session['id']}/lots", headers=ADMIN,
                             json=lot_body(start_price_fen=start, increment_fen=inc,
                                           reserve_fen=None))
    assert resp.status_code == 201, resp.text
    warnings = resp.json()["warnings"]
    if not warned:
        assert warnings == []
        return
    assert [w["code"] for w in warnings] == ["increment_guideline"]
    assert warnings[0]["message"] == increments.guideline_warning(start, inc)
    listed = await client.get(f"/api/v1/sessions/{session['id']}/lots")
    assert [lot["id"] for lot in listed.json()["lots"]] == [resp.json()["id"]]
    assert "warnings" not in listed.json()["lots"][0]


_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True),
    st.text(max_size=8), st.sampled_from((0, 1, 200_000, 10**15, 10**15 + 1, -1)),
)
_BAND = st.fixed_dictionaries({"from_fen": _SCALARS, "inc_fen": _SCALARS})
_JSON = st.recursive(
    st.one_of(_SCALARS, _BAND),
    lambda inner: st.one_of(st.lists(inner, max_size=12),
                            st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.one_of(_JSON, st.lists(_BAND, max_size=12)))
def test_any_json_is_a_table_or_a_400(raw: Any) -> None:
    """Whatever JSON ``increments`` holds, the API gets a checked table (ascending, the first
    from 0, amounts in range) or a BadRequest naming a field under ``increments``: never another
    exception."""
    try:
        table = _increment_table(raw)
    except BadRequest as exc:
        assert exc.status == 400 and exc.field is not None
        assert exc.field.startswith("increments")
        return
    assert increments.check(increments.to_json(table)) == table
    assert all(type(lo) is int and type(inc) is int and inc >= 1 for lo, inc in table)
    assert [lo for lo, _ in table] == sorted({lo for lo, _ in table})
    assert not table or table[0][0] == 0
