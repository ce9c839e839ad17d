"""``AuctionHTTP``: a thin async client of the HTTP JSON API (docs/http-api.md) over httpx.

Every method returns the decoded JSON object of a 2xx answer or raises :class:`ApiError` with the
HTTP status and the stable error ``code`` of the body (``conflict``, ``invalid_uscc`` …). Money
fields are integer fen (``*_fen``). ``token`` is sent as ``Authorization: Bearer``; methods that
need the admin token say so, the server decides.
"""

from __future__ import annotations

import functools
import ssl
from types import TracebackType
from typing import Any

import httpx

from auction_client.errors import ApiError

JSON = dict[str, Any]


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every client, built on first use. httpx builds a new one for each
    client by default, reading the whole CA bundle (≈ 78 ms on the 2-core machine, blocking the
    event loop): a load generator enrolling bidders makes four clients a bidder, and with
    sixteen enrolments at once the loop stalled for seconds, long enough for the server to
    close an idle keep-alive connection just as the next request went out on it ("Server
    disconnected without sending a response")."""
    return httpx.create_ssl_context()


class AuctionHTTP:
    """HTTP API client. ``base_url`` is ``http://host:port`` (without ``/api/v1``)."""

    def __init__(
        self, base_url: str, token: str | None = None, *, timeout: float = 10.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        """``headers`` are sent with every request (e.g. ``X-Forwarded-For`` from a load
        generator behind a proxy the server trusts)."""
        sent = {"Accept": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.headers = dict(headers or {})
        self._http = httpx.AsyncClient(base_url=self.base_url, headers=sent, timeout=timeout,
                                       verify=_tls())

    def with_token(self, token: str) -> AuctionHTTP:
        """A new client on the same server with another token (close it too)."""
        return AuctionHTTP(self.base_url, token, timeout=self.timeout, headers=self.headers)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AuctionHTTP:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: JSON | None = None,
        params: dict[str, str | int] | None = None,
        idempotency_key: str | None = None,
        ok_statuses: tuple[int, ...] = (),
    ) -> JSON:
        """One call. Raises :class:`ApiError` unless 2xx or in ``ok_statuses``."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        resp = await self._http.request(method, path, json=json, params=params, headers=headers)
        try:
            body = resp.json() if resp.content else {}
        except ValueError:
            body = {}
        if resp.is_success or resp.status_code in ok_statuses:
            return body if isinstance(body, dict) else {"data": body}
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict):
            raise ApiError(
                resp.status_code,
                str(err.get("code", "error")),
                str(err.get("message", "")),
                err.get("field"),
            )
        raise ApiError(resp.status_code, "http_error", resp.text[:200])

    # ---------------------------------------------------------------- public reads

    async def healthz(self) -> JSON:
        """``GET /healthz`` (a 503 "degraded" answer is returned, not raised)."""
        return await self.request("GET", "/healthz", ok_statuses=(503,))

    async def markets(self) -> list[JSON]:
        return list((await self.request("GET", "/api/v1/markets"))["markets"])

    async def sessions(self, market_code: str | None = None) -> list[JSON]:
        params: dict[str, str | int] | None = {"market": market_code} if market_code else None
        return list((await self.request("GET", "/api/v1/sessions", params=params))["sessions"])

    async def session(self, session_id: int) -> JSON:
        return await self.request("GET", f"/api/v1/sessions/{session_id}")

    async def lots(self, session_id: int) -> list[JSON]:
        return list((await self.request("GET", f"/api/v1/sessions/{session_id}/lots"))["lots"])

    async def lot(self, lot_id: int) -> JSON:
        return await self.request("GET", f"/api/v1/lots/{lot_id}")

    async def bids(self, lot_id: int) -> list[JSON]:
        return list((await self.request("GET", f"/api/v1/lots/{lot_id}/bids"))["bids"])

    async def registration_status(self, lot_id: int) -> JSON | None:
        """The contract-registration hand-off of a sold lot, ``None`` when there is none (404)."""
        try:
            return await self.request("GET", f"/api/v1/lots/{lot_id}/registration")
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def results(self, session_id: int) -> list[JSON]:
        params: dict[str, str | int] = {"session": session_id}
        return list((await self.request("GET", "/api/v1/results", params=params))["results"])

    async def listing(self, **filters: str | int) -> JSON:
        """``GET /api/v1/listing``: ``{lots, page, limit, total, rooms}``; filters ``market``,
        ``status``, ``season``, ``field``, ``q``, ``session``, ``page``, ``limit``."""
        return await self.request("GET", "/api/v1/listing", params=dict(filters))

    async def publicity(
        self, session_id: int | None = None, market_code: str | None = None
    ) -> JSON:
        """``GET /api/v1/publicity`` (成交公示): ``{sold, passed, withdrawn}``."""
        params: dict[str, str | int] = {}
        if session_id is not None:
            params["session"] = session_id
        if market_code is not None:
            params["market"] = market_code
        return await self.request("GET", "/api/v1/publicity", params=params)

    # ---------------------------------------------------------------- admin writes

    async def create_market(
        self, code: str, slug: str, name: str, level: str, parent_code: str | None = None
    ) -> JSON:
        body: JSON = {"code": code, "slug": slug, "name": name, "level": level}
        if parent_code:
            body["parent_code"] = parent_code
        return await self.request("POST", "/api/v1/markets", json=body)

    async def create_session(
        self,
        market_code: str,
        name: str,
        season: str,
        mode: str,
        starts_at: str,
        *,
        extension_window_s: int | None = None,
        extension_s: int | None = None,
        increments: list[dict[str, int]] | None = None,
        texts: dict[str, str] | None = None,
    ) -> JSON:
        """``starts_at`` is RFC 3339 (e.g. ``2026-04-18T09:30:00+08:00``); ``increments`` the
        increment table (``[{from_fen, inc_fen}, …]``, ``[]`` for none; absent: the defaults);
        ``texts`` the session's 拍卖公告 (``announcement``), 竞买须知 (``terms``), contact phone
        and deposit payee fields (docs/http-api.md)."""
        body: JSON = {
            "market_code": market_code,
            "name": name,
            "season": season,
            "mode": mode,
            "starts_at": starts_at,
        }
        if extension_window_s is not None:
            body["extension_window_s"] = extension_window_s
        if extension_s is not None:
            body["extension_s"] = extension_s
        if increments is not None:
            body["increments"] = increments
        if texts:  # announcement, terms, contact_phone, payee_name/_bank/_account, …
            body.update(texts)
        return await self.request("POST", "/api/v1/sessions", json=body)

    async def create_lot(self, session_id: int, lot: JSON) -> JSON:
        """``lot`` holds the fields of docs/http-api.md (title … increment_fen, reserve_fen?)."""
        return await self.request("POST", f"/api/v1/sessions/{session_id}/lots", json=lot)

    async def lot_command(self, lot_id: int, op: str, key: str) -> JSON:
        return await self.request(
            "POST", f"/api/v1/lots/{lot_id}/commands", json={"op": op, "key": key}
        )

    async def staff_token(self, session_id: int, name: str, role: str = "auctioneer") -> str:
        body: JSON = {"role": role, "name": name}
        answer = await self.request(
            "POST", f"/api/v1/sessions/{session_id}/staff-tokens", json=body
        )
        return str(answer["token"])

    async def register_bidder(
        self, name: str, uscc: str, contact: str = "", *, username: str | None = None,
        password: str | None = None, person_name: str = "", resident_id: str = "",
    ) -> JSON:
        """Sign up (``POST /api/v1/bidders``); with ``username`` and ``password`` the bidder's
        account is created too (it is what applies, and what takes the bid credential)."""
        body: JSON = {"name": name, "uscc": uscc}
        if contact:
            body["contact"] = contact
        if username is not None and password is not None:
            body["username"] = username
            body["password"] = password
        if person_name:
            body["person_name"] = person_name
        if resident_id:
            body["resident_id"] = resident_id
        return await self.request("POST", "/api/v1/bidders", json=body)

    async def login(self, username: str, password: str) -> JSON:
        """``{token, token_type, expires_at (unix seconds), role, account}``."""
        return await self.request(
            "POST", "/api/v1/auth/login", json={"username": username, "password": password}
        )

    async def register_for_session(
        self, session_id: int, bidder_id: int, *, agreed: bool = False
    ) -> JSON:
        """报名: with the bidder's own login token, the registration is ``applied``; with a
        staff token it is a desk registration (``invited``) that the bidder must accept.
        ``agreed``: the bidder read and agrees to the session's 拍卖公告 and 竞买须知 (required
        when the session has them; a staff token may not send it)."""
        body: JSON = {"bidder_id": bidder_id}
        if agreed:
            body["agreed"] = True
        return await self.request(
            "POST", f"/api/v1/sessions/{session_id}/registrations", json=body
        )

    async def accept(self, registration_id: int) -> JSON:
        """The bidder's own login accepts a desk registration (``invited`` → ``applied``)."""
        return await self.request("POST", f"/api/v1/registrations/{registration_id}/accept")

    async def withdraw(self, registration_id: int) -> JSON:
        """The bidder's own login withdraws (its credentials are revoked)."""
        return await self.request("POST", f"/api/v1/registrations/{registration_id}/withdraw")

    async def approve(self, registration_id: int) -> JSON:
        return await self.request("POST", f"/api/v1/registrations/{registration_id}/approve")

    async def reject(self, registration_id: int, reason: str) -> JSON:
        return await self.request(
            "POST", f"/api/v1/registrations/{registration_id}/reject", json={"reason": reason}
        )

    async def confirm_deposit(
        self, registration_id: int, deposit_fen: int, lot_id: int | None = None
    ) -> JSON:
        """Finance confirms the deposit of an approved registration → ``{registration,
        paddle}`` (no credential: the bidder takes it with :meth:`bid_credential`)."""
        if type(deposit_fen) is not int:
            raise TypeError("deposit_fen must be int fen")
        body: JSON = {"deposit_fen": deposit_fen}
        if lot_id is not None:
            body["lot_id"] = lot_id
        return await self.request(
            "POST", f"/api/v1/registrations/{registration_id}/deposit", json=body
        )

    pay_deposit = confirm_deposit

    async def bid_credential(self, registration_id: int) -> JSON:
        """The bidder's own login takes its bid credential → ``{registration, paddle, token,
        expires_at}``; ``token`` goes into :class:`AuctionClient`."""
        return await self.request("POST", f"/api/v1/registrations/{registration_id}/token")

    async def registrations(self, session_id: int) -> list[JSON]:
        """A session's registrations (market admin, finance)."""
        answer = await self.request("GET", f"/api/v1/sessions/{session_id}/registrations")
        return list(answer["registrations"])

    async def registration_history(self, registration_id: int) -> list[JSON]:
        """Every step of a registration with its actor and time."""
        answer = await self.request("GET", f"/api/v1/registrations/{registration_id}/history")
        return list(answer["steps"])


async def enrol_bidder(
    base_url: str, *, session_id: int, name: str, uscc: str, username: str, password: str,
    deposit_fen: int, approver_token: str, finance_token: str,
    headers: dict[str, str] | None = None, timeout: float = 10.0,
) -> JSON:
    """The whole registration flow of one bidder (docs/roles.md "Registration and deposits"):
    sign up with an account (a bidder signed up before logs in with these credentials), log in,
    apply with the bidder's own login, approval by the market (``approver_token``), the deposit
    confirmed by finance (``finance_token``), and the bid credential taken by the bidder's own
    login. Returns ``{bidder_id, registration_id, paddle, token, account_token}``."""
    async with AuctionHTTP(base_url, timeout=timeout, headers=headers) as anyone:
        try:
            await anyone.register_bidder(name, uscc, username=username, password=password)
        except ApiError as exc:
            if exc.status >= 500 or exc.status == 429:
                raise
            # signed up before (the credit code or the username is taken): log in below
        login = await anyone.login(username, password)
    account_token = str(login["token"])
    bidder_id = int(login["account"]["bidder_id"])
    async with AuctionHTTP(base_url, account_token, timeout=timeout, headers=headers) as own:
        registration = await own.register_for_session(session_id, bidder_id)
        registration_id = int(registration["id"])
        async with own.with_token(approver_token) as approver:
            await approver.approve(registration_id)
        async with own.with_token(finance_token) as finance:
            await finance.confirm_deposit(registration_id, deposit_fen)
        credential = await own.bid_credential(registration_id)
    return {
        "bidder_id": bidder_id, "registration_id": registration_id,
        "paddle": int(credential["paddle"]), "token": str(credential["token"]),
        "account_token": account_token,
    }
