"""The outbox on the shared DynamoDB table (`AIOPS_STORE=dynamodb:TABLE`): the same lane, order and
no-loss, no-duplicate promises as notify/outbox.py, for workers on several machines.

Items, per destination (pk `OUTBOX#<destination>`):
  sk `Q#<id>`       an alert waiting (or in flight), oldest first by its number from one atomic counter;
                    deleted once the destination accepted it
  sk `DEDUP#<key>`  the alert's dedup key and its row number, kept a week (`purge_at`, DynamoDB TTL), so
                    an alert handed over again after a crash is recognised, waiting or sent, and never sent twice

A sender claims a row with a conditional update on the claim it saw (nobody's, or one whose lease ran
out, or one whose owner died), so exactly one worker posts it. The lease is the only liveness across
machines: a worker killed mid-post leaves its row to be taken over when the lease runs out; workers
that share one AIOPS_HOME (one host) also see each other's liveness files (notify/owners.py) and take
a dead one's row at once. Order is kept per incident: a row another worker holds blocks only its own
incident's later rows.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from notify.base import Alert
from notify.outbox import SENT_RETENTION_SECONDS, OutboxRow
from notify.owners import Owner, owner_alive
from utils.dynamo import (
    Conflict,
    DynamoTable,
    count_all,
    from_item,
    next_number,
    query_all,
    to_item,
    update_spec,
)

log = logging.getLogger(__name__)

_SEEN_FOR = 5.0  # seconds one read of a lane may serve a drain


class DynamoOutbox:
    def __init__(self, table: DynamoTable, destination: str, *, home: Path, lease_seconds: float) -> None:
        self.table, self.destination, self.lease_seconds = table, destination, lease_seconds
        self.home = Path(home)
        self.pk = f"OUTBOX#{destination}"
        self._owner: Owner | None = None
        # The lane as one drain read it: (its blocked set, when, rows not yet looked at). One Query serves the drain's
        # claims instead of one per row; a claim is conditional anyway, so a row another worker took meanwhile
        # is skipped, and a row added meanwhile waits for the next drain (its own worker drains after its put).
        self._seen: tuple[set[Hashable], float, list[dict[str, Any]]] | None = None

    @property
    def owner(self) -> str:
        if self._owner is None:
            self._owner = Owner(self.home)
        return self._owner.name

    def close(self) -> None:
        if self._owner is not None:
            self._owner.close()

    def _row_key(self, row_id: int) -> dict[str, Any]:
        return to_item({"pk": self.pk, "sk": f"Q#{row_id:012d}"})

    def put(self, alert: Alert) -> int:
        """Append an alert (see notify/outbox.py Outbox.put for dedup and repeat-page folding)."""
        now = time.time()
        self._seen = None  # the next claim reads the lane afresh: this row is in it
        if alert.kind == "repage":
            for row in self._waiting():
                if row["incident_id"] == alert.incident_id and row["tier"] == alert.tier \
                        and row["kind"] in ("open", "repage") and "claimed_by" not in row:
                    return int(row["id"])
        row_id = next_number(self.table, "outbox")
        item = to_item({"pk": self.pk, "sk": f"Q#{row_id:012d}", "id": row_id, "created_at": now, "tier": alert.tier,
                        "incident_id": alert.incident_id, "kind": alert.kind, "alert": alert.model_dump_json(),
                        "dedup": alert.dedup_key, "attempts": 0})
        if alert.dedup_key is None:
            self.table.call("put_item", Item=item)
            return row_id
        try:  # no look first: a key already here fails the condition (a number unused is no matter)
            self.table.transact([
                {"Put": {"Item": to_item({"pk": self.pk, "sk": f"DEDUP#{alert.dedup_key}", "row_id": row_id,
                                          "purge_at": int(now + SENT_RETENTION_SECONDS)}),
                         "ConditionExpression": "attribute_not_exists(pk) OR purge_at < :now",
                         "ExpressionAttributeValues": {":now": {"N": str(int(now))}}}},
                {"Put": {"Item": item}}])
        except Conflict:  # another worker handed the same alert over first
            return self._dedup(alert.dedup_key, now) or row_id
        return row_id

    def _dedup(self, key: str, now: float) -> int | None:
        answer = self.table.call("get_item", Key=to_item({"pk": self.pk, "sk": f"DEDUP#{key}"}), ConsistentRead=True)
        row = from_item(answer.get("Item", {}))
        return int(row["row_id"]) if row and row.get("purge_at", 0) >= now else None

    def _waiting(self) -> list[dict[str, Any]]:
        return query_all(self.table, KeyConditionExpression="pk = :pk AND begins_with(sk, :q)", ConsistentRead=True,
                         ExpressionAttributeValues=to_item({":pk": self.pk, ":q": "Q#"}))

    def was_sent(self, row_id: int) -> bool:
        """A row is deleted only once its destination accepted it."""
        return "Item" not in self.table.call("get_item", Key=self._row_key(row_id), ConsistentRead=True,
                                             ProjectionExpression="pk")

    def claim_next(self, lane_of: Callable[[int], Hashable | None],
                   blocked: set[Hashable]) -> tuple[OutboxRow, Hashable] | None:
        """Claim the oldest row whose lane is not blocked (notify/outbox.py Outbox.claim_next)."""
        now = time.time()
        if self._seen is None or self._seen[0] is not blocked or now - self._seen[1] > _SEEN_FOR:
            self._seen = (blocked, now, self._waiting())  # one drain passes one `blocked` set throughout
        rows = self._seen[2]
        while rows:
            row = rows.pop(0)
            if row.get("unreadable"):
                continue
            lane = lane_of(row["tier"])
            if lane is None or lane in blocked or (lane, row["incident_id"]) in blocked:
                continue
            holder = row.get("claimed_by")
            if self._held_elsewhere(holder, row.get("claimed_at"), now):
                blocked.add((lane, row["incident_id"]))
                continue
            parsed = self._read(row)
            if parsed is None:
                continue
            if not self._claim(row, now):
                blocked.add((lane, row["incident_id"]))  # another worker took it just now
                continue
            if holder is not None and holder != self.owner:
                log.warning("outbox row %d for %s: its sender %s is gone; sent again (it may have been delivered)",
                            row["id"], self.destination, holder)
            return parsed, lane
        self._seen = None  # nothing left of that read: the next drain reads again
        return None

    def _held_elsewhere(self, holder: str | None, claimed_at: float | None, now: float) -> bool:
        if holder is None or holder == self.owner:
            return False
        if now - (claimed_at or 0) >= self.lease_seconds:
            return False
        return owner_alive(self.home, holder) is not False

    def _claim(self, row: dict[str, Any], now: float) -> bool:
        """Conditional on the claim this worker saw, so of several racing for it one wins."""
        if row.get("claimed_by") is None:
            condition, values = "attribute_exists(pk) AND attribute_not_exists(claimed_by)", {}
        else:
            condition = "attribute_exists(pk) AND claimed_by = :seen AND claimed_at = :seen_at"
            values = {"seen": row["claimed_by"], "seen_at": row["claimed_at"]}
        spec = update_spec({"pk": self.pk, "sk": row["sk"]}, {"claimed_by": self.owner, "claimed_at": now},
                           add={"attempts": 1}, condition=condition, values=values)
        try:
            self.table.call("update_item", **spec)
        except Conflict:
            return False
        return True

    def _read(self, row: dict[str, Any]) -> OutboxRow | None:
        try:
            return OutboxRow(id=int(row["id"]), tier=int(row["tier"]), alert=Alert.model_validate_json(row["alert"]))
        except (ValidationError, KeyError, TypeError, ValueError) as exc:
            log.error("outbox row %s for %s is unreadable and set aside: %s", row.get("id"), self.destination, exc)
            self.table.call("update_item", **update_spec({"pk": self.pk, "sk": row["sk"]},
                                                         {"unreadable": True, "last_error": str(exc)[:500] or "?"}))
            return None

    def complete(self, row_id: int) -> None:
        """The destination accepted it: the row goes (its dedup item stays the week)."""
        self.table.call("delete_item", Key=self._row_key(row_id))

    def release(self, row_id: int, error: str) -> None:
        with contextlib.suppress(Conflict):  # our lease ran out and another worker holds it now
            self.table.call("update_item", **update_spec(
                {"pk": self.pk, "sk": f"Q#{row_id:012d}"}, {"last_error": error[:500] or "?"},
                remove=("claimed_by", "claimed_at"), condition="claimed_by = :me", values={"me": self.owner}))

    def count(self) -> int:
        """Rows waiting for this destination (not those set aside as unreadable)."""
        return count_all(self.table, KeyConditionExpression="pk = :pk AND begins_with(sk, :q)",
                         FilterExpression="attribute_not_exists(unreadable)",
                         ExpressionAttributeValues=to_item({":pk": self.pk, ":q": "Q#"}))
