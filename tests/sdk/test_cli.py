"""Amounts as people write them, and the terminal bidder against the fake server: the server
address from its option or the environment, the amount shown before it is sent, and failures
told in words rather than as Python exceptions or close codes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from auction_client import cli
from auction_client.errors import AmountError
from auction_client.money import parse_amount
from sdk_fake_server import FakeServer

from tests.ports import free_port


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    async with FakeServer() as fake:
        yield fake


@pytest.mark.parametrize(("text", "fen"), [
    ("21万", 21_000_000), ("21.5万", 21_500_000), ("21万元", 21_000_000),
    ("210,000", 21_000_000), ("210000.00", 21_000_000), ("210000元", 21_000_000),
    ("¥210,000", 21_000_000), ("２１万", 21_000_000), (" 21 万 ", 21_000_000),
    ("1,234.5元", 123_450), ("0.01", 1), ("1.2亿", 12_000_000_000), ("2100分", 2100),
    ("158.5万", 158_500_000),
])
def test_amounts_people_write_are_read_as_fen(text: str, fen: int) -> None:
    """万, 亿, 元, thousands commas, decimals, a ¥ sign and full-width digits are read."""
    assert parse_amount(text) == fen


@pytest.mark.parametrize(("text", "said"), [
    ("", "请输入金额"), ("abc", "无法识别"), ("21,0000", "千位分隔符"), ("1,5万", "千位分隔符"),
    ("-5", "大于 0"), ("0", "大于 0"), ("21.555", "精确到分"), ("1e5", "无法识别"),
    ("21万万", "无法识别"), ("1" + "0" * 17, "上限"), ("nan", "无法识别"),
])
def test_other_amounts_are_refused_in_chinese(text: str, said: str) -> None:
    """Anything else is an AmountError (a ValueError) whose message says what is wrong."""
    with pytest.raises(AmountError) as info:
        parse_amount(text)
    assert said in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(("option", "env", "url"), [
    (None, {}, "ws://127.0.0.1:8000/ws"),
    (None, {"AUCTION_PORT": "9123"}, "ws://127.0.0.1:9123/ws"),
    (None, {"AUCTION_HOST": "0.0.0.0", "AUCTION_PORT": "9123"}, "ws://127.0.0.1:9123/ws"),
    (None, {"AUCTION_URL": "http://auction.example:8080"}, "ws://auction.example:8080/ws"),
    (None, {"AUCTION_URL": "https://auction.example/", "AUCTION_PORT": "1"},
     "wss://auction.example/ws"),
    ("ws://h:1/ws", {"AUCTION_URL": "http://other:2"}, "ws://h:1/ws"),
    ("h:7", {}, "ws://h:7/ws"),
])
def test_server_address_from_option_or_environment(
    option: str | None, env: dict[str, str], url: str
) -> None:
    """``--url`` wins, then AUCTION_URL (http becomes ws), then AUCTION_HOST/AUCTION_PORT."""
    assert cli.server_url(option, env) == url


async def run(*argv: str, env: dict[str, str] | None = None,
              answer: str | None = None) -> int:
    """``cli.main`` in a thread (it runs its own event loop), next to the fake server."""
    ask = None if answer is None else (lambda prompt: answer)
    return await asyncio.to_thread(cli.main, list(argv), env=env or {}, ask=ask)


async def test_bid_shows_the_amount_then_bids(
    server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--amount 10万`` is shown as read, confirmed, then sent as 10,000,000 fen; the server
    address comes from AUCTION_URL."""
    code = await run("bid", "--token", "good", "--lot", "1", "--amount", "10万",
                     env={"AUCTION_URL": server.url}, answer="y")
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.index("出价金额：100,000.00 元（10万元）") < out.index("出价成功")
    assert [m["amount"] for m in server.received if m["t"] == "bid"] == [10_000_000]


async def test_declined_confirmation_sends_nothing(
    server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Answering anything but y at the prompt cancels: no bid reaches the server."""
    code = await run("bid", "--url", server.url, "--token", "good", "--lot", "1",
                     "--amount", "100,000", answer="n")
    assert code == 2 and "已取消" in capsys.readouterr().out
    assert not [m for m in server.received if m["t"] == "bid"]


async def test_a_refused_bid_says_why_and_the_lowest_valid_amount(
    server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bid under the start price is refused with the server's words and the minimum."""
    code = await run("bid", "--url", server.url, "--token", "good", "--lot", "1",
                     "--amount", "9万", "--yes")
    out = capsys.readouterr().out
    assert code == 1
    assert "出价被拒：出价过低（最低可出 100,000.00 元）" in out


async def test_an_expired_token_is_told_in_words(
    server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A token the server refuses (close 4401) reads 登录已过期，请重新登录, with no close code."""
    code = await run("bid", "--url", server.url, "--token", "bad", "--lot", "1",
                     "--amount", "10万", "--yes")
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == "登录已过期，请重新登录"
    assert "4401" not in err


async def test_a_bad_amount_is_told_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    """An unreadable amount is refused before connecting, without Python's own wording."""
    code = await run("bid", "--token", "good", "--lot", "1", "--amount", "21,0000")
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("金额有误：") and "千位分隔符" in err
    assert "invalid" not in err and "Traceback" not in err and "_amount" not in err


async def test_no_server_listening_is_told_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    """A port nobody listens on names the settings to check (AUCTION_PORT among them)."""
    port = free_port()
    code = await run("watch", "--lot", "1", env={"AUCTION_PORT": str(port)})
    err = capsys.readouterr().err
    assert code == 2
    assert "无法连接服务器" in err and f"127.0.0.1:{port}" in err and "AUCTION_PORT" in err
    assert "Errno" not in err
