"""The approval queue: proposals waiting for a person, their decisions, expiry and the outcome of running them.

Part of the incident store (agent/monitor/incidents.py assembles it); every change is one
transaction of agent/monitor/store_db.py, so two processes never decide the same proposal twice.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from agent.monitor.proposals import Proposal
from agent.monitor.records import NOTHING_RAN, PREFIX, Approval, ApprovalError, parse_id
from agent.monitor.watches import Watches


class ApprovalQueue(Watches):
    def add_approval(self, seq: int, proposal: Proposal, ttl_seconds: float) -> None:
        now = self.clock()
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO approvals (seq, tool, arguments, risk, status, created_at, expires_at)"
                       " VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                       (seq, proposal.tool, json.dumps(proposal.arguments), proposal.risk, now, now + ttl_seconds))

    def _requeue(self, db: sqlite3.Connection, seq: int, proposal: Proposal, ttl_seconds: float, now: float) -> None:
        """A new proposal for an incident whose earlier one was decided (the fix did not help): pending again."""
        db.execute("INSERT OR REPLACE INTO approvals (seq, tool, arguments, risk, status, created_at, expires_at)"
                   " VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                   (seq, proposal.tool, json.dumps(proposal.arguments), proposal.risk, now, now + ttl_seconds))

    def approval(self, incident_id: str | int) -> Approval | None:
        rows = self._rows("SELECT * FROM approvals WHERE seq = ?", (parse_id(incident_id),))
        return _approval(rows[0]) if rows else None

    def decide(self, incident_id: str | int, *, approve: bool, by: str, reason: str = "") -> Approval:
        """pending -> approved/rejected, in one transaction; an overdue one becomes expired and raises."""
        seq, now = parse_id(incident_id), self.clock()
        with self._tx() as db:
            row = db.execute("SELECT status, expires_at FROM approvals WHERE seq = ?", (seq,)).fetchone()
            overdue = row is not None and row[0] == "pending" and row[1] <= now
            if overdue:
                self._expire(db, seq, now)
            elif row is not None and row[0] == "pending":
                status = "approved" if approve else "rejected"
                db.execute("UPDATE approvals SET status = ?, decided_by = ?, decided_at = ?, reason = ?"
                           " WHERE seq = ?", (status, by, now, reason or None, seq))
                self._event(db, seq, now, status, by, reason or status)
        if row is None:
            raise ApprovalError(f"{PREFIX}{seq} has no proposal waiting for a decision")
        if overdue:
            raise ApprovalError(f"{PREFIX}{seq}: the proposal expired before it was approved")
        if row[0] != "pending":
            raise ApprovalError(f"{PREFIX}{seq}: the proposal is already {row[0]}")
        return self.approval(seq)  # type: ignore[return-value]

    def expire_due(self) -> list[Approval]:
        now = self.clock()
        with self._tx() as db:
            due = [r[0] for r in db.execute("SELECT seq FROM approvals WHERE status = 'pending' AND expires_at <= ?",
                                            (now,)).fetchall()]
            for seq in due:
                self._expire(db, seq, now)
        return [a for a in (self.approval(s) for s in due) if a is not None]

    def _expire(self, db: sqlite3.Connection, seq: int, now: float) -> None:
        db.execute("UPDATE approvals SET status = 'expired', decided_by = 'monitor', decided_at = ?,"
                   " reason = 'no decision within the approval TTL' WHERE seq = ?", (now, seq))
        self._event(db, seq, now, "expired", "monitor", "no decision within the approval TTL")

    def pending(self) -> list[Approval]:
        """Waiting proposals, most urgent tier first, then oldest first."""
        rows = self._rows("SELECT a.* FROM approvals a JOIN incidents i ON i.seq = a.seq"
                          " WHERE a.status = 'pending' AND a.expires_at > ? ORDER BY i.tier, i.opened_at, a.seq",
                          (self.clock(),))
        return [_approval(r) for r in rows]

    def record_action(self, seq: int, status: str, message: str, by: str, *, auto: bool = False,
                      watch_seconds: float | None = None) -> None:
        """The outcome of running the proposal; an auto action that worked closes the approval as `auto`.

        With `watch_seconds`, an action that ran starts the watch on the incident's alarm (did the fix work).
        """
        now = self.clock()
        with self._tx() as db:
            tool = db.execute("SELECT tool FROM approvals WHERE seq = ?", (seq,)).fetchone()
            db.execute("UPDATE approvals SET outcome_status = ?, outcome_message = ?, outcome_at = ? WHERE seq = ?",
                       (status, message[:2000], now, seq))
            if auto and status == "ok":
                db.execute("UPDATE approvals SET status = 'auto', decided_by = ?, decided_at = ? WHERE seq = ?",
                           (by, now, seq))
                db.execute("UPDATE incidents SET auto_handled = 1 WHERE seq = ?", (seq,))
            if not auto and status in NOTHING_RAN:
                # A No at the y/N (or nobody to ask) is not a decision on the proposal: it waits again.
                db.execute("UPDATE approvals SET status = 'pending', decided_by = NULL, decided_at = NULL"
                           " WHERE seq = ? AND status = 'approved'", (seq,))
                self._event(db, seq, now, status, by, f"{message}; the proposal waits for a decision again")
                return
            self._event(db, seq, now, "auto_action" if auto else "action", by, f"{status}: {message}")
            if status == "ok" and watch_seconds is not None and tool is not None:
                self._start_watch(db, seq, tool[0], by, now, watch_seconds)


def _approval(row: dict[str, Any]) -> Approval:
    data = dict(row)
    data["incident_id"] = f"{PREFIX}{data.pop('seq')}"
    data["arguments"] = json.loads(data["arguments"])
    return Approval(**{k: v for k, v in data.items() if k in Approval.model_fields})
