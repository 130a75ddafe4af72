"""A durable FIFO outbox for alerts, one lane per destination, in SQLite under AIOPS_HOME.

An alert is written here *before* anyone tries to send it, and its row is deleted only after
the destination accepted it (2xx), so a crash or an outage never loses an alert. A row holds
the notifier-neutral Alert as JSON; the notifier renders it when it sends. Rows are keyed by
destination (the notifier's name), so each destination keeps its own order and its own
backlog, and one being down never holds up another.

Two processes may share one home (the REPL's monitor and a `monitor --once` from cron): a
sender claims a row inside a write transaction before posting it, and a lane whose oldest row
is claimed by someone else is left alone, so a row is posted by one process only and each lane
keeps its order. The one case that sends twice: a process dies after the destination accepted
an alert but before it deleted the row; once the claim's lease runs out another process posts
it again. At-least-once is the right side to err on for alerts.

Files from before destinations (table `slack_outbox`, rows holding Slack messages already
rendered) are adopted by the notifier that names that table as its `legacy_table`: the rows
move, in order, into its lane and are sent as they were rendered.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Hashable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from notify.base import Alert

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
    unreadable INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS {TABLE}_destination ON {TABLE}(destination, id);
"""


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
        # Unique per instance, not per pid: two notifiers in one test process must act like two processes.
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._schema_ready = False

    def _connect(self) -> sqlite3.Connection:
        # A connection per operation: notify() runs on whatever thread asyncio.to_thread picks.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        if not self._schema_ready:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(_SCHEMA)
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

        A repeat page is folded into an earlier page of the same incident that is still waiting
        (and not in flight): it would only say the same thing again, and a long outage must not
        turn into a flood when the destination returns. Only within one tier: an escalation to
        Tier 0 must page with its own message.

        A row keeps the alert, not where it goes: a URL is a secret, and may be the very thing
        that was wrong; the process that drains picks the route.
        """
        with closing(self._connect()) as conn, _transaction(conn):
            if alert.kind == "repage":
                waiting = conn.execute(
                    f"SELECT id FROM {TABLE} WHERE destination = ? AND incident_id = ? AND tier = ?"
                    " AND kind IN ('open', 'repage') AND claimed_by IS NULL ORDER BY id LIMIT 1",
                    (self.destination, alert.incident_id, alert.tier),
                ).fetchone()
                if waiting is not None:
                    return int(waiting[0])
            cur = conn.execute(
                f"INSERT INTO {TABLE} (destination, created_at, tier, incident_id, kind, alert)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (self.destination, time.time(), alert.tier, alert.incident_id, alert.kind,
                 alert.model_dump_json()),
            )
            return int(cur.lastrowid or 0)

    def claim_next(
        self, lane_of: Callable[[int], Hashable | None], blocked: set[Hashable]
    ) -> tuple[OutboxRow, Hashable] | None:
        """Claim the oldest row whose lane (`lane_of(tier)`) is not blocked; None when nothing is due.

        A lane whose oldest row another process holds is added to `blocked`: sending a later
        row of it now would overtake that one.
        """
        if not self.path.exists():
            return None
        with closing(self._connect()) as conn, _transaction(conn):
            return self._claim_in_transaction(conn, lane_of, blocked)

    def _claim_in_transaction(
        self, conn: sqlite3.Connection, lane_of: Callable[[int], Hashable | None], blocked: set[Hashable]
    ) -> tuple[OutboxRow, Hashable] | None:
        now = time.time()
        rows = conn.execute(f"SELECT id, tier, claimed_by, claimed_at FROM {TABLE} WHERE destination = ?"
                            " AND unreadable = 0 ORDER BY id", (self.destination,)).fetchall()
        for row_id, tier, owner, claimed_at in rows:
            lane = lane_of(tier)
            if lane is None or lane in blocked:
                continue
            held_elsewhere = owner is not None and owner != self.owner
            if held_elsewhere and now - (claimed_at or 0) < self.lease_seconds:
                blocked.add(lane)
                continue
            row = self._read(conn, row_id, tier)
            if row is None:
                continue  # set aside: an unreadable row must not hold up every later alert
            conn.execute(
                f"UPDATE {TABLE} SET claimed_by = ?, claimed_at = ?, attempts = attempts + 1 WHERE id = ?",
                (self.owner, now, row_id),
            )
            return row, lane
        return None

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
        """Forget a row the destination accepted."""
        with closing(self._connect()) as conn:
            conn.execute(f"DELETE FROM {TABLE} WHERE id = ?", (row_id,))

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
            (n,) = conn.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE destination = ? AND unreadable = 0",
                                (self.destination,)).fetchone()
            return int(n)


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
