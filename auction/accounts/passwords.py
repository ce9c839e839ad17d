"""Password hashing with argon2id (argon2-cffi), off the event loop.

Hashes are PHC strings (``$argon2id$v=19$m=…``) that carry their own parameters, so a hash made
with one profile verifies under any other; :func:`needs_rehash` tells when to upgrade one.

Profiles (``AUCTION_PASSWORD_PROFILE``): ``default`` is argon2-cffi's RFC 9106 low-memory
profile (64 MiB, 3 passes; ~0.3 s on a small machine, which is the point); ``fast`` is for
tests only (weak by design). Hashing runs in a worker thread: a login never stalls the sockets.

A new password (every account: staff and bidders) is refused by :func:`weakness` when it is
shorter than :data:`MIN_LENGTH` (10) characters, equals the username, or is in the list of
common passwords vendored next to this module (``common_passwords.txt``: 19,640 passwords,
lowercased, one a line; Django 5.2's ``django/contrib/auth/common-passwords.txt.gz``, compiled
by Royce Williams from leaked-password corpora, distributed under Django's BSD-3-Clause
licence). The comparison ignores case and surrounding spaces. Existing hashes are not re-checked.
"""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from auction.settings import PASSWORD_PROFILES

MIN_LENGTH = 10
MAX_LENGTH = 256
PROFILES = PASSWORD_PROFILES
#: the vendored list of common passwords (see the module docstring)
COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    """The vendored list, lowercased (read once per process)."""
    with COMMON_PASSWORDS.open(encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


def weakness(password: str, *, username: str = "") -> str | None:
    """Why ``password`` may not be used for a new account (a message for field ``password``),
    or ``None`` when it may."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 位"
    folded = password.strip().lower()
    if username and folded == username.strip().lower():
        return "密码不能与用户名相同"
    if folded in common_passwords():
        return "密码过于常见 (在常用密码表中), 请换一个不易猜到的密码"
    return None


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
