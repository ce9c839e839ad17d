"""The key that signs tokens survives restarts: kept in ``<AUCTION_DATA_DIR>/secret`` when
``AUCTION_SECRET`` is not set, created once, atomically, with mode 0600; so does the Ed25519 key
that signs bid receipts (``AUCTION_RECEIPT_KEY``, else ``<AUCTION_DATA_DIR>/receipt-key``)."""

from __future__ import annotations

import base64
import stat
import threading
from pathlib import Path

import pytest

from auction.api.tokens import Principal, TokenError, Tokens
from auction.settings import (
    RECEIPT_KEY_FILE,
    SECRET_FILE,
    ConfigError,
    Secret,
    Settings,
    load_or_create_secret,
)


def test_secret_is_generated_once_and_read_back(tmp_path: Path) -> None:
    """Two loads of the settings (a restart) use the same key, kept in a 0600 file."""
    env = {"AUCTION_DATA_DIR": str(tmp_path / "data")}
    first = Settings.from_env(env)
    second = Settings.from_env(env)
    path = tmp_path / "data" / SECRET_FILE
    assert first.secret == second.secret
    assert first.secret_file == path
    assert len(first.secret.value) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(
        [SECRET_FILE, RECEIPT_KEY_FILE]), "no temp file left"


def test_a_token_minted_before_a_restart_is_valid_after(tmp_path: Path) -> None:
    """A bidder's token survives the restart of the process that minted it."""
    env = {"AUCTION_DATA_DIR": str(tmp_path)}
    before = Tokens(Settings.from_env(env).secret, Secret(""))
    token = before.mint(Principal(role="bidder", subject="b1", bidder_id=1, session_id=2,
                                  paddle=101))
    after = Tokens(Settings.from_env(env).secret, Secret(""))
    assert after.verify(token).paddle == 101
    other = Tokens(Settings.from_env({"AUCTION_DATA_DIR": str(tmp_path / "other")}).secret,
                   Secret(""))
    with pytest.raises(TokenError):
        other.verify(token)


def test_auction_secret_wins_and_no_file_is_written(tmp_path: Path) -> None:
    """With AUCTION_SECRET set the data dir is not touched for the key."""
    settings = Settings.from_env({"AUCTION_DATA_DIR": str(tmp_path), "AUCTION_SECRET": "s" * 40})
    assert settings.secret.value == "s" * 40
    assert settings.secret_file is None
    assert not (tmp_path / SECRET_FILE).exists()


def test_concurrent_starts_agree_on_one_key(tmp_path: Path) -> None:
    """Many processes starting at once (threads racing on the file system here) all end up
    with the key that won, and exactly one file exists."""
    for round_no in range(20):
        data_dir = tmp_path / f"round-{round_no}"
        barrier = threading.Barrier(8)
        keys: list[str] = []

        def start(data_dir: Path = data_dir, barrier: threading.Barrier = barrier,
                  keys: list[str] = keys) -> None:
            barrier.wait()
            keys.append(load_or_create_secret(data_dir).value)

        threads = [threading.Thread(target=start) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(keys) == 8 and len(set(keys)) == 1, keys
        assert (data_dir / SECRET_FILE).read_text().strip() == keys[0]
        assert [p.name for p in data_dir.iterdir()] == [SECRET_FILE]


def test_an_empty_secret_file_is_a_configuration_error(tmp_path: Path) -> None:
    """A truncated key file is refused with a line that says what to do."""
    (tmp_path / SECRET_FILE).write_text("")
    with pytest.raises(ConfigError, match="AUCTION_SECRET"):
        Settings.from_env({"AUCTION_DATA_DIR": str(tmp_path)})


def test_the_receipt_key_is_generated_once_or_taken_from_the_setting(tmp_path: Path) -> None:
    """Without AUCTION_RECEIPT_KEY a 32-byte seed is generated once (0600) and read back; a
    base64 seed, or a file holding one, is used as given; anything else is refused naming
    the variable."""
    env = {"AUCTION_DATA_DIR": str(tmp_path / "data")}
    first, second = Settings.from_env(env), Settings.from_env(env)
    path = tmp_path / "data" / RECEIPT_KEY_FILE
    assert first.receipt_key == second.receipt_key and first.receipt_key_file == path
    assert len(base64.b64decode(first.receipt_key.value)) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.receipt_key.value not in repr(first)
    seed = base64.b64encode(bytes(range(32))).decode()
    given = Settings.from_env({"AUCTION_DATA_DIR": str(tmp_path / "d2"),
                               "AUCTION_RECEIPT_KEY": seed})
    assert given.receipt_key.value == seed and given.receipt_key_file is None
    assert not (tmp_path / "d2" / RECEIPT_KEY_FILE).exists()
    (tmp_path / "key.txt").write_text(seed + "\n")
    from_file = Settings.from_env({"AUCTION_DATA_DIR": str(tmp_path / "d3"),
                                   "AUCTION_RECEIPT_KEY": str(tmp_path / "key.txt")})
    assert from_file.receipt_key.value == seed
    for bad in ("short", base64.b64encode(b"x" * 31).decode(), str(tmp_path / "missing")):
        with pytest.raises(ConfigError, match="AUCTION_RECEIPT_KEY"):
            Settings.from_env({"AUCTION_DATA_DIR": str(tmp_path / "d4"),
                               "AUCTION_RECEIPT_KEY": bad})
