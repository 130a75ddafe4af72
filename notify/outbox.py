"""A durable FIFO outbox for Slack messages, in SQLite under AIOPS_HOME.

A message is written here *before* anyone tries to send it, and its row is
deleted only after Slack answered 2xx, so a crash or an outage never loses an
alert. Two processes may share one home (the REPL's monitor and a
`monitor --once` from cron): a sender claims a row inside a write transaction
before posting it, and a lane whose oldest row is claimed by someone else is
left alone, so a row is posted by one process only and each channel keeps its
order.

The one case that sends twice: a process dies after Slack accepted a message
but before it deleted the row; once the claim's lease runs out another process
posts it again. At-least-once is the right side to err on for alerts.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Hashable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TABLE = "slack_outbox"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    tier INTEGER NOT NULL,
    incident_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    claimed_by TEXT,
    claimed_at REAL,
    last_error TEXT
)
"""


@dataclass(frozen=True)
class OutboxRow:
    id: int
    tier: int
    payload: dict[str, Any]


class Outbox:
    """FIFO queue of webhook payloads; rows are grouped into lanes (one per destination) by the caller."""

    def __init__(self, path: Path, *, lease_seconds: float) -> None:
        self.path = path
        self.lease_seconds = lease_seconds
        # Unique per instance, not per pid: two notifiers in one test process must act like two processes.
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._schema_ready = False

    def _connect(self) -> sqlite3.Connection:
        # A connection per operation: notify() runs on whatever thread asyncio.to_thread picks.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        if not self._schema_ready:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_SCHEMA)
            self._schema_ready = True
        return conn

    def put(self, *, tier: int, incident_id: str, kind: str, payload: dict[str, Any]) -> int:
        """Append a payload and return its row id.

        A repeat page is folded into an earlier page of the same incident that
        is still waiting (and not in flight): it would only say the same thing
        again, and a long outage must not turn into a flood when Slack returns.
        Only within one tier: an escalation to Tier 0 must page with its own message.

        A row keeps the tier, not the URL: the URL is a secret, and may be the
        very thing that was wrong; the process that drains picks the destination.
        """
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if kind == "repage":
                    waiting = conn.execute(
                        f"SELECT id FROM {TABLE} WHERE incident_id = ? AND tier = ?"
                        " AND kind IN ('open', 'repage') AND claimed_by IS NULL ORDER BY id LIMIT 1",
                        (incident_id, tier),
                    ).fetchone()
                    if waiting is not None:
                        conn.execute("COMMIT")
                        return int(waiting[0])
                cur = conn.execute(
                    f"INSERT INTO {TABLE} (created_at, tier, incident_id, kind, payload)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (time.time(), tier, incident_id, kind, json.dumps(payload)),
                )
                conn.execute("COMMIT")
                return int(cur.lastrowid or 0)
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def claim_next(
        self, lane_of: Callable[[int], Hashable | None], blocked: set[Hashable]
    ) -> tuple[OutboxRow, Hashable] | None:
        """Claim the oldest row whose lane is not blocked; None when there is nothing to send.

        A lane whose oldest row another process holds is added to `blocked`:
        sending a later row of it now would overtake that one.
        """
        if not self.path.exists():
            return None
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                claimed = self._claim_in_transaction(conn, lane_of, blocked)
                conn.execute("COMMIT")
                return claimed
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _claim_in_transaction(
        self, conn: sqlite3.Connection, lane_of: Callable[[int], Hashable | None], blocked: set[Hashable]
    ) -> tuple[OutboxRow, Hashable] | None:
        now = time.time()
        rows = conn.execute(f"SELECT id, tier, claimed_by, claimed_at FROM {TABLE} ORDER BY id").fetchall()
        for row_id, tier, owner, claimed_at in rows:
            lane = lane_of(tier)
            if lane is None or lane in blocked:
                continue
            held_elsewhere = owner is not None and owner != self.owner
            if held_elsewhere and now - (claimed_at or 0) < self.lease_seconds:
                blocked.add(lane)
                continue
            conn.execute(
                f"UPDATE {TABLE} SET claimed_by = ?, claimed_at = ?, attempts = attempts + 1 WHERE id = ?",
                (self.owner, now, row_id),
            )
            (payload,) = conn.execute(f"SELECT payload FROM {TABLE} WHERE id = ?", (row_id,)).fetchone()
            return OutboxRow(id=row_id, tier=tier, payload=json.loads(payload)), lane
        return None

    def complete(self, row_id: int) -> None:
        """Forget a row Slack accepted."""
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
        if not self.path.exists():
            return 0
        with closing(self._connect()) as conn:
            (n,) = conn.execute(f"SELECT COUNT(*) FROM {TABLE}").fetchone()
            return int(n)
