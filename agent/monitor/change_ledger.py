"""The latest alarm state change applied per incident key, so pushed events that arrive late, twice or
out of order cannot undo what a newer one said (SQS standard queues promise neither once nor order).

A change is recorded only after its incident change is stored, so a worker that dies in between
leaves the message to come back and be applied again (opening and resolving are idempotent in the
store). It lives in the incident store's own SQLite file, in its own table.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime
from pathlib import Path

from agent.monitor.incidents import DB_NAME, IncidentStoreUnavailable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alarm_changes (
    key TEXT PRIMARY KEY,
    changed_at REAL NOT NULL,
    state TEXT NOT NULL
);
"""


class ChangeLedger:
    def __init__(self, home: Path) -> None:
        self.path = Path(home) / DB_NAME
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise IncidentStoreUnavailable(f"cannot open the incident store at {self.path}: {exc}") from exc

    def latest(self, key: str) -> float | None:
        """When the newest change applied to `key` happened (epoch seconds), or None."""
        with self._lock:
            try:
                row = self._db.execute("SELECT changed_at FROM alarm_changes WHERE key = ?", (key,)).fetchone()
            except sqlite3.Error as exc:
                raise IncidentStoreUnavailable(f"incident store {self.path}: {exc}") from exc
        return None if row is None else float(row[0])

    def latest_many(self, keys: set[str]) -> dict[str, float]:
        """`latest` for several keys (those with a change applied)."""
        return {key: at for key in keys if (at := self.latest(key)) is not None}

    def record(self, key: str, changed_at: datetime, state: str) -> bool:
        """Remember a change once its incident change is stored; newer wins in one conditional upsert, so
        two workers recording the same key keep the newest. False when a newer one was there already."""
        with self._lock:
            try:
                cursor = self._db.execute(
                    "INSERT INTO alarm_changes (key, changed_at, state) VALUES (?, ?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET changed_at = excluded.changed_at, state = excluded.state "
                    "WHERE excluded.changed_at > alarm_changes.changed_at",
                    (key, changed_at.timestamp(), state))
            except sqlite3.Error as exc:
                raise IncidentStoreUnavailable(f"incident store {self.path}: {exc}") from exc
            return cursor.rowcount == 1

    def close(self) -> None:
        with self._lock:
            self._db.close()
