"""The sale calendar over HTTP (issue 15 items 1-2): a timed session's schedule fields (ends_at,
close_gap_s, max_extensions, hard_end_at) and a lot's own start, checked and edited; no lot is
opened before its time (``not_yet``); the console's ``next`` follows the running order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from auction.api import admin, catalogue, console, lot_edits
from auction.domain.schedule import CHINA
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


async def test_schedule_fields_are_kept_checked_and_edited(
    client: httpx.AsyncClient, new_session: NewSession,
) -> None:
    made = await new_session("timed", ends_at="2026-04-25T16:00:00+08:00", close_gap_s=120,
                             max_extensions=3, hard_end_at="2026-04-25T18:00:00+08:00")
    assert made["ends_at"] == "2026-04-25T16:00:00.000+08:00"
    assert (made["close_gap_s"], made["max_extensions"]) == (120, 3)
    assert made["hard_end_at"] == "2026-04-25T18:00:00.000+08:00"
    plain = await new_session("timed")
    assert (plain["ends_at"], plain["close_gap_s"], plain["max_extensions"],
            plain["hard_end_at"]) == (None, 0, None, None)
    base = {"market_code": made["market_code"], "name": "场次", "season": "spring",
            "starts_at": "2026-04-18T09:30:00+08:00"}
    for extra, field in (
        ({"mode": "live", "ends_at": "2026-04-25T16:00:00+08:00"}, "ends_at"),
        ({"mode": "live", "max_extensions": 2}, "max_extensions"),
        ({"mode": "timed", "ends_at": "2026-04-18T09:30:00+08:00"}, "ends_at"),
        ({"mode": "timed", "ends_at": "2026-04-25T16:00:00+08:00",
          "hard_end_at": "2026-04-25T15:00:00+08:00"}, "hard_end_at"),
        ({"mode": "timed", "close_gap_s": -1}, "close_gap_s"),
        ({"mode": "timed", "close_gap_s": 86_401}, "close_gap_s"),
        ({"mode": "timed", "max_extensions": "3"}, "max_extensions"),
        ({"mode": "timed", "max_extensions": 1001}, "max_extensions"),
        ({"mode": "timed", "hard_end_at": "tomorrow"}, "hard_end_at"),
    ):
        resp = await client.post("/api/v1/sessions", headers=ADMIN, json={**base, **extra})
        assert resp.status_code == 400, (extra, resp.text)
        assert error_of(resp)["field"] == field, extra
    # PATCH: a field not given stays, null clears, a bad one is 400 and changes nothing
    sid = made["id"]
    resp = await client.patch(f"/api/v1/sessions/{sid}", headers=ADMIN,
                              json={"close_gap_s": 60, "max_extensions": None})
    assert resp.status_code == 200, resp.text
    got = resp.json()
    assert (got["close_gap_s"], got["max_extensions"]) == (60, None)
    assert got["ends_at"] == made["ends_at"] and got["hard_end_at"] == made["hard_end_at"]
    bad = await client.patch(f"/api/v1/sessions/{sid}", headers=ADMIN,
                             json={"ends_at": "2026-04-26T16:00:00+08:00"})
    assert bad.status_code == 400 and error_of(bad)["field"] == "hard_end_at"
    again = (await client.get(f"/api/v1/sessions/{sid}")).json()
    assert again["ends_at"] == made["ends_at"] and again["close_gap_s"] == 60


async def test_a_lots_own_start(
    client: httpx.AsyncClient, new_session: NewSession, lot_body: LotBody,
) -> None:
    timed = await new_session("timed", ends_at="2026-04-25T16:00:00+08:00")
    url = f"/api/v1/sessions/{timed['id']}/lots"
    ok = await client.post(url, headers=ADMIN, json=lot_body(
        duration_s=600, starts_at="2026-04-20T09:00:00+08:00"))
    assert ok.status_code == 201, ok.text
    assert ok.json()["starts_at"] == "2026-04-20T09:00:00.000+08:00"
    assert (await client.get(f"/api/v1/lots/{ok.json()['id']}")).json()["starts_at"] == \
        "2026-04-20T09:00:00.000+08:00"
    for when in ("2026-04-18T09:00:00+08:00", "2026-04-25T16:00:00+08:00"):
        resp = await client.post(url, headers=ADMIN, json=lot_body(duration_s=600,
                                                                   starts_at=when))
        assert resp.status_code == 400 and error_of(resp)["field"] == "starts_at", when
    live = await new_session("live")
    resp = await client.post(f"/api/v1/sessions/{live['id']}/lots", headers=ADMIN,
                             json=lot_body(starts_at="2026-04-20T09:00:00+08:00"))
    assert resp.status_code == 400 and error_of(resp)["field"] == "starts_at"


async def _open(client: httpx.AsyncClient, lot: int, key: str, op: str = "open"
                ) -> httpx.Response:
    return await client.post(f"/api/v1/lots/{lot}/commands", headers=ADMIN,
                             json={"op": op, "key": key})


async def test_no_lot_opens_before_its_time(
    client: httpx.AsyncClient, new_session: NewSession, lot_body: LotBody,
) -> None:
    """Tomorrow's live session: ``not_yet`` (409); today's, before its hour: the auctioneer
    opens; a timed lot before its opening time: ``not_yet``, nothing changed."""
    now = datetime.now(UTC)
    tomorrow = (now.astimezone(CHINA) + timedelta(days=1)).replace(hour=0, minute=5)
    live = await new_session("live", starts_at=iso(tomorrow))
    lot = (await client.post(f"/api/v1/sessions/{live['id']}/lots", headers=ADMIN,
                             json=lot_body())).json()["id"]
    for op in ("open", "next"):
        resp = await _open(client, lot, f"early-{op}", op)
        assert resp.status_code == 409, resp.text
        assert error_of(resp)["code"] == "not_yet"
    assert (await client.get(f"/api/v1/lots/{lot}")).json()["live"]["status"] == "scheduled"

    later_today = now + timedelta(minutes=30)
    if later_today.astimezone(CHINA).date() == now.astimezone(CHINA).date():
        today = await new_session("live", starts_at=iso(later_today))
        lot = (await client.post(f"/api/v1/sessions/{today['id']}/lots", headers=ADMIN,
                                 json=lot_body())).json()["id"]
        resp = await _open(client, lot, "on-the-day")
        assert resp.status_code == 200, resp.text

    timed = await new_session("timed", starts_at=iso(later_today))
    lot = (await client.post(f"/api/v1/sessions/{timed['id']}/lots", headers=ADMIN,
                             json=lot_body(duration_s=600))).json()["id"]
    resp = await _open(client, lot, "timed-early")
    assert resp.status_code == 409 and error_of(resp)["code"] == "not_yet"
    started = await new_session("timed", starts_at=iso(now - timedelta(minutes=1)))
    own = await client.post(f"/api/v1/sessions/{started['id']}/lots", headers=ADMIN,
                            json=lot_body(duration_s=600, starts_at=iso(later_today)))
    assert own.status_code == 201, own.text
    resp = await _open(client, own.json()["id"], "own-start-early")
    assert resp.status_code == 409 and error_of(resp)["code"] == "not_yet"


async def test_next_follows_the_running_order_and_the_schedule(
    client: httpx.AsyncClient, new_session: NewSession, lot_body: LotBody, services: Services,
) -> None:
    """``next`` opens the lots by ``ordinal``; opened by hand, a lot of a scheduled timed
    session still closes at its place in the running order, capped by the hard end."""
    live = await new_session("live")
    lots = [(await client.post(f"/api/v1/sessions/{live['id']}/lots", headers=ADMIN,
                               json=lot_body(title=f"标的{i}"))).json()["id"] for i in range(3)]
    order = await client.put(f"/api/v1/sessions/{live['id']}/order", headers=ADMIN,
                             json={"lot_ids": [lots[2], lots[0], lots[1]]})
    assert order.status_code == 200, order.text
    opened = []
    for i in range(3):
        resp = await _open(client, lots[0], f"n{i}", "next")
        assert resp.status_code == 200, resp.text
        opened.append(resp.json()["lot_id"])
        await client.post(f"/api/v1/lots/{opened[-1]}/commands", headers=ADMIN,
                          json={"op": "pass", "key": f"p{i}"})
    assert opened == [lots[2], lots[0], lots[1]]
    start = datetime.now(UTC) - timedelta(minutes=1)
    ends = start + timedelta(hours=2)
    hard = ends + timedelta(seconds=90)
    timed = await new_session("timed", starts_at=iso(start), ends_at=iso(ends),
                              close_gap_s=60, max_extensions=1, hard_end_at=iso(hard))
    ids = [(await client.post(f"/api/v1/sessions/{timed['id']}/lots", headers=ADMIN,
                              json=lot_body(duration_s=600))).json()["id"] for _ in range(3)]
    closes = []
    for lot in ids:
        resp = await _open(client, lot, f"t{lot}")
        assert resp.status_code == 200, resp.text
        closes.append(resp.json()["ends_at_ms"])
    base = int(ends.timestamp()) * 1000
    assert closes == [base, base + 60_000, base + 90_000]  # the third: the hard end
    planned = [(await client.get(f"/api/v1/lots/{lot}")).json()["closes_at"] for lot in ids]
    assert [datetime.fromisoformat(p).timestamp() * 1000 for p in planned] == closes
    plain = (await client.get(f"/api/v1/lots/{lots[0]}")).json()
    assert plain["closes_at"] is None
    state = await services.rooms.room_state(ids[0])
    assert state is not None and (state.max_ext, state.hard_end) == (1, base + 90_000)


async def test_the_scheduler_opens_due_lots_once(
    client: httpx.AsyncClient, new_session: NewSession, lot_body: LotBody, services: Services,
) -> None:
    """Two schedulers (two processes) tick: the due lots of a published timed session with an
    end open once, in running order, at their planned closes; a lot with a later own start, a
    draft, a session without an end and a live session are left alone."""
    now = datetime.now(UTC).replace(microsecond=0)
    start, ends = now - timedelta(seconds=5), now + timedelta(hours=1)
    run = await new_session("timed", starts_at=iso(start), ends_at=iso(ends), close_gap_s=30)
    made = [await client.post(f"/api/v1/sessions/{run['id']}/lots", headers=ADMIN,
                              json=lot_body(duration_s=600, **extra))
            for extra in ({}, {}, {"starts_at": iso(now + timedelta(minutes=10))})]
    due, later = [m.json()["id"] for m in made[:2]], made[2].json()["id"]
    others = []
    for mode, extra in (("timed", {"draft": True, "ends_at": iso(ends)}), ("timed", {}),
                        ("live", {})):
        other = await new_session(mode, starts_at=iso(start), **extra)
        lot = await client.post(f"/api/v1/sessions/{other['id']}/lots", headers=ADMIN,
                                json=lot_body(duration_s=600))
        others.append(lot.json()["id"])
    first, second = Scheduler(services), Scheduler(services)
    opened = await first.tick()
    assert [lot for lot in opened if lot in due] == due
    assert not set(opened) & {later, *others}
    assert await second.tick() == [] and await first.tick() == []
    base = int(ends.timestamp() * 1000)
    for rank, lot in enumerate(due):
        state = await services.rooms.room_state(lot)
        assert state is not None and state.status.value == "open"
        assert state.ends_at == base + rank * 30_000
    for lot in (later, *others):
        state = await services.rooms.room_state(lot)
        assert state is not None and state.status.value == "scheduled"


async def test_the_scheduler_opens_every_format(
    client: httpx.AsyncClient, new_session: NewSession, lot_body: LotBody, services: Services,
) -> None:
    """A scheduled timed session holding lots of every format (issue 14): the scheduler opens
    them all; the english and sealed lots take the schedule (planned close in running order,
    the cap and the hard end), the Dutch and rounds lots their own clocks (D4, T1) with no
    schedule, and the closer has every one of them (docs/formats.md "Scheduling")."""
    now = datetime.now(UTC).replace(microsecond=0)
    start, ends = now - timedelta(seconds=5), now + timedelta(hours=1)
    hard = ends + timedelta(seconds=45)
    run = await new_session("timed", starts_at=iso(start), ends_at=iso(ends), close_gap_s=30,
                            max_extensions=1, hard_end_at=iso(hard))
    formats: list[dict[str, Any]] = [
        {}, {"format": "dutch", "step_fen": 10_000_000, "interval_s": 60,
             "floor_fen": 100_000_000},
        {"format": "rounds", "free_s": 120, "round_s": 30}, {"format": "sealed", "revisions": 1},
    ]
    ids = []
    for extra in formats:
        made = await client.post(f"/api/v1/sessions/{run['id']}/lots", headers=ADMIN,
                                 json=lot_body(duration_s=600, **extra))
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    opened = await Scheduler(services).tick()
    assert [lot for lot in opened if lot in ids] == ids
    base, hard_ms = int(ends.timestamp() * 1000), int(hard.timestamp() * 1000)
    states = {lot: await services.rooms.room_state(lot) for lot in ids}
    for lot, state in states.items():
        assert state is not None and state.status.value == "open", lot
        assert await services.redis.zscore(services.keys.timed, str(lot)) == state.ends_at
    e, d, r, s = (states[lot] for lot in ids)
    assert e is not None and d is not None and r is not None and s is not None
    assert (e.ends_at, e.max_ext, e.hard_end) == (base, 1, hard_ms)
    assert (s.ends_at, s.max_ext, s.hard_end) == (hard_ms, 1, hard_ms)  # rank 3: the hard end
    assert (d.ends_at, d.max_ext, d.hard_end) == (d.opened_at + 11 * 60_000, -1, 0)
    assert (r.ends_at, r.max_ext, r.hard_end) == (r.opened_at + 120_000, -1, 0)
    for lot in ids[1:3]:  # the Dutch and rounds lots
        opened_event = (await services.rooms.events_after(lot, 0) or [])[0]
        assert opened_event.kind == "opened" and "hard_end" not in opened_event.data
