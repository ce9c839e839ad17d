"""Free local ports for the servers tests start (uvicorn, ``auction serve``, redis-server,
PostgreSQL clusters).

A port is picked before the server binds it, so two pickers must never be handed the same one.
Each pytest process therefore takes its ports from a range of its own, below the kernel's
ephemeral range (32768–60999 by default): the workers of ``pytest -n`` (``PYTEST_XDIST_WORKER``
``gw0``, ``gw1``, …) never share a port, and no outgoing connection is given one between the
check and the server's bind (with ``bind(("127.0.0.1", 0))`` either could happen). Inside its
range a process walks on from a random start and skips any port it cannot bind (a server still
on it, another program's, a test run beside this one).

Ranges: worker ``n`` takes ``10000 + 2000 × (n mod 5)`` … ``+ 1999``, all below 20000, so a Redis
Cluster's bus ports (port + 10000 unless set) stay below the ephemeral range too.
"""

from __future__ import annotations

import itertools
import os
import random
import socket

BASE = 10_000
SPAN = 2_000
RANGES = 5


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    digits = worker.removeprefix("gw")
    return int(digits) % RANGES if digits.isdigit() else 0


_START = BASE + SPAN * _worker_index()
_STEPS = itertools.count(random.randrange(SPAN))


def free_port() -> int:
    """A port of this process's range that nothing listens on now, never handed out before by
    this process until its range wraps around."""
    for _ in range(SPAN):
        port = _START + next(_STEPS) % SPAN
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port in {_START}…{_START + SPAN - 1}")
