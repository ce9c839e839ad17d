"""The rules do no I/O (house style rule 1): auction/domain imports nothing that talks to the
world, and nothing from the layers above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import auction.domain

FORBIDDEN = {
    "asyncio", "socket", "ssl", "subprocess", "threading", "http", "urllib", "os", "time",
    "redis", "asyncpg", "starlette", "uvicorn", "websockets", "msgpack", "httpx",
    "auction.api", "auction.rooms", "auction.store", "auction.settlement",
    "auction.registration", "auction.wire", "auction.services", "auction.settings",
}
MODULES = sorted(Path(auction.domain.__file__).parent.glob("*.py"))


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_domain_module_imports_nothing_forbidden(path: Path) -> None:
    """Each domain module's imports avoid I/O libraries and the outer layers."""
    bad = {
        name for name in imported(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_the_check_sees_imports() -> None:
    """The import reader finds plain and from-imports (so the check above can fail)."""
    sample = Path(__file__)
    assert {"ast", "pytest", "auction.domain", "pathlib"} <= imported(sample)
