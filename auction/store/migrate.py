"""The migration runner: applies ``migrations/NNNN_name.sql`` in numeric order (house style 24).

Contract:

- Each file runs in its own transaction together with its row in ``schema_migrations``
  (``version, name, checksum, applied_at``), so a file is either fully applied and recorded or
  not at all.
- A session-level advisory lock serialises runners: two processes starting at once apply each
  file once; the second sees the first's rows and does nothing.
- Running again is a no-op. A recorded file whose checksum changed, or two files with the same
  version, raise :class:`~auction.store.errors.MigrationError` before anything is applied.
- Progress goes to the ``auction.store.migrate`` logger and to the optional ``progress``
  callback, one line per file.

Production and the tests apply the same files.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import asyncpg

import auction
from auction.store.errors import MigrationError, translated

log = logging.getLogger("auction.store.migrate")

#: the repository's migrations folder (the same files in every environment)
MIGRATIONS_DIR = Path(auction.__file__).resolve().parents[1] / "migrations"

#: pg_advisory_lock key: the first 8 bytes of sha256("auction.store.migrate"), as a signed bigint
LOCK_KEY = int.from_bytes(hashlib.sha256(b"auction.store.migrate").digest()[:8], "big", signed=True)

_FILE = re.compile(r"^(\d+)_([A-Za-z0-9_\-]+)\.sql$")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    checksum    CHAR(64) NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    path: Path
    sql: str = field(repr=False)

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Applied:
    """A row of ``schema_migrations``."""

    version: int
    name: str
    checksum: str
    applied_at: datetime


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files of ``directory`` in version order; other files are ignored."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE.match(path.name)
        if match is None:
            raise MigrationError(message=f"迁移文件名不合规(应为 NNNN_name.sql): {path.name}")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(
                message=f"迁移版本号重复: {found[version].path.name} 与 {path.name}"
            )
        found[version] = Migration(version, match.group(2), path, path.read_text("utf-8"))
    return [found[v] for v in sorted(found)]


async def applied(conn: asyncpg.Connection) -> list[Applied]:
    """What ``schema_migrations`` records, in version order (empty if the table is missing)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return []
    rows = await conn.fetch(
        "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
    )
    return [Applied(r["version"], r["name"], r["checksum"], r["applied_at"]) for r in rows]


async def migrate(
    dsn: str,
    *,
    directory: Path = MIGRATIONS_DIR,
    progress: Callable[[str], None] | None = None,
) -> list[Migration]:
    """Apply the pending migrations of ``directory`` to the database at ``dsn``.

    Returns the migrations this call applied (empty when the database was up to date).
    """

    def say(line: str) -> None:
        log.info("%s", line)
        if progress is not None:
            progress(line)

    files = discover(directory)
    with translated():
        conn = await asyncpg.connect(dsn)
    try:
        with translated():
            await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        try:
            return await _apply(conn, files, say)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    finally:
        await conn.close()


async def _apply(
    conn: asyncpg.Connection, files: list[Migration], say: Callable[[str], None]
) -> list[Migration]:
    await conn.execute(_CREATE_TABLE)
    done = {a.version: a for a in await applied(conn)}
    for migration in files:
        record = done.get(migration.version)
        if record is not None and record.checksum != migration.checksum:
            raise MigrationError(
                message=f"迁移 {migration.path.name} 已执行但内容被修改 (checksum 不符); "
                "请新增迁移文件而不要修改已执行的文件"
            )
    pending = [m for m in files if m.version not in done]
    if not pending:
        say(f"数据库已是最新 (共 {len(files)} 个迁移)")
        return []
    for migration in pending:
        say(f"执行迁移 {migration.path.name} …")
        try:
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version, migration.name, migration.checksum,
                )
        except asyncpg.PostgresError as exc:
            raise MigrationError(
                message=f"迁移 {migration.path.name} 失败: {exc.__class__.__name__}: {exc}"
            ) from exc
        say(f"迁移 {migration.path.name} 完成")
    return pending
