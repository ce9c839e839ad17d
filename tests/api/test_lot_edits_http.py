"""Editing a lot and reordering a session's lots until bidding starts (issue 12 item 3):
``PATCH /lots/{id}``, ``GET /lots/{id}/edit``, ``PUT /sessions/{id}/order``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from auction.api import admin, auth, catalogue, deposits, http_errors, lot_edits, registrations
from auction.domain.errors import Rejection
from auction.services import Services
from tests.api.conftest import ADMIN, NewLot, NewSession, error_of
from tests.api.people import staff
from tests.e2e.harness import enrol


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process app with the admin, lot-edit, registration and deposit routes."""
    app = Starlette(
        routes=[*admin.routes, *lot_edits.routes, *auth.routes, *registrations.routes,
                *deposits.routes, *catalogue.routes],
        exception_handlers=http_errors.exception_handlers(),
    )
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def _lot_row(client: httpx.AsyncClient, lot_id: int) -> dict[str, Any]:
    resp = await client.get(f"/api/v1/lots/{lot_id}/edit", headers=ADMIN)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def test_an_edit_changes_the_given_fields_and_keeps_the_others(
    client: httpx.AsyncClient, services: Services, new_lot: NewLot
) -> None:
    """Title, prices, reserve and deposit change in PostgreSQL and in the room; the fields not
    given keep their values; the answer carries ``deposit_fen`` and the guideline warning."""
    lot = await new_lot()
    resp = await client.patch(f"/api/v1/lots/{lot['id']}", headers=ADMIN, json={
        "title": "改名后的标的", "start_price_fen": 300_000_000, "increment_fen": 20_000_000,
        "reserve_fen": 350_000_000, "deposit_fen": 40_000_000,
    })
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["title"], body["start_price_fen"], body["increment_fen"], body["reserve_fen"],
            body["deposit_fen"]) == ("改名后的标的", 300_000_000, 20_000_000, 350_000_000,
                                     40_000_000)
    assert [w["code"] for w in body["warnings"]] == ["increment_guideline"]
    for kept in ("holder_name", "holder_uscc", "result_type", "technology_field",
                 "non_tech_fen", "description", "ordinal"):
        assert body[kept] == lot[kept], kept
    again = await _lot_row(client, lot["id"])
    assert again["title"] == "改名后的标的" and again["editable"] is True
    assert again["deposit_fen"] == 40_000_000
    state = await services.rooms.room_state(lot["id"])
    assert state is not None
    assert (state.start, state.inc, state.inc0, state.reserve, state.deposit) == (
        300_000_000, 20_000_000, 20_000_000, 350_000_000, 40_000_000)
    public = (await client.get(f"/api/v1/lots/{lot['id']}")).json()
    assert public["start_price_fen"] == 300_000_000 and public["deposit_fen"] == 40_000_000


async def test_the_room_takes_the_new_start_price(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot,
    new_uscc: Callable[[], str],
) -> None:
    """After the start price went from 200万 to 300万: a bid at the old start is refused
    (below the start), one at the new start is accepted."""
    sid = (await new_session())["id"]
    lot = await new_lot(sid, reserve_fen=None)
    buyer = await enrol(client, sid, name="出价企业", uscc_code=new_uscc(),
                        deposit_fen=30_000_000)
    resp = await client.patch(f"/api/v1/lots/{lot['id']}", headers=ADMIN,
                              json={"start_price_fen": 300_000_000})
    assert resp.status_code == 200, resp.text
    await services.rooms.open(lot["id"])
    with pytest.raises(Rejection) as refused:
        await services.rooms.bid(lot["id"], bidder=buyer.bidder_id, paddle=buyer.paddle,
                                 amount=200_000_000)
    assert refused.value.code == "below_start"
    accepted = await services.rooms.bid(lot["id"], bidder=buyer.bidder_id,
                                        paddle=buyer.paddle, amount=300_000_000)
    assert accepted.seq > 0


async def test_a_higher_deposit_is_pushed_to_the_room(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot,
    new_uscc: Callable[[], str],
) -> None:
    """A bidder whose band deposit covered the lot no longer does once the lot's deposit is
    raised above it: its bid is refused ``deposit_required`` naming the new amount."""
    sid = (await new_session())["id"]
    lot = await new_lot(sid, reserve_fen=None)
    buyer = await enrol(client, sid, name="保证金企业", uscc_code=new_uscc(),
                        deposit_fen=20_000_000)
    resp = await client.patch(f"/api/v1/lots/{lot['id']}", headers=ADMIN,
                              json={"deposit_fen": 50_000_000})
    assert resp.status_code == 200, resp.text
    await services.rooms.open(lot["id"])
    with pytest.raises(Rejection) as refused:
        await services.rooms.bid(lot["id"], bidder=buyer.bidder_id, paddle=buyer.paddle,
                                 amount=200_000_000)
    assert refused.value.code == "deposit_required"
    assert refused.value.data.get("required_fen") == 50_000_000


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"start_price_fen": "300万"}, "start_price_fen", "bad_request"),
    ({"start_price_fen": 0}, "start_price_fen", "bad_request"),
    ({"increment_fen": 1.5}, "increment_fen", "bad_request"),
    ({"holder_uscc": "91350100M000100Y44"}, "holder_uscc", "invalid_uscc"),
    ({"transaction_mode": "出租"}, "transaction_mode", "unknown_term"),
    ({"title": ""}, "title", "bad_request"),
    ({"reserve": 1}, "reserve", "bad_request"),
])
async def test_bad_input_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, services: Services, new_lot: NewLot, change: dict[str, Any],
    field: str, code: str,
) -> None:
    """Each bad field: 400 naming it, with the code creation gives; row and room unchanged."""
    lot = await new_lot()
    before = await _lot_row(client, lot["id"])
    room_before = await services.rooms.room_state(lot["id"])
    resp = await client.patch(f"/api/v1/lots/{lot['id']}", headers=ADMIN, json=change)
    assert resp.status_code == 400, resp.text
    assert (error_of(resp)["code"], error_of(resp).get("field")) == (code, field)
    assert await _lot_row(client, lot["id"]) == before
    assert await services.rooms.room_state(lot["id"]) == room_before


async def test_a_timed_lot_keeps_needing_a_duration(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot
) -> None:
    """A timed lot's duration may change (the room's with it) but not to zero."""
    sid = (await new_session("timed"))["id"]
    lot = await new_lot(sid, duration_s=600)
    zero = await client.patch(f"/api/v1/lots/{lot['id']}", headers=ADMIN, json={"duration_s": 0})
    assert zero.status_code == 400 and error_of(zero)["field"] == "duration_s"
    ok = await client.patch(f"/api/v1/lots/{lot['id']}", headers=ADMIN, json={"duration_s": 900})
    assert ok.status_code == 200, ok.text
    state = await services.rooms.room_state(lot["id"])
    assert state is not None and state.duration_ms == 900_000


async def test_no_edit_once_bidding_started(
    client: httpx.AsyncClient, services: Services, new_lot: NewLot
) -> None:
    """Once the lot's room is open (its row not yet drained: the room's own check refuses),
    409 ``bidding_started``; the edit form says ``editable: false``; nothing changed."""
    lot = await new_lot()
    await services.rooms.open(lot["id"])
    resp = await client.patch(f"/api/v1/lots/{lot['id']}", headers=ADMIN,
                              json={"start_price_fen": 100_000_000})
    assert resp.status_code == 409, resp.text
    assert error_of(resp)["code"] == "bidding_started"
    form = await _lot_row(client, lot["id"])
    assert form["editable"] is False and form["start_price_fen"] == lot["start_price_fen"]
    state = await services.rooms.room_state(lot["id"])
    assert state is not None and state.start == lot["start_price_fen"]


async def test_the_room_refusing_rolls_the_row_back(
    client: httpx.AsyncClient, services: Services, new_lot: NewLot
) -> None:
    """The room opens between the handler's first look and the script (simulated by opening
    it inside the store's transaction hook): the script refuses and the row stays as it was."""
    lot = await new_lot()
    real = services.rooms.set_terms

    async def open_first(lot_id: int, **terms: int) -> bool:
        await services.rooms.open(lot_id)
        return await real(lot_id, **terms)

    services.rooms.set_terms = open_first  # type: ignore[method-assign]
    try:
        resp = await client.patch(f"/api/v1/lots/{lot['id']}", headers=ADMIN,
                                  json={"title": "不应保存"})
    finally:
        del services.rooms.set_terms
    assert resp.status_code == 409 and error_of(resp)["code"] == "bidding_started"
    assert (await _lot_row(client, lot["id"]))["title"] == lot["title"]


async def test_who_may_edit(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot
) -> None:
    """The market's admin may; its finance and another market's admin get 403 (also for the
    edit form); an unknown lot is 403 to them and 404 to the platform admin only."""
    session = await new_session()
    lot = await new_lot(session["id"])
    url = f"/api/v1/lots/{lot['id']}"
    own = await staff(client, "market_admin", session["market_code"])
    resp = await client.patch(url, headers=own, json={"title": "本市场修改"})
    assert resp.status_code == 200, resp.text
    other = await staff(client, "market_admin", (await new_session())["market_code"])
    finance = await staff(client, "finance", session["market_code"])
    for who in (other, finance):
        assert (await client.patch(url, headers=who, json={"title": "越权"})).status_code == 403
        assert (await client.get(f"{url}/edit", headers=who)).status_code == 403
    assert (await client.patch(url, json={"title": "匿名"})).status_code == 401
    assert (await client.patch("/api/v1/lots/987654321", headers=other,
                               json={"title": "x"})).status_code == 403
    assert (await client.patch("/api/v1/lots/987654321", headers=ADMIN,
                               json={"title": "x"})).status_code == 404
    assert (await _lot_row(client, lot["id"]))["title"] == "本市场修改"


# -- the running order ---------------------------------------------------------------------


async def test_reorder_sets_ordinals_in_the_given_order(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot
) -> None:
    """Three lots reversed: ordinals 1..3 in the new order, and the catalogue lists them so."""
    sid = (await new_session())["id"]
    ids = [(await new_lot(sid, title=f"标的{i}"))["id"] for i in range(3)]
    order = list(reversed(ids))
    resp = await client.put(f"/api/v1/sessions/{sid}/order", headers=ADMIN,
                            json={"lot_ids": order})
    assert resp.status_code == 200, resp.text
    assert [(lot["id"], lot["ordinal"]) for lot in resp.json()["lots"]] == [
        (order[0], 1), (order[1], 2), (order[2], 3)]
    listed = (await client.get(f"/api/v1/sessions/{sid}/lots")).json()["lots"]
    assert [lot["id"] for lot in listed] == order
    # a lot added afterwards goes last
    newer = await new_lot(sid)
    assert newer["ordinal"] == 4


@pytest.mark.parametrize("shape", ["missing", "duplicate", "foreign", "not_a_list", "strings",
                                   "empty"])
async def test_reorder_needs_exactly_the_sessions_lots(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot, shape: str
) -> None:
    """Anything but the session's lots, each once: 400 naming ``lot_ids``; order unchanged."""
    sid = (await new_session())["id"]
    ids = [(await new_lot(sid))["id"] for _ in range(3)]
    foreign = (await new_lot())["id"]
    lot_ids: object = {
        "missing": ids[:2], "duplicate": [ids[0], ids[0], ids[1], ids[2]],
        "foreign": [*ids[:2], foreign], "not_a_list": ids[0],
        "strings": [str(i) for i in ids], "empty": [],
    }[shape]
    resp = await client.put(f"/api/v1/sessions/{sid}/order", headers=ADMIN,
                            json={"lot_ids": lot_ids})
    assert resp.status_code == 400, resp.text
    assert error_of(resp)["field"] == "lot_ids"
    listed = (await client.get(f"/api/v1/sessions/{sid}/lots")).json()["lots"]
    assert [lot["id"] for lot in listed] == ids


async def test_no_reorder_once_bidding_started(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot
) -> None:
    """A lot of the session opened: 409 ``bidding_started``, the order as it was."""
    sid = (await new_session())["id"]
    ids = [(await new_lot(sid))["id"] for _ in range(2)]
    await services.rooms.open(ids[1])
    resp = await client.put(f"/api/v1/sessions/{sid}/order", headers=ADMIN,
                            json={"lot_ids": list(reversed(ids))})
    assert resp.status_code == 409 and error_of(resp)["code"] == "bidding_started"
    listed = (await client.get(f"/api/v1/sessions/{sid}/lots")).json()["lots"]
    assert [lot["id"] for lot in listed] == ids


async def test_who_may_reorder(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot
) -> None:
    """The market's admin may; another market's admin and finance get 403."""
    session = await new_session()
    ids = [(await new_lot(session["id"]))["id"] for _ in range(2)]
    url = f"/api/v1/sessions/{session['id']}/order"
    body = {"lot_ids": list(reversed(ids))}
    other = await staff(client, "market_admin", (await new_session())["market_code"])
    finance = await staff(client, "finance", session["market_code"])
    for who in (other, finance):
        assert (await client.put(url, headers=who, json=body)).status_code == 403
    own = await staff(client, "market_admin", session["market_code"])
    assert (await client.put(url, headers=own, json=body)).status_code == 200
