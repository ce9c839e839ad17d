"""The deliverer: sends each outbox packet to the contract-registration endpoint, at least once.

Invariant 5 (every won lot is handed to registration exactly once in effect): the outbox row was
written in the settlement transaction; this loop POSTs it until the receiver answers 2xx, always
with the same body bytes and the same ``Idempotency-Key``, so the receiver can dedup retries (a
lost response — applied by the receiver, answer never seen — is just one more such retry).

Per attempt (an endpoint resolved for the row's market)::

    2xx                          → registered / rejected when the body carries the office's
                                   answer (:mod:`auction.registration.answer`), else delivered
    429, 503                     → deferred: retry after Retry-After (delta-seconds or HTTP
                                   date, RFC 9110 §10.2.3) when given, else after the backoff;
                                   counted in ``deferrals``, never in ``attempts``
    network error, timeout,      → retry after the backoff; one more attempt
      other 5xx
    any other status             → dead at once, last_error "HTTP <code>: <body excerpt>"

    backoff = min(cap, base·2^failures)·jitter, jitter ∈ [0.5, 1), cap 10 minutes; failures
    counts attempts and deferrals so far. A Retry-After gets up to 10 % more, never less, so
    rows told the same time do not all come back in the same second.

A retryable failure dead-letters the row only once the row has been failing for the retry window
(7 days) since its first attempt — time, not a count, so a receiver that fails fast cannot use
it up. The window is measured with PostgreSQL's clock from ``first_attempt_at``, which a re-queue
clears. A Retry-After also pauses this deliverer's claims (at most ``backoff_cap_s``): a receiver
asking for air is not sent the rest of the backlog meanwhile.

Each row goes to its own market's endpoint (:mod:`auction.registration.routing`: the
market's, else the nearest ancestor's, else ``AUCTION_REGISTRATION_URL``), signed with that
endpoint's secret. A 2xx response body may carry the office's answer
(:mod:`auction.registration.answer`): ``registered`` with its 16-digit number or ``rejected``
with a reason are stored at once; without one the row is ``delivered`` (待登记) and the answer may
come later by callback.

With no URL for the row's market, the packet is written to
``<data_dir>/registration/<key>.json`` (``:`` of a version's key as ``.``) as indented, readable
UTF-8 JSON (:func:`auction.registration.packet.packet_file_text`, mode 0600: it holds a
person's identity number) and the row becomes ``filed`` for manual upload.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` (:func:`auction.store.outbox.claim_due`), so
any number of processes may run a deliverer. Every pass also refreshes the backlog gauges
(:func:`auction.registration.backlog.report`). A pass that fails because PostgreSQL is
unreachable logs nothing itself: the store has reported it to :data:`auction.outage.POSTGRES`
(one line per outage, a counter in between).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from auction.background import pause, raise_if_stopping
from auction.registration import backlog, routing
from auction.registration.answer import Answer, BadAnswer, read_answer
from auction.registration.packet import packet_body, packet_file_text
from auction.registration.signing import HEADER, signature
from auction.store import answers, outbox
from auction.store.errors import Unavailable

if TYPE_CHECKING:
    from auction.settings import Settings
    from auction.store import Store

log = logging.getLogger(__name__)

#: How much of a refusing receiver's body goes into ``last_error``.
EXCERPT_CHARS = 200
#: Upper bound on a receiver's Retry-After, against a typo of a year in a header.
MAX_RETRY_AFTER_S = 24 * 3600.0
#: How long a row keeps being retried, from its first attempt, before it is dead-lettered.
RETRY_WINDOW_S = 7 * 24 * 3600.0
#: Answers that mean "not now": deferred, never counted as attempts.
DEFER_STATUSES = frozenset({429, 503})


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
        retry_window_s: float = RETRY_WINDOW_S,
        min_retry_after_s: float = 1.0,
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
        self.retry_window_s = retry_window_s
        #: floor on Retry-After, so "Retry-After: 0" cannot turn the loop into a busy spin
        self.min_retry_after_s = min_retry_after_s
        self.claim_lease_s = claim_lease_s
        self.rng = rng or random.Random()
        #: time.monotonic() before which this deliverer claims nothing (a Retry-After)
        self.paused_until = 0.0
        self._http = http
        self._owns_http = http is None
        if settings.registration_url and not settings.registration_secret:
            log.warning("AUCTION_REGISTRATION_SECRET is empty: deliveries are signed with ''")

    async def run(self) -> None:
        """Deliver due rows every ``interval_s`` until cancelled, refreshing the backlog gauges
        each pass. PostgreSQL down is one outage line; other errors are logged and retried."""
        try:
            while True:
                raise_if_stopping()
                claimed = 0
                try:
                    claimed = await self.deliver_due()
                    await backlog.report(self.store)
                except Unavailable:
                    # already reported to outage.POSTGRES by the store (one line per outage,
                    # a counter in between); a line here would be one per pass
                    raise_if_stopping()
                except Exception:
                    raise_if_stopping()
                    log.exception("delivery pass failed; retrying")
                if claimed < self.batch:
                    await pause(self.interval_s)
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this deliverer made it."""
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    async def deliver_due(self) -> int:
        """Attempt every due pending row (up to ``batch``); returns how many were attempted.
        Claims nothing while a receiver's Retry-After pauses this deliverer."""
        if time.monotonic() < self.paused_until:
            return 0
        due = await outbox.claim_due(self.store, limit=self.batch, lease_s=self.claim_lease_s)
        if not due:
            return 0
        table = await answers.endpoints(self.store)
        results = await asyncio.gather(
            *(self._deliver(row, routing.resolve(table, row.market_id, self.settings))
              for row in due),
            return_exceptions=True,
        )
        unavailable: Unavailable | None = None
        for row, result in zip(due, results, strict=True):
            if isinstance(result, Unavailable):
                unavailable = unavailable or result
            elif isinstance(result, Exception):
                # the row stays claimed until its lease runs out, then it is tried again
                log.error("lot %d: delivery failed unexpectedly", row.lot_id, exc_info=result)
            elif isinstance(result, BaseException):
                raise result
        if unavailable is not None:
            raise unavailable
        return len(due)

    async def _deliver(self, row: outbox.DueDelivery, endpoint: routing.Endpoint) -> None:
        # The stored JSONB re-serializes to the bytes made at settlement (packet_body is
        # canonical), so every attempt sends, and signs, the same body.
        packet = json.loads(row.packet_json)
        url = endpoint.url
        if url is None:
            path = await asyncio.to_thread(
                self._file, row.idempotency_key, packet_file_text(packet)
            )
            await outbox.mark_filed(self.store, row.lot_id, key=row.idempotency_key)
            log.info("lot %d: registration packet filed at %s", row.lot_id, path)
            return
        body = packet_body(packet)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": row.idempotency_key,
            HEADER: signature(endpoint.secret, body),
        }
        try:
            response = await self._client().post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            await self._failed(row, f"network: {type(exc).__name__}: {exc}")
            return
        code = response.status_code
        if 200 <= code < 300:
            await self._delivered(row, code, read_answer(response.content))
        elif code in DEFER_STATUSES:
            retry_after = _retry_after_s(response.headers.get("Retry-After"))
            await self._failed(row, _http_error(response), retry_after=retry_after, deferred=True)
        elif code >= 500:
            await self._failed(row, _http_error(response))
        else:
            reason = _http_error(response)
            await outbox.mark_dead(self.store, row.lot_id, error=reason, key=row.idempotency_key)
            log.error("lot %d: registration refused, dead-lettered: %s", row.lot_id, reason)

    async def _delivered(
        self, row: outbox.DueDelivery, code: int, answer: Answer | BadAnswer | None
    ) -> None:
        if isinstance(answer, Answer):
            await answers.mark_answered(
                self.store, row.lot_id, row.idempotency_key, status=answer.status,
                registration_no=answer.registration_no, reason=answer.reason,
            )
            log.info("lot %d: registration %s (HTTP %d; version %d) %s", row.lot_id,
                     answer.status, code, row.version, answer.registration_no or answer.reason)
            return
        await outbox.mark_delivered(self.store, row.lot_id, key=row.idempotency_key)
        if isinstance(answer, BadAnswer):
            await outbox.note_error(self.store, row.lot_id, answer.why)
            log.warning("lot %d: registration delivered, %s", row.lot_id, answer.why)
            return
        log.info("lot %d: registration delivered (HTTP %d; attempts %d, deferrals %d)",
                 row.lot_id, code, row.attempts + 1, row.deferrals)

    async def _failed(
        self, row: outbox.DueDelivery, error: str, *, retry_after: float | None = None,
        deferred: bool = False,
    ) -> None:
        if row.retrying_s >= self.retry_window_s:
            attempts = row.attempts + (0 if deferred else 1)
            deferrals = row.deferrals + (1 if deferred else 0)
            reason = (f"gave up after {row.retrying_s / 86400:.1f} days ({attempts} attempts, "
                      f"{deferrals} deferrals); last: {error}")
            await outbox.mark_dead(self.store, row.lot_id, error=reason, deferred=deferred,
                                   key=row.idempotency_key)
            log.error("lot %d: registration dead-lettered: %s", row.lot_id, reason)
            return
        if retry_after is not None:
            retry_after = max(retry_after, self.min_retry_after_s)
            delay_s = retry_after * self.rng.uniform(1.0, 1.1)
            # the receiver asked for air: claim nothing more until then (capped: one row's
            # header must not stall the others for a day)
            pause = min(retry_after, self.backoff_cap_s)
            self.paused_until = max(self.paused_until, time.monotonic() + pause)
        else:
            delay_s = self.backoff_s(row.failures)
        await outbox.mark_retry(
            self.store, row.lot_id, delay_ms=int(delay_s * 1000), error=error, deferred=deferred,
            key=row.idempotency_key,
        )
        # one warning when a row starts failing; the rest are in the backlog gauges and
        # /healthz, not one line per row per retry for days
        level = logging.WARNING if row.failures == 0 else logging.DEBUG
        log.log(level, "lot %d: registration %s (%s); retry in %.3f s", row.lot_id,
                "deferred" if deferred else f"attempt {row.attempts + 1} failed", error, delay_s)

    def backoff_s(self, failures: int) -> float:
        """Delay before the next try after ``failures`` earlier failures (exponential, capped,
        jittered so a receiver coming back up is not hit by every row at once)."""
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2.0 ** min(failures, 62))
        return ceiling * self.rng.uniform(0.5, 1.0)

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.timeout_s)
        return self._http

    def _file(self, key: str, text: str) -> Path:
        folder = self.settings.data_dir / "registration"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{key.replace(':', '.')}.json"
        # write then rename: a reader (or a crash) never sees half a packet; 0600: a person's
        # identity number is in it
        tmp = path.with_suffix(".json.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
        return path


def _http_error(response: httpx.Response) -> str:
    excerpt = " ".join(response.text[:EXCERPT_CHARS].split())
    return f"HTTP {response.status_code}: {excerpt}"


def _retry_after_s(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max((when - datetime.now(UTC)).total_seconds(), 0.0), MAX_RETRY_AFTER_S)
