"""Configuration errors: one clear line on stderr and exit code 2, before anything is announced;
the traceback only with ``AUCTION_LOG_LEVEL=DEBUG``."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.e2e.harness import free_port
from tests.ops.conftest import run_auction

pytestmark = pytest.mark.slow

Env = dict[str, str]


def _database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _refused_pg(env: Env) -> None:
    parts = urlsplit(env["DATABASE_URL"])
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0] + "@" if len(netloc) == 2 else ""
    env["DATABASE_URL"] = urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{free_port()}"))


#: (case, change to the environment, words the one line must contain, commands it applies to)
CASES: list[tuple[str, Callable[[Env], None], tuple[str, ...], tuple[str, ...]]] = [
    ("mysql database url", lambda e: e.update(DATABASE_URL="mysql://u:pw@db.example/auction"),
     ("DATABASE_URL", "mysql://", "postgresql://"), ("serve", "migrate", "demo")),
    ("garbage database url", lambda e: e.update(DATABASE_URL="not a url"),
     ("DATABASE_URL", "没有协议前缀"), ("serve", "migrate", "demo")),
    ("unknown database", lambda e: e.update(DATABASE_URL=_database(
        e["DATABASE_URL"], f"auction_missing_{uuid.uuid4().hex[:8]}")),
     ("auction_missing_", "不存在"), ("serve", "migrate", "demo")),
    ("postgres refused", _refused_pg, ("PostgreSQL", "连接被拒绝"), ("serve", "migrate", "demo")),
    ("garbage redis url", lambda e: e.update(REDIS_URL="localhost:6379"),
     ("REDIS_URL", "redis://"), ("serve", "demo")),
    ("redis refused", lambda e: e.update(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"),
     ("Redis", "连接被拒绝"), ("serve", "demo")),
    ("cluster url with a database", lambda e: e.update(REDIS_URL="redis+cluster://127.0.0.1:7000/2"),
     ("REDIS_URL", "redis+cluster://", "0 号库"), ("serve",)),
    ("cluster refused", lambda e: e.update(REDIS_URL=f"redis+cluster://127.0.0.1:{free_port()}"),
     ("Redis Cluster", "连接被拒绝"), ("serve",)),
    ("cluster url to a plain redis", lambda e: e.update(
        REDIS_URL=e["REDIS_URL"].replace("redis://", "redis+cluster://").rsplit("/", 1)[0]),
     ("Redis Cluster", "cluster-enabled"), ("serve",)),
    ("port not a number", lambda e: e.update(AUCTION_PORT="80a"),
     ("AUCTION_PORT",), ("serve", "demo")),
    ("bad log format", lambda e: e.update(AUCTION_LOG_FORMAT="xml"),
     ("AUCTION_LOG_FORMAT", "json"), ("serve", "migrate")),
]


def _assert_one_line(result: object, words: tuple[str, ...], command: str) -> None:
    import subprocess

    assert isinstance(result, subprocess.CompletedProcess)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, f"expected one line, got:\n{result.stderr}"
    assert lines[0].startswith(f"auction {command}: "), lines[0]
    for word in words:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"
    assert "Traceback" not in result.stderr
    assert "已启动" not in result.stderr
    assert "pw" not in lines[0].replace("password", ""), "a password is shown"


@pytest.mark.parametrize(
    ("case", "change", "words", "command"),
    [(c, ch, w, cmd) for c, ch, w, cmds in CASES for cmd in cmds],
    ids=[f"{cmd}-{c.replace(' ', '-')}" for c, _, _, cmds in CASES for cmd in cmds],
)
async def test_configuration_error_is_one_line_and_exit_2(
    auction_env: Env, case: str, change: Callable[[Env], None], words: tuple[str, ...],
    command: str,
) -> None:
    """Each configuration error ends the command with exit code 2 and one line naming it."""
    change(auction_env)
    result = await asyncio.to_thread(run_auction, [command], auction_env)
    _assert_one_line(result, words, command)


@pytest.mark.parametrize("command", ["serve", "demo"])
async def test_port_in_use_is_reported_before_anything_starts(
    auction_env: Env, command: str
) -> None:
    """A port already in use is one line and exit 2, and nothing says the server started."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        auction_env["AUCTION_PORT"] = str(taken.getsockname()[1])
        result = await asyncio.to_thread(run_auction, [command], auction_env)
    _assert_one_line(result, ("端口", "已被占用", auction_env["AUCTION_PORT"]), command)


async def test_debug_level_shows_the_traceback(auction_env: Env) -> None:
    """With AUCTION_LOG_LEVEL=DEBUG the same error comes with its traceback."""
    _refused_pg(auction_env)
    auction_env["AUCTION_LOG_LEVEL"] = "DEBUG"
    result = await asyncio.to_thread(run_auction, ["migrate"], auction_env)
    assert result.returncode == 2
    assert "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("auction migrate: ")


async def test_json_log_format_makes_the_error_a_json_line(auction_env: Env) -> None:
    """With AUCTION_LOG_FORMAT=json the one line is a JSON object (level CRITICAL)."""
    auction_env.update(AUCTION_LOG_FORMAT="json", DATABASE_URL="mysql://u@db.example/auction")
    result = await asyncio.to_thread(run_auction, ["serve"], auction_env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    entry = json.loads(lines[0])
    assert entry["level"] == "CRITICAL" and entry["logger"] == "auction"
    assert entry["message"].startswith("auction serve: DATABASE_URL")
    assert entry["time"][-6] in "+-", entry["time"]


async def test_migrate_with_good_settings_exits_0(auction_env: Env) -> None:
    """The happy path of the same command: the session database is up to date, exit 0."""
    result = await asyncio.to_thread(run_auction, ["migrate"], auction_env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
