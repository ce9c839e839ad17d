"""A session's record as one self-contained JSON file (``auction export --session ID``),
checked by ``auction verify --bundle FILE`` with no database (docs/formats.md "Export bundle").

Layout (UTF-8 JSON)::

    {"format": "auction-record-bundle", "version": 1,
     "session": {"id", "name", "market_id", "market_code", "head_sha256"},
     "lots": [{"lot_id", "entries": [<lot event row>...], "result": <result>|null}...],
     "audit": {"market_id", "entries": [<audit row>...]}}

Every row carries every column its canonical text is built from (``jsonb`` columns as the text
PostgreSQL printed), so the verifier recomputes each hash, each link, each result and the
session's head from the file alone.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from auction.audit.chain import AuditEntry, EventEntry, session_head
from auction.audit.verify import (
    Finding,
    LotRecord,
    Report,
    Result,
    verify_audit,
    verify_lots,
)

FORMAT = "auction-record-bundle"
VERSION = 1


class BundleError(ValueError):
    """The file is not a bundle this version reads."""


def build(
    session: dict[str, Any], lots: list[LotRecord], audit_market_id: int,
    audit: list[AuditEntry],
) -> dict[str, Any]:
    """The bundle of one session: its lots, their results, its market's back-office chain."""
    return {
        "format": FORMAT, "version": VERSION,
        "session": {**session, "head_sha256": session_head(session["id"],
                                                           [lot.head() for lot in lots])},
        "lots": [
            {"lot_id": lot.lot_id, "entries": [e.to_json() for e in lot.entries],
             "result": None if lot.result is None else lot.result.to_json()}
            for lot in lots
        ],
        "audit": {"market_id": audit_market_id, "entries": [asdict(e) for e in audit]},
    }


def dumps(bundle: dict[str, Any]) -> str:
    return json.dumps(bundle, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def parse(bundle: Any) -> tuple[int, str, list[LotRecord], int, list[AuditEntry]]:
    """(session id, stated head, lot records, audit market id, audit entries) of a bundle."""
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise BundleError(f"not an {FORMAT} file")
    if bundle.get("version") != VERSION:
        raise BundleError(f"bundle version {bundle.get('version')!r}, this reads {VERSION}")
    try:
        session_id = int(bundle["session"]["id"])
        head = str(bundle["session"]["head_sha256"])
        lots = [
            LotRecord(
                lot_id=int(lot["lot_id"]), session_id=session_id,
                entries=[EventEntry.from_json(int(lot["lot_id"]), e) for e in lot["entries"]],
                result=None if lot["result"] is None else Result.from_json(lot["result"]),
            )
            for lot in bundle["lots"]
        ]
        audit_market = int(bundle["audit"]["market_id"])
        audit = [AuditEntry(**e) for e in bundle["audit"]["entries"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"malformed bundle: {type(exc).__name__}: {exc}") from exc
    return session_id, head, lots, audit_market, audit


def verify(bundle: Any) -> Report:
    """Check a loaded bundle: every chain, every result and the stated session head."""
    session_id, head, lots, audit_market, audit = parse(bundle)
    report = Report()
    verify_lots(lots, report)
    verify_audit({audit_market: audit}, report)
    computed = session_head(session_id, [lot.head() for lot in lots])
    if computed != head:
        report.findings.append(Finding(
            f"session {session_id} head", f"stated {head}, the lots' chains give {computed}"))
    return report
