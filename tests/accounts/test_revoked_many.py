"""``revocation.revoked_many``: a batch of bids' credentials checked in one round trip (one MGET
on one Redis), each answer the same as the one-token check, a name asked twice read once."""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from auction.accounts import revocation
from auction.accounts.keys import AccountKeys
from auction.rooms.coalesce import Coalescer
from auction.rooms.keys import Keys


async def test_a_batch_answers_each_token_like_the_single_check(redis: Redis, keys: Keys) -> None:
    ak = AccountKeys(keys.namespace)
    now = int(time.time())
    await redis.set(ak.revoked_token("gone"), "1")
    await redis.set(ak.revoked_account(7), str(now))  # tokens issued until now are void
    await redis.set(ak.revoked_registration(30), str(now - 100))
    tokens: list[revocation.TokenNames] = [
        ("fine", (1,), 10, now),
        ("gone", (1,), 10, now),             # its own token revoked
        ("a7-old", (7,), 11, now - 5),       # issued before its account was revoked
        ("a7-new", (7,), 11, now + 5),       # issued after: valid
        ("r30-old", (2,), 30, now - 200),    # issued before its registration was revoked
        ("r30-new", (2,), 30, now),          # after
        ("fine", (1,), 10, now),             # the same bidder's second bid in the batch
        ("a7-old", (7,), 11, now - 5),
    ]
    many = await revocation.revoked_many(redis, ak, tokens)
    assert many == [False, True, True, False, True, False, False, True]
    for (jti, accounts, reg, issued), expected in zip(tokens, many, strict=True):
        single = await revocation.is_revoked(redis, ak, jti=jti, account_ids=accounts,
                                             registration_id=reg, issued_at=issued)
        assert single == expected, jti
    assert await revocation.revoked_many(redis, ak, []) == []
    # the same MGET through the bid lanes' shared round trip, beside another lane's batch
    shared = Coalescer(redis)
    together = await asyncio.gather(
        revocation.revoked_many(redis, ak, tokens, shared.execute),
        revocation.revoked_many(redis, ak, tokens[::-1], shared.execute))
    assert together == [many, many[::-1]]
