"""The deliverer: sends each outbox packet to the contract-registration endpoint, at least once.

Invariant 5 (every won lot is handed to registration exactly once in effect): the outbox row was
written in the settlement transaction; this loop POSTs it until the receiver answers 2xx, always
with the same body bytes and the same ``Idempotency-Key``, so the receiver can dedup retries.

Per attempt (``AUCTION_REGISTRATION_URL`` set)::

    2xx                          → delivered
    network error, timeout, 5xx  → retry after min(cap, base·2^attempts)·jitter, jitter ∈ [0.5, 1)
    429                          → retry after Retry-After when given, else as above
    any other status             → dead, last_error "HTTP <code>: <body excerpt>"
    max_attempts failures        → dead, last_error names the last failure

With no URL configured, each packet is written to ``<data_dir>/registration/<key>.json`` (the
exact body that would have been sent) and the row becomes ``filed`` for manual upload.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` (:func:`auction.store.outbox.claim_due`), so
any number of processes may run a deliverer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from auction.background import raise_if_stopping
from auction.registration.packet import packet_body
from auction.registration.signing import HEADER, signature
from auction.store import outbox

if TYPE_CHECKING:
    from auction.settings import Settings
    from auction.store import Store

log = logging.getLogger(__name__)

#: How much of a refusing receiver's body goes into ``last_error``.
EXCERPT_CHARS = 200
#: Upper bound on a receiver's Retry-After, against a typo of a year in a header.
MAX_RETRY_AFTER_S = 24 * 3600.0


class Deliverer:
    """Outbox → registration endpoint. One instance per process; safe to run in several."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        http: httpx.AsyncClient | None = None,
        interval_s: float = 1.0,
        batch: int = 16,
        timeout_s: float = 5.0,
        backoff_base_s: float = 2.0,
        backoff_cap_s: float = 600.0,
        max_attempts: int = 12,
        claim_lease_s: int = 60,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.interval_s = interval_s
        self.batch = batch
        self.timeout_s = timeout_s
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.max_attempts = max_attempts
        self.claim_lease_s = claim_lease_s
        self.rng = rng or random.Random()
        self._http = http
        self._owns_http = http is None
        if settings.registration_url and not settings.registration_secret:
            log.warning("AUCTION_REGISTRATION_SECRET is empty: deliveries are signed with ''")

    async def run(self) -> None:
        """Deliver due rows every ``interval_s`` until cancelled; errors are logged and retried."""
        try:
            while True:
                raise_if_stopping()
                claimed = 0
                try:
                    claimed = await self.deliver_due()
                except Exception:
                    raise_if_stopping()
                    log.exception("delivery pass failed; retrying")
                if claimed < self.batch:
                    await asyncio.sleep(self.interval_s)
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this deliverer made it."""
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    async def deliver_due(self) -> int:
        """Attempt every due pending row (up to ``batch``); returns how many were attempted."""
        due = await outbox.claim_due(self.store, limit=self.batch, lease_s=self.claim_lease_s)
        if due:
            await asyncio.gather(*(self._deliver(row) for row in due))
        return len(due)

    async def _deliver(self, row: outbox.DueDelivery) -> None:
        # The stored JSONB re-serializes to the bytes made at settlement (packet_body is
        # canonical), so every attempt sends, and signs, the same body.
        body = packet_body(json.loads(row.packet_json))
        url = self.settings.registration_url
        if url is None:
            path = await asyncio.to_thread(self._file, row.idempotency_key, body)
            await outbox.mark_filed(self.store, row.lot_id)
            log.info("lot %d: registration packet filed at %s", row.lot_id, path)
            return
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": row.idempotency_key,
            HEADER: signature(self.settings.registration_secret, body),
        }
        try:
            response = await self._client().post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            await self._failed(row, f"network: {type(exc).__name__}: {exc}", retry_after=None)
            return
        code = response.status_code
        if 200 <= code < 300:
            await outbox.mark_delivered(self.store, row.lot_id)
            log.info("lot %d: registration delivered (HTTP %d)", row.lot_id, code)
        elif code == 429 or code >= 500:
            retry_after = None
            if code == 429:
                retry_after = _retry_after_s(response.headers.get("Retry-After"))
            await self._failed(row, _http_error(response), retry_after=retry_after)
        else:
            reason = _http_error(response)
            await outbox.mark_dead(self.store, row.lot_id, error=reason)
            log.error("lot %d: registration refused, dead-lettered: %s", row.lot_id, reason)

    async def _failed(
        self, row: outbox.DueDelivery, error: str, *, retry_after: float | None
    ) -> None:
        attempts = row.attempts + 1
        if attempts >= self.max_attempts:
            reason = f"gave up after {attempts} attempts; last: {error}"
            await outbox.mark_dead(self.store, row.lot_id, error=reason)
            log.error("lot %d: registration dead-lettered: %s", row.lot_id, reason)
            return
        delay_s = retry_after if retry_after is not None else self.backoff_s(row.attempts)
        await outbox.mark_retry(self.store, row.lot_id, delay_ms=int(delay_s * 1000), error=error)
        log.warning("lot %d: registration attempt %d failed (%s); retry in %.3f s",
                    row.lot_id, attempts, error, delay_s)

    def backoff_s(self, attempts: int) -> float:
        """Delay before the next try after ``attempts`` earlier failures (exponential, capped,
        jittered so a receiver coming back up is not hit by every row at once)."""
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2.0 ** min(attempts, 62))
        return ceiling * self.rng.uniform(0.5, 1.0)

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.timeout_s)
        return self._http

    def _file(self, key: str, body: bytes) -> Path:
        folder = self.settings.data_dir / "registration"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{key}.json"
        # write then rename: a reader (or a crash) never sees half a packet
        tmp = path.with_suffix(".json.tmp")
        tmp.write_bytes(body)
        os.replace(tmp, path)
        return path


def _http_error(response: httpx.Response) -> str:
    excerpt = response.text[:EXCERPT_CHARS].strip()
    return f"HTTP {response.status_code}: {excerpt}"


def _retry_after_s(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max((when - datetime.now(UTC)).total_seconds(), 0.0), MAX_RETRY_AFTER_S)
