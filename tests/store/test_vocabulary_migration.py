"""Migration 0017 maps the free text of existing lots onto the vocabularies and lists what it
cannot map (the view ``vocabulary_unmapped``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]

from auction.store.migrate import MIGRATIONS_DIR, migrate


def _copy(folder: Path, below: int | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in MIGRATIONS_DIR.glob("*.sql"):
        if below is None or int(path.name[:4]) < below:
            shutil.copy(path, folder / path.name)
    return folder


async def test_existing_free_text_is_mapped_or_reported(empty_database: str,
                                                        tmp_path: Path) -> None:
    """Aliases and keys become the labels (新材料 → 新材料及其应用, 软件著作权 → 计算机软件著作权,
    09 → 农业); "随便写的领域" stays as written and is listed, with its lot and field."""
    folder = _copy(tmp_path / "m", 17)
    await migrate(empty_database, directory=folder)
    conn = await asyncpg.connect(empty_database)
    try:
        await conn.execute("INSERT INTO markets (code, slug, name, level)"
                           " VALUES ('371000', 'wh', '威海', 'city')")
        session = await conn.fetchval(
            "INSERT INTO sessions (market_id, name, season, mode, starts_at)"
            " SELECT id, '专场', 'spring', 'live', now() FROM markets RETURNING id")
        lots = {}
        for n, (result, ip, field) in enumerate([
            ("专利", "发明专利", "新材料"), ("软件", "软件著作权", "09"),
            ("技术秘密", "技术秘密", "随便写的领域"),
        ], start=1):
            lots[n] = await conn.fetchval(
                "INSERT INTO lots (session_id, ordinal, title, result_type, ip_type,"
                " technology_field, transaction_mode, contract_type, holder_name, holder_uscc,"
                " start_price_fen, increment_fen) VALUES ($1, $2, 't', $3, $4, $5, '转让',"
                " '技术转让', 'h', 'u', 100, 10) RETURNING id", session, n, result, ip, field)
        await migrate(empty_database, directory=_copy(folder, None))
        rows = {r["id"]: dict(r) for r in await conn.fetch(
            "SELECT id, result_type, ip_type, technology_field FROM lots")}
        assert rows[lots[1]]["technology_field"] == "新材料及其应用"
        assert rows[lots[2]] == {"id": lots[2], "result_type": "计算机软件著作权",
                                 "ip_type": "计算机软件著作权", "technology_field": "农业"}
        assert rows[lots[3]]["technology_field"] == "随便写的领域"
        unmapped = [tuple(r) for r in await conn.fetch(
            "SELECT lot_id, field, value FROM vocabulary_unmapped ORDER BY lot_id, field")]
        assert unmapped == [(lots[3], "technology_field", "随便写的领域")]
        weihai = await conn.fetchrow(
            "SELECT name, rules FROM subsidy_rules WHERE market_code = '371000'")
        assert weihai is not None and "威海" in weihai["name"]
    finally:
        await conn.close()
