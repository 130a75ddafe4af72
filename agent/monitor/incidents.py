"""The incident store: incidents from open to resolved, with their notification and repeat-page claims.

`IncidentStore` is the one object the monitor holds; it assembles the rooms of the store:
the SQLite file, schema and transactions (agent/monitor/store_db.py, which also says why every
once-only decision is a conditional write), the watches after an action (watches.py), the
approval queue (approval_queue.py) and the timeline and counts people read (store_history.py).
This module keeps the incidents themselves and the instance states remembered between cycles.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from agent.monitor.proposals import Proposal
from agent.monitor.records import Incident, NewIncident, Verification, parse_id
from agent.monitor.store_db import DB_NAME, IncidentStoreUnavailable, incident_from_row
from agent.monitor.store_history import HistoryViews

__all__ = ["DB_NAME", "IncidentStore", "IncidentStoreUnavailable"]


class IncidentStore(HistoryViews):
    """Incidents, approvals, timeline and instance states in `AIOPS_HOME/incidents.sqlite3` (`home=None`: in memory)."""

    # -- incidents -------------------------------------------------------------------------------

    def open_incident(self, new: NewIncident, owner: str) -> Incident | None:
        """Open unless one is already open for the key; the opener holds the notification claim."""
        now = self.clock()
        with self._tx() as db:
            # Checked first because an ignored INSERT still uses up an AUTOINCREMENT number (ids with gaps);
            # the write lock makes check-then-insert safe and the unique index stays the backstop.
            if db.execute("SELECT 1 FROM incidents WHERE key = ? AND status = 'open'", (new.key,)).fetchone():
                return None
            cur = db.execute(
                "INSERT OR IGNORE INTO incidents (key, alarm, source, tier, tier_reason, status, instance_id,"
                " name, metric, summary, opened_at, claim_owner, claim_at, resource_type, resource_id, region,"
                " account) VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (new.key, new.alarm, new.source, new.tier, new.tier_reason, new.instance_id, new.name,
                 new.metric, new.summary[:4000], now, owner, now, new.resource_type, new.resource_id, new.region,
                 new.account),
            )
            if cur.rowcount == 0:
                return None
            seq = int(cur.lastrowid or 0)
            self._event(db, seq, now, "opened", "monitor", f"Tier {new.tier} ({new.tier_reason})")
        return self.get(seq)

    def get(self, incident_id: str | int) -> Incident | None:
        rows = self._rows("SELECT * FROM incidents WHERE seq = ?", (parse_id(incident_id),))
        return incident_from_row(rows[0]) if rows else None

    def open_incidents(self) -> list[Incident]:
        return [incident_from_row(r) for r in self._rows("SELECT * FROM incidents WHERE status = 'open' ORDER BY seq")]

    def set_diagnosis(self, seq: int, sops: list[dict[str, Any]], proposal: Proposal | None,
                      note: str | None) -> None:
        now = self.clock()
        with self._tx() as db:
            db.execute("UPDATE incidents SET sops = ?, proposal = ?, note = ?, diagnosed_at = ? WHERE seq = ?",
                       (json.dumps(sops), proposal.model_dump_json() if proposal else None, note, now, seq))
            sop = sops[0]["title"] if sops else "none"
            what = f"{proposal.tool} (risk {proposal.risk})" if proposal else "none"
            self._event(db, seq, now, "diagnosed", "monitor", f"SOP: {sop}; proposal: {what}")

    def set_evidence(self, seq: int, evidence: dict[str, Any], line: str) -> None:
        """What a read ran at diagnosis found (no approval: reads need none), kept with the incident."""
        with self._tx() as db:
            db.execute("UPDATE incidents SET evidence = ? WHERE seq = ?", (json.dumps(evidence), seq))
            self._event(db, seq, self.clock(), "evidence", "monitor", line)

    def claim_notification(self, seq: int, owner: str, lease: float,
                           alive: Callable[[str], bool | None] | None = None) -> bool:
        """True when this owner may send the first page (nobody sent it, no live claim elsewhere).

        `alive(holder)` says whether the process holding the claim still lives: a dead holder's
        claim is taken over at once, one that cannot be told about waits out the lease.
        """
        now = self.clock()
        with self._tx() as db:
            row = db.execute("SELECT claim_owner, claim_at FROM incidents WHERE seq = ? AND status = 'open'"
                             " AND notified_at IS NULL", (seq,)).fetchone()
            if row is None:
                return False
            holder, since = row
            free = (holder is None or holder == owner or (since or 0) < now - lease
                    or (alive is not None and alive(holder) is False))
            if free:
                db.execute("UPDATE incidents SET claim_owner = ?, claim_at = ? WHERE seq = ?", (owner, now, seq))
            return free

    def release_notification(self, seq: int, owner: str, detail: str) -> None:
        """The first page could not be handed to the notifier: give the claim back so a later cycle
        (this process's or another's) pages it, instead of marking it notified."""
        now = self.clock()
        with self._tx() as db:
            cur = db.execute("UPDATE incidents SET claim_owner = NULL, claim_at = NULL WHERE seq = ?"
                             " AND claim_owner = ? AND notified_at IS NULL", (seq, owner))
            if cur.rowcount:
                self._event(db, seq, now, "not_notified", "monitor", detail)

    def mark_notified(self, seq: int, detail: str) -> None:
        now = self.clock()
        with self._tx() as db:
            db.execute("UPDATE incidents SET notified_at = ?, last_paged_at = ?, pages = pages + 1,"
                       " claim_owner = NULL, claim_at = NULL WHERE seq = ?", (now, now, seq))
            self._event(db, seq, now, "notified", "monitor", detail)

    def claim_repage(self, incident: Incident, every: float) -> bool:
        """Compare-and-set on last_paged_at, so two processes never repeat the same page."""
        now = self.clock()
        if incident.last_paged_at is None or now - incident.last_paged_at < every:
            return False
        with self._tx() as db:
            cur = db.execute("UPDATE incidents SET last_paged_at = ?, pages = pages + 1 WHERE seq = ?"
                             " AND status = 'open' AND last_paged_at = ?", (now, incident.seq, incident.last_paged_at))
            if cur.rowcount == 1:
                self._event(db, incident.seq, now, "repaged", "monitor", f"page {incident.pages + 1}")
            return cur.rowcount == 1

    def resolve(self, seq: int, detail: str) -> Incident | None:
        """Resolve an open incident; None when another process already did."""
        now = self.clock()
        with self._tx() as db:
            cur = db.execute("UPDATE incidents SET status = 'resolved', resolved_at = ?, claim_owner = NULL"
                             " WHERE seq = ? AND status = 'open'", (now, seq))
            if cur.rowcount == 0:
                return None
            self._event(db, seq, now, "resolved", "monitor", detail)
            self._end_watch(db, seq, "recovered", now)  # an action's watch: the fix worked
            expired = db.execute("UPDATE approvals SET status = 'expired', decided_at = ?, decided_by = 'monitor',"
                                 " reason = 'incident resolved before a decision' WHERE seq = ? AND status = 'pending'",
                                 (now, seq))
            if expired.rowcount:
                self._event(db, seq, now, "expired", "monitor", "proposal withdrawn: incident resolved")
        return self.get(seq)

    def action_did_not_help(self, watch: Verification, proposal: Proposal | None, line: str,
                            ttl_seconds: float) -> Incident | None:
        """The alarm is still firing when the watch is due: end the watch, raise the tier by one (Tier 0 stays),
        count the page about to go out, and put the fallback proposal in the queue, all at once.

        None when the incident is no longer open or another process ended the watch first: only the
        caller that gets the incident back pages about it.
        """
        seq, now = parse_id(watch.incident_id), self.clock()
        with self._tx() as db:
            row = db.execute("SELECT tier FROM incidents WHERE seq = ? AND status = 'open'", (seq,)).fetchone()
            if row is None or self._end_watch(db, seq, "did_not_help", now, watch.acted_at) is None:
                return None
            was, tier = int(row[0]), max(0, int(row[0]) - 1)
            reason = f"{watch.verb} did not help (was Tier {was})"
            db.execute("UPDATE incidents SET tier = ?, tier_reason = ?, proposal = ?, note = ?, last_paged_at = ?,"
                       " pages = pages + 1 WHERE seq = ?",
                       (tier, reason, proposal.model_dump_json() if proposal else None, line, now, seq))
            self._event(db, seq, now, "repaged", "monitor",
                        f"re-paged Tier {tier} (was Tier {was}): {watch.verb} did not help")
            if proposal is not None and proposal.mutating and not proposal.steps:
                self._requeue(db, seq, proposal, ttl_seconds, now)
            self._event(db, seq, now, "proposal", "monitor", line)
        return self.get(seq)

    # -- instance states between cycles ------------------------------------------------------------

    def last_states(self) -> tuple[dict[str, str], float | None]:
        """(instance id -> state at the last save, when that save happened); empty before the first cycle."""
        rows = self._rows("SELECT instance_id, state, seen_at FROM instance_states")
        return {r["instance_id"]: r["state"] for r in rows}, min((r["seen_at"] for r in rows), default=None)

    def save_states(self, states: dict[str, tuple[str | None, str]]) -> None:
        now = self.clock()
        with self._tx() as db:
            db.execute("DELETE FROM instance_states")
            db.executemany("INSERT INTO instance_states (instance_id, name, state, seen_at) VALUES (?, ?, ?, ?)",
                           [(iid, name, state, now) for iid, (name, state) in states.items()])
