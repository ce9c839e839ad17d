"""成交确认书 (issue 13 item 1): the PDF's text names the buyer, the price in figures and in
capitals and the bid-log digest, the same bytes every time; who may download it; the public
verification answers the same facts only with the digest."""

from __future__ import annotations

import io
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from starlette.applications import Starlette

from auction.api import admin, auth, catalogue, confirmation, deposits, http_errors, registrations
from auction.domain.deadlines import CST, balance_due
from auction.domain.identity import resident_id_check_char
from auction.services import Services
from auction.settlement.drainer import Drainer
from tests.api.conftest import ADMIN, NewLot, NewSession, error_of
from tests.api.people import PASSWORD, bearer, bidder, login, staff
from tests.e2e.harness import enrol

PUBLIC_URL = "https://auction.example.cn"


def _client(services: Services) -> httpx.AsyncClient:
    app = Starlette(
        routes=[*admin.routes, *auth.routes, *registrations.routes, *deposits.routes,
                *catalogue.routes, *confirmation.routes],
        exception_handlers=http_errors.exception_handlers(),
    )
    app.state.services = services
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process app with the admin, registration, deposit and confirmation routes, its
    public URL set."""
    services.settings = services.settings.with_changes(public_url=PUBLIC_URL)
    async with _client(services) as http:
        yield http


async def _person(client: httpx.AsyncClient, sid: int, name: str) -> tuple[int, str, int, str]:
    """A natural person signed up, applied, approved and paid in the session:
    ``(bidder_id, account token, paddle, resident id)``."""
    first17 = f"110105{1950 + secrets.randbelow(50)}0101{secrets.randbelow(1000):03d}"
    rid = first17 + resident_id_check_char(first17)
    username = f"p{secrets.token_hex(6)}"
    r = await client.post("/api/v1/bidders", headers=ADMIN, json={
        "kind": "person", "name": name, "resident_id": rid, "phone": "13800138000",
        "username": username, "password": PASSWORD})
    assert r.status_code == 201, r.text
    token = str((await login(client, username))["token"])
    bidder_id = int(r.json()["id"])
    r = await client.post(f"/api/v1/sessions/{sid}/registrations", headers=bearer(token),
                          json={"bidder_id": bidder_id})
    assert r.status_code == 201, r.text
    reg = int(r.json()["id"])
    assert (await client.post(f"/api/v1/registrations/{reg}/approve", headers=ADMIN)
            ).status_code == 200
    r = await client.post(f"/api/v1/registrations/{reg}/deposit", headers=ADMIN,
                          json={"deposit_fen": 25_000_000})
    assert r.status_code == 200, r.text
    return bidder_id, token, int(r.json()["paddle"]), rid


async def _sale(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot,
    new_uscc: Callable[[], str], *, person: bool = False,
) -> dict[str, Any]:
    """A session with one lot sold after two bids (to an enterprise, or a person) and one
    passed, settled, deposits settled."""
    session = await new_session()
    sid = session["id"]
    sold, passed = [await new_lot(sid, reserve_fen=None, increment_fen=12_345_678)
                    for _ in range(2)]
    rival = await enrol(client, sid, name="对手企业", uscc_code=new_uscc(),
                        deposit_fen=20_000_000)
    rid = None
    if person:
        buyer_id, buyer_token, paddle, rid = await _person(client, sid, "欧阳娜娜")
        name = "欧阳娜娜"
    else:
        buyer = await enrol(client, sid, name="买受科技有限公司", uscc_code=new_uscc(),
                            deposit_fen=25_000_000)
        buyer_id, buyer_token, paddle, name = (buyer.bidder_id, buyer.account_token,
                                               buyer.paddle, "买受科技有限公司")
    rooms = services.rooms
    await rooms.open(sold["id"])
    await rooms.bid(sold["id"], bidder=rival.bidder_id, paddle=rival.paddle, amount=200_000_000)
    await rooms.bid(sold["id"], bidder=buyer_id, paddle=paddle, amount=212_345_678)
    await rooms.close(sold["id"], "hammer")
    await rooms.open(passed["id"])
    await rooms.close(passed["id"], "pass")
    drainer = Drainer(services.store, services.redis, services.keys)
    while await drainer.drain_once():
        pass
    finance = await staff(client, "finance", session["market_code"])
    r = await client.post(f"/api/v1/sessions/{sid}/deposits/settle", headers=finance)
    assert r.status_code == 200, r.text
    row = await services.store.pool.fetchrow(
        "SELECT bid_log_sha256, closed_at FROM lot_results WHERE lot_id = $1", sold["id"])
    return {
        "session": session, "sold": sold["id"], "passed": passed["id"], "finance": finance,
        "buyer": bearer(buyer_token), "rival": bearer(rival.account_token), "paddle": paddle,
        "name": name, "digest": str(row["bid_log_sha256"]), "hammer_at": row["closed_at"],
        "resident_id": rid,
    }


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_the_pdf_states_the_sale_and_is_the_same_every_time(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot,
    new_uscc: Callable[[], str],
) -> None:
    """The buyer's download holds the buyer, paddle, price in figures and capitals, deposit
    applied, balance and its due date, the digest and the verification URL; a second request
    and finance's request give the same bytes."""
    sale = await _sale(client, services, new_session, new_lot, new_uscc)
    url = f"/api/v1/lots/{sale['sold']}/confirmation.pdf"
    first = await client.get(url, headers=sale["buyer"])
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "application/pdf"
    assert first.headers["content-disposition"].startswith("attachment;")
    assert first.content.startswith(b"%PDF-")
    text = _text(first.content)
    flat = "".join(text.split())
    assert "成交确认书" in text
    assert "买受科技有限公司" in text
    assert str(sale["paddle"]) in text
    assert "2,123,456.78 元" in text
    assert "贰佰壹拾贰万叁仟肆佰伍拾陆元柒角捌分" in text
    assert "250,000.00 元" in text  # the buyer's band deposit, applied
    assert "1,873,456.78 元" in text  # the balance
    assert balance_due(sale["hammer_at"]).isoformat() in text
    assert sale["digest"] in text
    assert f"{PUBLIC_URL}/verify.html?lot={sale['sold']}&digest={sale['digest']}" in flat
    assert "一种高效固废资源化处理方法" in text and "山东某大学" in text
    second = await client.get(url, headers=sale["buyer"])
    by_finance = await client.get(url, headers=sale["finance"])
    assert second.content == first.content
    assert by_finance.status_code == 200 and by_finance.content == first.content
    reader = PdfReader(io.BytesIO(first.content))
    assert reader.metadata is not None
    assert reader.metadata["/CreationDate"].startswith(
        f"D:{sale['hammer_at'].astimezone(CST):%Y%m%d%H%M}")
    fonts = {str(f["/BaseFont"]) for page in reader.pages
             for f in page["/Resources"]["/Font"].values()
             if "/FontFile2" in f.get_object().get("/FontDescriptor", {})}
    assert fonts, "the CJK font is embedded"


async def test_who_may_download(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot,
    new_uscc: Callable[[], str],
) -> None:
    """Buyer, the market's admin and finance, the platform admin: yes; the losing bidder,
    another bidder, another market's staff, the auctioneer: 403; anonymous 401; an unsold lot
    404 ``no_confirmation`` to staff and 403 to a bidder; an unknown lot 403 (404 to the
    platform admin)."""
    sale = await _sale(client, services, new_session, new_lot, new_uscc)
    code = sale["session"]["market_code"]
    url = f"/api/v1/lots/{sale['sold']}/confirmation.pdf"
    other_market = (await new_session())["market_code"]
    _, stranger = await bidder(client)
    allowed = {
        "buyer": sale["buyer"], "finance": sale["finance"], "admin": ADMIN,
        "market_admin": await staff(client, "market_admin", code),
    }
    refused = {
        "rival": sale["rival"], "stranger": stranger,
        "auctioneer": await staff(client, "auctioneer", code),
        "other_admin": await staff(client, "market_admin", other_market),
        "other_finance": await staff(client, "finance", other_market),
    }
    for who, headers in allowed.items():
        assert (await client.get(url, headers=headers)).status_code == 200, who
    for who, headers in refused.items():
        resp = await client.get(url, headers=headers)
        assert resp.status_code == 403, (who, resp.text)
    assert (await client.get(url)).status_code == 401
    unsold = f"/api/v1/lots/{sale['passed']}/confirmation.pdf"
    resp = await client.get(unsold, headers=sale["finance"])
    assert (resp.status_code, error_of(resp)["code"]) == (404, "no_confirmation")
    assert (await client.get(unsold, headers=sale["buyer"])).status_code == 403
    unknown = "/api/v1/lots/999999999/confirmation.pdf"
    assert (await client.get(unknown, headers=sale["finance"])).status_code == 403
    assert (await client.get(unknown, headers=ADMIN)).status_code == 404


async def test_verification_answers_only_with_the_digest(
    client: httpx.AsyncClient, services: Services, new_session: NewSession, new_lot: NewLot,
    new_uscc: Callable[[], str],
) -> None:
    """With the right digest anyone gets the facts (a person buyer masked); a wrong digest, an
    unsold lot and an unknown lot are 404 alike; a digest that is not one is 400."""
    sale = await _sale(client, services, new_session, new_lot, new_uscc, person=True)
    base = f"/api/v1/lots/{sale['sold']}/confirmation"
    resp = await client.get(base, params={"digest": sale["digest"].upper()})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["verified"] is True
    assert body["buyer"]["name"] == "欧***"
    rid = sale["resident_id"]
    assert body["buyer"]["resident_id"] == rid[:6] + "********" + rid[-4:]
    assert (body["amount_fen"], body["paddle"]) == (212_345_678, sale["paddle"])
    assert body["amount_capitals"] == "贰佰壹拾贰万叁仟肆佰伍拾陆元柒角捌分"
    assert body["bid_log_sha256"] == sale["digest"]
    assert body["deposit_applied_fen"] == 25_000_000
    assert body["balance_due_on"] == balance_due(sale["hammer_at"]).isoformat()
    assert datetime.fromisoformat(body["hammer_at"]) == sale["hammer_at"].replace(microsecond=0)
    assert body["verify_url"] == (
        f"{PUBLIC_URL}/verify.html?lot={sale['sold']}&digest={sale['digest']}")
    wrong = ("0" if sale["digest"][0] != "0" else "1") + sale["digest"][1:]
    for url, digest in ((base, wrong), (f"/api/v1/lots/{sale['passed']}/confirmation", wrong),
                        ("/api/v1/lots/999999999/confirmation", sale["digest"])):
        resp = await client.get(url, params={"digest": digest})
        assert (resp.status_code, error_of(resp)["code"]) == (404, "no_confirmation"), url
    for bad in ("", "abc", "g" * 64):
        resp = await client.get(base, params={"digest": bad})
        assert (resp.status_code, error_of(resp)["field"]) == (400, "digest")
    # the PDF, the buyer's own, names the person in full and masks the resident id
    text = _text((await client.get(f"{base}.pdf", headers=sale["buyer"])).content)
    assert "欧阳娜娜" in text and body["buyer"]["resident_id"] in text and rid not in text


async def test_no_font_is_a_clear_503(
    services: Services, new_session: NewSession, new_lot: NewLot, new_uscc: Callable[[], str],
    tmp_path: Path,
) -> None:
    """``AUCTION_PDF_FONT`` naming a missing file: 503 ``pdf_font_missing`` saying what to
    install, not a traceback."""
    services.settings = services.settings.with_changes(pdf_font=tmp_path / "none.ttf")
    async with _client(services) as http:
        sale = await _sale(http, services, new_session, new_lot, new_uscc)
        resp = await http.get(f"/api/v1/lots/{sale['sold']}/confirmation.pdf",
                              headers=sale["finance"])
    assert resp.status_code == 503
    assert error_of(resp)["code"] == "pdf_font_missing"
    assert "fonts-wqy-microhei" in error_of(resp)["message"]
