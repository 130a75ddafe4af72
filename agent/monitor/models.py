"""What the monitor hands out: events and lines for the terminal, alerts for the notifier, a report per cycle, options."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from agent.monitor.records import Approval, Incident
from notify.base import Alert, DeliveryResult, duration
from notify.evidence_text import checks_line, left_out_line, log_head
from utils.config import ConfigError, Settings

__all__ = ["CycleReport", "MonitorEvent", "MonitorOptions", "QueueItem", "alert_for", "delivery_line", "duration",
           "first_line", "incident_json", "opened_line", "where"]

if TYPE_CHECKING:
    from agent.mcp_client import ToolOutcome

EventKind = Literal["opened", "resolved", "repaged", "auto_action", "expired", "skipped", "notify_error",
                    "config_error", "decided", "did_not_help"]


class MonitorEvent(BaseModel):
    """One thing a person should see now. `message` is a complete line; the rest is for richer panels."""

    kind: EventKind
    message: str
    incident_id: str | None = None
    tier: int | None = None
    incident: Incident | None = None


class QueueItem(BaseModel):
    """A proposal waiting for a person: what to run, on what, and why."""

    approval: Approval
    incident: Incident
    text: str  # e.g. "reboot_instances worker-1 (i-0abc) — risk HIGH"


class CycleReport(BaseModel):
    started_at: float
    duration_seconds: float = 0.0
    alarms_firing: int = 0
    instances: int = 0
    opened: list[str] = Field(default_factory=list)
    resolved: list[Incident] = Field(default_factory=list)
    repaged: list[str] = Field(default_factory=list)
    auto_actions: list[str] = Field(default_factory=list)
    notified: list[str] = Field(default_factory=list)  # incident ids this cycle handed to the notifier
    open_incidents: list[Incident] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)  # one line per reason
    # Sources that could not be read at all this cycle (their reading's `active` is None), and why:
    # what they watch neither opened nor resolved, so `monitor --once` fails.
    unread: dict[str, str] = Field(default_factory=dict)
    events: list[MonitorEvent] = Field(default_factory=list)
    sop_searches: int = 0
    sop_cache_hits: int = 0

    def as_json(self) -> dict[str, Any]:
        """`monitor --once --json` (docs/architecture.md, "JSON on stdout"): the incidents open after this cycle plus those it resolved.

        A later run still lists what is open; `notified` says whether *this* run handed the notifier
        an alert about it (sent, or queued in the outbox for a later cycle).
        """
        shown = sorted([*self.resolved, *self.open_incidents], key=lambda i: i.seq)
        notified = set(self.notified)
        return {"incidents": [incident_json(i, i.id in notified) for i in shown]}


def incident_json(incident: Incident, notified: bool) -> dict[str, Any]:
    proposal = incident.proposal
    return {
        "id": incident.id,
        "alarm": incident.alarm,
        "tier": incident.tier,
        "status": incident.status,
        "resource": resource_json(incident),
        "sops": [{"source": s.get("source"), "title": s.get("title")} for s in incident.sops],
        "proposal": ({"steps": proposal.steps} if proposal.steps else {"tool": proposal.tool, "arguments": proposal.arguments})
        if proposal else None,
        "evidence": incident.evidence,
        "notified": notified,
    }


def resource_json(incident: Incident) -> dict[str, Any]:
    """`{"type", "id", "name", "region", "account", "instance_id"}`; an incident from before accounts is `default`'s."""
    rtype = resource_type(incident)
    rid = incident.resource_id or incident.instance_id or (incident.alarm if rtype == "cloudwatch:alarm" else None)
    return {"type": rtype, "id": rid, "name": incident.name or rid, "region": incident.region,
            "account": incident.account or "default",
            "instance_id": incident.instance_id if rtype == "ec2:instance" else None}


def resource_type(incident: Incident) -> str:
    return incident.resource_type or ("ec2:instance" if incident.instance_id else "cloudwatch:alarm")


def evidence_from(tool: str, data: dict[str, Any] | None) -> dict[str, Any]:
    """A read's result as incident evidence (DESIGN.md, `monitor --once` JSON: `evidence`)."""
    if not data:
        return {}
    if tool == "get_metric_statistics":
        return {"metric": {"name": data.get("metric"), "statistic": data.get("statistic"), "unit": data.get("unit"),
                           "period": data.get("period"),
                           "points": [[p["timestamp"], p["value"]] for p in data.get("datapoints", [])]}}
    if tool == "get_instance_status":
        return {"status": data.get("statuses", [])}
    return {tool: data}


def evidence_line(evidence: dict[str, Any]) -> str | None:
    """One line a person reads in the page or the panel: what the evidence says."""
    metric = evidence.get("metric")
    if metric is not None:
        values = [v for _, v in metric.get("points", [])]
        if not values:
            return f"{metric.get('name')}: no datapoints in the last hour"
        unit = f" {metric['unit']}" if metric.get("unit") and metric["unit"] != "None" else ""
        return (f"{metric.get('name')} ({metric.get('statistic')}) last hour: latest {values[-1]:.1f}{unit}, "
                f"max {max(values):.1f}, {len(values)} points")
    if "status" in evidence:
        return checks_line(evidence) or "no status reported"
    return None


def answered_by_evidence(inc: Incident) -> bool:
    """The read proposal was not run: the alarm's own metric in the evidence (get_alarm_evidence's, which
    names its namespace) answers it, one metric read per incident (agent/monitor/respond.py)."""
    metric = (inc.evidence or {}).get("metric") or {}
    return bool(inc.proposal and inc.proposal.tool == "get_metric_statistics" and metric.get("namespace"))


def evidence_of(data: dict[str, Any] | None) -> dict[str, Any]:
    """get_alarm_evidence's result as the incident's `evidence` (DESIGN.md): metric, logs, status, left_out."""
    return {k: data[k] for k in ("metric", "logs", "status", "left_out") if (data or {}).get(k)}


def evidence_summary(evidence: dict[str, Any]) -> str:
    """The timeline's line: what was gathered, in a few words."""
    parts = [evidence_line(evidence) if evidence.get("metric") else None, checks_line(evidence),
             log_head(evidence), left_out_line(evidence)]
    return "; ".join(p for p in parts if p) or "nothing gathered"


@dataclass(frozen=True)
class MonitorOptions:
    """`[monitor]` in aiops.toml: repage_minutes (15), approval_ttl_minutes (60), sop_k (3), verify_minutes (10;
    AIOPS_VERIFY_MINUTES wins), evidence_seconds (2)."""

    repage_seconds: float = 15 * 60
    approval_ttl_seconds: float = 60 * 60
    sop_k: int = 3
    verify_seconds: float = 10 * 60  # after an action: still in ALARM this long means it did not help
    evidence_seconds: float = 2.0  # what evidence may add to an alarm's first page; later parts are left out

    @classmethod
    def from_settings(cls, settings: Settings) -> MonitorOptions:
        table = settings.monitor or {}
        known = {"repage_minutes", "approval_ttl_minutes", "sop_k", "verify_minutes", "evidence_seconds"}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(f"aiops.toml [monitor]: unknown key {unknown[0]!r} (use {', '.join(sorted(known))})")
        return cls(
            repage_seconds=_positive(table, "repage_minutes", 15) * 60,
            approval_ttl_seconds=_positive(table, "approval_ttl_minutes", 60) * 60,
            sop_k=int(_positive(table, "sop_k", 3)),
            verify_seconds=(settings.verify_minutes or _positive(table, "verify_minutes", 10)) * 60,
            evidence_seconds=min(_positive(table, "evidence_seconds", 2.0), MAX_EVIDENCE_SECONDS),
        )


MAX_EVIDENCE_SECONDS = 30.0  # the server's own cap (mcp_server/evidence.py)


def _positive(table: dict[str, Any], key: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"aiops.toml [monitor] {key} must be a number above 0, got {value!r}")
    return float(value)


# -- what people read: alerts and terminal lines ------------------------------------------------


def alert_for(kind: str, inc: Incident, ran: ToolOutcome | None = None) -> Alert:
    top = inc.sops[0] if inc.sops else {}
    proposal = inc.proposal
    text = proposal.describe(inc.name) if proposal else None
    if proposal and ran is not None:
        text = f"{text} — run automatically: {ran.status}"
    elif proposal and proposal.steps:
        text = f"{text} — for a person; nothing runs"
    elif proposal and proposal.mutating:
        text = f"{text} — waiting for approval ({inc.id})"
    elif proposal:  # a read: run at diagnosis, nothing to approve
        found = evidence_line(inc.evidence)
        how = "read-only, answered by the alarm's own metric" if answered_by_evidence(inc) else "read-only, ran at once"
        text = f"{text} — {how}" + (f": {found}" if found else "")
    ec2 = resource_type(inc) == "ec2:instance"
    return Alert(kind=kind, tier=inc.tier, incident_id=inc.id, alarm=inc.alarm,
                 resource_name=inc.name if ec2 else where(inc), resource_id=inc.instance_id if ec2 else None,
                 summary=inc.summary, sop_title=top.get("title"), sop_source=top.get("source"), proposal=text,
                 risk=proposal.risk if proposal and not proposal.steps else None,
                 time_to_resolve_seconds=inc.time_to_resolve, evidence=inc.evidence if kind != "resolved" else {},
                 awaiting_approval=bool(proposal and proposal.mutating and not proposal.steps and ran is None))


def opened_line(inc: Incident) -> str:
    proposal = inc.proposal.describe(inc.name) if inc.proposal else "no proposal"
    sop = inc.sops[0]["title"] if inc.sops else "no SOP"
    if inc.proposal and not inc.proposal.mutating and not inc.proposal.steps:
        found = evidence_line(inc.evidence)
        return f"{inc.id} Tier {inc.tier}: {inc.alarm} on {where(inc)} — SOP: {sop}; read {proposal}" + (
            f": {found}" if found else "")
    return f"{inc.id} Tier {inc.tier}: {inc.alarm} on {where(inc)} — SOP: {sop}; proposed: {proposal}"


def delivery_line(destination: str, result: DeliveryResult | None) -> str:
    """`Slack webhook: sent …`: the destination as its notifier names it, then what happened."""
    return f"{destination}: failed (terminal only)" if result is None else (
        f"{destination}: {result.status} {result.detail}".strip())


def where(inc: Incident) -> str:
    rtype = resource_type(inc)
    if rtype == "cloudwatch:alarm":
        return "the alarm itself (no resource dimension)"
    if rtype != "ec2:instance":
        named = inc.name and inc.name != inc.resource_id
        return f"{rtype} {inc.name} ({inc.resource_id})" if named else f"{rtype} {inc.resource_id}"
    if inc.name and inc.instance_id:
        return f"{inc.name} ({inc.instance_id})"
    return inc.name or inc.instance_id or "no resource"


def first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0][:200] if (text or "").strip() else "no message"
