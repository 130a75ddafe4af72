"""`history`: the audit log of mutating calls, for people and for scripts (`--json`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from utils.audit import AUDIT_DB_NAME, AuditEntry, AuditUnavailable
from utils.audit_store import open_audit
from utils.config import Settings


def show_history(args: argparse.Namespace, settings: Settings) -> int:
    from agent.monitor.stores import reading_shared_store

    with reading_shared_store(settings):
        return _show_history(args, settings)


def _show_history(args: argparse.Namespace, settings: Settings) -> int:
    if not _audit_exists(settings):
        entries: list[AuditEntry] = []  # nothing was ever attempted here; do not create the file
    else:
        try:
            audit = open_audit(settings)
        except AuditUnavailable as exc:
            sys.stderr.write(f"error: {exc}\n")
            return 1
        try:
            entries = list(reversed(audit.recent(args.limit)))
        finally:
            audit.close()
    if args.json:
        sys.stdout.write(json.dumps([history_row(e) for e in entries], ensure_ascii=False) + "\n")
        return 0
    if not entries:
        print("no actions recorded yet")
        return 0
    from agent.terminal.io import Terminal
    from agent.terminal.render import history_table

    Terminal(history_file=None).print(history_table(entries))
    return 0


def history_row(entry: AuditEntry) -> dict[str, Any]:
    """The documented `history --json` row: time, caller, tool, targets, decision, outcome."""
    return {"time": entry.ts, "caller": entry.caller, "tool": entry.tool, "targets": entry.targets,
            "decision": entry.decision, "outcome": entry.outcome}


def _audit_exists(settings: Settings) -> bool:
    """Reading the log creates neither the SQLite file nor the DynamoDB table."""
    if settings.dynamodb_table is None:
        return (settings.state_dir / AUDIT_DB_NAME).exists()
    from utils.dynamo import StoreUnavailable, table_for

    try:
        return table_for(settings).exists()
    except StoreUnavailable:
        return True  # let opening it say what is wrong, in one line
