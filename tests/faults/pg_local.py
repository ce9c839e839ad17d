"""Freezing a PostgreSQL cluster of the test's own (what :class:`tests.faults.cluster.PgCluster`
does not do): SIGSTOP to the postmaster *and every child of it* (the backends holding the app's
connections included), SIGCONT to wake them.

A frozen server is the case timeouts exist for: the kernel still completes TCP handshakes on its
listening socket, but nothing answers the startup packet or a query. Only the processes of the
cluster whose data dir is given are signalled (its ``postmaster.pid``), never the machine's.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().split()[0])


def children(pid: int) -> list[int]:
    """Every process whose parent is ``pid`` (from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: the fields follow the last ")"
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


def _signal_cluster(data_dir: Path, sig: signal.Signals) -> list[int]:
    main = postmaster_pid(data_dir)
    # stop the postmaster first (it would fork new backends), wake it last
    pids = [main, *children(main)]
    for pid in pids if sig == signal.SIGSTOP else reversed(pids):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    return pids


def freeze(data_dir: Path) -> list[int]:
    """SIGSTOP the cluster's postmaster and all its children; the pids signalled."""
    return _signal_cluster(data_dir, signal.SIGSTOP)


def thaw(data_dir: Path) -> list[int]:
    """SIGCONT the cluster's postmaster and all its children."""
    return _signal_cluster(data_dir, signal.SIGCONT)


@contextlib.contextmanager
def frozen(data_dir: Path) -> Iterator[None]:
    """The cluster frozen for the block, thawed on the way out whatever happened."""
    freeze(data_dir)
    try:
        yield
    finally:
        thaw(data_dir)
