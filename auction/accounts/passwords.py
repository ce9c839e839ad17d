"""Password hashing with argon2id (argon2-cffi), off the event loop.

Hashes are PHC strings (``$argon2id$v=19$m=…``) that carry their own parameters, so a hash made
with one profile verifies under any other; :func:`needs_rehash` tells when to upgrade one.

Profiles (``AUCTION_PASSWORD_PROFILE``): ``default`` is argon2-cffi's RFC 9106 low-memory
profile (64 MiB, 3 passes; ~0.3 s on a small machine, which is the point); ``fast`` is for
tests only (weak by design). Hashing runs in a worker thread: a login never stalls the sockets.
"""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MAX_LENGTH = 256
PROFILES = ("default", "fast")


@cache
def hasher(profile: str = "default") -> PasswordHasher:
    if profile == "fast":
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


@cache
def dummy_hash(profile: str = "default") -> str:
    """Compared against when the username does not exist, so both failures take one time."""
    return hasher(profile).hash("not-a-password-of-anyone")


async def hash_password(password: str, profile: str = "default") -> str:
    return await asyncio.to_thread(hasher(profile).hash, password)


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return PasswordHasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored_hash: str, password: str) -> bool:
    """True when ``password`` matches; never raises on a mismatch or a malformed hash."""
    return await asyncio.to_thread(_verify, stored_hash, password)


def needs_rehash(stored_hash: str, profile: str = "default") -> bool:
    return hasher(profile).check_needs_rehash(stored_hash)
