"""What the monitor sees in one cycle, turned into signals: one per (alarm, resource) that should be open.

The rules of the three built-in sources (agent/monitor/sources.py): CloudWatch alarms in ALARM,
EC2 status checks, and instances that stopped or terminated without the agent doing it. Pure
functions over the tools' structured results, so the rules are testable without AWS; the
sources and the monitor do the I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.monitor.records import NewIncident
from agent.monitor.tiers import TierDecision, TierRules, classify, is_status_check
from utils.resources import EC2, resource_of, short_type

DOWN_STATES = {"stopped": "stopped", "stopping": "stopped", "terminated": "terminated",
               "shutting-down": "terminated"}
UP_STATES = {"running", "pending"}
MAX_QUERY = 400
_EXAMPLES = 3


@dataclass
class Instance:
    instance_id: str
    name: str | None = None
    state: str = "unknown"
    env: str | None = None
    role: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    detailed: bool = False  # env/tags known (list_instances or describe_instance), not just id/name/state
    region: str | None = None
    account: str | None = None

    @classmethod
    def from_tool(cls, data: dict[str, Any]) -> Instance:
        return cls(instance_id=data["instance_id"], name=data.get("name"), state=data.get("state") or "unknown",
                   env=data.get("env"), role=data.get("role"), tags=dict(data.get("tags") or {}), detailed=True,
                   region=data.get("region"), account=data.get("account"))


@dataclass
class Signal:
    incident: NewIncident
    sop_query: str | None  # None: nothing worth searching
    status_check: bool = False
    state_change: str | None = None
    sop_kind: str = ""  # alarms of one kind share one SOP search per cycle (cache key)
    covers: frozenset[str] = frozenset()  # keys of other sources this signal already pages for


class Skips:
    """Skip reasons grouped by cause: 1,000 alarms without dimensions are one line, not 1,000."""

    def __init__(self) -> None:
        self._groups: dict[str, list[str]] = {}

    def add(self, cause: str, example: str = "") -> None:
        self._groups.setdefault(cause, []).append(example)

    def lines(self) -> list[str]:
        out = []
        for cause, examples in self._groups.items():
            named = [e for e in examples if e]
            if not named:
                out.append(cause)
                continue
            shown = ", ".join(named[:_EXAMPLES]) + (f" and {len(named) - _EXAMPLES} more" if len(named) > _EXAMPLES else "")
            out.append(f"{cause} ({len(named)}): {shown}")
        return out


def alarm_key(name: str, instance_id: str | None) -> str:
    return f"alarm:{name}|{instance_id or '-'}"


def resource_key(alarm: dict[str, Any]) -> str:
    """EC2 alarms keep the keys they always had (an instance id is already unique to its account and region);
    others name their type and id, and where the alarm lives, so one alarm name in two places is two incidents."""
    rtype, rid = alarm_resource(alarm)
    if rtype == EC2:
        return alarm_key(alarm["name"], rid)
    key = alarm_key(alarm["name"], None if rid == alarm["name"] and not alarm.get("dimensions") else f"{rtype}:{rid}")
    return f"{key}@{alarm.get('account') or 'default'}/{alarm['region']}" if alarm.get("region") else key


def alarm_resource(alarm: dict[str, Any]) -> tuple[str, str]:
    """(type, id) as the server labelled it, else read from the dimensions (an older server)."""
    iid = alarm.get("instance_id") or (alarm.get("dimensions") or {}).get("InstanceId")
    if iid:
        return EC2, iid
    if alarm.get("resource_type") and alarm.get("resource_id"):
        return alarm["resource_type"], alarm["resource_id"]
    return resource_of(alarm["name"], alarm.get("dimensions"))


def status_key(instance_id: str) -> str:
    return f"status:{instance_id}"


def state_key(instance_id: str) -> str:
    return f"state:{instance_id}"


def alarm_signals(
    alarms: list[dict[str, Any]], fleet: dict[str, Instance], rules: TierRules, skips: Skips
) -> list[Signal]:
    """One signal per firing alarm: on a live EC2 instance, on another resource, or on the alarm itself."""
    signals = []
    for alarm in alarms:
        if alarm.get("state") != "ALARM":
            continue
        name, metric = alarm["name"], alarm.get("metric")
        rtype, iid = alarm_resource(alarm)
        if rtype != EC2:
            signals.append(resource_signal(alarm, rtype, iid, rules))
            continue
        inst = fleet.get(iid)
        if inst is None:
            skips.add("skipped alarms on instances that no longer exist", f"{name} ({iid})")
            continue
        if inst.state in {"terminated", "shutting-down"}:
            skips.add("skipped alarms on terminated instances", f"{name} ({inst.name or iid})")
            continue
        place = (alarm.get("region") or inst.region, alarm.get("account") or inst.account)
        decision = classify(rules, name, metric, inst.env, inst.tags, account=place[1])
        summary = alarm.get("reason") or alarm.get("description") or ""
        status_check = is_status_check(name, metric)
        signals.append(Signal(
            incident=_new(alarm_key(name, iid), name, "alarm", decision, inst, metric, summary, place),
            sop_query=sop_query(name, metric, alarm.get("description"), inst),
            status_check=status_check,
            sop_kind=alarm_kind(name, metric, inst),
            # A firing status-check alarm pages for its instance: the status check itself need not.
            covers=frozenset({status_key(iid)}) if status_check else frozenset(),
        ))
    return signals


def resource_signal(alarm: dict[str, Any], rtype: str, rid: str, rules: TierRules) -> Signal:
    """A firing alarm on a resource the catalog cannot act on: incident, SOP and page; its Name and env tags
    (list_alarms reads them in batches) name it and tier it."""
    name, metric = alarm["name"], alarm.get("metric")
    decision = classify(rules, name, metric, alarm.get("resource_env"), {}, account=alarm.get("account"))
    label = None if rid == name else rid
    incident = NewIncident(key=resource_key(alarm), alarm=name, source="alarm", tier=decision.tier,
                           tier_reason=decision.reason, name=alarm.get("resource_name") or label, metric=metric,
                           resource_type=rtype, resource_id=rid, region=alarm.get("region"),
                           account=alarm.get("account"),
                           summary=alarm.get("reason") or alarm.get("description") or "")
    # Its own id taken out (as for an instance), so alarms of one kind share one search.
    text = sop_query(name, metric, alarm.get("description"), Instance(label) if label else None, rtype)
    return Signal(incident=incident, sop_query=text, sop_kind=f"{rtype}|{alarm_kind(name.replace(label, ' ') if label else name, metric, None)}")


def status_signals(
    statuses: list[dict[str, Any]], fleet: dict[str, Instance], rules: TierRules
) -> tuple[list[Signal], set[str]]:
    """(signals, keys of every impaired instance)."""
    signals, impaired = [], set()
    for status in statuses:
        checks = {"system": status.get("system_status"), "instance": status.get("instance_status")}
        failed = [kind for kind, value in checks.items() if value == "impaired"]
        if not failed:
            continue
        iid = status["instance_id"]
        impaired.add(status_key(iid))
        inst = fleet.get(iid) or Instance(iid, status.get("name"), status.get("state") or "unknown")
        label = inst.name or iid
        alarm = f"StatusCheckFailed:{label}"
        decision = classify(rules, alarm, "StatusCheckFailed", inst.env, inst.tags, unreachable=True,
                            account=inst.account or status.get("account"))
        summary = f"EC2 {' and '.join(failed)} status check impaired"
        signals.append(Signal(
            incident=_new(status_key(iid), alarm, "status", decision, inst, "StatusCheckFailed", summary,
                          (inst.region or status.get("region"), inst.account or status.get("account"))),
            sop_query=sop_query("status check failed", "StatusCheckFailed", None, inst),
            status_check=True,
            sop_kind="status-check",
        ))
    return signals, impaired


def state_signals(
    current: dict[str, Instance], previous: dict[str, str], agent_acted: set[str], rules: TierRules
) -> tuple[list[Signal], set[str]]:
    """(signals for up -> down transitions the agent did not make, keys of every instance still down)."""
    signals, down = [], set()
    for iid, inst in current.items():
        change = DOWN_STATES.get(inst.state)
        if change is None:
            continue
        down.add(state_key(iid))
        if previous.get(iid) not in UP_STATES or iid in agent_acted:
            continue
        label = inst.name or iid
        alarm = f"Instance{change.capitalize()}:{label}"
        # Stopped without us is production down on prod (Tier 0), a warning elsewhere.
        decision = classify(rules, alarm, None, inst.env, inst.tags, down=f"{change} without us", account=inst.account)
        summary = f"{label} is {inst.state}; it was {previous[iid]} and no agent action explains it"
        signals.append(Signal(
            incident=_new(state_key(iid), alarm, "state", decision, inst, None, summary, (inst.region, inst.account)),
            sop_query=sop_query(f"instance {change} unexpectedly", None, None, inst),
            state_change=change,
            sop_kind=f"state-{change}",
        ))
    return signals, down


def agent_stopped(entries: list[Any], since_iso: str | None, stopping_tools: frozenset[str]) -> set[str]:
    """Instance ids the agent itself stopped or terminated since `since_iso` (from the audit log).

    `stopping_tools`: the catalog's tools that leave instances down (`Catalog.leaves_down()`).
    """
    acted: set[str] = set()
    for entry in entries:
        if entry.tool not in stopping_tools or entry.decision != "allowed":
            continue
        if since_iso and _parse(entry.ts) < _parse(since_iso):
            continue
        acted.update(t.get("instance_id") for t in entry.targets if t.get("instance_id"))
    return acted


def sop_query(alarm: str, metric: str | None, description: str | None, inst: Instance | None,
              rtype: str | None = None) -> str:
    """Search text with the resource's own name and id taken out, so alarms of one kind share one search.

    The description is untrusted and only ever used as search words.
    """
    kind = short_type(rtype) if rtype and rtype != EC2 else None
    text = " ".join(p for p in (kind, alarm, metric, description, inst.role if inst else None) if p)
    if inst is not None:
        for token in (inst.name, inst.instance_id):
            if token:
                text = re.sub(re.escape(token), " ", text, flags=re.IGNORECASE)
    text = re.sub(r"\bi-[0-9a-f]{8,17}\b", " ", text)
    text = re.sub(r"\s+", " ", text.replace("-", " ").replace("_", " ")).strip()
    return text[:MAX_QUERY] or (alarm[:MAX_QUERY])


def alarm_kind(alarm: str, metric: str | None, inst: Instance | None) -> str:
    """`web-7-cpu-high` on web-7 and `web-12-cpu-high` on web-12 are one kind: `# cpu high|CPUUtilization`."""
    name = alarm.casefold()
    if inst is not None:
        for token in (inst.name, inst.instance_id):
            if token:
                name = name.replace(token.casefold(), " ")
    name = re.sub(r"[^a-z]+", " ", re.sub(r"\d+", "#", name)).strip()
    return f"{name}|{metric or ''}"


def _new(key: str, alarm: str, source: str, decision: TierDecision, inst: Instance, metric: str | None,
         summary: str, place: tuple[str | None, str | None] = (None, None)) -> NewIncident:
    """`place`: (region, account) where the instance lives, when the server said."""
    return NewIncident(key=key, alarm=alarm, source=source, tier=decision.tier, tier_reason=decision.reason,
                       instance_id=inst.instance_id, name=inst.name, metric=metric, summary=summary,
                       resource_type=EC2, resource_id=inst.instance_id, region=place[0], account=place[1])


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts)
