"""Did the fix work, in the store: the watch an action starts on its incident's alarm, and how it ended.

A watch starts in the same transaction that records an action's outcome (approval_queue.py), so
a crash cannot lose it and a restarted monitor keeps watching. Its end is claimed by an UPDATE
that only one writer can satisfy (`result = 'watching'`), so several monitor processes conclude
it, and page about it, once. What to do when it ends is agent/monitor/verify.py's job.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from agent.monitor.records import PREFIX, Verification, parse_id
from agent.monitor.store_db import StoreDB


class Watches(StoreDB):
    def verification(self, incident_id: str | int) -> Verification | None:
        rows = self._rows("SELECT * FROM verifications WHERE seq = ?", (parse_id(incident_id),))
        return _verification(rows[0]) if rows else None

    def watches_due(self) -> list[Verification]:
        """Watches on open incidents whose time is up (the alarm may still have cleared: the caller looks)."""
        rows = self._rows("SELECT v.* FROM verifications v JOIN incidents i ON i.seq = v.seq WHERE v.result = 'watching'"
                          " AND v.due_at <= ? AND i.status = 'open' ORDER BY v.seq", (self.clock(),))
        return [_verification(r) for r in rows]

    def _start_watch(self, db: sqlite3.Connection, seq: int, action: str, by: str, now: float,
                     watch_seconds: float) -> None:
        """A new action replaces the incident's earlier watch; what was tried before is kept."""
        row = db.execute("SELECT tried FROM verifications WHERE seq = ?", (seq,)).fetchone()
        tried = [t for t in json.loads(row[0]) if t != action] if row else []
        watch = Verification(incident_id=f"{PREFIX}{seq}", action=action, by=by, acted_at=now,
                             due_at=now + watch_seconds, result="watching", tried=[*tried, action])
        db.execute("INSERT OR REPLACE INTO verifications (seq, action, by, acted_at, due_at, result, ended_at, tried)"
                   " VALUES (?, ?, ?, ?, ?, 'watching', NULL, ?)",
                   (seq, action, by, now, watch.due_at, json.dumps(watch.tried)))
        self._event(db, seq, now, "watching", "monitor", watch.line())

    def _end_watch(self, db: sqlite3.Connection, seq: int, result: str, now: float,
                   acted_at: float | None = None) -> Verification | None:
        """watching -> recovered | did_not_help, for one writer only; None when nothing was watching (or
        another process ended it first). `acted_at` pins the watch the caller looked at."""
        sql = "UPDATE verifications SET result = ?, ended_at = ? WHERE seq = ? AND result = 'watching'"
        params: tuple[Any, ...] = (result, now, seq)
        if acted_at is not None:
            sql, params = sql + " AND acted_at = ?", (*params, acted_at)
        if db.execute(sql, params).rowcount != 1:
            return None
        row = db.execute("SELECT * FROM verifications WHERE seq = ?", (seq,)).fetchone()
        names = [d[0] for d in db.execute("SELECT * FROM verifications LIMIT 0").description]
        ended = _verification(dict(zip(names, row, strict=True)))
        self._event(db, seq, now, result, "monitor", ended.line())
        return ended


def _verification(row: dict[str, Any]) -> Verification:
    data = dict(row)
    data["incident_id"] = f"{PREFIX}{data.pop('seq')}"
    data["tried"] = json.loads(data.get("tried") or "[]")
    return Verification(**data)
