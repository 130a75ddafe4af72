"""A durable FIFO outbox for alerts, one lane per destination, in SQLite under AIOPS_HOME.

An alert is written here *before* anyone tries to send it, and its row is deleted only after
the destination accepted it (2xx), so a crash or an outage never loses an alert. A row holds
the notifier-neutral Alert as JSON; the notifier renders it when it sends. Rows are keyed by
destination (the notifier's name), so each destination keeps its own order and its own
backlog, and one being down never holds up another.

Two processes may share one home (the REPL's monitor and a `monitor --once` from cron): a
sender claims a row inside a write transaction before posting it (the record *before* the
post), and marks it sent after the destination accepted it (the record *after*). Order is kept
per incident within a destination's lane (a page before its resolve), not across incidents: a
row another process holds blocks only the later rows of its own incident, so one slow or stuck
post never delays the other incidents' pages.

A claim names its owner, and every owner holds an flock while it lives (notify/owners.py): the
claim of a process that died (kill -9) is taken over at once, not after the lease; the lease
only bounds a live owner that hangs. The one case that sends twice: a process dies after the
destination accepted an alert but before it marked the row sent; the next sender posts it
once more. That is the whole cost of a crash: at most one repeat.

A sent row is kept for a while as a tombstone under the alert's `dedup_key`, so an alert that
is handed over again (the monitor's orphan path after a crash between the hand-over and its
own record of it) is recognised and never sent a second time.

Files from before destinations (table `slack_outbox`, rows holding Slack messages already
rendered) are adopted by the notifier that names that table as its `legacy_table`: the rows
move, in order, into its lane and are sent as they were rendered.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from notify.base import Alert
from notify.owners import Owner, owner_alive

log = logging.getLogger(__name__)

TABLE = "outbox"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    destination TEXT NOT NULL,
    created_at REAL NOT NULL,
    tier INTEGER NOT NULL,
    incident_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    alert TEXT,
    rendered TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    claimed_by TEXT,
    claimed_at REAL,
    last_error TEXT,
    unreadable INTEGER NOT NULL DEFAULT 0,
    dedup TEXT,
    sent_at REAL
);
CREATE INDEX IF NOT EXISTS {TABLE}_destination ON {TABLE}(destination, id);
"""
# Columns added after the first release of the table: (name, declaration), added to older files on open.
_ADDED = (("dedup", "TEXT"), ("sent_at", "REAL"))
_INDEXES = f"""
CREATE UNIQUE INDEX IF NOT EXISTS {TABLE}_dedup ON {TABLE}(destination, dedup) WHERE dedup IS NOT NULL;
"""
# How long a sent row is kept to recognise its alert if it is handed over again.
SENT_RETENTION_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class OutboxRow:
    id: int
    tier: int
    alert: Alert | None  # None only for a row adopted from an old file: then `rendered` is set
    rendered: dict[str, Any] | None = None  # the destination's own message, as an old version built it


class Outbox:
    """One destination's lane of the outbox file; sub-lanes (a webhook per tier) are the caller's choice."""

    def __init__(self, path: Path, destination: str, *, lease_seconds: float,
                 legacy_table: str | None = None) -> None:
        self.path = path
        self.destination = destination
        self.lease_seconds = lease_seconds
        self.legacy_table = legacy_table
        self._owner: Owner | None = None
        self._schema_ready = False

    @property
    def owner(self) -> str:
        """This sender's name on its claims; its liveness file is made on first use (no file at construction)."""
        if self._owner is None:
            self._owner = Owner(self.path.parent)
        return self._owner.name

    def close(self) -> None:
        if self._owner is not None:
            self._owner.close()

    def _connect(self) -> sqlite3.Connection:
        # A connection per operation: notify() runs on whatever thread asyncio.to_thread picks.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        if not self._schema_ready:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(_SCHEMA)
                _add_columns(conn)
                if self.legacy_table:
                    self._adopt_legacy(conn, self.legacy_table)
            except BaseException:
                conn.close()
                raise
            self._schema_ready = True
        return conn

    def _adopt_legacy(self, conn: sqlite3.Connection, table: str) -> None:
        """Move an old file's rows into this lane, oldest first, and drop the old table."""
        with _transaction(conn):
            found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
            if found is None:
                return  # a new file, or another process adopted it first
            moved = conn.execute(
                f"INSERT INTO {TABLE} (destination, created_at, tier, incident_id, kind, rendered, attempts,"
                f" last_error) SELECT ?, created_at, tier, incident_id, kind, payload, attempts, last_error"
                f" FROM {table} ORDER BY id", (self.destination,)).rowcount
            conn.execute(f"DROP TABLE {table}")
        if moved:
            log.info("outbox: %d message(s) from %s adopted by %s", moved, table, self.destination)

    def put(self, alert: Alert) -> int:
        """Append an alert for this destination and return its row id.

        An alert whose `dedup_key` is already here (waiting, in flight, or sent within
        SENT_RETENTION_SECONDS) is not added again: its row id is returned (`was_sent` tells which).
        A repeat page is folded into an earlier page of the same incident that is still waiting
        (and not in flight): it would only say the same thing again, and a long outage must not
        turn into a flood when the destination returns. Only within one tier: an escalation to
        Tier 0 must page with its own message.

        A row keeps the alert, not where it goes: a URL is a secret, and may be the very thing
        that was wrong; the process that drains picks the route.
        """
        now = time.time()
        with closing(self._connect()) as conn, _transaction(conn):
            conn.execute(f"DELETE FROM {TABLE} WHERE sent_at < ?", (now - SENT_RETENTION_SECONDS,))
            if alert.dedup_key is not None:
                known = conn.execute(f"SELECT id FROM {TABLE} WHERE destination = ? AND dedup = ?",
                                     (self.destination, alert.dedup_key)).fetchone()
                if known is not None:
                    return int(known[0])
            if alert.kind == "repage":
                waiting = conn.execute(
                    f"SELECT id FROM {TABLE} WHERE destination = ? AND incident_id = ? AND tier = ?"
                    " AND kind IN ('open', 'repage') AND claimed_by IS NULL AND sent_at IS NULL"
                    " ORDER BY id LIMIT 1",
                    (self.destination, alert.incident_id, alert.tier),
                ).fetchone()
                if waiting is not None:
                    return int(waiting[0])
            cur = conn.execute(
                f"INSERT INTO {TABLE} (destination, created_at, tier, incident_id, kind, alert, dedup)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self.destination, now, alert.tier, alert.incident_id, alert.kind,
                 alert.model_dump_json(), alert.dedup_key),
            )
            return int(cur.lastrowid or 0)

    def was_sent(self, row_id: int) -> bool:
        """Whether the destination accepted this row (now or on an earlier hand-over of the same alert)."""
        with closing(self._connect()) as conn:
            found = conn.execute(f"SELECT sent_at FROM {TABLE} WHERE id = ?", (row_id,)).fetchone()
        return found is not None and found[0] is not None

    def claim_next(
        self, lane_of: Callable[[int], Hashable | None], blocked: set[Hashable]
    ) -> tuple[OutboxRow, Hashable] | None:
        """Claim the oldest row whose lane (`lane_of(tier)`) is not blocked; None when nothing is due.

        `blocked` holds lanes (a webhook that is failing) and (lane, incident id) pairs: an
        incident whose oldest row a live process holds is added, because sending its later rows
        now would overtake that one; the other incidents' rows go on.
        """
        if not self.path.exists():
            return None
        with closing(self._connect()) as conn, _transaction(conn):
            return self._claim_in_transaction(conn, lane_of, blocked)

    def _claim_in_transaction(
        self, conn: sqlite3.Connection, lane_of: Callable[[int], Hashable | None], blocked: set[Hashable]
    ) -> tuple[OutboxRow, Hashable] | None:
        now = time.time()
        rows = conn.execute(f"SELECT id, tier, incident_id, claimed_by, claimed_at FROM {TABLE}"
                            " WHERE destination = ? AND unreadable = 0 AND sent_at IS NULL ORDER BY id",
                            (self.destination,)).fetchall()
        for row_id, tier, incident_id, owner, claimed_at in rows:
            lane = lane_of(tier)
            if lane is None or lane in blocked or (lane, incident_id) in blocked:
                continue
            if self._held_elsewhere(owner, claimed_at, now):
                blocked.add((lane, incident_id))
                continue
            row = self._read(conn, row_id, tier)
            if row is None:
                continue  # set aside: an unreadable row must not hold up every later alert
            if owner is not None and owner != self.owner:
                log.warning("outbox row %d for %s: its sender %s is gone; sent again (it may have been delivered)",
                            row_id, self.destination, owner)
            conn.execute(
                f"UPDATE {TABLE} SET claimed_by = ?, claimed_at = ?, attempts = attempts + 1 WHERE id = ?",
                (self.owner, now, row_id),
            )
            return row, lane
        return None

    def _held_elsewhere(self, owner: str | None, claimed_at: float | None, now: float) -> bool:
        """A claim of another sender that still counts: it is alive (or cannot be told) and within the lease."""
        if owner is None or owner == self.owner:
            return False
        if now - (claimed_at or 0) >= self.lease_seconds:
            return False
        return owner_alive(self.path.parent, owner) is not False

    def _read(self, conn: sqlite3.Connection, row_id: int, tier: int) -> OutboxRow | None:
        alert, rendered = conn.execute(f"SELECT alert, rendered FROM {TABLE} WHERE id = ?", (row_id,)).fetchone()
        try:
            if alert is not None:
                return OutboxRow(id=row_id, tier=tier, alert=Alert.model_validate_json(alert))
            return OutboxRow(id=row_id, tier=tier, alert=None, rendered=dict(json.loads(rendered)))
        except (ValidationError, TypeError, ValueError) as exc:
            log.error("outbox row %d for %s is unreadable and set aside: %s", row_id, self.destination, exc)
            conn.execute(f"UPDATE {TABLE} SET unreadable = 1, last_error = ? WHERE id = ?", (str(exc)[:500], row_id))
            return None

    def complete(self, row_id: int) -> None:
        """Record that the destination accepted the row; it stays a while as a tombstone for its dedup key."""
        with closing(self._connect()) as conn:
            conn.execute(f"UPDATE {TABLE} SET sent_at = ?, claimed_by = NULL, claimed_at = NULL WHERE id = ?",
                         (time.time(), row_id))

    def release(self, row_id: int, error: str) -> None:
        """Give a claimed row back after a failed post; it stays at its place in the queue."""
        with closing(self._connect()) as conn:
            conn.execute(
                f"UPDATE {TABLE} SET claimed_by = NULL, claimed_at = NULL, last_error = ?"
                " WHERE id = ? AND claimed_by = ?",
                (error, row_id, self.owner),
            )

    def count(self) -> int:
        """Rows waiting for this destination (not those set aside as unreadable: they are never sent)."""
        if not self.path.exists():
            return 0
        with closing(self._connect()) as conn:
            (n,) = conn.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE destination = ? AND unreadable = 0"
                                " AND sent_at IS NULL", (self.destination,)).fetchone()
            return int(n)


def _add_columns(conn: sqlite3.Connection) -> None:
    """Bring a table written by an earlier version up to date (new columns, then the indexes on them)."""
    have = {row[1] for row in conn.execute(f"PRAGMA table_info({TABLE})")}
    for name, declaration in _ADDED:
        if name not in have:
            try:
                conn.execute(f"ALTER TABLE {TABLE} ADD COLUMN {name} {declaration}")
            except sqlite3.OperationalError as exc:  # another process added it between our look and now
                if "duplicate column" not in str(exc):
                    raise
    conn.executescript(_INDEXES)


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, ROLLBACK on any error: the write lock makes check-then-write safe."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
