"""Which audit log the settings pick (`open_audit`), and the one on the shared DynamoDB table
(`AIOPS_STORE=dynamodb:TABLE`), so every worker's mutating calls are in one place: the same methods as
utils/audit.py's AuditLog.

Items: pk `AUDIT`, sk the entry's number (zero-padded, so the newest are a reverse Query away); the
number comes from one atomic counter, so entries from several workers never collide.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from utils.audit import ATTEMPTED, AuditEntry, AuditLog, AuditUnavailable, _json, _text
from utils.dynamo import DynamoTable, StoreUnavailable, next_number, query_all, to_item, update_spec

_STALE = "no answer before the deadline (or the asking process ended): nothing was done"


def _key(row_id: int) -> dict[str, str]:
    return {"pk": "AUDIT", "sk": f"{row_id:012d}"}


class DynamoAuditLog:
    def __init__(self, table: DynamoTable) -> None:
        self.table = table
        self.path = f"dynamodb:{table.name}"  # named in messages as the SQLite log names its file
        self._guard(table.ensure)

    def _guard(self, work: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return work(*args, **kwargs)
        except StoreUnavailable as exc:
            raise AuditUnavailable(f"cannot write the audit log in {exc}") from exc

    def record(self, tool: str, targets: list[dict[str, Any]], arguments: dict[str, Any], decision: str,
               outcome: str, caller: str) -> int:
        row_id = self._guard(next_number, self.table, "audit")
        item = {**_key(row_id), "id": row_id, "ts": datetime.now(UTC).isoformat(timespec="seconds"),
                "tool": _text(tool), "targets": _json(targets), "arguments": _json(arguments), "decision": decision,
                "outcome": _text(outcome[:2000]) or " ", "caller": _text(caller[:200]) or " "}
        self._guard(self.table.call, "put_item", Item=to_item(item))
        return row_id

    def begin(self, tool: str, arguments: dict[str, Any], caller: str, targets: list[dict[str, Any]] | None = None) -> int:
        return self.record(tool=tool, targets=targets or [], arguments=arguments, decision=ATTEMPTED,
                           outcome="in progress", caller=caller)

    def finish(self, row_id: int, decision: str, outcome: str, targets: list[dict[str, Any]] | None = None) -> None:
        sets: dict[str, Any] = {"decision": decision, "outcome": _text(outcome[:2000]) or " "}
        if targets:
            sets["targets"] = _json(targets)
        self._guard(self.table.call, "update_item", **update_spec(_key(row_id), sets))

    def expire_attempts(self, older_than_seconds: float) -> int:
        cutoff = datetime.fromtimestamp(time.time() - older_than_seconds, UTC).isoformat(timespec="seconds")
        stale = self._guard(query_all, self.table, KeyConditionExpression="pk = :pk",
                            FilterExpression="decision = :attempted AND ts < :cutoff",
                            ExpressionAttributeValues=to_item({":pk": "AUDIT", ":attempted": ATTEMPTED,
                                                               ":cutoff": cutoff}))
        for row in stale:
            self._guard(self.table.call, "update_item", **update_spec(
                _key(row["id"]), {"decision": "unconfirmed", "outcome": _STALE}))
        return len(stale)

    def recent(self, limit: int = 20) -> list[AuditEntry]:
        rows = self._guard(query_all, self.table, KeyConditionExpression="pk = :pk", ScanIndexForward=False,
                           Limit=max(1, limit), ExpressionAttributeValues=to_item({":pk": "AUDIT"}))
        return [AuditEntry(id=r["id"], ts=r["ts"], tool=r["tool"], targets=json.loads(r["targets"]),
                           arguments=json.loads(r["arguments"]), decision=r["decision"],
                           outcome=r["outcome"].strip(), caller=r["caller"].strip()) for r in rows]

    def close(self) -> None:
        pass


def open_audit(settings: Any) -> Any:
    """The configured audit log: AIOPS_HOME/audit.sqlite3, or the shared DynamoDB table with
    `AIOPS_STORE=dynamodb:TABLE` (DynamoAuditLog above); AuditUnavailable when it cannot be written."""
    if getattr(settings, "dynamodb_table", None) is None:
        return AuditLog(settings.state_dir)
    from utils.dynamo import table_for

    try:
        return DynamoAuditLog(table_for(settings))
    except StoreUnavailable as exc:
        raise AuditUnavailable(f"cannot write the audit log in {exc}") from exc
