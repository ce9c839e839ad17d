"""``auction verify`` and ``auction export`` (docs/operations.md "Verifying the record").

- ``auction verify [--lot ID | --session ID | --market CODE]``: recompute, from PostgreSQL
  alone, every chain in scope (each lot's events; with ``--session`` / ``--market`` / nothing,
  the markets' back-office chains too) and every settled result (:mod:`auction.audit.verify`).
  Without an option: everything.
- ``auction verify --bundle FILE``: the same over an export bundle, with no database.
- ``auction verify --receipt FILE [--bundle FILE] [--key KEY]``: a bid receipt's Ed25519
  signature, with the published public key ``KEY`` (a file holding, or the text of, what
  ``GET /api/v1/receipts/key`` answers, its base64 ``public_key`` or its PEM; without it: this
  server's own key, ``AUCTION_RECEIPT_KEY``), and its entry in the lot's chain (in PostgreSQL,
  or in the bundle), then that chain, and the session's head it leads to.
- ``auction export --session ID [--out FILE]``: the session's bundle
  (:mod:`auction.audit.bundle`), by default ``session-<ID>-record.json``.

Output: one line per finding (``MISMATCH lot 12 seq 5: …``, the first one first) and a summary
line, on stdout. Exit status: 0 everything checked is intact, 1 a mismatch was found (or the
receipt does not check), 2 with one line on stderr when the request cannot be carried out (bad
options, an unknown session, an unreadable file, PostgreSQL unusable).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auction.audit import bundle as bundles
from auction.audit import receipts
from auction.audit.chain import session_head
from auction.audit.verify import LotRecord, Report, verify_audit, verify_lots
from auction.domain.inputs import parse_id
from auction.settings import Settings, redact
from auction.store import Store
from auction.store import chain as store_chain
from auction.store.errors import StoreError

log = logging.getLogger("auction.audit")


class Refused(Exception):
    """The request cannot be carried out; ``str`` is the line to print (exit 2)."""


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``verify`` and ``export`` to the ``auction`` command."""
    verify = subparsers.add_parser(
        "verify", help="recompute the chained record and the settled results",
        description="Recompute every hash chain and settled result in scope; exit 1 naming the "
        "lot and entry of the first mismatch. Give at most one of --lot, --session, --market.",
    )
    verify.add_argument("--lot", metavar="ID", help="one lot")
    verify.add_argument("--session", metavar="ID", help="every lot of a session, its market")
    verify.add_argument("--market", metavar="CODE", help="every lot of a market, its chain")
    verify.add_argument("--bundle", metavar="FILE", help="an export bundle, no database")
    verify.add_argument("--receipt", metavar="FILE", help="a bid receipt")
    verify.add_argument("--key", metavar="KEY", help="with --receipt: the published receipt "
                        "key (GET /api/v1/receipts/key: the JSON, its public_key or its PEM; "
                        "a file or the text); default this server's own")
    export = subparsers.add_parser(
        "export", help="write a session's record as a self-contained bundle",
        description="Write the session's chained record (lots, results, its market's "
        "back-office chain, the session head) as JSON that 'auction verify --bundle' checks.",
    )
    export.add_argument("--session", metavar="ID", required=True)
    export.add_argument("--out", metavar="FILE", help="default session-<ID>-record.json")


def needs_database(args: argparse.Namespace) -> bool:
    """Whether the command reads PostgreSQL (a bundle alone does not)."""
    return not (args.command == "verify" and args.bundle is not None)


def _id(value: str, option: str) -> int:
    try:
        return parse_id(value.strip())
    except ValueError:
        raise Refused(f"{option} must be a positive id, not {value!r}") from None


def _load(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise Refused(f"cannot read the {what} {path}: {exc}") from None


def _print_report(report: Report) -> int:
    for finding in report.findings:
        print(f"MISMATCH {finding}", flush=True)
    summary = (f"{report.lots} lots, {report.events} events, {report.results} results, "
               f"{report.markets} back-office chains ({report.audit_entries} entries)")
    if report.ok:
        print(f"OK: {summary}", flush=True)
        return 0
    print(f"FAILED: {len(report.findings)} mismatch(es) in {summary}", flush=True)
    return 1


@dataclass(slots=True)
class _Scope:
    lot_ids: list[int]
    markets: list[int | None]


async def _scope(store: Store, args: argparse.Namespace) -> _Scope:
    chosen = [o for o in ("lot", "session", "market") if getattr(args, o) is not None]
    if len(chosen) > 1:
        raise Refused("give at most one of --lot, --session, --market")
    if args.lot is not None:
        lot_id = _id(args.lot, "--lot")
        return _Scope([lot_id], [])
    if args.session is not None:
        info = await store_chain.session(store, _id(args.session, "--session"))
        if info is None:
            raise Refused(f"no session {args.session}")
        return _Scope(await store_chain.session_lots(store, info.id), [info.market_id])
    if args.market is not None:
        market = await store_chain.market_id(store, args.market.strip())
        if market is None:
            raise Refused(f"no market {args.market!r}")
        return _Scope(await store_chain.market_lots(store, args.market.strip()), [market])
    return _Scope(await store_chain.all_lots(store), await store_chain.audit_markets(store))


async def _verify_db(store: Store, args: argparse.Namespace) -> int:
    scope = await _scope(store, args)
    lots = await store_chain.lot_records(store, scope.lot_ids)
    if args.lot is not None and not lots:
        raise Refused(f"no lot {args.lot}")
    report = Report()
    verify_lots(lots, report)
    verify_audit(await store_chain.audit_chains(store, scope.markets), report)
    return _print_report(report)


def _check_receipt_in(lot: LotRecord | None, receipt: receipts.Receipt) -> str | None:
    """What is wrong with the receipt's entry in ``lot``'s chain, or None."""
    if lot is None:
        return f"lot {receipt.lot_id} is not in the record"
    entry = next((e for e in lot.entries if e.seq == receipt.seq), None)
    if entry is None:
        return f"lot {receipt.lot_id} seq {receipt.seq} is not in the record"
    if entry.kind != "bid":
        return f"lot {receipt.lot_id} seq {receipt.seq} is a {entry.kind}, not a bid"
    if (entry.sha256, entry.amount_fen, entry.paddle, entry.at_ms) != (
            receipt.sha256, receipt.amount_fen, receipt.paddle, receipt.at_ms):
        return (f"lot {receipt.lot_id} seq {receipt.seq}: the record holds sha256 "
                f"{entry.sha256}, amount {entry.amount_fen}, paddle {entry.paddle}, at_ms "
                f"{entry.at_ms}; the receipt says {receipt.sha256}, {receipt.amount_fen}, "
                f"{receipt.paddle}, {receipt.at_ms}")
    return None


async def _verify_receipt(store: Store | None, args: argparse.Namespace,
                          settings: Settings) -> int:
    receipt, signature = _parse_receipt(args.receipt)
    key = _receipt_key(getattr(args, "key", None), settings)
    print(f"receipt key {key.key_id} ({key.b64}); compare it with GET /api/v1/receipts/key",
          flush=True)
    problems: list[str] = []
    if not key.verifies(receipt, signature):
        problems.append(f"the signature is not made with receipt key {key.key_id}")
    report = Report()
    head: str | None = None
    if args.bundle is not None:
        raw = _load(args.bundle, "bundle")
        try:
            session_id, head, lots, _market, _audit = bundles.parse(raw)
            report = bundles.verify(raw)
        except bundles.BundleError as exc:
            raise Refused(f"{args.bundle}: {exc}") from None
        if session_id != receipt.session_id:
            problems.append(f"the bundle is of session {session_id}, the receipt of "
                            f"session {receipt.session_id}")
        lot = next((x for x in lots if x.lot_id == receipt.lot_id), None)
    else:
        assert store is not None
        lots = await store_chain.lot_records(store, [receipt.lot_id])
        lot = lots[0] if lots else None
        if lot is not None:
            verify_lots([lot], report)
            heads = await store_chain.session_heads(store, [lot.session_id])
            head = heads.get(lot.session_id)
    problem = _check_receipt_in(lot, receipt)
    if problem is not None:
        problems.append(problem)
    for finding in report.findings:
        problems.append(str(finding))
    for line in problems:
        print(f"MISMATCH {line}", flush=True)
    if problems:
        print(f"FAILED: receipt for lot {receipt.lot_id} seq {receipt.seq}", flush=True)
        return 1
    print(f"OK: receipt for lot {receipt.lot_id} seq {receipt.seq} (amount "
          f"{receipt.amount_fen} fen, paddle {receipt.paddle}) is signed with key "
          f"{key.key_id} and "
          f"is entry {receipt.sha256} of the lot's intact chain", flush=True)
    if head is not None:
        print(f"session {receipt.session_id} head: {head} (compare with its 成交公示 page)",
              flush=True)
    else:
        print(f"session {receipt.session_id} is not finished yet: no head published",
              flush=True)
    return 0


def _receipt_key(given: str | None, settings: Settings) -> receipts.PublicKey:
    """The key ``--key`` names (a file, or the text itself), else this server's own."""
    try:
        if not given:
            return receipts.Signer(settings.receipt_key.value).public
        path = Path(given)
        try:
            text = path.read_text(encoding="utf-8") if path.is_file() else given
        except (OSError, UnicodeDecodeError) as exc:
            raise Refused(f"cannot read the key {given}: {exc}") from None
        return receipts.PublicKey.parse(text)
    except (receipts.ReceiptError, ValueError) as exc:
        raise Refused(f"--key: {exc}") from None


def _parse_receipt(path: str) -> tuple[receipts.Receipt, str]:
    try:
        return receipts.parse(_load(path, "receipt"))
    except receipts.ReceiptError as exc:
        raise Refused(f"{path}: {exc}") from None


async def _export(store: Store, args: argparse.Namespace) -> int:
    info = await store_chain.session(store, _id(args.session, "--session"))
    if info is None:
        raise Refused(f"no session {args.session}")
    lots = await store_chain.lot_records(store, await store_chain.session_lots(store, info.id))
    audit = (await store_chain.audit_chains(store, [info.market_id]))[info.market_id]
    document = bundles.build(
        {"id": info.id, "name": info.name, "market_id": info.market_id,
         "market_code": info.market_code, "status": info.status},
        lots, info.market_id, audit,
    )
    out = Path(args.out or f"session-{info.id}-record.json")
    try:
        out.write_text(bundles.dumps(document), encoding="utf-8")
    except OSError as exc:
        raise Refused(f"cannot write {out}: {exc}") from None
    head = session_head(info.id, [lot.head() for lot in lots])
    print(f"wrote {out}: session {info.id}, {len(lots)} lots, "
          f"{sum(len(lot.entries) for lot in lots)} events, {len(audit)} back-office entries; "
          f"head {head}", flush=True)
    return 0


def _verify_bundle(args: argparse.Namespace) -> int:
    raw = _load(args.bundle, "bundle")
    try:
        report = bundles.verify(raw)
    except bundles.BundleError as exc:
        raise Refused(f"{args.bundle}: {exc}") from None
    code = _print_report(report)
    if report.ok:
        print(f"session {raw['session']['id']} head: {raw['session']['head_sha256']}",
              flush=True)
    return code


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Carry out ``verify`` or ``export``; the exit status (module docstring)."""
    prog = f"auction {args.command}"
    try:
        if args.command == "verify" and args.receipt is None and args.bundle is not None:
            if any(getattr(args, o) is not None for o in ("lot", "session", "market")):
                raise Refused("--bundle checks the whole bundle: no --lot/--session/--market")
            return _verify_bundle(args)
        if args.command == "verify" and args.receipt is not None and args.bundle is not None:
            return await _verify_receipt(None, args, settings)
        if not settings.database_url:
            raise Refused("DATABASE_URL is not set")
        try:
            store = await Store.connect(settings.database_url, min_size=1, max_size=2)
        except StoreError as exc:
            cause = exc.__cause__ or exc
            raise Refused(f"cannot use PostgreSQL ({redact(settings.database_url)}): "
                          f"{type(cause).__name__}: {cause}") from None
        try:
            if args.command == "export":
                return await _export(store, args)
            if args.receipt is not None:
                return await _verify_receipt(store, args, settings)
            return await _verify_db(store, args)
        except StoreError as exc:
            raise Refused(f"PostgreSQL failed: {exc}") from None
        finally:
            await store.close()
    except Refused as exc:
        print(f"{prog}: {exc}", file=sys.stderr, flush=True)
        return 2
