"""The incident store's SQLite file: its schema and migrations, transactions, rows back into models.

Several processes share one home (the REPL's monitor, `monitor --once` from cron), so every
decision that must happen once is a conditional write inside a `BEGIN IMMEDIATE` transaction:
a partial unique index keeps one open incident per (alarm, resource); a notification, a repeat
page or an approval is claimed by an UPDATE whose WHERE clause only one writer can satisfy.
The rooms built on this one (agent/monitor/incidents.py, approval_queue.py, watches.py, store_history.py)
only add statements; the file, its tables and their upgrades live here.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.monitor.proposals import Proposal
from agent.monitor.records import PREFIX, Incident
from utils.dynamo import StoreUnavailable

__all__ = ["DB_NAME", "IncidentStoreUnavailable", "StoreDB", "incident_from_row"]

log = logging.getLogger(__name__)

DB_NAME = "incidents.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS incidents (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, alarm TEXT NOT NULL, source TEXT NOT NULL,
    tier INTEGER NOT NULL, tier_reason TEXT NOT NULL DEFAULT '', status TEXT NOT NULL,
    instance_id TEXT, name TEXT, metric TEXT, summary TEXT NOT NULL DEFAULT '',
    opened_at REAL NOT NULL, resolved_at REAL, diagnosed_at REAL,
    sops TEXT NOT NULL DEFAULT '[]', proposal TEXT, note TEXT,
    notified_at REAL, last_paged_at REAL, pages INTEGER NOT NULL DEFAULT 0,
    claim_owner TEXT, claim_at REAL, auto_handled INTEGER NOT NULL DEFAULT 0, evidence TEXT,
    resource_type TEXT, resource_id TEXT, region TEXT, account TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS incidents_one_open ON incidents(key) WHERE status = 'open';
CREATE TABLE IF NOT EXISTS approvals (
    seq INTEGER PRIMARY KEY, tool TEXT NOT NULL, arguments TEXT NOT NULL, risk TEXT NOT NULL,
    status TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL,
    decided_by TEXT, decided_at REAL, reason TEXT,
    outcome_status TEXT, outcome_message TEXT, outcome_at REAL
);
CREATE TABLE IF NOT EXISTS timeline (
    id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL, ts REAL NOT NULL,
    kind TEXT NOT NULL, actor TEXT NOT NULL, detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS timeline_seq ON timeline(seq);
-- Did the fix work (agent/monitor/verify.py): one watch per incident, the latest action's; `tried`
-- (JSON list) keeps every action run on the incident so a fallback never proposes one again.
CREATE TABLE IF NOT EXISTS verifications (
    seq INTEGER PRIMARY KEY, action TEXT NOT NULL, by TEXT NOT NULL, acted_at REAL NOT NULL,
    due_at REAL NOT NULL, result TEXT NOT NULL, ended_at REAL, tried TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS instance_states (
    instance_id TEXT PRIMARY KEY, name TEXT, state TEXT NOT NULL, seen_at REAL NOT NULL
);
"""

# Columns added to `incidents` after the first release: a store from before them gains them on open.
_ADDED_INCIDENT_COLUMNS = ("evidence", "resource_type", "resource_id", "region", "account")


# The incident store cannot be opened or written; the message names the file (or the DynamoDB table).
# One exception for both backends, so the monitor's "no paging from memory" stop catches either.
IncidentStoreUnavailable = StoreUnavailable


def _check_intact(db: sqlite3.Connection) -> None:
    """A damaged file (truncated mid-page) can open and read its first pages; look at all of them now."""
    problems = [row[0] for row in db.execute("PRAGMA quick_check(3)").fetchall()]
    if problems != ["ok"]:
        raise sqlite3.DatabaseError(f"database disk image is malformed ({'; '.join(problems)[:200]})")


def _migrate(db: sqlite3.Connection) -> None:
    have = {r[1] for r in db.execute("PRAGMA table_info(incidents)")}
    for column in _ADDED_INCIDENT_COLUMNS:
        if column not in have:
            db.execute(f"ALTER TABLE incidents ADD COLUMN {column} TEXT")


def _advice(exc: BaseException) -> str:
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        return (" — the file is damaged: move it aside (or restore a copy) and run again;"
                " the monitor does not page from memory")
    return ""


class StoreDB:
    """The connection, its one lock, and the transaction every conditional write runs in."""

    def __init__(self, home: Path | None, *, clock: Callable[[], float] = time.time):
        """`home=None` keeps everything in memory (the fallback when AIOPS_HOME is unwritable)."""
        self.path = Path(home) / DB_NAME if home is not None else None
        self.clock = clock
        self._lock = threading.Lock()
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path or ":memory:", timeout=30, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL keeps it crash-safe; fsync per checkpoint
            self._db.executescript(_SCHEMA)
            _check_intact(self._db)
            _migrate(self._db)
        except (OSError, sqlite3.Error) as exc:
            if hasattr(self, "_db"):
                self._db.close()
            raise IncidentStoreUnavailable(
                f"cannot open the incident store at {self.path}: {exc}{_advice(exc)}") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise IncidentStoreUnavailable(f"incident store {self.path}: {exc}") from exc
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as exc:
                self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise IncidentStoreUnavailable(f"incident store {self.path}: {exc}") from exc
                raise

    def _rows(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._db.execute(sql, params)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    @staticmethod
    def _event(db: sqlite3.Connection, seq: int, ts: float, kind: str, actor: str, detail: str) -> None:
        db.execute("INSERT INTO timeline (seq, ts, kind, actor, detail) VALUES (?, ?, ?, ?, ?)",
                   (seq, ts, kind, actor, detail[:2000]))


def incident_from_row(row: dict[str, Any]) -> Incident:
    data = dict(row)
    data["sops"] = json.loads(data["sops"] or "[]")
    data["evidence"] = json.loads(data.get("evidence") or "{}")
    data["proposal"] = _proposal(data["seq"], data["proposal"])
    data["auto_handled"] = bool(data["auto_handled"])
    return Incident(**{k: v for k, v in data.items() if k in Incident.model_fields})


def _proposal(seq: int, text: str | None) -> Proposal | None:
    """The stored JSON (rows from before the typed proposal hold the same fields); unreadable is no proposal."""
    if not text:
        return None
    try:
        return Proposal.model_validate_json(text)
    except ValidationError as exc:
        log.warning("%s%d: stored proposal unreadable, shown as none: %s", PREFIX, seq, exc)
        return None
