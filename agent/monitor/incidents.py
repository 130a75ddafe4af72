"""The incident store: incidents, their approval queue and timeline, in SQLite under AIOPS_HOME (`incidents.sqlite3`).

Several processes share one home (the REPL's monitor, `monitor --once` from cron), so every
decision that must happen once is a conditional write inside a `BEGIN IMMEDIATE` transaction:
a partial unique index keeps one open incident per (alarm, resource); a notification, a repeat
page or an approval is claimed by an UPDATE whose WHERE clause only one writer can satisfy.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.monitor.proposals import Proposal
from agent.monitor.records import (
    NOTHING_RAN,
    PREFIX,
    Approval,
    ApprovalError,
    Counts,
    Incident,
    IncidentHistory,
    NewIncident,
    TimelineEntry,
    parse_id,
)

__all__ = ["DB_NAME", "IncidentStore", "IncidentStoreUnavailable"]

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
    resource_type TEXT, resource_id TEXT, region TEXT
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
CREATE TABLE IF NOT EXISTS instance_states (
    instance_id TEXT PRIMARY KEY, name TEXT, state TEXT NOT NULL, seen_at REAL NOT NULL
);
"""


class IncidentStoreUnavailable(Exception):
    """The incident database cannot be opened or written; the message names the file."""


def _check_intact(db: sqlite3.Connection) -> None:
    """A damaged file (truncated mid-page) can open and read its first pages; look at all of them now."""
    problems = [row[0] for row in db.execute("PRAGMA quick_check(3)").fetchall()]
    if problems != ["ok"]:
        raise sqlite3.DatabaseError(f"database disk image is malformed ({'; '.join(problems)[:200]})")


def _advice(exc: BaseException) -> str:
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        return (" — the file is damaged: move it aside (or restore a copy) and run again;"
                " the monitor does not page from memory")
    return ""


class IncidentStore:
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
            have = {r[1] for r in self._db.execute("PRAGMA table_info(incidents)")}
            for column in ("evidence", "resource_type", "resource_id", "region"):  # a store from before them
                if column not in have:
                    self._db.execute(f"ALTER TABLE incidents ADD COLUMN {column} TEXT")
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
                " name, metric, summary, opened_at, claim_owner, claim_at, resource_type, resource_id, region)"
                " VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (new.key, new.alarm, new.source, new.tier, new.tier_reason, new.instance_id, new.name,
                 new.metric, new.summary[:4000], now, owner, now, new.resource_type, new.resource_id, new.region),
            )
            if cur.rowcount == 0:
                return None
            seq = int(cur.lastrowid or 0)
            self._event(db, seq, now, "opened", "monitor", f"Tier {new.tier} ({new.tier_reason})")
        return self.get(seq)

    def get(self, incident_id: str | int) -> Incident | None:
        rows = self._rows("SELECT * FROM incidents WHERE seq = ?", (parse_id(incident_id),))
        return _incident(rows[0]) if rows else None

    def open_incidents(self) -> list[Incident]:
        return [_incident(r) for r in self._rows("SELECT * FROM incidents WHERE status = 'open' ORDER BY seq")]

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
            expired = db.execute("UPDATE approvals SET status = 'expired', decided_at = ?, decided_by = 'monitor',"
                                 " reason = 'incident resolved before a decision' WHERE seq = ? AND status = 'pending'",
                                 (now, seq))
            if expired.rowcount:
                self._event(db, seq, now, "expired", "monitor", "proposal withdrawn: incident resolved")
        return self.get(seq)

    # -- approvals -------------------------------------------------------------------------------

    def add_approval(self, seq: int, proposal: Proposal, ttl_seconds: float) -> None:
        now = self.clock()
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO approvals (seq, tool, arguments, risk, status, created_at, expires_at)"
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

    def record_action(self, seq: int, status: str, message: str, by: str, *, auto: bool = False) -> None:
        """The outcome of running the proposal; an auto action that worked closes the approval as `auto`."""
        now = self.clock()
        with self._tx() as db:
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

    # -- history and counts ----------------------------------------------------------------------

    def history(self, limit: int = 20) -> list[IncidentHistory]:
        incidents = [_incident(r) for r in self._rows("SELECT * FROM incidents ORDER BY seq DESC LIMIT ?",
                                                      (max(1, limit),))]
        out = []
        for inc in incidents:
            rows = self._rows("SELECT ts, kind, actor, detail FROM timeline WHERE seq = ? ORDER BY id", (inc.seq,))
            out.append(IncidentHistory(incident=inc, approval=self.approval(inc.seq),
                                       timeline=[TimelineEntry(**r) for r in rows]))
        return out

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


def _incident(row: dict[str, Any]) -> Incident:
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


def _approval(row: dict[str, Any]) -> Approval:
    data = dict(row)
    data["incident_id"] = f"{PREFIX}{data.pop('seq')}"
    data["arguments"] = json.loads(data["arguments"])
    return Approval(**{k: v for k, v in data.items() if k in Approval.model_fields})
