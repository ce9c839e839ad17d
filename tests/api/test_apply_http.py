"""Applying (报名, issue 11): agreement to the session's 拍卖公告 and 竞买须知 recorded with the
server's time, the registration deadline, the bidder's documents, and the registration as its
bidder's page shows it (status, reason, deposit asked for with payee and reference, paddle)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from auction.store import Store
from tests.api.conftest import ADMIN, error_of
from tests.api.people import PDF, PNG, bidder, staff

NewSession = Callable[..., Awaitable[dict[str, Any]]]
NewLot = Callable[..., Awaitable[dict[str, Any]]]

TEXTS = {
    "announcement": "拍卖公告: 定于2026年4月18日举行。", "terms": "竞买须知: 须交纳保证金。",
    "contact_phone": "0531-88886666", "payee_name": "济南技术市场服务中心",
    "payee_bank": "工商银行历下支行", "payee_account": "160200110920",
}


async def _session_with_lot(
    new_session: NewSession, new_lot: NewLot, **extra: Any
) -> dict[str, Any]:
    session = await new_session(**{**TEXTS, **extra})
    await new_lot(session["id"], deposit_fen=20_000_000)
    await new_lot(session["id"], deposit_fen=30_000_000)
    return session


async def test_applying_needs_agreement_to_the_sessions_texts(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot, store: Store
) -> None:
    """Without ``agreed: true`` (absent, false, not a boolean) 400 and nothing made; with it,
    the agreement is recorded with the server's time and the texts' SHA-256, in the step too."""
    session = await _session_with_lot(new_session, new_lot)
    bidder_id, own = await bidder(client)
    url = f"/api/v1/sessions/{session['id']}/registrations"
    for agreed in (None, False, "true", 1):
        body: dict[str, Any] = {"bidder_id": bidder_id}
        if agreed is not None:
            body["agreed"] = agreed
        resp = await client.post(url, headers=own, json=body)
        assert resp.status_code == 400, resp.text
        assert error_of(resp)["field"] == "agreed"
    assert await store.pool.fetchval(
        "SELECT count(*) FROM registrations WHERE bidder_id = $1", bidder_id) == 0
    before = datetime.now(UTC)
    resp = await client.post(url, headers=own, json={"bidder_id": bidder_id, "agreed": True})
    assert resp.status_code == 201, resp.text
    reg = resp.json()
    view = (await client.get(f"/api/v1/registrations/{reg['id']}", headers=own)).json()
    agreed_at = datetime.fromisoformat(view["agreed_at"])
    assert before - timedelta(seconds=1) <= agreed_at <= datetime.now(UTC) + timedelta(seconds=1)
    history = (await client.get(f"/api/v1/registrations/{reg['id']}/history",
                                headers=own)).json()["steps"]
    assert history[0]["step"] == "applied" and history[0]["detail"]["agreed"] is True
    assert len(history[0]["detail"]["texts_sha256"]) == 64


async def test_a_session_without_texts_needs_no_agreement_and_desk_cannot_agree(
    client: httpx.AsyncClient, new_session: NewSession
) -> None:
    """A session with no announcement or terms (older sessions) takes an application without
    ``agreed``; staff registering at the desk may not agree for the bidder."""
    session = await new_session()
    bidder_id, own = await bidder(client)
    url = f"/api/v1/sessions/{session['id']}/registrations"
    other_id, _ = await bidder(client)
    desk = await client.post(url, headers=ADMIN, json={"bidder_id": other_id, "agreed": True})
    assert desk.status_code == 400 and error_of(desk)["field"] == "agreed"
    resp = await client.post(url, headers=own, json={"bidder_id": bidder_id})
    assert resp.status_code == 201, resp.text


async def test_accepting_an_invitation_needs_agreement_too(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot
) -> None:
    """A desk registration of a session with texts is accepted only with ``agreed: true``."""
    session = await _session_with_lot(new_session, new_lot)
    bidder_id, own = await bidder(client)
    desk = await client.post(f"/api/v1/sessions/{session['id']}/registrations", headers=ADMIN,
                             json={"bidder_id": bidder_id})
    assert desk.status_code == 201 and desk.json()["status"] == "invited"
    url = f"/api/v1/registrations/{desk.json()['id']}/accept"
    refused = await client.post(url, headers=own)
    assert refused.status_code == 400 and error_of(refused)["code"] == "agreement_required"
    accepted = await client.post(url, headers=own, json={"agreed": True})
    assert accepted.status_code == 200 and accepted.json()["status"] == "applied"


async def test_new_applications_close_at_the_deadline(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot
) -> None:
    """After the registration deadline a new application is 409 ``registration_closed``."""
    session = await _session_with_lot(
        new_session, new_lot, registration_deadline="2020-01-01T09:00:00+08:00",
        starts_at="2020-01-02T09:00:00+08:00")
    bidder_id, own = await bidder(client)
    resp = await client.post(f"/api/v1/sessions/{session['id']}/registrations", headers=own,
                             json={"bidder_id": bidder_id, "agreed": True})
    assert resp.status_code == 409 and error_of(resp)["code"] == "registration_closed"


async def test_the_bidder_sees_what_to_pay_and_then_its_paddle(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot
) -> None:
    """Applied: the deposit the session asks (its largest lot deposit), payee, reference and
    deadline; approved: the deposit ``required``; paid: the paddle; rejected: the reason."""
    session = await _session_with_lot(
        new_session, new_lot, registration_deadline="2099-04-17T17:00:00+08:00",
        starts_at="2099-04-18T09:30:00+08:00")
    market = session["market_code"]
    market_admin = await staff(client, "market_admin", market)
    finance = await staff(client, "finance", market)
    bidder_id, own = await bidder(client)
    reg = (await client.post(f"/api/v1/sessions/{session['id']}/registrations", headers=own,
                             json={"bidder_id": bidder_id, "agreed": True})).json()
    url = f"/api/v1/registrations/{reg['id']}"
    view = (await client.get(url, headers=own)).json()
    assert (view["status"], view["status_text"], view["paddle"]) == ("applied", "已报名", None)
    assert view["deposit"] == {
        "amount_fen": 30_000_000, "state": None, "payee_name": TEXTS["payee_name"],
        "payee_bank": TEXTS["payee_bank"], "payee_account": TEXTS["payee_account"],
        "reference": f"BZJ-{session['id']}-{reg['id']}",
        "deadline": "2099-04-17T17:00:00.000+08:00",
    }
    assert view["session"]["contact_phone"] == TEXTS["contact_phone"] and view["agent"] is None
    assert (await client.post(f"{url}/approve", headers=market_admin)).status_code == 200
    view = (await client.get(url, headers=own)).json()
    assert view["deposit"]["state"] == "required" and view["deposit"]["amount_fen"] == 30_000_000
    paid = await client.post(f"{url}/deposit", headers=finance, json={"deposit_fen": 30_000_000})
    assert paid.status_code == 200, paid.text
    view = (await client.get(url, headers=own)).json()
    assert view["status"] == "deposit_paid" and view["paddle"] == 101
    assert view["deposit"]["state"] == "confirmed"
    assert [d["state"] for d in view["deposits"]] == ["confirmed"]
    # the desk reads the same; a rejected registration shows its reason
    assert (await client.get(url, headers=finance)).json()["paddle"] == 101
    other_id, other = await bidder(client)
    second = (await client.post(f"/api/v1/sessions/{session['id']}/registrations",
                                headers=other, json={"bidder_id": other_id, "agreed": True})).json()
    await client.post(f"/api/v1/registrations/{second['id']}/reject", headers=market_admin,
                      json={"reason": "营业执照已过期"})
    view = (await client.get(f"/api/v1/registrations/{second['id']}", headers=other)).json()
    assert (view["status"], view["status_text"], view["reason"]) == (
        "rejected", "已驳回", "营业执照已过期")
    # nobody else reads it
    assert (await client.get(url, headers=other)).status_code == 403
    assert (await client.get(url)).status_code == 401
    outsider = await staff(client, "finance", (await new_session())["market_code"])
    assert (await client.get(url, headers=outsider)).status_code == 403


async def test_the_bidder_uploads_documents_the_desk_sees(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot, store: Store
) -> None:
    """The registration's own login uploads its 营业执照 copy; it is listed in the registration
    and in the session's registrations for the desk, who may fetch it; nobody else may upload
    or fetch; a withdrawn registration takes no more documents."""
    session = await _session_with_lot(new_session, new_lot)
    market_admin = await staff(client, "market_admin", session["market_code"])
    bidder_id, own = await bidder(client)
    reg = (await client.post(f"/api/v1/sessions/{session['id']}/registrations", headers=own,
                             json={"bidder_id": bidder_id, "agreed": True})).json()
    url = f"/api/v1/registrations/{reg['id']}/documents"
    made = await client.post(url, headers=own, files={"file": ("营业执照.pdf", PDF,
                                                               "application/pdf")},
                             data={"label": "营业执照副本"})
    assert made.status_code == 201, made.text
    doc = made.json()
    assert doc["label"] == "营业执照副本" and doc["url"] == f"{url}/{doc['id']}"
    view = (await client.get(f"/api/v1/registrations/{reg['id']}", headers=own)).json()
    assert view["documents"] == [doc]
    rows = (await client.get(f"/api/v1/sessions/{session['id']}/registrations",
                             headers=market_admin)).json()["registrations"]
    row = next(r for r in rows if r["id"] == reg["id"])
    assert row["documents"] == [doc] and row["agreed_at"] is not None
    for who in (own, market_admin):
        served = await client.get(doc["url"], headers=who)
        assert served.status_code == 200 and served.content == PDF
        assert served.headers["cache-control"] == "private, no-store"
        assert served.headers["x-content-type-options"] == "nosniff"
    _, other = await bidder(client)
    before = await store.pool.fetchval("SELECT count(*) FROM files")
    for who in (other, market_admin, {}):
        refused = await client.post(url + "?filename=a.png",
                                    headers={**who, "Content-Type": "image/png"}, content=PNG)
        assert refused.status_code in (401, 403), refused.text
    outsider = await staff(client, "finance", (await new_session())["market_code"])
    for who in (other, outsider, {}):
        assert (await client.get(doc["url"], headers=who)).status_code in (401, 403)
    # a mistaken upload is removed by the bidder while the registration awaits review
    extra = (await client.post(url + "?filename=wrong.png", headers={
        **own, "Content-Type": "image/png"}, content=PNG)).json()
    assert (await client.delete(extra["url"], headers=market_admin)).status_code == 403
    assert (await client.delete(extra["url"], headers=own)).status_code == 200
    assert (await client.get(extra["url"], headers=own)).status_code == 404
    bad = await client.post(url + "?filename=a.exe", headers={
        **own, "Content-Type": "application/x-msdownload"}, content=b"MZ\x90\x00")
    assert bad.status_code == 415
    assert (await client.post(f"/api/v1/registrations/{reg['id']}/withdraw",
                              headers=own)).status_code == 200
    late = await client.post(url + "?filename=a.png", headers={**own, "Content-Type": "image/png"},
                             content=PNG)
    assert late.status_code == 409 and error_of(late)["code"] == "wrong_state"
    kept = await client.delete(doc["url"], headers=own)
    assert kept.status_code == 409 and error_of(kept)["code"] == "wrong_state"
    assert await store.pool.fetchval("SELECT count(*) FROM files") == before


async def test_an_agent_sees_its_one_registration_only(
    client: httpx.AsyncClient, new_session: NewSession, new_lot: NewLot
) -> None:
    """The agent's own login reads the registration it is bound to (agent shown, resident id
    masked) and 我的竞拍 of that session only; another registration of the enterprise is
    refused; it may not upload the enterprise's documents."""
    from tests.api.people import PASSWORD, bearer, login

    first = await _session_with_lot(new_session, new_lot)
    second = await _session_with_lot(new_session, new_lot)
    bidder_id, own = await bidder(client)
    regs = [
        (await client.post(f"/api/v1/sessions/{s['id']}/registrations", headers=own,
                           json={"bidder_id": bidder_id, "agreed": True})).json()["id"]
        for s in (first, second)
    ]
    username = f"agent-{regs[0]}-{bidder_id}"
    made = await client.post(f"/api/v1/registrations/{regs[0]}/agent", headers=own, json={
        "agent_name": "王代理", "agent_resident_id": "11010519491231002X",
        "username": username, "password": PASSWORD})
    assert made.status_code in (200, 201), made.text
    agent = bearer(str((await login(client, username))["token"]))
    view = await client.get(f"/api/v1/registrations/{regs[0]}", headers=agent)
    assert view.status_code == 200, view.text
    assert view.json()["agent"]["name"] == "王代理"
    assert view.json()["agent"]["resident_id"] == "*" * 14 + "002X"
    assert (await client.get(f"/api/v1/registrations/{regs[1]}", headers=agent)).status_code \
        == 403
    mine = (await client.get("/api/v1/me/auction", headers=agent)).json()
    assert [r["id"] for r in mine["registrations"]] == [regs[0]]
    everything = (await client.get("/api/v1/me/auction", headers=own)).json()
    assert sorted(r["id"] for r in everything["registrations"]) == sorted(regs)
    upload = await client.post(f"/api/v1/registrations/{regs[0]}/documents?filename=a.png",
                               headers={**agent, "Content-Type": "image/png"}, content=PNG)
    assert upload.status_code == 403
