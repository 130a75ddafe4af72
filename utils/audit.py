"""Append-only audit log of every mutating call, in SQLite under AIOPS_HOME."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

AUDIT_DB_NAME = "audit.sqlite3"
# An attempt's decision until it ends (see AuditLog.begin / finish).
ATTEMPTED = "attempted"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    ts        TEXT NOT NULL,
    tool      TEXT NOT NULL,
    targets   TEXT NOT NULL,
    arguments TEXT NOT NULL,
    decision  TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    caller    TEXT NOT NULL
)
"""


class AuditUnavailable(Exception):
    """The audit log cannot be written; mutating calls must not proceed without it."""


class AuditEntry(BaseModel):
    id: int
    ts: str
    tool: str
    targets: list[dict[str, Any]]
    arguments: dict[str, Any]
    decision: str
    outcome: str
    caller: str


class AuditLog:
    def __init__(self, home: Path):
        self.path = Path(home) / AUDIT_DB_NAME
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
            self._db.commit()
        except (OSError, sqlite3.Error) as exc:
            raise AuditUnavailable(f"cannot write the audit log at {self.path}: {exc}") from exc

    def record(
        self,
        tool: str,
        targets: list[dict[str, Any]],
        arguments: dict[str, Any],
        decision: str,
        outcome: str,
        caller: str,
    ) -> int:
        row = (
            datetime.now(UTC).isoformat(timespec="seconds"),
            _text(tool),
            _json(targets),
            _json(arguments),
            decision,
            _text(outcome[:2000]),
            _text(caller[:200]),
        )
        try:
            with self._lock:
                cur = self._db.execute(
                    "INSERT INTO audit (ts, tool, targets, arguments, decision, outcome, caller)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
                self._db.commit()
        except sqlite3.Error as exc:
            raise AuditUnavailable(f"cannot write the audit log at {self.path}: {exc}") from exc
        return int(cur.lastrowid)

    def begin(self, tool: str, arguments: dict[str, Any], caller: str, targets: list[dict[str, Any]] | None = None) -> int:
        """Record an attempt before anything is asked or done, so a crash still leaves it on record."""
        return self.record(tool=tool, targets=targets or [], arguments=arguments, decision=ATTEMPTED,
                           outcome="in progress", caller=caller)

    def finish(self, row_id: int, decision: str, outcome: str, targets: list[dict[str, Any]] | None = None) -> None:
        """Give an attempt its ending: allowed | declined | refused | unconfirmed | dry-run | error."""
        sets, values = ["decision = ?", "outcome = ?"], [decision, _text(outcome[:2000])]
        if targets:
            sets.append("targets = ?")
            values.append(_json(targets))
        try:
            with self._lock:
                self._db.execute(f"UPDATE audit SET {', '.join(sets)} WHERE id = ?", (*values, row_id))
                self._db.commit()
        except sqlite3.Error as exc:
            raise AuditUnavailable(f"cannot write the audit log at {self.path}: {exc}") from exc

    def expire_attempts(self, older_than_seconds: float) -> int:
        """Attempts left open past the confirmation deadline end as unconfirmed (nobody answered in time,
        or the process that asked died)."""
        cutoff = datetime.fromtimestamp(time.time() - older_than_seconds, UTC).isoformat(timespec="seconds")
        with self._lock:
            cur = self._db.execute(
                "UPDATE audit SET decision = 'unconfirmed', outcome = 'no answer before the deadline (or the "
                "asking process ended): nothing was done' WHERE decision = ? AND ts < ?", (ATTEMPTED, cutoff))
            self._db.commit()
        return cur.rowcount

    def recent(self, limit: int = 20) -> list[AuditEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, ts, tool, targets, arguments, decision, outcome, caller"
                " FROM audit ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            AuditEntry(
                id=r[0], ts=r[1], tool=r[2], targets=json.loads(r[3]), arguments=json.loads(r[4]),
                decision=r[5], outcome=r[6], caller=r[7],
            )
            for r in rows
        ]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _text(value: str) -> str:
    """Text SQLite can store: a lone surrogate from a hostile client must not lose the row."""
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


def _json(value: Any) -> str:
    return _text(json.dumps(value, ensure_ascii=False, default=str))

