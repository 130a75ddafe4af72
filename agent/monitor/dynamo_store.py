"""The incident store on DynamoDB (`AIOPS_STORE=dynamodb:TABLE`): the same methods as the SQLite one
(agent/monitor/incidents.py), so the monitor runs unchanged on either, several workers on one table.

Items (utils/dynamo.py has the table and its indexes):
  pk `INC#<n>`  sk `A#INCIDENT`   the incident (gsi1 `OPEN` while open; gsi2 `INCIDENTS`, by number)
                sk `A#APPROVAL`   its approval (gsi1 `PENDING` while pending; gsi2 `APPROVALS`)
                sk `A#WATCH`      did the fix work (gsi1 `WATCHING` while watching, by due time)
                sk `T#<ts>#<ns>`  its timeline, in order
  pk `KEY#<key>` sk `OPEN`        the one open incident of a dedup key: a conditional put opens it,
                                  so of N workers exactly one does; resolving deletes it in the same transaction
  pk `CHANGE#<key>`               the newest alarm change applied (agent/monitor/change_ledger.py's job)
  pk `STATES`                     instance states between cycles
The incident and its `A#` items are read together in one Query, and each change is one transaction
with its timeline entry, so a worker that dies between two calls leaves nothing half done.
Incident numbers come from one atomic counter; a worker that loses the race to open leaves a gap.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

from agent.monitor.dynamo_base import _OPEN, _ST, approval_item, inc_key, incident_of
from agent.monitor.dynamo_views import DynamoViews
from agent.monitor.proposals import Proposal
from agent.monitor.records import Incident, NewIncident, Verification, parse_id
from utils.dynamo import Conflict, from_item, next_number, to_item, update_spec

__all__ = ["DynamoIncidentStore"]

class DynamoIncidentStore(DynamoViews):
    """Incidents, approvals, watches, timeline and instance states in one shared DynamoDB table."""

    def open_incident(self, new: NewIncident, owner: str) -> Incident | None:
        now = self.clock()
        # Looked at first (one read) so a key already open does not use up a number: ids without gaps,
        # except when two workers race past this look; the conditional put below is what decides.
        lock = to_item({"pk": f"KEY#{new.key}", "sk": "OPEN"})
        if "Item" in self.table.call("get_item", Key=lock, ConsistentRead=True, ProjectionExpression="pk"):
            return None
        seq = next_number(self.table, "incident")
        row = {**new.model_dump(), "summary": new.summary[:4000], "seq": seq, "status": "open", "opened_at": now,
               "claim_owner": owner, "claim_at": now, "pages": 0, "auto_handled": False, "sops": "[]",
               "gsi1pk": "OPEN", "gsi1sk": seq, "gsi2pk": "INCIDENTS", "gsi2sk": seq}
        try:
            self.table.transact([
                {"Put": {"Item": to_item({"pk": f"KEY#{new.key}", "sk": "OPEN", "seq": seq}),
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"Item": to_item({**row, **inc_key(seq)})}},
                self._event(seq, now, "opened", "monitor", f"Tier {new.tier} ({new.tier_reason})"),
            ])
        except Conflict:
            return None
        return incident_of(row)

    def get(self, incident_id: str | int) -> Incident | None:
        answer = self.table.call("get_item", Key=to_item(inc_key(parse_id(incident_id))), ConsistentRead=True)
        return incident_of(from_item(answer["Item"])) if "Item" in answer else None

    def open_incidents(self) -> list[Incident]:
        return [incident_of(r) for r in self._index("gsi1", "OPEN")]

    def set_diagnosis(self, seq: int, sops: list[dict[str, Any]], proposal: Proposal | None,
                      note: str | None) -> None:
        now = self.clock()
        sop = sops[0]["title"] if sops else "none"
        what = f"{proposal.tool} (risk {proposal.risk})" if proposal else "none"
        self.table.transact([
            {"Update": update_spec(inc_key(seq), {"sops": json.dumps(sops), "note": note, "diagnosed_at": now,
                                                  "proposal": proposal.model_dump_json() if proposal else None})},
            self._event(seq, now, "diagnosed", "monitor", f"SOP: {sop}; proposal: {what}")])

    def set_evidence(self, seq: int, evidence: dict[str, Any], line: str) -> None:
        self.table.transact([{"Update": update_spec(inc_key(seq), {"evidence": json.dumps(evidence)})},
                             self._event(seq, self.clock(), "evidence", "monitor", line)])

    def claim_notification(self, seq: int, owner: str, lease: float,
                           alive: Callable[[str], bool | None] | None = None) -> bool:
        """True when this owner may send the first page; a holder `alive` says died is taken over at once."""
        now = self.clock()
        free = ("attribute_not_exists(claim_owner) OR claim_owner = :me OR claim_at < :stale")
        try:
            self._claim(seq, owner, now, f"{_OPEN} AND attribute_not_exists(notified_at) AND ({free})",
                        stale=now - lease)
            return True
        except Conflict:
            pass
        current = self.get(seq)
        holder = self._holder(seq)
        if current is None or current.status != "open" or current.notified_at is not None or holder is None \
                or alive is None or alive(holder) is not False:
            return False
        try:
            self._claim(seq, owner, now, f"{_OPEN} AND attribute_not_exists(notified_at) AND claim_owner = :dead",
                        dead=holder)
            return True
        except Conflict:
            return False

    def _claim(self, seq: int, owner: str, now: float, condition: str, **values: Any) -> None:
        self.table.call("update_item", **update_spec(inc_key(seq), {"claim_owner": owner, "claim_at": now},
                                                     condition=condition, names=_ST,
                                                     values={"open": "open", "me": owner, **values}))

    def _holder(self, seq: int) -> str | None:
        answer = self.table.call("get_item", Key=to_item(inc_key(seq)), ProjectionExpression="claim_owner",
                                 ConsistentRead=True)
        return from_item(answer.get("Item", {})).get("claim_owner")

    def release_notification(self, seq: int, owner: str, detail: str) -> None:
        with contextlib.suppress(Conflict):
            self.table.transact([
                {"Update": update_spec(inc_key(seq), remove=("claim_owner", "claim_at"), values={"me": owner},
                                       condition="claim_owner = :me AND attribute_not_exists(notified_at)")},
                self._event(seq, self.clock(), "not_notified", "monitor", detail)])

    def mark_notified(self, seq: int, detail: str) -> None:
        now = self.clock()
        self.table.transact([
            {"Update": update_spec(inc_key(seq), {"notified_at": now, "last_paged_at": now},
                                   remove=("claim_owner", "claim_at"), add={"pages": 1})},
            self._event(seq, now, "notified", "monitor", detail)])

    def claim_repage(self, incident: Incident, every: float) -> bool:
        now = self.clock()
        if incident.last_paged_at is None or now - incident.last_paged_at < every:
            return False
        try:
            self.table.transact([
                {"Update": update_spec(inc_key(incident.seq), {"last_paged_at": now}, add={"pages": 1}, names=_ST,
                                       condition=f"{_OPEN} AND last_paged_at = :was",
                                       values={"open": "open", "was": incident.last_paged_at})},
                self._event(incident.seq, now, "repaged", "monitor", f"page {incident.pages + 1}")])
        except Conflict:
            return False
        return True

    def resolve(self, seq: int, detail: str) -> Incident | None:
        """Resolve an open incident (its watch ends as recovered, a pending proposal is withdrawn);
        None when another worker already did."""
        for _ in range(3):  # the approval or watch may change under us: read again and retry
            parts = self._parts(seq)
            row = parts.get("INCIDENT")
            if row is None or row.get("status") != "open":
                return None
            now = self.clock()
            items = [
                {"Update": update_spec(inc_key(seq), {"status": "resolved", "resolved_at": now}, names=_ST,
                                       remove=("claim_owner", "claim_at", "gsi1pk", "gsi1sk"), condition=_OPEN,
                                       values={"open": "open"})},
                {"Delete": {"Key": to_item({"pk": f"KEY#{row['key']}", "sk": "OPEN"})}},
                self._event(seq, now, "resolved", "monitor", detail)]
            items += self._end_watch_items(seq, parts.get("WATCH"), "recovered", now)
            items += self._withdraw_items(seq, parts.get("APPROVAL"), now)
            try:
                self.table.transact(items)
            except Conflict:
                continue
            return incident_of({**row, "status": "resolved", "resolved_at": now, "claim_owner": None})
        return None

    def action_did_not_help(self, watch: Verification, proposal: Proposal | None, line: str,
                            ttl_seconds: float) -> Incident | None:
        """End the watch, raise the tier by one (Tier 0 stays), count the page and queue the fallback, in one
        transaction; None when the incident is not open or another worker ended the watch first."""
        seq, now = parse_id(watch.incident_id), self.clock()
        parts = self._parts(seq)
        row, current = parts.get("INCIDENT"), parts.get("WATCH")
        if row is None or row.get("status") != "open" or current is None or current.get("result") != "watching" \
                or current.get("acted_at") != watch.acted_at:
            return None
        was = int(row["tier"])
        tier = max(0, was - 1)
        items = self._end_watch_items(seq, current, "did_not_help", now)
        items += [
            {"Update": update_spec(inc_key(seq), {"tier": tier, "tier_reason": f"{watch.verb} did not help (was Tier {was})",
                                                  "proposal": proposal.model_dump_json() if proposal else None,
                                                  "note": line, "last_paged_at": now},
                                   add={"pages": 1}, names=_ST, condition=_OPEN, values={"open": "open"})},
            self._event(seq, now, "repaged", "monitor", f"re-paged Tier {tier} (was Tier {was}): {watch.verb} did not help")]
        if proposal is not None and proposal.mutating and not proposal.steps:
            items.append({"Put": {"Item": approval_item(seq, proposal, now, ttl_seconds)}})
        items.append(self._event(seq, now, "proposal", "monitor", line))
        try:
            self.table.transact(items)
        except Conflict:
            return None
        return self.get(seq)

    # -- instance states between cycles ------------------------------------------------------------

    def last_states(self) -> tuple[dict[str, str], float | None]:
        answer = self.table.call("get_item", Key=to_item({"pk": "STATES", "sk": "STATES"}), ConsistentRead=True)
        if "Item" not in answer:
            return {}, None
        row = from_item(answer["Item"])
        states = json.loads(row.get("states") or "{}")
        return states, (row.get("seen_at") if states else None)

    def save_states(self, states: dict[str, tuple[str | None, str]]) -> None:
        body = json.dumps({iid: state for iid, (_name, state) in states.items()})
        self.table.call("put_item", Item=to_item({"pk": "STATES", "sk": "STATES", "states": body,
                                                  "seen_at": self.clock()}))


class DynamoChangeLedger:
    """agent/monitor/change_ledger.py on the shared table: pk `CHANGE#<key>`, newer wins in one conditional put."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def latest(self, key: str) -> float | None:
        answer = self.table.call("get_item", Key=to_item({"pk": f"CHANGE#{key}", "sk": "CHANGE"}), ConsistentRead=True)
        return float(from_item(answer["Item"])["changed_at"]) if "Item" in answer else None

    def latest_many(self, keys: set[str]) -> dict[str, float]:
        """One BatchGetItem per hundred keys, rather than a read per change."""
        found: dict[str, float] = {}
        wanted = [to_item({"pk": f"CHANGE#{key}", "sk": "CHANGE"}) for key in sorted(keys)]
        for start in range(0, len(wanted), 100):
            batch = wanted[start:start + 100]
            while batch:
                answer = self.table.call("batch_get_item", RequestItems={self.table.name: {
                    "Keys": batch, "ConsistentRead": True}})
                for item in answer.get("Responses", {}).get(self.table.name, []):
                    row = from_item(item)
                    found[row["pk"].removeprefix("CHANGE#")] = float(row["changed_at"])
                batch = answer.get("UnprocessedKeys", {}).get(self.table.name, {}).get("Keys", [])
        return found

    def record(self, key: str, changed_at: Any, state: str) -> bool:
        try:
            self.table.call("put_item", Item=to_item({"pk": f"CHANGE#{key}", "sk": "CHANGE", "state": state,
                                                      "changed_at": changed_at.timestamp()}),
                            ConditionExpression="attribute_not_exists(pk) OR changed_at < :t",
                            ExpressionAttributeValues={":t": {"N": repr(float(changed_at.timestamp()))}})
        except Conflict:
            return False
        return True

    def close(self) -> None:
        pass
