"""The DynamoDB store's approval queue, watches and the views people read (history, today's counts).

The same methods and meaning as agent/monitor/approval_queue.py, watches.py and store_history.py;
each decision is a conditional write on the item's state (`status = pending`, `result = watching`)
in one transaction with its timeline entry, so two workers never decide or conclude it twice.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from typing import Any

from agent.monitor.dynamo_base import _ST, DynamoBase, approval_item, inc_key, incident_of
from agent.monitor.proposals import Proposal
from agent.monitor.records import (
    NOTHING_RAN,
    PREFIX,
    Approval,
    ApprovalError,
    Counts,
    IncidentHistory,
    TimelineEntry,
    Verification,
    parse_id,
)
from utils.dynamo import Conflict, count_all, from_item, query_all, to_item, update_spec

_PENDING = "#st = :pending"


class DynamoViews(DynamoBase):
    # -- the approval queue ----------------------------------------------------------------------

    def add_approval(self, seq: int, proposal: Proposal, ttl_seconds: float) -> None:
        with contextlib.suppress(Conflict):  # one is there already (INSERT OR IGNORE)
            self.table.call("put_item", Item=approval_item(seq, proposal, self.clock(), ttl_seconds),
                            ConditionExpression="attribute_not_exists(pk)")

    def approval(self, incident_id: str | int) -> Approval | None:
        answer = self.table.call("get_item", Key=to_item(inc_key(parse_id(incident_id), "APPROVAL")),
                                 ConsistentRead=True)
        return _approval(from_item(answer["Item"])) if "Item" in answer else None

    def decide(self, incident_id: str | int, *, approve: bool, by: str, reason: str = "") -> Approval:
        """pending -> approved/rejected for one worker; an overdue one becomes expired and raises."""
        seq, now = parse_id(incident_id), self.clock()
        current = self.approval(seq)
        if current is None:
            raise ApprovalError(f"{PREFIX}{seq} has no proposal waiting for a decision")
        if current.status == "pending" and current.expires_at <= now:
            self._expire(seq, now, "no decision within the approval TTL")
            raise ApprovalError(f"{PREFIX}{seq}: the proposal expired before it was approved")
        status = "approved" if approve else "rejected"
        try:
            self.table.transact([
                {"Update": update_spec(inc_key(seq, "APPROVAL"), {"status": status, "decided_by": by,
                                                                  "decided_at": now, "reason": reason or None},
                                       remove=("gsi1pk", "gsi1sk"), condition=_PENDING, names=_ST,
                                       values={"pending": "pending"})},
                self._event(seq, now, status, by, reason or status)])
        except Conflict:
            raise ApprovalError(f"{PREFIX}{seq}: the proposal is already {self.approval(seq).status}") from None
        return self.approval(seq)  # type: ignore[return-value]

    def _expire(self, seq: int, now: float, why: str, event: str | None = None) -> bool:
        try:
            self.table.transact([
                {"Update": self._expire_spec(seq, now, why)},
                self._event(seq, now, "expired", "monitor", event or why)])
        except Conflict:
            return False
        return True

    @staticmethod
    def _expire_spec(seq: int, now: float, why: str) -> dict[str, Any]:
        return update_spec(inc_key(seq, "APPROVAL"), {"status": "expired", "decided_by": "monitor",
                                                      "decided_at": now, "reason": why},
                           remove=("gsi1pk", "gsi1sk"), condition=_PENDING, names=_ST, values={"pending": "pending"})

    def _withdraw_items(self, seq: int, approval: dict[str, Any] | None, now: float) -> list[dict[str, Any]]:
        """A pending proposal of an incident being resolved is withdrawn in the same transaction."""
        if approval is None or approval.get("status") != "pending":
            return []
        return [{"Update": self._expire_spec(seq, now, "incident resolved before a decision")},
                self._event(seq, now, "expired", "monitor", "proposal withdrawn: incident resolved")]

    def expire_due(self) -> list[Approval]:
        now = self.clock()
        due = [r["seq"] for r in self._index("gsi1", "PENDING") if r["expires_at"] <= now]
        expired = [seq for seq in due if self._expire(seq, now, "no decision within the approval TTL")]
        return [a for a in (self.approval(s) for s in expired) if a is not None]

    def pending(self) -> list[Approval]:
        """Waiting proposals, most urgent tier first, then oldest first."""
        now = self.clock()
        waiting = [r for r in self._index("gsi1", "PENDING") if r["expires_at"] > now]
        incidents = self._incidents([r["seq"] for r in waiting])
        waiting = [r for r in waiting if r["seq"] in incidents]
        waiting.sort(key=lambda r: (incidents[r["seq"]]["tier"], incidents[r["seq"]]["opened_at"], r["seq"]))
        return [_approval(r) for r in waiting]

    def _incidents(self, seqs: list[int]) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        for start in range(0, len(seqs), 100):  # BatchGetItem's most per call
            keys = [to_item(inc_key(s)) for s in seqs[start:start + 100]]
            while keys:
                answer = self.table.call("batch_get_item", RequestItems={self.table.name: {
                    "Keys": keys, "ConsistentRead": True}})
                for item in answer.get("Responses", {}).get(self.table.name, []):
                    row = from_item(item)
                    found[row["seq"]] = row
                keys = answer.get("UnprocessedKeys", {}).get(self.table.name, {}).get("Keys", [])
        return found

    def record_action(self, seq: int, status: str, message: str, by: str, *, auto: bool = False,
                      watch_seconds: float | None = None) -> None:
        """The outcome of running the proposal, in one transaction (see approval_queue.py for the rules)."""
        now = self.clock()
        parts = self._parts(seq)
        approval = parts.get("APPROVAL")
        items: list[dict[str, Any]] = []
        outcome = {"outcome_status": status, "outcome_message": message[:2000], "outcome_at": now}
        if approval is not None:
            sets = dict(outcome)
            if auto and status == "ok":
                sets.update(status="auto", decided_by=by, decided_at=now)
                items.append({"Update": update_spec(inc_key(seq), {"auto_handled": True})})
            again = not auto and status in NOTHING_RAN and approval.get("status") == "approved"
            if again:  # a No at the y/N is not a decision on the proposal: it waits again
                sets.update(status="pending", decided_by=None, decided_at=None, gsi1pk="PENDING", gsi1sk=seq)
            remove = ("gsi1pk", "gsi1sk") if sets.get("status") == "auto" else ()
            items.insert(0, {"Update": update_spec(inc_key(seq, "APPROVAL"), sets, remove=remove)})
        if not auto and status in NOTHING_RAN:
            items.append(self._event(seq, now, status, by, f"{message}; the proposal waits for a decision again"))
            self.table.transact(items)
            return
        items.append(self._event(seq, now, "auto_action" if auto else "action", by, f"{status}: {message}"))
        if status == "ok" and watch_seconds is not None and approval is not None:
            items += self._start_watch_items(seq, approval["tool"], by, now, watch_seconds, parts.get("WATCH"))
        self.table.transact(items)

    # -- watches ---------------------------------------------------------------------------------

    def verification(self, incident_id: str | int) -> Verification | None:
        answer = self.table.call("get_item", Key=to_item(inc_key(parse_id(incident_id), "WATCH")), ConsistentRead=True)
        return _verification(from_item(answer["Item"])) if "Item" in answer else None

    def watches_due(self) -> list[Verification]:
        due = self._index("gsi1", "WATCHING", upto=self.clock())
        incidents = self._incidents([r["seq"] for r in due])
        return [_verification(r) for r in sorted(due, key=lambda r: r["seq"])
                if incidents.get(r["seq"], {}).get("status") == "open"]

    def _start_watch_items(self, seq: int, action: str, by: str, now: float, watch_seconds: float,
                           earlier: dict[str, Any] | None) -> list[dict[str, Any]]:
        tried = [t for t in json.loads((earlier or {}).get("tried") or "[]") if t != action]
        watch = Verification(incident_id=f"{PREFIX}{seq}", action=action, by=by, acted_at=now,
                             due_at=now + watch_seconds, result="watching", tried=[*tried, action])
        item = {**inc_key(seq, "WATCH"), "seq": seq, "action": action, "by": by, "acted_at": now,
                "due_at": watch.due_at, "result": "watching", "tried": json.dumps(watch.tried),
                "gsi1pk": "WATCHING", "gsi1sk": watch.due_at}
        return [{"Put": {"Item": to_item(item)}}, self._event(seq, now, "watching", "monitor", watch.line())]

    def _end_watch_items(self, seq: int, watch: dict[str, Any] | None, result: str,
                         now: float) -> list[dict[str, Any]]:
        """watching -> recovered | did_not_help, conditional on the watch the caller read."""
        if watch is None or watch.get("result") != "watching":
            return []
        ended = _verification({**watch, "result": result, "ended_at": now})
        return [{"Update": update_spec(inc_key(seq, "WATCH"), {"result": result, "ended_at": now},
                                       remove=("gsi1pk", "gsi1sk"), names={"#res": "result"},
                                       condition="#res = :watching AND acted_at = :acted",
                                       values={"watching": "watching", "acted": watch["acted_at"]})},
                self._event(seq, now, result, "monitor", ended.line())]

    # -- views for people ------------------------------------------------------------------------

    def history(self, limit: int = 20) -> list[IncidentHistory]:
        rows = self._index("gsi2", "INCIDENTS", newest_first=True, limit=max(1, limit))
        return [h for h in (self.history_of(r["seq"]) for r in rows) if h is not None]

    def history_of(self, incident_id: str | int) -> IncidentHistory | None:
        """The incident, its approval, its watch and its timeline: one Query on its partition."""
        seq = parse_id(incident_id)
        rows = query_all(self.table, KeyConditionExpression="pk = :pk",
                         ExpressionAttributeValues=to_item({":pk": f"INC#{seq}"}), ConsistentRead=True)
        parts = {r["sk"]: r for r in rows}
        if "A#INCIDENT" not in parts:
            return None
        approval, watch = parts.get("A#APPROVAL"), parts.get("A#WATCH")
        return IncidentHistory(
            incident=incident_of(parts["A#INCIDENT"]), approval=_approval(approval) if approval else None,
            timeline=[TimelineEntry(ts=r["ts"], kind=r["kind"], actor=r["actor"], detail=r["detail"])
                      for r in rows if r["sk"].startswith("T#")],
            verification=_verification(watch) if watch else None)

    def counts_today(self) -> Counts:
        now = self.clock()
        midnight = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()

        def count(partition: str, index: str, where: str | None = None, **values: Any) -> int:
            extra: dict[str, Any] = {"FilterExpression": where} if where else {}
            if where and "#st" in where:
                extra["ExpressionAttributeNames"] = _ST
            return count_all(self.table, IndexName=index, KeyConditionExpression=f"{index}pk = :p",
                             ExpressionAttributeValues=to_item({":p": partition, **{f":{k}": v for k, v in values.items()}}),
                             **extra)

        return Counts(
            open=count("OPEN", "gsi1"),
            resolved=count("INCIDENTS", "gsi2", "#st = :r AND resolved_at >= :m", r="resolved", m=midnight),
            auto_handled=count("APPROVALS", "gsi2", "#st = :a AND decided_at >= :m", a="auto", m=midnight),
            waiting_approval=count("PENDING", "gsi1", "expires_at > :now", now=now),
        )


def _approval(row: dict[str, Any]) -> Approval:
    data = {k: v for k, v in row.items() if k in Approval.model_fields}
    data["incident_id"] = f"{PREFIX}{row['seq']}"
    data["arguments"] = json.loads(row["arguments"])
    return Approval(**data)


def _verification(row: dict[str, Any]) -> Verification:
    data = {k: v for k, v in row.items() if k in Verification.model_fields}
    data["incident_id"] = f"{PREFIX}{row['seq']}"
    data["tried"] = json.loads(row.get("tried") or "[]")
    return Verification(**data)
