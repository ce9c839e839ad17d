"""Logging of the process: one handler on stderr, plain or JSON lines, times with their UTC offset.

:func:`setup` is called once by the CLI. Every logger goes through the root handler, uvicorn's
too: the CLI passes ``log_config=None`` to uvicorn, so uvicorn adds no handler of its own and its
``uvicorn.error`` / ``uvicorn.access`` records propagate here.

- ``plain`` (default): ``2026-11-30T12:34:56.789+08:00 INFO    auction.app: ready …``, then the
  traceback on the following lines when there is one.
- ``json`` (``AUCTION_LOG_FORMAT=json``): one object per line, for log shippers::

      {"time": "2026-11-30T12:34:56.789+08:00", "level": "INFO", "logger": "auction.app",
       "message": "ready …", "exc_info": "Traceback …"}

  ``exc_info`` (the formatted traceback) is present only when the record carries one.

Times are the process's local time with its offset (``+08:00`` in China, ``+00:00`` on a UTC
machine), the same instant the pages show, never a bare local time an operator has to guess.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from typing import TextIO

_PLAIN = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def timestamp(created: float) -> str:
    """``created`` (epoch seconds) as local ISO 8601 time with ms and the UTC offset."""
    return datetime.fromtimestamp(created).astimezone().isoformat(timespec="milliseconds")


class PlainFormatter(logging.Formatter):
    """``<time with offset> <LEVEL> <logger>: <message>`` (+ traceback lines)."""

    def __init__(self) -> None:
        super().__init__(_PLAIN)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return timestamp(record.created)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines inside strings are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter(fmt: str) -> logging.Formatter:
    """The formatter of ``AUCTION_LOG_FORMAT`` (``plain`` or ``json``)."""
    return JsonFormatter() if fmt == "json" else PlainFormatter()


class ConnectionNoise(logging.Filter):
    """Drops uvicorn's per-websocket lines (``"WebSocket /ws" [accepted]``, ``connection
    open``/``closed``): one pair per bidder connecting is an access log, not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.msg if isinstance(record.msg, str) else ""
        return not (msg.startswith('%s - "WebSocket ') or msg in _CONNECTION_LINES)


_CONNECTION_LINES = frozenset({"connection open", "connection closed"})
_NOISE = ConnectionNoise()


def setup(level: str, fmt: str = "plain", *, access_log: bool = False,
          stream: TextIO | None = None) -> None:
    """Route every logger to one stderr handler at ``level`` in format ``fmt``.

    Replaces handlers installed earlier on the root logger (a second call reconfigures).
    Libraries that chat at INFO (httpx: a line per request) are held at WARNING unless
    ``level`` is DEBUG. Without ``access_log`` uvicorn's per-websocket lines are dropped too
    (its HTTP access log is switched by uvicorn's own ``access_log``).
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    quiet = max(logging.WARNING, logging.getLevelName(level))
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(quiet)
    # uvicorn's loggers: no handlers of their own (log_config=None), so they reach this one
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    error_log = logging.getLogger("uvicorn.error")
    error_log.removeFilter(_NOISE)
    if not access_log:
        error_log.addFilter(_NOISE)
