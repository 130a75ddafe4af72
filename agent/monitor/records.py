"""What the incident store hands out: incidents, their approvals and timelines, counts; incident ids.

Plain models with no I/O, so the monitor's other rooms (signals, events, the REPL) use them
without opening a database. The proposal is typed (agent/monitor/proposals.py); the store
keeps its JSON.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.monitor.proposals import Proposal
from notify.base import duration

PREFIX = "INC-"
# Outcomes of an approved proposal where nothing ran because nobody said yes: it waits again.
NOTHING_RAN = frozenset({"declined", "unconfirmed"})


class ApprovalError(Exception):
    """An approve/reject that cannot happen (unknown id, already decided, expired)."""


class NewIncident(BaseModel):
    key: str  # dedup key: one open incident per (alarm, resource)
    alarm: str
    source: str  # alarm | status | state
    tier: int
    tier_reason: str = ""
    instance_id: str | None = None
    name: str | None = None
    metric: str | None = None
    summary: str = ""  # untrusted text (alarm reason / description)
    resource_type: str | None = None  # utils/resources.py; None in rows from before it (EC2 when instance_id)
    resource_id: str | None = None
    region: str | None = None
    account: str | None = None  # the configured account's name; None in rows from before accounts


class Incident(NewIncident):
    seq: int
    status: str
    opened_at: float
    resolved_at: float | None = None
    diagnosed_at: float | None = None
    sops: list[dict[str, Any]] = Field(default_factory=list)
    proposal: Proposal | None = None
    note: str | None = None
    notified_at: float | None = None
    last_paged_at: float | None = None
    pages: int = 0
    auto_handled: bool = False
    evidence: dict[str, Any] = Field(default_factory=dict)  # what reads found when it opened

    @property
    def id(self) -> str:
        return f"{PREFIX}{self.seq}"

    @property
    def time_to_resolve(self) -> float | None:
        return None if self.resolved_at is None else self.resolved_at - self.opened_at


class Approval(BaseModel):
    incident_id: str
    tool: str
    arguments: dict[str, Any]
    risk: str
    status: str  # pending | approved | rejected | expired | auto
    created_at: float
    expires_at: float
    decided_by: str | None = None
    decided_at: float | None = None
    reason: str | None = None
    outcome_status: str | None = None
    outcome_message: str | None = None


class TimelineEntry(BaseModel):
    ts: float
    kind: str
    actor: str
    detail: str


class Verification(BaseModel):
    """Did the fix work: the watch on an incident's alarm after an action ran (agent/monitor/verify.py)."""

    incident_id: str
    action: str  # the tool that ran, e.g. reboot_instances
    by: str
    acted_at: float
    due_at: float  # still in ALARM then: the action did not help
    result: Literal["watching", "recovered", "did_not_help"]
    ended_at: float | None = None  # when the OK (or the ALARM past due_at) was seen
    tried: list[str] = Field(default_factory=list)  # every action run on this incident so far, oldest first

    @property
    def after_seconds(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.acted_at

    @property
    def verb(self) -> str:
        """`reboot` for reboot_instances: the server names every EC2 action `<verb>_instances`."""
        return self.action.removesuffix("_instances")

    def line(self) -> str:
        """What a person reads: "recovered 3m 10s after reboot", "action did not help: …", "watching …"."""
        if self.result == "recovered":
            return f"recovered {duration(self.after_seconds)} after {self.verb}"
        if self.result == "did_not_help":
            return f"action did not help: still in ALARM {duration(self.after_seconds)} after {self.verb}"
        return f"watching the alarm for {duration(self.due_at - self.acted_at)} after {self.verb}"


class IncidentHistory(BaseModel):
    incident: Incident
    approval: Approval | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list)
    verification: Verification | None = None


class Counts(BaseModel):
    open: int
    resolved: int
    auto_handled: int
    waiting_approval: int


def parse_id(incident_id: str | int) -> int:
    text = str(incident_id).strip().upper().removeprefix(PREFIX)
    if not text.isdigit():
        raise ApprovalError(f"'{incident_id}' is not an incident id (like {PREFIX}12)")
    return int(text)
