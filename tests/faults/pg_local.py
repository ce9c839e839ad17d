"""A throwaway PostgreSQL cluster of the test's own, to stop, kill, freeze and thaw.

Never the machine's cluster: :class:`LocalPostgres` runs ``initdb`` into a fresh temp dir and
``pg_ctl start`` on a free port of 127.0.0.1 (with its Unix socket in the same temp dir), so a
fault test can do to it what it likes. The binaries are the Debian ``postgresql`` package's
(``/usr/lib/postgresql/<major>/bin``). PostgreSQL refuses to run as root: when the tests run as
root, every binary is run as the ``postgres`` system user (``runuser``) and the temp dir is
handed to that user.

``stop()`` is ``pg_ctl stop -m immediate`` (a crash, as far as clients can tell);
``freeze()`` sends SIGSTOP to the postmaster and every child of it (the backends holding the
app's connections included), ``thaw()`` SIGCONT; a frozen server accepts TCP connections (the
kernel does the handshake) and never answers, which is the case timeouts must handle.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parents[1].name))
    return Path(found[-1]).parent if found else None


def available() -> str | None:
    """``None`` when a local cluster can be made here, else the reason it cannot."""
    if _bin_dir() is None:
        return "no /usr/lib/postgresql/*/bin/initdb (Debian postgresql package)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run initdb as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    """Every process whose parent is ``pid`` (from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may contain spaces: split after it
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


class LocalPostgres:
    """One cluster in a temp dir: ``init()``, ``start()``, ``stop()``, ``freeze()`` …"""

    def __init__(self) -> None:
        bin_dir = _bin_dir()
        assert bin_dir is not None, available()
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="auction-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.log = self.root / "postgres.log"
        self._user: list[str] = []
        if os.geteuid() == 0:
            self._user = ["runuser", "-u", "postgres", "--"]
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url_of(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run([*self._user, *args], check=True, timeout=timeout,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def init(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
                   " -c fsync=off -c full_page_writes=off -c synchronous_commit=off")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                  "-o", options, "-w", "-t", "30", "start")

    def stop(self, mode: str = "immediate") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def _signal_all(self, sig: signal.Signals) -> None:
        main = self.postmaster_pid()
        # the postmaster first on stop (it would otherwise fork new backends), last on continue
        pids = [main, *_children(main)]
        for pid in pids if sig == signal.SIGSTOP else reversed(pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def freeze(self) -> None:
        """SIGSTOP the postmaster and all its children."""
        self._signal_all(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal_all(signal.SIGCONT)

    def cleanup(self) -> None:
        """Stop the cluster if it runs (thawing it first) and remove the temp dir."""
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            with contextlib.suppress(Exception):
                self.thaw()
            with contextlib.suppress(Exception):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def local_postgres() -> Iterator[LocalPostgres]:
    """A started cluster, stopped and removed afterwards whatever happened."""
    pg = LocalPostgres()
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        pg.cleanup()
