"""Admin writes over HTTP: auth, validation, lot rooms, the registration desk."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from auction.domain.lot import LotMode, LotStatus
from auction.services import Services
from tests.api.conftest import division_code
from tests.e2e.harness import enrol

ADMIN = {"Authorization": "Bearer test-admin-token"}
LotBody = Callable[..., dict[str, Any]]
NewSession = Callable[..., Awaitable[dict[str, Any]]]


def _code() -> str:
    """A random county's division code, unique in this test run."""
    return division_code()


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


async def test_market_session_lot_creation(
    client: httpx.AsyncClient, new_session: NewSession, lot_body: LotBody,
) -> None:
    """An admin creates a market, a session and a lot; the admin answer shows the reserve."""
    session = await new_session()
    assert session["starts_at"] == "2026-04-18T09:30:00.000+08:00"
    assert (session["lot_count"], session["extension_window_s"]) == (0, 300)
    resp = await client.post(f"/api/v1/sessions/{session['id']}/lots", headers=ADMIN,
                             json=lot_body())
    assert resp.status_code == 201, resp.text
    lot = resp.json()
    assert (lot["ordinal"], lot["status"], lot["reserve_fen"]) == (1, "scheduled", 250_000_000)


async def test_lot_creation_creates_the_room(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, lot_body: LotBody,
) -> None:
    """The lot's Redis room takes mode, prices, window and duration from the session and body."""
    session = await new_session(mode="timed", extension_window_s=120, extension_s=60)
    resp = await client.post(f"/api/v1/sessions/{session['id']}/lots", headers=ADMIN,
                             json=lot_body(duration_s=3600))
    assert resp.status_code == 201, resp.text
    state = await services.rooms.room_state(resp.json()["id"])
    assert state is not None
    assert (state.mode, state.status) == (LotMode.TIMED, LotStatus.SCHEDULED)
    assert (state.start, state.inc, state.reserve) == (200_000_000, 10_000_000, 250_000_000)
    assert (state.window_ms, state.ext_ms, state.duration_ms) == (120_000, 60_000, 3_600_000)


async def test_timed_lot_needs_a_duration(
    client: httpx.AsyncClient, new_session: NewSession, lot_body: LotBody,
) -> None:
    """A lot of a timed session without duration_s is a 400 naming duration_s."""
    session = await new_session(mode="timed")
    resp = await client.post(f"/api/v1/sessions/{session['id']}/lots", headers=ADMIN,
                             json=lot_body())
    assert resp.status_code == 400
    assert error_of(resp)["field"] == "duration_s"


@pytest.mark.parametrize("bad", [1.5, "200000000", True, -1, 0, None])
async def test_money_must_be_a_positive_json_integer(
    client: httpx.AsyncClient, bad: Any, new_session: NewSession, lot_body: LotBody,
) -> None:
    """A float, string, boolean, non-positive or missing start price is a 400 naming it."""
    session = await new_session()
    resp = await client.post(f"/api/v1/sessions/{session['id']}/lots", headers=ADMIN,
                             json=lot_body(start_price_fen=bad))
    assert resp.status_code == 400
    assert error_of(resp) == {**error_of(resp), "code": "bad_request", "field": "start_price_fen"}


async def test_holder_credit_code_is_checked(
    client: httpx.AsyncClient, new_session: NewSession, lot_body: LotBody,
) -> None:
    """A holder credit code with a wrong check character is invalid_uscc on holder_uscc."""
    session = await new_session()
    resp = await client.post(f"/api/v1/sessions/{session['id']}/lots", headers=ADMIN,
                             json=lot_body(holder_uscc="91350100M000100Y44"))
    assert resp.status_code == 400
    assert (error_of(resp)["code"], error_of(resp)["field"]) == ("invalid_uscc", "holder_uscc")


async def test_unknown_field_is_refused(
    client: httpx.AsyncClient, new_session: NewSession, lot_body: LotBody,
) -> None:
    """A misspelt field (``reserve`` for ``reserve_fen``) is refused, not silently dropped."""
    session = await new_session()
    resp = await client.post(f"/api/v1/sessions/{session['id']}/lots", headers=ADMIN,
                             json=lot_body(reserve=1))
    assert resp.status_code == 400
    assert error_of(resp)["field"] == "reserve"


async def test_bad_json_is_bad_request(client: httpx.AsyncClient) -> None:
    """A body that is not JSON, or not an object, is a 400 bad_request."""
    for content in (b"{not json", b"[1, 2]", b""):
        resp = await client.post("/api/v1/markets", headers=ADMIN, content=content)
        assert resp.status_code == 400
        assert error_of(resp)["code"] == "bad_request"


async def test_admin_auth(client: httpx.AsyncClient, services: Services) -> None:
    """No token or a forged one is 401; a valid non-admin token is 403."""
    body = {"code": _code(), "slug": "x-auth", "name": "n", "level": "city"}
    missing = await client.post("/api/v1/markets", json=body)
    forged = await client.post("/api/v1/markets", json=body,
                               headers={"Authorization": "Bearer abc.def"})
    from auction.api.tokens import Principal

    bidder = services.tokens.mint(Principal(role="bidder", bidder_id=1, session_id=1, paddle=101,
                                            account_id=1, registration_id=1))
    other = await client.post("/api/v1/markets", json=body,
                              headers={"Authorization": f"Bearer {bidder}"})
    assert [missing.status_code, forged.status_code, other.status_code] == [401, 401, 403]
    assert [error_of(r)["code"] for r in (missing, forged, other)] == [
        "unauthorized", "unauthorized", "forbidden",
    ]


async def test_duplicate_market_is_conflict(client: httpx.AsyncClient) -> None:
    """A second market with the same division code is 409 conflict naming ``code``."""
    code = _code()
    body = {"code": code, "slug": f"d-{code}", "name": "n", "level": "county"}
    assert (await client.post("/api/v1/markets", headers=ADMIN, json=body)).status_code == 201
    again = await client.post("/api/v1/markets", headers=ADMIN, json={**body, "slug": "d2-x"})
    assert again.status_code == 409
    assert (error_of(again)["code"], error_of(again)["field"]) == ("conflict", "code")


async def test_market_validation(client: httpx.AsyncClient) -> None:
    """A bad division code, slug, level or missing parent is refused with the field named."""
    cases = [
        ({"code": "12345", "slug": "ok-slug", "name": "n", "level": "city"}, 400, "code"),
        ({"code": _code(), "slug": "Bad Slug", "name": "n", "level": "city"}, 400, "slug"),
        ({"code": _code(), "slug": "ok-slug", "name": "n", "level": "town"}, 400, "level"),
        ({"code": _code(), "slug": "ok-slug2", "name": "n", "level": "city",
          "parent_code": "000000"}, 404, "parent_code"),
    ]
    for body, status, field in cases:
        resp = await client.post("/api/v1/markets", headers=ADMIN, json=body)
        assert (resp.status_code, error_of(resp).get("field")) == (status, field), body


async def test_session_needs_an_offset_and_a_market(client: httpx.AsyncClient) -> None:
    """A naive starts_at is a 400; an unknown market_code is a 404 naming it."""
    base = {"name": "s", "season": "spring", "mode": "live"}
    naive = await client.post("/api/v1/sessions", headers=ADMIN, json={
        **base, "market_code": "370000", "starts_at": "2026-04-18T09:30:00"})
    assert (naive.status_code, error_of(naive)["field"]) == (400, "starts_at")
    missing = await client.post("/api/v1/sessions", headers=ADMIN, json={
        **base, "market_code": "000000", "starts_at": "2026-04-18T09:30:00+08:00"})
    assert (missing.status_code, error_of(missing)["field"]) == (404, "market_code")


async def test_registration_flow_issues_paddles_and_the_credential_to_the_bidder_only(
    client: httpx.AsyncClient,
    services: Services,
    new_session: NewSession,
    new_uscc: Callable[[], str],
) -> None:
    """apply → approve → deposit gives paddle 101 then 102; the deposit answer carries no
    token; the bidder's own login takes a credential naming its account, registration, session
    and paddle; repeating a deposit with the same amount keeps the paddle."""
    session = await new_session()
    paddles = []
    for i in range(2):
        made = await enrol(client, session["id"], name=f"竞买企业{i}", uscc_code=new_uscc(),
                           deposit_fen=20_000_000)
        who = services.tokens.verify(made.token)
        assert (who.role, who.kind, who.bidder_id, who.session_id, who.paddle) == (
            "bidder", "bid", made.bidder_id, session["id"], made.paddle)
        assert (who.registration_id, who.account_id) == (
            made.registration_id, services.tokens.verify(made.account_token).account_id)
        assert who.may_bid(session["id"])
        again = await client.post(f"/api/v1/registrations/{made.registration_id}/deposit",
                                  headers=ADMIN, json={"deposit_fen": 20_000_000})
        assert again.status_code == 200, again.text
        assert again.json()["paddle"] == made.paddle and "token" not in again.json()
        paddles.append(made.paddle)
    assert paddles == [101, 102]


async def test_rejected_registration_cannot_pay(
    client: httpx.AsyncClient, new_session: NewSession, new_uscc: Callable[[], str],
) -> None:
    """Rejecting records the reason; a deposit afterwards is 409 wrong_state."""
    session = await new_session()
    bidder = await client.post("/api/v1/bidders", headers=ADMIN,
                               json={"name": "某公司", "uscc": new_uscc()})
    reg = await client.post(f"/api/v1/sessions/{session['id']}/registrations",
                            headers=ADMIN, json={"bidder_id": bidder.json()["id"]})
    assert (reg.status_code, reg.json()["status"]) == (201, "invited")
    rid = reg.json()["id"]
    rejected = await client.post(f"/api/v1/registrations/{rid}/reject", headers=ADMIN,
                                 json={"reason": "营业执照已过期"})
    assert (rejected.json()["status"], rejected.json()["reason"]) == ("rejected", "营业执照已过期")
    paid = await client.post(f"/api/v1/registrations/{rid}/deposit", headers=ADMIN,
                             json={"deposit_fen": 1})
    assert (paid.status_code, error_of(paid)["code"]) == (409, "wrong_state")
    missing = await client.post("/api/v1/registrations/999999999/approve", headers=ADMIN)
    assert missing.status_code == 404


async def test_staff_token_is_bound_to_the_session(
    client: httpx.AsyncClient, services: Services, new_session: NewSession,
) -> None:
    """A staff token is minted for the auctioneer role and bound to its session."""
    session = await new_session()
    resp = await client.post(f"/api/v1/sessions/{session['id']}/staff-tokens", headers=ADMIN,
                             json={"role": "auctioneer", "name": "张拍卖师"})
    assert resp.status_code == 200, resp.text
    who = services.tokens.verify(resp.json()["token"])
    assert (who.role, who.subject) == ("auctioneer", "张拍卖师")
    assert who.session_id == session["id"]
    bad_role = await client.post(f"/api/v1/sessions/{session['id']}/staff-tokens",
                                 headers=ADMIN, json={"role": "admin", "name": "x"})
    assert (bad_role.status_code, error_of(bad_role)["field"]) == (400, "role")
