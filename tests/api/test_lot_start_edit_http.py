"""A timed lot's own opening time edited (``PATCH /lots/{id}`` with ``starts_at``): the scheduler
and the console's ``open`` follow the new time, over real PostgreSQL and Redis; the time may
move only while it is still ahead, never on a listing, and within the session as at creation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from auction.api import admin, catalogue, console, lot_edits
from auction.rooms.scheduler import Scheduler
from auction.services import Services
from tests.api.conftest import ADMIN, LotBody, NewSession, app_client, china_iso, error_of


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process app with the admin, catalogue, console and lot-edit routes."""
    async with app_client(services, [*admin.routes, *catalogue.routes, *console.routes,
                                     *lot_edits.routes]) as http:
        yield http


iso = china_iso


async def _lot(client: httpx.AsyncClient, session: int, lot_body: LotBody,
               **extra: Any) -> int:
    made = await client.post(f"/api/v1/sessions/{session}/lots", headers=ADMIN,
                             json=lot_body(duration_s=600, **extra))
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


async def _patch(client: httpx.AsyncClient, lot: int, **body: Any) -> httpx.Response:
    return await client.patch(f"/api/v1/lots/{lot}", headers=ADMIN, json=body)


async def _status(services: Services, lot: int) -> str:
    state = await services.rooms.room_state(lot)
    assert state is not None
    return str(state.status.value)


async def test_a_moved_start_moves_the_opening(
    client: httpx.AsyncClient, new_session: NewSession, lot_body: LotBody, services: Services,
) -> None:
    """In a running self-scheduled session, three lots due in 10 minutes: one moved to the
    session's start and one cleared (back to the session's start) are opened by the next tick;
    one moved to 20 minutes is not, the console's ``open`` says ``not_yet`` with the new
    time, and the public lot carries it."""
    now = datetime.now(UTC).replace(microsecond=0)
    start, ends = now - timedelta(seconds=5), now + timedelta(hours=1)
    run = await new_session("timed", starts_at=iso(start), ends_at=iso(ends), close_gap_s=30)
    soon, later = iso(now + timedelta(minutes=10)), iso(now + timedelta(minutes=20))
    earlier, cleared, postponed = [await _lot(client, run["id"], lot_body, starts_at=soon)
                                   for _ in range(3)]
    await Scheduler(services).tick()
    assert {await _status(services, lot) for lot in (earlier, cleared, postponed)} == {
        "scheduled"}

    moved = await _patch(client, earlier, starts_at=iso(start))
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["starts_at"]) == start
    assert (await _patch(client, cleared, starts_at=None)).json()["starts_at"] is None
    resp = await _patch(client, postponed, starts_at=later)
    assert resp.status_code == 200, resp.text

    opened = await Scheduler(services).tick()
    assert earlier in opened and cleared in opened and postponed not in opened
    assert await _status(services, earlier) == "open"
    assert await _status(services, postponed) == "scheduled"
    early = await client.post(f"/api/v1/lots/{postponed}/commands", headers=ADMIN,
                              json={"op": "open", "key": "too-early"})
    assert early.status_code == 409 and error_of(early)["code"] == "not_yet"
    assert later in error_of(early)["message"]
    public = (await client.get(f"/api/v1/lots/{postponed}")).json()
    assert datetime.fromisoformat(public["starts_at"]) == datetime.fromisoformat(later)


async def test_the_start_moves_only_while_it_is_ahead(
    client: httpx.AsyncClient, new_session: NewSession, lot_body: LotBody, services: Services,
) -> None:
    """A published session's lot whose opening time has come: moving it is 409
    ``start_passed`` naming ``starts_at`` and changes nothing (other fields still edit, the same
    time given again is no move); a draft's lot still moves; an opened lot: 409
    ``bidding_started``."""
    now = datetime.now(UTC).replace(microsecond=0)
    start, ends = now - timedelta(minutes=1), now + timedelta(hours=1)
    run = await new_session("timed", starts_at=iso(start), ends_at=iso(ends))
    due = await _lot(client, run["id"], lot_body)
    resp = await _patch(client, due, starts_at=iso(now + timedelta(minutes=10)))
    assert resp.status_code == 409, resp.text
    assert (error_of(resp)["code"], error_of(resp)["field"]) == ("start_passed", "starts_at")
    assert (await client.get(f"/api/v1/lots/{due}")).json()["starts_at"] is None
    same = await _patch(client, due, title="改名的标的", starts_at=None)
    assert same.status_code == 200, same.text
    assert same.json()["title"] == "改名的标的"

    draft = await new_session("timed", starts_at=iso(start), ends_at=iso(ends), draft=True)
    waiting = await _lot(client, draft["id"], lot_body)
    resp = await _patch(client, waiting, starts_at=iso(now + timedelta(minutes=10)))
    assert resp.status_code == 200, resp.text

    opened = await _lot(client, run["id"], lot_body, starts_at=iso(now + timedelta(minutes=5)))
    await services.rooms.open(opened)
    resp = await _patch(client, opened, starts_at=iso(now + timedelta(minutes=10)))
    assert resp.status_code == 409 and error_of(resp)["code"] == "bidding_started"


@pytest.mark.parametrize("case", ["live", "before", "at_end", "listing", "not_a_time"])
async def test_a_bad_start_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, new_session: NewSession, lot_body: LotBody, case: str,
) -> None:
    """As at creation: a live session's lot, a time before the session's start or at its end
    (the message gives the session's times), and a listing (its period starts at its opening)
    are 400 naming ``starts_at``; the lot keeps its start."""
    own = "2026-04-20T09:00:00+08:00"
    if case == "live":
        live = await new_session("live")
        lot = int((await client.post(f"/api/v1/sessions/{live['id']}/lots", headers=ADMIN,
                                     json=lot_body())).json()["id"])
        own_kept = None
    else:
        timed = await new_session("timed", ends_at="2026-04-25T16:00:00+08:00")
        extra: dict[str, Any] = {"starts_at": own}
        if case == "listing":
            extra.update(format="listing", listing_days=5, reserve_fen=None)
        lot = await _lot(client, timed["id"], lot_body, **extra)
        own_kept = own
    when = {"live": "2026-04-20T09:00:00+08:00", "before": "2026-04-18T09:00:00+08:00",
            "at_end": "2026-04-25T16:00:00+08:00", "listing": "2026-04-21T09:00:00+08:00",
            "not_a_time": "明天上午"}[case]
    resp = await _patch(client, lot, starts_at=when)
    assert resp.status_code == 400, resp.text
    assert error_of(resp)["field"] == "starts_at"
    said = {"live": "只有限时竞价场次", "before": "2026-04-18 09:30", "at_end": "2026-04-25 16:00",
            "listing": "挂牌标的", "not_a_time": "RFC 3339"}[case]
    assert said in error_of(resp)["message"]
    kept = (await client.get(f"/api/v1/lots/{lot}")).json()["starts_at"]
    assert kept is None if own_kept is None else \
        datetime.fromisoformat(kept) == datetime.fromisoformat(own_kept)
