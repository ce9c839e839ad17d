"""Re-queueing dead registration rows: the store, ``auction registration retry`` and
``POST /api/v1/registration/retry``, against real PostgreSQL (and Redis for the HTTP app)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from registration_factory import (
    Answer,
    Receiver,
    SoldLot,
    configured,
    deliver_until_settled,
    fast,
    outbox_row,
    sold_lot,
    unsold_lot,
)
from starlette.applications import Starlette

from auction.api import http_errors, registration_admin
from auction.api.tokens import Principal, Tokens
from auction.registration import cli
from auction.rooms.keys import Keys
from auction.rooms.service import Rooms
from auction.services import Services
from auction.settings import Settings
from auction.store import Conflict, NotFound, Store, outbox

ADMIN = {"Authorization": "Bearer test-admin-token"}
URL = "/api/v1/registration/retry"


async def dead_lot(store: Store, reason: str = "HTTP 400: buyer.uscc: 校验码错误") -> SoldLot:
    """A sold lot whose registration row was refused and dead-lettered."""
    lot = await sold_lot(store)
    await store.pool.execute(
        "UPDATE registration_outbox SET attempts = 1, first_attempt_at = now(),"
        " next_attempt_at = now() + interval '1 hour' WHERE lot_id = $1", lot.lot_id,
    )
    await outbox.mark_dead(store, lot.lot_id, error=reason)
    return lot


# -- the store ------------------------------------------------------------------------------


async def test_requeue_resets_the_row_and_keeps_why_it_died(outbox_store: Store) -> None:
    """A re-queued row is pending, due now, with zero counters and no retry window yet; its
    last_error starts with the re-queue and keeps the old reason as history."""
    lot = await dead_lot(outbox_store)
    await outbox.requeue(outbox_store, lot.lot_id)
    row = await outbox_row(outbox_store, lot.lot_id)
    assert (row["status"], row["attempts"], row["deferrals"]) == ("pending", 0, 0)
    assert row["first_attempt_at"] is None and row["next_attempt_at"] <= row["db_now"]
    latest, history = row["last_error"].split("\n")
    assert latest == "re-queued, not yet retried"
    assert history.endswith(
        "+08:00 re-queued; was dead after 2 attempts, 0 deferrals: HTTP 400: buyer.uscc: 校验码错误"
    )


async def test_history_survives_later_failures_and_delivery(
    outbox_store: Store, settings: Settings, receiver: Receiver
) -> None:
    """After a re-queue a new failure replaces only the first line of last_error; delivery
    clears that line and keeps the history; a second death and re-queue stack, newest first."""
    lot = await dead_lot(outbox_store, "HTTP 410: gone")
    await outbox.requeue(outbox_store, lot.lot_id)
    receiver.script[lot.key] = [Answer(500, "still broken"), Answer(404, "wrong path")]
    deliverer = fast(outbox_store, configured(settings, receiver.url))
    try:
        await deliverer.deliver_due()
        lines = (await outbox_row(outbox_store, lot.lot_id))["last_error"].split("\n")
        assert lines[0] == "HTTP 500: still broken" and lines[1].endswith("HTTP 410: gone")
        await deliver_until_settled(deliverer, outbox_store, lot.lot_id)  # the 404: dead
        await outbox.requeue(outbox_store, lot.lot_id)
        await deliver_until_settled(deliverer, outbox_store, lot.lot_id)  # the 201
    finally:
        await deliverer.aclose()
    row = await outbox_row(outbox_store, lot.lot_id)
    assert (row["status"], row["attempts"]) == ("delivered", 1)
    newest, oldest = row["last_error"].split("\n")
    assert newest.endswith("was dead after 2 attempts, 0 deferrals: HTTP 404: wrong path")
    assert oldest.endswith("was dead after 2 attempts, 0 deferrals: HTTP 410: gone")
    assert list(receiver.packets) == [lot.key]


async def test_requeue_refuses_unknown_unsold_and_live_rows(outbox_store: Store) -> None:
    """No such lot or no registration row: NotFound; a row that is not dead: Conflict."""
    with pytest.raises(NotFound, match="不存在"):
        await outbox.requeue(outbox_store, 987_654_321)
    with pytest.raises(NotFound, match="没有登记记录"):
        await outbox.requeue(outbox_store, await unsold_lot(outbox_store))
    pending = await sold_lot(outbox_store)
    with pytest.raises(Conflict) as caught:
        await outbox.requeue(outbox_store, pending.lot_id)
    assert caught.value.code == "wrong_state"
    assert (await outbox_row(outbox_store, pending.lot_id))["last_error"] == ""


async def test_requeue_all_dead_touches_only_dead_rows(outbox_store: Store) -> None:
    """Every dead row and only those; their ids ascending; nothing left to do is []."""
    dead = [await dead_lot(outbox_store) for _ in range(3)]
    pending = await sold_lot(outbox_store)
    assert await outbox.requeue_all_dead(outbox_store) == sorted(d.lot_id for d in dead)
    assert await outbox.requeue_all_dead(outbox_store) == []
    assert (await outbox_row(outbox_store, pending.lot_id))["last_error"] == ""


# -- the CLI ---------------------------------------------------------------------------------


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="auction")
    cli.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["registration", "retry", *argv])


async def test_cli_requeues_one_lot(
    outbox_store: Store, outbox_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """``retry --lot ID`` re-queues that dead row, says so and exits 0."""
    lot = await dead_lot(outbox_store)
    assert await cli.run(parse("--lot", str(lot.lot_id)), outbox_settings) == 0
    out = capsys.readouterr().out
    assert f"lot {lot.lot_id}: re-queued" in out and "re-queued 1 registration row" in out
    assert (await outbox_row(outbox_store, lot.lot_id))["status"] == "pending"


async def test_cli_requeues_all_dead(
    outbox_store: Store, outbox_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """``retry --all-dead`` lists each re-queued lot; a second run finds nothing and exits 0."""
    dead = [await dead_lot(outbox_store) for _ in range(2)]
    assert await cli.run(parse("--all-dead"), outbox_settings) == 0
    out = capsys.readouterr().out
    assert all(f"lot {d.lot_id}: re-queued" in out for d in dead)
    assert "re-queued 2 registration row(s)" in out
    assert await cli.run(parse("--all-dead"), outbox_settings) == 0
    assert "nothing to re-queue" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ((), "exactly one of"),
        (("--lot", "1", "--all-dead"), "exactly one of"),
        (("--lot", "abc"), "positive lot id"),
        (("--lot", "0"), "positive lot id"),
        (("--lot", "-3"), "positive lot id"),
        (("--lot", "99999999999999999999"), "positive lot id"),
        (("--lot", "987654321"), "不存在"),
    ],
)
async def test_cli_bad_input_is_one_line_and_exit_2(
    settings: Settings, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], says: str
) -> None:
    """Bad or unknown input: exit 2, one line on stderr naming the problem, nothing on stdout."""
    assert await cli.run(parse(*argv), settings) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(cli.PROG) and says in lines[0]


async def test_cli_refuses_a_row_that_is_not_dead(
    outbox_store: Store, outbox_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pending or unsold lot: exit 2 with the reason; the row is untouched."""
    pending = await sold_lot(outbox_store)
    assert await cli.run(parse("--lot", str(pending.lot_id)), outbox_settings) == 2
    assert "pending" in capsys.readouterr().err
    unsold = await unsold_lot(outbox_store)
    assert await cli.run(parse("--lot", str(unsold)), outbox_settings) == 2
    assert "没有登记记录" in capsys.readouterr().err


async def test_cli_without_postgres_exits_1(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """PostgreSQL unreachable: one line and exit 1."""
    gone = settings.with_changes(database_url="postgresql://postgres@127.0.0.1:1/none")
    assert await cli.run(parse("--all-dead"), gone) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert "cannot use PostgreSQL (postgresql://postgres@127.0.0.1:1/" in lines[0]


async def auction_command(*argv: str, env: dict[str, str]) -> tuple[int, str, str]:
    """Run ``python -m auction`` with ``argv`` and only ``env`` (plus PATH); exit code, out, err."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "auction", *argv, env={"PATH": os.environ["PATH"], **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_the_auction_command_has_registration_retry(
    outbox_store: Store, outbox_database_url: str, tmp_path: Path
) -> None:
    """``auction registration retry`` through the real entry point, with no Redis configured:
    a dead lot is re-queued (exit 0); a bad id is one line and exit 2."""
    lot = await dead_lot(outbox_store)
    env = {"DATABASE_URL": outbox_database_url, "AUCTION_DATA_DIR": str(tmp_path)}
    code, out, err = await auction_command(
        "registration", "retry", "--lot", str(lot.lot_id), env=env
    )
    assert code == 0, err
    assert f"lot {lot.lot_id}: re-queued" in out
    assert (await outbox_row(outbox_store, lot.lot_id))["status"] == "pending"
    code, out, err = await auction_command("registration", "retry", "--lot", "x1", env=env)
    assert (code, out) == (2, "")
    assert err.strip().splitlines() == [f"{cli.PROG}: --lot must be a positive lot id, not 'x1'"]


# -- the HTTP route --------------------------------------------------------------------------


def app_client(
    settings: Settings, store: Store, redis: Redis, keys: Keys
) -> tuple[httpx.AsyncClient, Services]:
    """An in-process app with the re-queue route over ``store``."""
    services = Services(
        settings=settings, store=store, redis=redis, keys=keys, rooms=Rooms(redis, keys),
        tokens=Tokens(settings.secret, settings.admin_token),
        hub=None,  # type: ignore[arg-type]  # the route never uses it
    )
    app = Starlette(
        routes=registration_admin.routes, exception_handlers=http_errors.exception_handlers()
    )
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://test"), services


@pytest.fixture
async def client(
    settings: Settings, outbox_store: Store, redis: Redis, keys: Keys
) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    """The route over the test's private database."""
    http, services = app_client(settings, outbox_store, redis, keys)
    async with http:
        yield http, services


@pytest.fixture
async def shared_client(
    settings: Settings, store: Store, redis: Redis, keys: Keys
) -> AsyncIterator[httpx.AsyncClient]:
    """The route over the session database, for requests that must change nothing."""
    http, _ = app_client(settings, store, redis, keys)
    async with http:
        yield http


def bearer(services: Services, **principal: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {services.tokens.mint(Principal(**principal))}"}


async def test_admin_requeues_a_lot_and_all_dead(
    client: tuple[httpx.AsyncClient, Services], outbox_store: Store
) -> None:
    """The platform admin re-queues one lot, then every remaining dead row."""
    http, _ = client
    one, two, three = [await dead_lot(outbox_store) for _ in range(3)]
    r = await http.post(URL, json={"lot_id": one.lot_id}, headers=ADMIN)
    assert (r.status_code, r.json()) == (200, {"requeued": [one.lot_id]})
    r = await http.post(URL, json={"all_dead": True}, headers=ADMIN)
    assert (r.status_code, r.json()) == (200, {"requeued": sorted([two.lot_id, three.lot_id])})
    r = await http.post(URL, json={"all_dead": True}, headers=ADMIN)
    assert (r.status_code, r.json()) == (200, {"requeued": []})
    for lot in (one, two, three):
        assert (await outbox_row(outbox_store, lot.lot_id))["status"] == "pending"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, None),
        ({"lot_id": 1, "all_dead": True}, None),
        ({"lot_id": "5"}, "lot_id"),
        ({"lot_id": True}, "lot_id"),
        ({"lot_id": 1.0}, "lot_id"),
        ({"lot_id": 0}, "lot_id"),
        ({"lot_id": 2**63}, "lot_id"),
        ({"all_dead": False}, "all_dead"),
        ({"all_dead": "yes"}, "all_dead"),
        ({"lot": 1}, "lot"),
        ([1], None),
        ("not json", None),
        (None, None),
    ],
)
async def test_bad_bodies_are_400(
    shared_client: httpx.AsyncClient, body: Any, field: str | None
) -> None:
    """Anything but exactly one of {"lot_id": N} / {"all_dead": true} is 400 bad_request."""
    http = shared_client
    if body is None:
        content = b""
    elif body == "not json":
        content = b"{lot_id: 1"
    else:
        content = json.dumps(body).encode()
    r = await http.post(URL, content=content, headers=ADMIN)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "bad_request" and error["message"]
    assert error.get("field") == field


async def test_unknown_unsold_and_live_lots(
    client: tuple[httpx.AsyncClient, Services], outbox_store: Store
) -> None:
    """Unknown lot or no registration row: 404; a row that is not dead: 409 wrong_state."""
    http, _ = client
    r = await http.post(URL, json={"lot_id": 987_654_321}, headers=ADMIN)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    unsold = await unsold_lot(outbox_store)
    r = await http.post(URL, json={"lot_id": unsold}, headers=ADMIN)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    pending = await sold_lot(outbox_store)
    r = await http.post(URL, json={"lot_id": pending.lot_id}, headers=ADMIN)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "wrong_state")


async def test_who_may_requeue(
    client: tuple[httpx.AsyncClient, Services], outbox_store: Store
) -> None:
    """No token 401; a bidder 403; a market admin of the lot's market may re-queue that lot but
    not another market's, nor all dead rows; an unknown lot is 403 to it (ids tell nothing)."""
    http, services = client
    mine, theirs = await dead_lot(outbox_store), await dead_lot(outbox_store)
    assert (await http.post(URL, json={"lot_id": mine.lot_id})).status_code == 401
    bidder = bearer(services, role="bidder", bidder_id=1, session_id=1, paddle=101)
    assert (await http.post(URL, json={"lot_id": mine.lot_id}, headers=bidder)).status_code == 403
    admin = bearer(services, role="market_admin", subject="ops", market_id=mine.market_id)
    r = await http.post(URL, json={"lot_id": theirs.lot_id}, headers=admin)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden")
    r = await http.post(URL, json={"all_dead": True}, headers=admin)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden")
    r = await http.post(URL, json={"lot_id": 987_654_321}, headers=admin)
    assert r.status_code == 403
    r = await http.post(URL, json={"lot_id": mine.lot_id}, headers=admin)
    assert (r.status_code, r.json()) == (200, {"requeued": [mine.lot_id]})
    assert (await outbox_row(outbox_store, theirs.lot_id))["status"] == "dead"
