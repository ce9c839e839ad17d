"""Registration back-pressure: the receiver of sold lots times out, loses responses, answers
503 and then a sustained 429 (more 429s than the old attempt limit of 12), all with
``Retry-After: 1``, then recovers.

Three lots are sold (bids through the websocket, then ``hammer``) and one is passed; the
deliverer posts each sold lot's packet to the receiver (receiver.py). Checked: every sold lot is
delivered exactly once in effect — its key applied by the receiver (which dedups by
``Idempotency-Key``), always with the same signed body, its outbox row ``delivered`` — the
passed lot never; no retry came before the ``Retry-After`` it was given; and the bids of the
sale pass the usual lost / duplicated / gaps check.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from auction.settings import Secret
from tests.faults.check import settle_and_check
from tests.faults.cluster import REGISTRATION_SECRET, PgCluster, world
from tests.faults.load import Load
from tests.faults.receiver import Receiver
from tests.faults.seed import console, create_sale

DELIVERY_TIMEOUT_S = 150.0


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    made = Receiver(Secret(REGISTRATION_SECRET))
    await made.start()
    try:
        yield made
    finally:
        await made.close()


async def registration_of(base: str, lot: int) -> dict[str, Any] | None:
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.get(f"{base}/api/v1/lots/{lot}/registration")
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_registration_receiver_faults_then_recovery(
    pg_cluster: PgCluster, case_root: Path, receiver: Receiver
) -> None:
    async with world(pg_cluster, case_root, apps=1, registration_url=receiver.url) as w:
        sale = await create_sale(w.base, w.admin_token, lots=4, bidders=3)
        sold, passed = sale.lots[:3], sale.lots[3]
        load = Load.make(w.urls, sale, bidders=3, watchers=2, seed=4, bid_lots=sold)
        try:
            await load.start_watchers()
            load.start_bidders()
            await asyncio.sleep(2.0)
            await load.stop_bidders()
            bid_on = {a.lot for a in load.acks}
            assert bid_on == set(sold), f"every lot to sell needs a bid; acked on {bid_on}"
            for lot in sold:
                await console(w.base, w.admin_token, lot, "hammer")
            await console(w.base, w.admin_token, passed, "pass")
            fig = await settle_and_check(
                "registration faults (bids)", acks=load.acks, watchers=load.watchers,
                database_url=w.database_url, redis_url=w.redis.url, namespace=w.namespace,
                lots=sale.lots)
        finally:
            await load.close()

        t0 = time.monotonic()
        rows: dict[int, dict[str, Any] | None] = {}
        while time.monotonic() - t0 < DELIVERY_TIMEOUT_S:
            rows = {lot: await registration_of(w.base, lot) for lot in sale.lots}
            if all(rows[lot] and rows[lot]["status"] in ("delivered", "dead")  # type: ignore[index]
                   for lot in sold):
                break
            await asyncio.sleep(1.0)
        took = time.monotonic() - t0

    keys = {lot: str(row["idempotency_key"]) for lot, row in rows.items() if row}
    status = {lot: (row or {}).get("status") for lot, row in rows.items()}
    delivered = [lot for lot in sold if status[lot] == "delivered"]
    dead = [lot for lot in sold if status[lot] == "dead"]
    applied_once = [lot for lot in sold if lot in keys and keys[lot] in receiver.applied]
    problems = []
    if set(receiver.applied) - {keys[lot] for lot in sold if lot in keys}:
        problems.append(f"keys applied that belong to no sold lot: "
                        f"{set(receiver.applied) - set(keys.values())}")
    for key, bodies in receiver.bodies.items():
        if len(bodies) > 1:
            problems.append(f"key {key}: {len(bodies)} different bodies")
    if receiver.bad_signatures:
        problems.append(f"{receiver.bad_signatures} requests with a bad signature")
    if passed in keys and keys[passed] in receiver.attempts:
        problems.append(f"the passed lot {passed} was sent to registration")
    early = []
    for key in receiver.attempts:
        seen = [s for s in receiver.requests if s.key == key]
        for told, nxt in itertools.pairwise(seen):
            if told.action in ("429", "503") and nxt.mono - told.mono < 0.95:
                early.append(f"{key}: retried {nxt.mono - told.mono:.2f} s after "
                             f"{told.action} Retry-After: 1")
    problems += early
    for lot in sold:
        if lot not in keys:
            problems.append(f"lot {lot}: no registration row")
        elif status[lot] != "delivered":
            row = rows[lot] or {}
            problems.append(f"lot {lot}: {status[lot]} after {row.get('attempts')} attempts: "
                            f"{row.get('last_error')}")
    actions = [s.action for s in receiver.requests]
    line = (f"registration faults: sold {len(sold)} / delivered {len(delivered)} / applied "
            f"once in effect {len(applied_once)} / dead {len(dead)} / requests "
            f"{len(receiver.requests)} (timeouts {actions.count('timeout')}, lost responses "
            f"{actions.count('lost')}, 503 {actions.count('503')}, 429 {actions.count('429')}, "
            f"ok {actions.count('ok')}; re-sends deduplicated by the receiver "
            f"{sum(receiver.applications.values()) - len(receiver.applied)}) in {took:.0f} s")
    fig.notes += [line, *(f"! {p}" for p in problems), load.summary(), w.log_findings()]
    fig.publish()
    fig.assert_clean()
    assert not problems and len(delivered) == len(sold), line + "\n" + "\n".join(problems)
