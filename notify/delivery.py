"""Where each incident's alerts went, per destination: read from the outbox file, for `incidents --json`.

The outbox keeps a sent row a week (its tombstone, notify/outbox.py), so what each destination accepted
and what still waits for it can be told per incident: `{"Slack app": {"state": "sent", "sent": ["open",
"decided", "resolved"], "waiting": [], "last_error": null}, "PagerDuty": {...}}`. Read-only: a home without
an outbox file has no deliveries, and none is created.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import Any

from notify.lanes import OUTBOX_FILE
from notify.outbox import TABLE


def deliveries(home: Path, incident_ids: Iterable[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """incident id -> destination -> its delivery state; incidents never handed to a destination are absent."""
    wanted = sorted(set(incident_ids))
    path = Path(home) / OUTBOX_FILE
    if not wanted or not path.exists():
        return {}
    marks = ",".join("?" * len(wanted))
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as conn:
            rows = conn.execute(f"SELECT incident_id, destination, kind, sent_at, last_error, unreadable FROM {TABLE}"
                                f" WHERE incident_id IN ({marks}) ORDER BY id", wanted).fetchall()
    except sqlite3.Error:  # a file from before destinations, or one being created: nothing to tell yet
        return {}
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for incident_id, destination, kind, sent_at, last_error, unreadable in rows:
        state = found.setdefault(incident_id, {}).setdefault(
            destination, {"state": "sent", "sent": [], "waiting": [], "last_error": None})
        if sent_at is not None:
            state["sent"].append(kind)
            continue
        state["waiting"].append(kind)
        state["state"] = "set aside (unreadable)" if unreadable else "waiting"
        state["last_error"] = last_error or state["last_error"]
    return found
