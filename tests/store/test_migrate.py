"""The migration runner: ordered, recorded, locked, idempotent."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from auction.store.errors import MigrationError
from auction.store.migrate import MIGRATIONS_DIR, discover, migrate


def _write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(sql, "utf-8")
    return directory


async def test_second_run_is_a_noop(database_url: str) -> None:
    """The session database is already migrated, so running the runner again applies nothing."""
    lines: list[str] = []
    assert await migrate(database_url, progress=lines.append) == []
    assert lines and "最新" in lines[0]


async def test_repository_migrations_are_found_in_order() -> None:
    """The runner finds the repository's migrations folder, starting with 0001_init."""
    found = discover(MIGRATIONS_DIR)
    assert found[0].version == 1 and found[0].name == "init"
    assert [m.version for m in found] == sorted(m.version for m in found)


async def test_applies_in_numeric_order_and_records(empty_database: str, tmp_path: Path) -> None:
    """Files run by number (2 before 10) and each is recorded with name and checksum."""
    folder = _write(tmp_path / "m", {
        "10_second.sql": "INSERT INTO t VALUES (10);",
        "2_first.sql": "CREATE TABLE t (v INT); INSERT INTO t VALUES (2);",
    })
    applied = await migrate(empty_database, directory=folder)
    assert [m.version for m in applied] == [2, 10]
    conn = await asyncpg.connect(empty_database)
    try:
        assert [r["v"] for r in await conn.fetch("SELECT v FROM t")] == [2, 10]
        rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations")
        assert {(r["version"], r["name"]) for r in rows} == {(2, "first"), (10, "second")}
        assert all(len(r["checksum"]) == 64 for r in rows)
    finally:
        await conn.close()


async def test_concurrent_runners_apply_each_file_once(
    empty_database: str, tmp_path: Path
) -> None:
    """Two runners started together (advisory lock) apply every file exactly once."""
    folder = _write(tmp_path / "m", {
        "1_a.sql": "CREATE TABLE runs (n INT); SELECT pg_sleep(0.2);",
        "2_b.sql": "INSERT INTO runs VALUES (1);",
    })
    first, second = await asyncio.gather(
        migrate(empty_database, directory=folder), migrate(empty_database, directory=folder)
    )
    assert sorted([len(first), len(second)]) == [0, 2]
    conn = await asyncpg.connect(empty_database)
    try:
        assert await conn.fetchval("SELECT count(*) FROM runs") == 1
    finally:
        await conn.close()


async def test_failed_migration_is_rolled_back(empty_database: str, tmp_path: Path) -> None:
    """A failing file leaves neither its changes nor its record; earlier files stay applied."""
    folder = _write(tmp_path / "m", {
        "1_ok.sql": "CREATE TABLE ok (v INT);",
        "2_bad.sql": "CREATE TABLE half (v INT); SELECT no_such_function();",
    })
    with pytest.raises(MigrationError, match=r"2_bad\.sql"):
        await migrate(empty_database, directory=folder)
    conn = await asyncpg.connect(empty_database)
    try:
        assert await conn.fetchval("SELECT to_regclass('half')") is None
        assert await conn.fetchval("SELECT array_agg(version) FROM schema_migrations") == [1]
    finally:
        await conn.close()


async def test_edited_migration_is_refused(empty_database: str, tmp_path: Path) -> None:
    """Changing a file that already ran raises before anything new is applied."""
    folder = _write(tmp_path / "m", {"1_a.sql": "CREATE TABLE a (v INT);"})
    await migrate(empty_database, directory=folder)
    _write(folder, {"1_a.sql": "CREATE TABLE a (v BIGINT);", "2_b.sql": "CREATE TABLE b ();"})
    with pytest.raises(MigrationError, match="checksum"):
        await migrate(empty_database, directory=folder)
    conn = await asyncpg.connect(empty_database)
    try:
        assert await conn.fetchval("SELECT to_regclass('b')") is None
    finally:
        await conn.close()


def test_duplicate_versions_are_refused(tmp_path: Path) -> None:
    """Two files with one version number are an error, not a silent choice."""
    folder = _write(tmp_path / "m", {"1_a.sql": "", "01_b.sql": ""})
    with pytest.raises(MigrationError, match="重复"):
        discover(folder)
