"""The catalog's facts, declared once: which tools change state, which destroy, which name instances.

The server registers every tool with these `ToolAnnotations` and `_meta` keys; the guards take
their sets from here; clients (ours included, see agent/catalog.py) derive every set they need
from `tools/list`. No other module keeps a list of mutating tools.

`_meta` keys (MCP's extension point on a tool):
- `aiops/targets`: the argument that names instances, `instances` (a list) or `instance` (one).
- `aiops/risk`: LOW | MEDIUM | HIGH | CRITICAL, the label a proposal or page shows.
- `aiops/end_state`: the state a successful call leaves its instances in (mutating tools only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

META_TARGETS = "aiops/targets"
META_RISK = "aiops/risk"
META_END_STATE = "aiops/end_state"
# The key under which a confirmation request carries its facts, inside the elicitation's
# requested schema (JSON Schema ignores unknown keywords, so other clients just see the message).
CONFIRMATION_KEY = "x-aiops-confirmation"



@dataclass(frozen=True)
class Hints:
    """A tool's `ToolAnnotations`, as plain data: a one-shot read plans from these without importing the SDK
    (~1 s of pydantic models); `annotations()` makes the SDK's object at registration."""

    read_only_hint: bool
    destructive_hint: bool
    idempotent_hint: bool
    open_world_hint: bool = True

    def annotations(self):
        from mcp.types import ToolAnnotations

        return ToolAnnotations(readOnlyHint=self.read_only_hint, destructiveHint=self.destructive_hint,
                               idempotentHint=self.idempotent_hint, openWorldHint=self.open_world_hint)


READ_ONLY = Hints(read_only_hint=True, destructive_hint=False, idempotent_hint=True)
# The read-only tools, each with the argument that names instances (if any), in registration order:
# ec2_tools.py registers the EC2 reads and then the actions, observe_tools.py the rest.
EC2_READS: dict[str, str | None] = {
    "list_instances": None, "describe_instance": "instance", "get_instance_status": "instances"}
OBSERVE_READS: dict[str, str | None] = {
    "list_alarms": None, "search_logs": None, "list_log_groups": None, "get_cost_and_usage": None,
    "search_sops": None, "get_metric_statistics": "instance", "get_alarm_evidence": None}
READ_TOOLS = {**EC2_READS, **OBSERVE_READS}


@dataclass(frozen=True)
class Action:
    """One state-changing EC2 action: the tool `<verb>_instances`."""

    verb: str
    destructive: bool  # asks a person first, and the protected-instance guard applies
    idempotent: bool
    risk: str
    consequence: str  # what the person reads under "Risk:" before answering y/N
    past: str
    end_state: str
    doc: str

    @property
    def tool(self) -> str:
        return f"{self.verb}_instances"

    @property
    def hints(self) -> Hints:
        return Hints(read_only_hint=False, destructive_hint=self.destructive, idempotent_hint=self.idempotent)

    @property
    def meta(self) -> dict[str, Any]:
        return {META_TARGETS: "instances", META_RISK: self.risk, META_END_STATE: self.end_state}


# The one hand-kept list of mutating tools.
ACTIONS: dict[str, Action] = {a.verb: a for a in (
    Action("start", False, True, "MEDIUM", "the instances start and begin to cost money again", "started",
           "running", "Start stopped EC2 instances (by id or Name)."),
    Action("stop", True, True, "CRITICAL", "the service on these instances goes down until someone starts them "
           "again", "stopped", "stopped",
           "Stop running EC2 instances (by id or Name); asks the user to confirm first."),
    Action("reboot", True, False, "HIGH", "a short outage while the instances restart; in-memory state is lost",
           "rebooted", "running", "Reboot EC2 instances (by id or Name); asks the user to confirm first."),
    Action("terminate", True, False, "CRITICAL", "PERMANENT: the instances and their instance-store data are "
           "destroyed", "terminated", "terminated",
           "Terminate (permanently delete) EC2 instances (by id or Name); asks the user to confirm first."),
)}
DESTRUCTIVE_ACTIONS = frozenset(verb for verb, action in ACTIONS.items() if action.destructive)


def read_meta(targets: str | None = None) -> dict[str, Any] | None:
    """`_meta` for a read-only tool; `targets` names its instance argument, if it has one."""
    return {META_TARGETS: targets, META_RISK: "LOW"} if targets else {META_RISK: "LOW"}


@dataclass(frozen=True)
class DeclaredTool:
    """What `tools/list` says of a tool, minus its input schema: enough for agent/catalog.py's `Catalog`."""

    name: str
    annotations: Hints
    meta: dict[str, Any]
    input_schema: dict[str, Any] = field(default_factory=dict)


def declared_tools() -> list[DeclaredTool]:
    """Every tool the server registers, with the annotations and `_meta` it registers them with."""
    def reads(tools: dict[str, str | None]) -> list[DeclaredTool]:
        return [DeclaredTool(name, READ_ONLY, read_meta(targets)) for name, targets in tools.items()]

    return reads(EC2_READS) + [DeclaredTool(a.tool, a.hints, a.meta) for a in ACTIONS.values()] + reads(OBSERVE_READS)
