"""The incident store's views for people: each incident's timeline with its approval, and today's counts.

Read-only over the tables of agent/monitor/store_db.py; the timeline rows themselves are written
by whichever room makes the change, in the same transaction as the change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agent.monitor.approval_queue import ApprovalQueue
from agent.monitor.records import Counts, Incident, IncidentHistory, TimelineEntry, parse_id
from agent.monitor.store_db import incident_from_row


class HistoryViews(ApprovalQueue):
    def history(self, limit: int = 20) -> list[IncidentHistory]:
        rows = self._rows("SELECT * FROM incidents ORDER BY seq DESC LIMIT ?", (max(1, limit),))
        return [self._with_timeline(incident_from_row(r)) for r in rows]

    def history_of(self, incident_id: str | int) -> IncidentHistory | None:
        """One incident's history (the REPL's `incidents INC-n`); None when there is no such incident."""
        rows = self._rows("SELECT * FROM incidents WHERE seq = ?", (parse_id(incident_id),))
        return self._with_timeline(incident_from_row(rows[0])) if rows else None

    def _with_timeline(self, inc: Incident) -> IncidentHistory:
        rows = self._rows("SELECT ts, kind, actor, detail FROM timeline WHERE seq = ? ORDER BY id", (inc.seq,))
        return IncidentHistory(incident=inc, approval=self.approval(inc.seq), timeline=[TimelineEntry(**r) for r in rows],
                               verification=self.verification(inc.seq))

    def counts_today(self) -> Counts:
        now = self.clock()
        midnight = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()

        def one(sql: str, *params: Any) -> int:
            return int(next(iter(self._rows(sql, params)[0].values())))

        return Counts(
            open=one("SELECT COUNT(*) FROM incidents WHERE status = 'open'"),
            resolved=one("SELECT COUNT(*) FROM incidents WHERE status = 'resolved' AND resolved_at >= ?", midnight),
            auto_handled=one("SELECT COUNT(*) FROM approvals WHERE status = 'auto' AND decided_at >= ?", midnight),
            waiting_approval=one("SELECT COUNT(*) FROM approvals WHERE status = 'pending' AND expires_at > ?", now),
        )
