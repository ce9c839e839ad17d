"""Log lines: ``AUCTION_LOG_FORMAT=json`` gives one JSON object per line, plain otherwise; times
carry their UTC offset in both; uvicorn's loggers go through the same formatter; the HTTP access
log is off unless ``--access-log``."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import sys

import httpx

from auction import logs
from tests.ops.conftest import serving

OFFSET_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")


def _record(logger: str, message: str, level: int = logging.INFO,
            exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("boom\nsecond line")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord(logger, level, __file__, 1, message, None, exc_info)


def test_json_formatter_writes_one_parseable_object_per_record() -> None:
    """Message, level, logger, time with offset and the traceback text, on one line."""
    formatter = logs.JsonFormatter()
    line = formatter.format(_record("auction.ws", "出价 %s 元\n第二行", exc=True))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "INFO" and entry["logger"] == "auction.ws"
    assert entry["message"] == "出价 %s 元\n第二行"
    assert OFFSET_TIME.match(entry["time"]), entry["time"]
    assert "Traceback" in entry["exc_info"] and "ValueError: boom" in entry["exc_info"]
    assert "exc_info" not in json.loads(formatter.format(_record("a", "no error")))


def test_plain_formatter_time_has_the_offset() -> None:
    """A plain line starts with the local time and its UTC offset."""
    line = logs.PlainFormatter().format(_record("auction.app", "ready"))
    stamp, level, rest = line.split(" ", 2)
    assert OFFSET_TIME.match(stamp), stamp
    assert level == "INFO" and rest.strip() == "auction.app: ready"


async def test_serve_with_json_logs_in_china_time(auction_env: dict[str, str]) -> None:
    """`auction serve` with AUCTION_LOG_FORMAT=json and TZ=Asia/Shanghai: every stderr line is
    a JSON object with a +08:00 time, uvicorn's lines included; no access log by default."""
    auction_env.update(AUCTION_LOG_FORMAT="json", TZ="Asia/Shanghai")
    async with serving(auction_env) as server:
        async with httpx.AsyncClient() as http:
            assert (await http.get(server.base + "/healthz")).status_code == 200
            # a served process measures its event loop from the start (auction/eventloop.py)
            await asyncio.sleep(0.5)
            scraped = (await http.get(server.base + "/metrics")).text
        assert await server.stop() == 0
    ticks = [line for line in scraped.splitlines()
             if line.startswith("auction_event_loop_lag_seconds_count ")]
    assert ticks and float(ticks[0].split()[1]) >= 2, scraped[-2000:]
    entries = [json.loads(line) for line in server.stderr().splitlines()]
    assert entries, "no log lines"
    for entry in entries:
        assert entry["time"].endswith("+08:00"), entry
        assert {"time", "level", "logger", "message"} <= entry.keys()
    loggers = {e["logger"] for e in entries}
    assert "uvicorn.error" in loggers, loggers
    assert "uvicorn.access" not in loggers, "access log is off unless asked for"
    assert any("已启动" in e["message"] for e in entries)


async def test_plain_logs_in_utc_with_access_log(auction_env: dict[str, str]) -> None:
    """Plain lines carry +00:00 on a UTC machine; --access-log logs each request."""
    auction_env.update(TZ="UTC")
    async with serving(auction_env, "--access-log") as server:
        async with httpx.AsyncClient() as http:
            assert (await http.get(server.base + "/healthz")).status_code == 200
        assert await server.stop() == 0
    lines = [line for line in server.stderr().splitlines() if line[:1].isdigit()]
    assert lines
    for line in lines:
        assert OFFSET_TIME.match(line.split(" ", 1)[0]), line
        assert line.split(" ", 1)[0].endswith("+00:00"), line
    assert any("uvicorn.access" in line and "/healthz" in line for line in lines)


def test_setup_routes_everything_through_one_handler() -> None:
    """After setup, uvicorn's loggers have no handler of their own and reach the root's."""
    root = logging.getLogger()
    uvicorn_error = logging.getLogger("uvicorn.error")
    saved = (list(root.handlers), root.level, uvicorn_error.level)
    stream = io.StringIO()
    try:
        logs.setup("INFO", "json", stream=stream)
        uvicorn_error.setLevel(logging.INFO)  # an earlier in-process server may have raised it
        logging.getLogger("uvicorn.error").info("Started server process [%d]", 1)
        logging.getLogger("uvicorn.error").info('%s - "WebSocket %s" [accepted]', "a", "/ws")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        uvicorn_error.setLevel(saved[2])
    lines = stream.getvalue().splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["Started server process [1]"]
