"""What the DynamoDB incident store's rooms share: item keys, rows back into models, the timeline entry.

The item layout is described in agent/monitor/dynamo_store.py.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.monitor.proposals import Proposal
from agent.monitor.records import Incident
from agent.monitor.store_db import incident_from_row
from utils.dynamo import DynamoTable, from_item, query_all, to_item

_OPEN = "#st = :open"
_ST = {"#st": "status"}


def inc_key(seq: int, what: str = "INCIDENT") -> dict[str, str]:
    return {"pk": f"INC#{seq}", "sk": f"A#{what}"}


def incident_of(row: dict[str, Any]) -> Incident:
    row = {"proposal": None, "sops": "[]", "evidence": None, "auto_handled": False, **row}
    return incident_from_row(row)


_sequence = itertools.count()


class DynamoBase:
    def __init__(self, table: DynamoTable, home: Path | None, *, clock: Callable[[], float] = time.time) -> None:
        self.table, self.clock = table, clock
        # Claims name their owner; workers sharing one AIOPS_HOME (one host) see each other's liveness
        # files beside this path (notify/owners.py) and take a dead one's claim at once, others wait the lease.
        self.path = Path(home) / f"dynamodb-{table.name}" if home is not None else None

    def close(self) -> None:
        """The boto3 client is the process's (utils/dynamo.py table_for); nothing to close per store."""

    def _event(self, seq: int, ts: float, kind: str, actor: str, detail: str) -> dict[str, Any]:
        sk = f"T#{ts:020.6f}#{time.time_ns():020d}#{next(_sequence):06d}"
        return {"Put": {"Item": to_item({"pk": f"INC#{seq}", "sk": sk, "ts": ts, "kind": kind, "actor": actor,
                                         "detail": detail[:2000]})}}

    def _parts(self, seq: int) -> dict[str, dict[str, Any]]:
        """The incident, its approval and its watch (whichever exist), in one consistent Query."""
        answer = self.table.call("query", KeyConditionExpression="pk = :pk AND begins_with(sk, :a)",
                                 ExpressionAttributeValues=to_item({":pk": f"INC#{seq}", ":a": "A#"}),
                                 ConsistentRead=True)
        return {row["sk"][2:]: row for row in (from_item(i) for i in answer.get("Items", []))}



    def _index(self, index: str, partition: str, *, upto: float | None = None,
               newest_first: bool = False, limit: int | None = None) -> list[dict[str, Any]]:
        """Items of one sparse-index partition (`OPEN`, `PENDING`, `WATCHING`, `INCIDENTS`), by their number."""
        condition, values = f"{index}pk = :p", {":p": partition}
        if upto is not None:
            condition, values = condition + f" AND {index}sk <= :upto", {**values, ":upto": upto}
        extra: dict[str, Any] = {"Limit": limit} if limit else {}
        return query_all(self.table, IndexName=index, KeyConditionExpression=condition,
                         ExpressionAttributeValues=to_item(values), ScanIndexForward=not newest_first, **extra)


def approval_item(seq: int, proposal: Proposal, now: float, ttl_seconds: float) -> dict[str, Any]:
    return to_item({**inc_key(seq, "APPROVAL"), "seq": seq, "tool": proposal.tool,
                    "arguments": json.dumps(proposal.arguments), "risk": proposal.risk, "status": "pending",
                    "created_at": now, "expires_at": now + ttl_seconds, "gsi1pk": "PENDING", "gsi1sk": seq,
                    "gsi2pk": "APPROVALS", "gsi2sk": seq})
