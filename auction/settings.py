"""Settings, read once from the environment.

Nothing else in the package reads ``os.environ``: the CLI calls :func:`Settings.from_env` once and
passes the result down (house style rule 14). Secrets are wrapped in :class:`Secret` so they never
appear in a log line or a ``repr``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Secret:
    """A string that does not print itself."""

    value: str

    def __repr__(self) -> str:
        return "Secret('**********')" if self.value else "Secret('')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self.value)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the process is configured with.

    ``database_url`` / ``redis_url`` are ``None`` when unset: the CLI then starts the embedded
    servers (:mod:`auction.embedded`) and fills them in with :meth:`with_urls`.
    """

    database_url: str | None
    redis_url: str | None
    host: str
    port: int
    secret: Secret
    admin_token: Secret
    registration_url: str | None
    registration_secret: Secret
    data_dir: Path
    redis_namespace: str
    log_level: str
    #: browser origins allowed to open /ws (``AUCTION_ALLOWED_ORIGINS``, comma-separated);
    #: empty: only the server's own origin. Clients that send no Origin are not browsers.
    allowed_origins: tuple[str, ...] = ()
    #: lifetime of tokens minted at login (``AUCTION_TOKEN_TTL_S``, seconds)
    token_ttl_s: int = 12 * 3600
    #: argon2 parameters for new password hashes (``AUCTION_PASSWORD_PROFILE``: ``default``;
    #: ``fast`` is for tests only)
    password_profile: str = "default"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("AUCTION_DATA_DIR") or ".auction").resolve()
        secret = env.get("AUCTION_SECRET") or ""
        if not secret:
            # A per-process random key: tokens die with the process. Fine for the demo; a
            # deployment with several processes must set AUCTION_SECRET (docs/operations.md).
            secret = secrets.token_urlsafe(32)
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            host=env.get("AUCTION_HOST") or "127.0.0.1",
            port=int(env.get("AUCTION_PORT") or "8000"),
            secret=Secret(secret),
            admin_token=Secret(env.get("AUCTION_ADMIN_TOKEN") or ""),
            registration_url=env.get("AUCTION_REGISTRATION_URL") or None,
            registration_secret=Secret(env.get("AUCTION_REGISTRATION_SECRET") or ""),
            data_dir=data_dir,
            redis_namespace=env.get("AUCTION_REDIS_NAMESPACE") or "auction",
            log_level=(env.get("AUCTION_LOG_LEVEL") or "INFO").upper(),
            allowed_origins=tuple(
                o.strip().rstrip("/") for o in (env.get("AUCTION_ALLOWED_ORIGINS") or "").split(",")
                if o.strip()
            ),
            token_ttl_s=int(env.get("AUCTION_TOKEN_TTL_S") or str(12 * 3600)),
            password_profile=env.get("AUCTION_PASSWORD_PROFILE") or "default",
        )

    def with_urls(self, database_url: str, redis_url: str) -> Settings:
        return replace(self, database_url=database_url, redis_url=redis_url)

    def with_changes(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]
