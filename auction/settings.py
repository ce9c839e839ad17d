"""Settings, read once from the environment.

Nothing else in the package reads ``os.environ``: the CLI calls :func:`Settings.from_env` once and
passes the result down (house style rule 14). Secrets are wrapped in :class:`Secret` so they never
appear in a log line or a ``repr``.

A value that cannot be used raises :class:`ConfigError`, whose message is one line naming the
variable and what to do; the CLI prints it and exits with code 2. :meth:`Settings.from_env`
checks what it parses (numbers, the log level and format); :meth:`Settings.check_urls` checks
the two URLs before anything connects (the CLI calls it; tests that never connect need not).

The Ed25519 key that signs bid receipts (``AUCTION_RECEIPT_KEY``: the base64 of its 32-byte
seed, or the path of a file holding that text) is kept the same way, in
``<AUCTION_DATA_DIR>/receipt-key`` when not set (auction/audit/receipts.py).

The key that signs tokens (``AUCTION_SECRET``) survives restarts: when it is not set it is
generated once and kept in ``<AUCTION_DATA_DIR>/secret`` (mode 0600). Every process sharing the
data dir reads the same key, so a token minted by one is accepted by the others; processes on
different machines must share ``AUCTION_SECRET`` instead (docs/operations.md "Processes").
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

#: the levels ``AUCTION_LOG_LEVEL`` accepts (the logging module's names)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: ``AUCTION_LOG_FORMAT``: ``plain`` lines or ``json`` lines (auction/logs.py)
LOG_FORMATS = ("plain", "json")
#: longest token lifetime accepted: revocations of accounts and registrations are remembered
#: this long (auction/accounts/revocation.py)
MAX_TOKEN_TTL_S = 7 * 24 * 3600
#: name of the file in the data dir that keeps the generated token-signing key
SECRET_FILE = "secret"
#: name of the file in the data dir that keeps the generated receipt-signing key (Ed25519)
RECEIPT_KEY_FILE = "receipt-key"

_POSTGRES_SCHEMES = ("postgresql", "postgres")
_REDIS_SCHEMES = ("redis", "rediss", "unix", "redis+cluster", "rediss+cluster")


class ConfigError(Exception):
    """A setting cannot be used. ``str(exc)`` is one line: the variable, the value's problem
    and what to do (never the secret part of a URL)."""


@dataclass(frozen=True, slots=True)
class Secret:
    """A string that does not print itself."""

    value: str

    def __repr__(self) -> str:
        return "Secret('**********')" if self.value else "Secret('')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self.value)


def redact(url: str) -> str:
    """``url`` without its password, for messages (``postgresql://u:***@h/db``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable>"
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def _check_url(variable: str, url: str, schemes: tuple[str, ...], example: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port raises ValueError on garbage
    except ValueError as exc:
        raise ConfigError(f"{variable} 无法解析 ({redact(url)}): {exc}; 例: {example}") from None
    if parts.scheme not in schemes:
        got = f"协议为 {parts.scheme}://" if parts.scheme else "没有协议前缀"
        wanted = " 或 ".join(f"{s}://" for s in schemes)
        raise ConfigError(f"{variable} 应以 {wanted} 开头, 而它{got} ({redact(url)}); "
                          f"例: {example}")


def _int(env: Mapping[str, str], variable: str, default: int, low: int, high: int) -> int:
    raw = env.get(variable) or ""
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{variable} 应为整数, 实为 {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{variable} 应在 {low}–{high} 之间, 实为 {value}")
    return value


def _choice(env: Mapping[str, str], variable: str, default: str, allowed: tuple[str, ...],
            *, upper: bool = False) -> str:
    raw = (env.get(variable) or default).strip()
    value = raw.upper() if upper else raw.lower()
    if value not in allowed:
        raise ConfigError(f"{variable} 应为 {' / '.join(allowed)} 之一, 实为 {raw!r}")
    return value


def _proxies(raw: str) -> tuple[str, ...]:
    """``AUCTION_TRUSTED_PROXIES``: IP addresses or networks (``10.0.0.0/8``), or ``*``."""
    found: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        if item != "*":
            try:
                network = ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ConfigError(
                    f"AUCTION_TRUSTED_PROXIES 中的 {item!r} 不是 IP 地址或网段; "
                    "例: 127.0.0.1,10.0.0.0/8 (只列反向代理的地址)") from None
            if "/" in item and str(network) != item:
                # uvicorn reads a network strictly: "10.0.0.1/8" would trust nobody, silently
                raise ConfigError(
                    f"AUCTION_TRUSTED_PROXIES 中的网段 {item!r} 含主机位; "
                    f"应写作 {network} (或只写一个地址, 不带 /)")
        found.append(item)
    return tuple(found)


#: ``AUCTION_PASSWORD_PROFILE``'s values (auction/accounts/passwords.py ``PROFILES``)
PASSWORD_PROFILES = ("default", "fast")


def _password_profile(raw: str) -> str:
    """``AUCTION_PASSWORD_PROFILE``: one of :data:`PASSWORD_PROFILES` (a typo such as ``Fast``
    must not silently mean the default, nor ``fast`` be guessed)."""
    if raw not in PASSWORD_PROFILES:
        raise ConfigError(f"AUCTION_PASSWORD_PROFILE 应为 {' / '.join(PASSWORD_PROFILES)} 之一, "
                          f"实为 {raw!r}")
    return raw


def _public_url(raw: str) -> str | None:
    """``AUCTION_PUBLIC_URL``: an ``http(s)://host[:port][/path]`` address, without a trailing
    ``/``; empty: ``None``."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - parsing the port raises ValueError on garbage
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname \
            or parts.query or parts.fragment:
        raise ConfigError(f"AUCTION_PUBLIC_URL 应为 http:// 或 https:// 开头、无查询串的地址, "
                          f"实为 {raw!r}; 例: https://auction.example.cn")
    return raw.rstrip("/")


def load_or_create_secret(data_dir: Path) -> Secret:
    """The key kept in ``<data_dir>/secret``, generated on first use.

    Created atomically: the key is written and fsynced to a private temp file (``O_EXCL``, mode
    0600) which is then hard-linked to its name; ``link`` fails if the name exists. So a
    reader never sees a half-written key, and of several processes starting at once exactly
    one key wins and every one of them re-reads and uses it.
    """
    path = data_dir / SECRET_FILE
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            return _read_secret(path)
        except FileNotFoundError:
            pass
        temp = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(32) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temp, path)
            except FileExistsError:
                pass  # another process won the race: use its key
        finally:
            temp.unlink(missing_ok=True)
        return _read_secret(path)
    except ConfigError:
        raise
    except OSError as exc:
        raise ConfigError(
            f"无法读写令牌签名密钥文件 {path}: {exc.strerror or exc}; "
            "检查 AUCTION_DATA_DIR 的权限, 或设置 AUCTION_SECRET"
        ) from None


def _new_seed() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def load_or_create_receipt_key(data_dir: Path) -> Secret:
    """The receipt-signing seed kept in ``<data_dir>/receipt-key``, generated on first use
    (atomically, as :func:`load_or_create_secret`)."""
    path = data_dir / RECEIPT_KEY_FILE
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            temp = data_dir / f".{RECEIPT_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "w", encoding="ascii") as handle:
                    handle.write(_new_seed() + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
                try:
                    os.link(temp, path)
                except FileExistsError:
                    pass  # another process won the race: use its key
            finally:
                temp.unlink(missing_ok=True)
        return _receipt_seed(path.read_text(encoding="ascii", errors="replace"), str(path))
    except OSError as exc:
        raise ConfigError(
            f"无法读写回执签名密钥文件 {path}: {exc.strerror or exc}; "
            "检查 AUCTION_DATA_DIR 的权限, 或设置 AUCTION_RECEIPT_KEY"
        ) from None


def _receipt_seed(text: str, where: str) -> Secret:
    """The seed text when it is the base64 of 32 bytes, else :class:`ConfigError`."""
    value = text.strip()
    try:
        if len(base64.b64decode(value, validate=True)) == 32:
            return Secret(value)
    except (binascii.Error, ValueError):
        pass
    raise ConfigError(f"{where}: 回执签名密钥须为 32 字节种子的 base64 (生成: python3 -c "
                      "'import base64,os;print(base64.b64encode(os.urandom(32)).decode())')")


def receipt_key(env: Mapping[str, str], data_dir: Path) -> tuple[Secret, Path | None]:
    """``AUCTION_RECEIPT_KEY`` (a base64 seed, or a file holding one), else the data dir's key;
    with the file it came from (``None``: the variable held the seed itself)."""
    given = (env.get("AUCTION_RECEIPT_KEY") or "").strip()
    if not given:
        return load_or_create_receipt_key(data_dir), data_dir / RECEIPT_KEY_FILE
    try:
        return _receipt_seed(given, "AUCTION_RECEIPT_KEY"), None
    except ConfigError:
        path = Path(given)
        if not path.is_file():
            raise
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise ConfigError(f"AUCTION_RECEIPT_KEY: 无法读取 {path}: {exc.strerror or exc}") from None
    return _receipt_seed(text, f"AUCTION_RECEIPT_KEY ({path})"), path


def _read_secret(path: Path) -> Secret:
    value = path.read_text(encoding="ascii", errors="replace").strip()
    if len(value) < 16:
        raise ConfigError(f"令牌签名密钥文件 {path} 内容过短或为空; 删除它(将重新生成, "
                          "已签发的令牌失效)或设置 AUCTION_SECRET")
    return Secret(value)


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
    #: the only peers whose ``X-Forwarded-For`` / ``X-Forwarded-Proto`` are believed
    #: (``AUCTION_TRUSTED_PROXIES``: addresses or networks, comma-separated, ``*`` for any);
    #: empty (the default): the peer's own address is the client's, whatever it sends
    trusted_proxies: tuple[str, ...] = ()
    #: lifetime of tokens minted at login (``AUCTION_TOKEN_TTL_S``, seconds)
    token_ttl_s: int = 12 * 3600
    #: lifetime of a bidder's credential for one registration (``AUCTION_BID_TOKEN_TTL_S``)
    bid_token_ttl_s: int = 12 * 3600
    #: lifetime of a session's auctioneer token (``AUCTION_STAFF_TOKEN_TTL_S``)
    staff_token_ttl_s: int = 12 * 3600
    #: argon2 parameters for new password hashes (``AUCTION_PASSWORD_PROFILE``: ``default``;
    #: ``fast`` is for tests only)
    password_profile: str = "default"
    #: ``plain`` or ``json`` log lines (``AUCTION_LOG_FORMAT``)
    log_format: str = "plain"
    #: how long after its hammer or pass a live lot may be reopened while no other lot of its
    #: session has opened (``AUCTION_REOPEN_WINDOW_S``); its settlement waits until then
    reopen_window_s: int = 120
    #: how often the scheduler of timed sessions looks for lots due to open and sessions whose
    #: status moves (``AUCTION_SCHEDULER_INTERVAL_MS``; auction/rooms/scheduler.py)
    scheduler_interval_ms: int = 1000
    #: where the token-signing key came from: the file it is kept in, ``None`` when
    #: ``AUCTION_SECRET`` gave it
    secret_file: Path | None = None
    #: the address the public reaches the pages at (``AUCTION_PUBLIC_URL``, e.g.
    #: ``https://auction.example.cn``), put in documents (the 成交确认书's verification URL);
    #: ``None``: the address the request came to
    public_url: str | None = None
    #: the TrueType CJK font embedded in PDFs (``AUCTION_PDF_FONT``); ``None``: the first of
    #: the known Debian fonts present (auction/documents/fonts.py)
    pdf_font: Path | None = None
    #: the Ed25519 seed (base64) that signs bid receipts (``AUCTION_RECEIPT_KEY``, else
    #: generated in ``<data_dir>/receipt-key``); empty only in settings built by hand
    receipt_key: Secret = Secret("")
    #: the file the receipt key came from (``None``: the variable held it)
    receipt_key_file: Path | None = None
    #: server processes of ``auction serve`` (``AUCTION_WORKERS``, or ``--workers``; 1..64;
    #: auction/workers.py)
    workers: int = 1
    #: bids one lot may always queue before more are refused ``overloaded`` at the door
    #: (``AUCTION_BID_QUEUE_LOT``; auction/rooms/lanes.py)
    bid_queue_lot: int = 512
    #: the deepest one lot's queue may grow while it drains within a quarter of the wait
    #: (``AUCTION_BID_QUEUE_LOT_MAX``; no growth when not above ``bid_queue_lot``)
    bid_queue_lot_most: int = 4096
    #: bids queued in the process, all lots together (``AUCTION_BID_QUEUE_TOTAL``)
    bid_queue_total: int = 8192
    #: a queued bid that waited longer (ms) is answered ``overloaded``, never sent
    #: (``AUCTION_BID_QUEUE_WAIT_MS``)
    bid_queue_wait_ms: int = 500

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the environment (or ``environ``); :class:`ConfigError` on an unusable value.

        Without ``AUCTION_SECRET`` this reads, or creates, ``<AUCTION_DATA_DIR>/secret``.
        """
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("AUCTION_DATA_DIR") or ".auction").resolve()
        secret_file: Path | None = None
        if env.get("AUCTION_SECRET"):
            secret = Secret(env["AUCTION_SECRET"])
        else:
            secret = load_or_create_secret(data_dir)
            secret_file = data_dir / SECRET_FILE
        receipt, receipt_file = receipt_key(env, data_dir)
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            host=env.get("AUCTION_HOST") or "127.0.0.1",
            port=_int(env, "AUCTION_PORT", 8000, 0, 65535),
            secret=secret,
            admin_token=Secret(env.get("AUCTION_ADMIN_TOKEN") or ""),
            registration_url=env.get("AUCTION_REGISTRATION_URL") or None,
            registration_secret=Secret(env.get("AUCTION_REGISTRATION_SECRET") or ""),
            data_dir=data_dir,
            redis_namespace=env.get("AUCTION_REDIS_NAMESPACE") or "auction",
            log_level=_choice(env, "AUCTION_LOG_LEVEL", "INFO", LOG_LEVELS, upper=True),
            allowed_origins=tuple(
                o.strip().rstrip("/") for o in (env.get("AUCTION_ALLOWED_ORIGINS") or "").split(",")
                if o.strip()
            ),
            trusted_proxies=_proxies(env.get("AUCTION_TRUSTED_PROXIES") or ""),
            token_ttl_s=_int(env, "AUCTION_TOKEN_TTL_S", 12 * 3600, 60, MAX_TOKEN_TTL_S),
            bid_token_ttl_s=_int(env, "AUCTION_BID_TOKEN_TTL_S", 12 * 3600, 60,
                                 MAX_TOKEN_TTL_S),
            staff_token_ttl_s=_int(env, "AUCTION_STAFF_TOKEN_TTL_S", 12 * 3600, 60,
                                   MAX_TOKEN_TTL_S),
            password_profile=_password_profile(env.get("AUCTION_PASSWORD_PROFILE") or "default"),
            log_format=_choice(env, "AUCTION_LOG_FORMAT", "plain", LOG_FORMATS),
            reopen_window_s=_int(env, "AUCTION_REOPEN_WINDOW_S", 120, 0, 24 * 3600),
            scheduler_interval_ms=_int(env, "AUCTION_SCHEDULER_INTERVAL_MS", 1000, 50, 60_000),
            secret_file=secret_file,
            public_url=_public_url(env.get("AUCTION_PUBLIC_URL") or ""),
            pdf_font=Path(env["AUCTION_PDF_FONT"]) if env.get("AUCTION_PDF_FONT") else None,
            receipt_key=receipt, receipt_key_file=receipt_file,
            workers=_int(env, "AUCTION_WORKERS", 1, 1, 64),
            bid_queue_lot=_int(env, "AUCTION_BID_QUEUE_LOT", 512, 1, 1_000_000),
            bid_queue_lot_most=_int(env, "AUCTION_BID_QUEUE_LOT_MAX", 4096, 1, 1_000_000),
            bid_queue_total=_int(env, "AUCTION_BID_QUEUE_TOTAL", 8192, 1, 10_000_000),
            bid_queue_wait_ms=_int(env, "AUCTION_BID_QUEUE_WAIT_MS", 500, 1, 60_000),
        )

    def check_urls(self) -> None:
        """:class:`ConfigError` when ``DATABASE_URL`` / ``REDIS_URL`` (if set) cannot be right:
        a wrong scheme (``mysql://``), garbage, a port that is not a number, no host."""
        if self.database_url is not None:
            _check_url("DATABASE_URL", self.database_url, _POSTGRES_SCHEMES,
                       "postgresql://user:password@host:5432/auction")
        if self.redis_url is not None:
            _check_url("REDIS_URL", self.redis_url, _REDIS_SCHEMES, "redis://host:6379/0")
            parts = urlsplit(self.redis_url)
            if parts.scheme.endswith("+cluster") and (
                    not parts.hostname or parts.path.strip("/") not in ("", "0")):
                raise ConfigError(
                    f"REDIS_URL 指向 Redis Cluster, 应为 redis+cluster://主机:端口 (任一节点, "
                    f"集群只有 0 号库), 实为 {redact(self.redis_url)}")

    def with_urls(self, database_url: str, redis_url: str) -> Settings:
        return replace(self, database_url=database_url, redis_url=redis_url)

    def with_changes(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]
