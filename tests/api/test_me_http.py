"""我的竞拍 (``GET /api/v1/me/auction``, issue 11): a bidder's registrations, deposits and their
states, the lots it bid on with its highest bid and 领先 / 出局 from the rooms, and the lots it
won with what comes next (issue 13: the balance and its due date, then the contract's
registration, while the 成交公示 runs)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx

from auction.api.payments import server_day
from auction.domain import deadlines
from auction.services import Services
from auction.settlement.drainer import Drainer
from auction.store import answers, deals
from tests.api.conftest import ADMIN, error_of
from tests.api.people import bidder, staff
from tests.e2e.harness import enrol

NewSession = Callable[..., Awaitable[dict[str, Any]]]
NewLot = Callable[..., Awaitable[dict[str, Any]]]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_my_auction_follows_registrations_bids_and_wins(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot,
    new_uscc: Callable[[], str],
) -> None:
    """Outbid on one open lot (出局), leading another (领先, before the journal has it), winner of
    a third (won: pay the balance by its due date, then 合同登记; once paid, the registration;
    once 已登记, done — each while the 成交公示 runs); the deposit ``held`` once bidding started;
    another bidder's bids and wins are not mine."""
    session = await new_session()
    sid = session["id"]
    outbid, leading, won = [await new_lot(sid, reserve_fen=None) for _ in range(3)]
    me = await enrol(client, sid, name="我的企业", uscc_code=new_uscc(), deposit_fen=20_000_000)
    rival = await enrol(client, sid, name="对手企业", uscc_code=new_uscc(),
                        deposit_fen=20_000_000)
    rooms = services.rooms
    await rooms.open(won["id"])
    await rooms.bid(won["id"], bidder=rival.bidder_id, paddle=rival.paddle, amount=200_000_000)
    await rooms.bid(won["id"], bidder=me.bidder_id, paddle=me.paddle, amount=210_000_000)
    await rooms.close(won["id"], "hammer")
    await rooms.open(outbid["id"])
    await rooms.bid(outbid["id"], bidder=me.bidder_id, paddle=me.paddle, amount=200_000_000)
    await rooms.bid(outbid["id"], bidder=rival.bidder_id, paddle=rival.paddle,
                    amount=210_000_000)
    drainer = Drainer(services.store, services.redis, services.keys)
    while await drainer.drain_once():
        pass
    await rooms.open(leading["id"])
    await rooms.bid(leading["id"], bidder=me.bidder_id, paddle=me.paddle, amount=200_000_000)
    # the hold of the session's deposits happens when a lot opens (console); here by hand
    async with services.store.pool.acquire() as conn:
        await conn.execute(
            "UPDATE deposits SET state = 'held' WHERE session_id = $1 AND state = 'confirmed'",
            sid)
    resp = await client.get("/api/v1/me/auction", headers=bearer(me.account_token))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["bidder_id"] == me.bidder_id and body["rooms"] == "ok"
    [reg] = body["registrations"]
    assert (reg["id"], reg["status"], reg["status_text"], reg["paddle"]) == (
        me.registration_id, "deposit_paid", "保证金已确认", me.paddle)
    assert [(d["state"], d["state_text"], d["amount_fen"]) for d in body["deposits"]] == [
        ("held", "已冻结", 20_000_000)]
    lines = {line["lot_id"]: line for line in body["bidding"]}
    assert set(lines) == {outbid["id"], leading["id"], won["id"]}
    assert (lines[outbid["id"]]["leading"], lines[outbid["id"]]["standing"]) == (False, "出局")
    assert lines[outbid["id"]]["my_high_fen"] == 200_000_000
    assert lines[outbid["id"]]["current_fen"] == 210_000_000
    assert (lines[leading["id"]]["leading"], lines[leading["id"]]["standing"]) == (True, "领先")
    assert lines[leading["id"]]["my_high_fen"] == 200_000_000
    assert (lines[won["id"]]["status"], lines[won["id"]]["leading"]) == ("sold", True)
    assert lines[won["id"]]["standing"] == "成交"
    [win] = body["won"]
    assert (win["lot_id"], win["amount_fen"], win["paddle"]) == (won["id"], 210_000_000, me.paddle)
    assert win["hammer_at"].endswith("+08:00")
    hammer = datetime.fromisoformat(win["hammer_at"])
    due = deadlines.balance_due(hammer).isoformat()
    notice = f"成交公示至 {deadlines.notice_ends(hammer).isoformat()}"
    assert server_day() <= deadlines.balance_due(hammer)
    # the band deposit (200,000 元) is applied: 1,900,000 元 open
    assert (win["next_step_code"], win["next_step"]) == (
        "pay", f"请于 {due} 前付清尾款 1,900,000.00 元; 之后由市场办理技术合同登记; {notice}")
    assert win["next_step_en"].startswith(f"Pay the balance of 1,900,000.00 yuan by {due}")
    await deals.record_payment(services.store, won["id"], amount_fen=190_000_000,
                               paid_on=server_day(), bank_reference="ME-1", recorded_by="t")
    [win] = (await client.get("/api/v1/me/auction", headers=bearer(me.account_token))).json()["won"]
    assert (win["next_step_code"], win["next_step"]) == (
        "registration_pending", f"尾款已付清; 等待技术合同登记 (市场已移交登记机构); {notice}")
    row = await services.store.registration_status(won["id"])
    await answers.mark_answered(services.store, won["id"], row.idempotency_key,
                                status="registered", registration_no="2026370100000777",
                                reason="")
    [win] = (await client.get("/api/v1/me/auction", headers=bearer(me.account_token))).json()["won"]
    assert (win["next_step_code"], win["registration"]["registration_no"]) == (
        "done", "2026370100000777")
    assert win["next_step"].startswith("尾款已付清, 合同已登记 (登记编号 2026370100000777)")
    theirs = (await client.get("/api/v1/me/auction", headers=bearer(rival.account_token))).json()
    assert theirs["won"] == []
    lines = {line["lot_id"]: line for line in theirs["bidding"]}
    assert lines[outbid["id"]]["leading"] is True and lines[won["id"]]["standing"] == "未得"
    assert leading["id"] not in lines


async def test_a_new_bidder_has_an_empty_page_and_others_are_refused(
    client: httpx.AsyncClient, new_session: NewSession
) -> None:
    """A bidder with nothing yet gets empty lists; anonymous 401; staff and the platform admin
    403 (the page is the bidder's own)."""
    _, own = await bidder(client)
    body = (await client.get("/api/v1/me/auction", headers=own)).json()
    assert (body["registrations"], body["deposits"], body["bidding"], body["won"]) == (
        [], [], [], [])
    assert (await client.get("/api/v1/me/auction")).status_code == 401
    market = (await new_session())["market_code"]
    for who in (ADMIN, await staff(client, "market_admin", market)):
        resp = await client.get("/api/v1/me/auction", headers=who)
        assert resp.status_code == 403 and error_of(resp)["code"] == "forbidden"


async def test_without_redis_the_journal_answers_alone(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot,
    new_uscc: Callable[[], str], monkeypatch: Any,
) -> None:
    """Redis away: ``rooms`` is ``unavailable`` and a lot not yet settled says 未知, never a
    standing it cannot know."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    sid = (await new_session())["id"]
    lot = await new_lot(sid, reserve_fen=None)
    me = await enrol(client, sid, name="我的企业", uscc_code=new_uscc(), deposit_fen=20_000_000)
    await services.rooms.open(lot["id"])
    await services.rooms.bid(lot["id"], bidder=me.bidder_id, paddle=me.paddle,
                             amount=200_000_000)
    drainer = Drainer(services.store, services.redis, services.keys)
    while await drainer.drain_once():
        pass

    async def away(lot_id: int) -> None:
        raise RedisConnectionError("down")

    monkeypatch.setattr(services.rooms, "room_state", away)
    body = (await client.get("/api/v1/me/auction", headers=bearer(me.account_token))).json()
    assert body["rooms"] == "unavailable"
    [line] = body["bidding"]
    assert (line["leading"], line["standing"], line["my_high_fen"]) == (False, "未知", 200_000_000)
