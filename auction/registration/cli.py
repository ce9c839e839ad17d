"""``auction registration retry --lot ID | --all-dead``: re-queue dead registration rows.

The operator's way back from a dead letter (docs/operations.md "Contract registration"): after
the receiver is fixed, or a refused packet's cause is dealt with, the row is put back in the
queue with fresh counters and a fresh retry window (:func:`auction.store.outbox.requeue`); the
running deliverers pick it up within a second. ``last_error`` keeps why it had died.

Output: one line per re-queued lot on stdout, then a summary line. Exit status: 0 done (also
when ``--all-dead`` finds nothing), 2 with one line on stderr when the request cannot be done
(not exactly one of the options, a bad or unknown lot id, a lot without a registration row, a
row that is not dead), 1 when PostgreSQL cannot be used.
"""

from __future__ import annotations

import argparse
import logging
import sys

from auction.settings import Settings, redact
from auction.store import Store, outbox
from auction.store.errors import Conflict, NotFound, StoreError

log = logging.getLogger("auction.registration")

PROG = "auction registration retry"
MAX_LOT_ID = 2**63 - 1


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add ``registration`` (with its ``retry`` subcommand) to the ``auction`` command."""
    parser = subparsers.add_parser(
        "registration", help="contract-registration outbox: re-queue dead rows"
    )
    actions = parser.add_subparsers(dest="registration_command", required=True, metavar="retry")
    retry = actions.add_parser(
        "retry", help="put dead registration rows back in the delivery queue",
        description="Re-queue dead registration rows: fresh attempts and a fresh 7-day retry "
        "window; last_error keeps why the row had died. Give exactly one of the options.",
    )
    # a string, checked in run(): a bad value is one clear line, not argparse's usage block
    retry.add_argument("--lot", metavar="ID", help="re-queue this lot's dead row")
    retry.add_argument("--all-dead", action="store_true", help="re-queue every dead row")
    return parser


def _say(line: str) -> None:
    print(line, flush=True)


def _refuse(line: str) -> int:
    print(f"{PROG}: {line}", file=sys.stderr, flush=True)
    return 2


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Carry out ``registration retry``; the exit status (module docstring)."""
    lot_arg: str | None = args.lot
    all_dead: bool = args.all_dead
    if (lot_arg is None) == (not all_dead):
        return _refuse("give exactly one of --lot ID or --all-dead")
    lot_id = 0
    if lot_arg is not None:
        text = lot_arg.strip()
        if not (text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_LOT_ID):
            return _refuse(f"--lot must be a positive lot id, not {lot_arg!r}")
        lot_id = int(text)
    if not settings.database_url:
        return _refuse("DATABASE_URL is not set")
    try:
        store = await Store.connect(settings.database_url, min_size=1, max_size=2)
    except StoreError as exc:
        cause = exc.__cause__ or exc
        print(f"{PROG}: cannot use PostgreSQL ({redact(settings.database_url)}): "
              f"{type(cause).__name__}: {cause}", file=sys.stderr, flush=True)
        return 1
    try:
        if all_dead:
            requeued = await outbox.requeue_all_dead(store)
        else:
            await outbox.requeue(store, lot_id)
            requeued = [lot_id]
    except (NotFound, Conflict) as exc:
        return _refuse(exc.message)
    except Exception as exc:  # one line for the operator; the traceback at DEBUG
        log.debug("registration retry failed", exc_info=True)
        print(f"{PROG}: failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        await store.close()
    for lot in requeued:
        _say(f"lot {lot}: re-queued (pending, due now)")
    if requeued:
        _say(f"re-queued {len(requeued)} registration row(s); running deliverers send them "
             "within seconds")
    else:
        _say("no dead registration rows; nothing to re-queue")
    return 0
