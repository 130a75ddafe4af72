"""A recovery proposal for an incident: the best SOP's `recovery` front matter, validated, or a built-in rule.

Trust boundary: alarm names, descriptions, log lines and SOP prose are data. The tool comes only
from the SOP's front matter (or our rules) and must be in the live tool catalog; the targets are
always the incident's own instance, whatever any text says. Arguments from front matter are kept
only when the tool's input schema declares them and they are plain values.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

Risk = Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"]

# Tools that act on instances, and the argument that names them.
MANY_TARGETS = {"start_instances", "stop_instances", "reboot_instances", "terminate_instances",
                "get_instance_status"}
ONE_TARGET = {"describe_instance", "get_metric_statistics"}
TARGET_ARGUMENTS = {"instances", "instance"}
# A proposal is a suggestion for a person; a dry run or a retargeting is theirs to choose.
DROPPED_ARGUMENTS = TARGET_ARGUMENTS | {"dry_run"}
RISK_BY_TOOL: dict[str, Risk] = {
    "start_instances": "MEDIUM",
    "reboot_instances": "HIGH",
    "stop_instances": "CRITICAL",
    "terminate_instances": "CRITICAL",
}
MUTATING = set(RISK_BY_TOOL)
_SATURATION = re.compile(r"cpu|mem|disk|network|swap|bandwidth|packets|iops|throughput", re.IGNORECASE)


class Proposal(BaseModel):
    tool: str
    arguments: dict[str, Any]
    risk: Risk
    origin: Literal["sop", "rule"]
    reason: str  # one line: which SOP or rule it came from

    @property
    def mutating(self) -> bool:
        return self.tool in MUTATING

    def describe(self, instance_name: str | None = None) -> str:
        """`reboot_instances worker-1 (i-0abc)`: what a person reads in Slack or the terminal."""
        target = self.arguments.get("instances") or self.arguments.get("instance")
        if isinstance(target, list):
            target = target[0] if len(target) == 1 else ", ".join(target)
        if target and instance_name:
            target = f"{instance_name} ({target})"
        extras = {k: v for k, v in self.arguments.items() if k not in TARGET_ARGUMENTS}
        parts = [self.tool] + ([str(target)] if target else []) + [f"{k}={v}" for k, v in extras.items()]
        return " ".join(parts)


@dataclass(frozen=True)
class Subject:
    """What the proposal is about; every field comes from AWS structure, never from free text."""

    instance_id: str | None
    metric: str | None = None
    status_check: bool = False
    state_change: str | None = None  # "stopped" | "terminated" for instance-state incidents


def build_proposal(
    subject: Subject, hits: list[dict[str, Any]], catalog: dict[str, dict[str, Any]]
) -> tuple[Proposal | None, str | None]:
    """(proposal, note). The note says why the SOP's recovery was not used, when it was not."""
    note = None
    top = hits[0] if hits else None
    if top and top.get("recovery") is not None:
        proposal, note = from_recovery(subject, top["recovery"], catalog, top.get("title") or "SOP")
        if proposal is not None:
            return proposal, None
    return from_rules(subject, catalog), note


def from_recovery(
    subject: Subject, recovery: Any, catalog: dict[str, dict[str, Any]], title: str
) -> tuple[Proposal | None, str | None]:
    if not isinstance(recovery, dict) or not isinstance(recovery.get("tool"), str):
        return None, f"SOP '{title}': recovery is not {{tool, arguments}}; ignored"
    tool = recovery["tool"]
    if tool not in catalog:
        return None, f"SOP '{title}': recovery tool {tool!r} is not in the tool catalog; ignored"
    raw_args = recovery.get("arguments") or {}
    if not isinstance(raw_args, dict):
        return None, f"SOP '{title}': recovery arguments are not a mapping; ignored"
    schema = catalog[tool] or {}
    allowed = set(schema.get("properties") or {}) - DROPPED_ARGUMENTS
    arguments = {k: v for k, v in raw_args.items() if k in allowed and _plain(v)}
    if tool in MANY_TARGETS or tool in ONE_TARGET:
        if not subject.instance_id:
            return None, f"SOP '{title}': {tool} needs an instance and the incident has none; ignored"
        arguments.update(_targets(tool, subject.instance_id))
    missing = [r for r in schema.get("required") or [] if r not in arguments]
    if missing:
        return None, f"SOP '{title}': recovery {tool} lacks required argument {missing[0]!r}; ignored"
    reason = f"recovery from SOP '{title}'"
    return Proposal(tool=tool, arguments=arguments, risk=RISK_BY_TOOL.get(tool, "LOW"), origin="sop",
                    reason=reason), None


def from_rules(subject: Subject, catalog: dict[str, dict[str, Any]]) -> Proposal | None:
    """Built-in recovery-first rules for when no SOP says what to do."""
    iid = subject.instance_id
    if not iid:
        return None
    if subject.state_change == "stopped":
        tool, why = "start_instances", "instance stopped without the agent doing it: start it again"
    elif subject.state_change == "terminated":
        return None  # nothing brings a terminated instance back; a person decides what replaces it
    elif subject.status_check:
        tool, why = "reboot_instances", "status check failed: a reboot usually restores the instance"
    elif subject.metric and _SATURATION.search(subject.metric):
        tool, why = "get_metric_statistics", f"{subject.metric} saturation: look at the metric before acting"
    else:
        return None
    if tool not in catalog:
        return None
    arguments = _targets(tool, iid)
    if tool == "get_metric_statistics" and subject.metric:
        arguments["metric"] = subject.metric
    return Proposal(tool=tool, arguments=arguments, risk=RISK_BY_TOOL.get(tool, "LOW"), origin="rule",
                    reason=why)


def _targets(tool: str, instance_id: str) -> dict[str, Any]:
    return {"instances": [instance_id]} if tool in MANY_TARGETS else {"instance": instance_id}


def _plain(value: Any) -> bool:
    if isinstance(value, str | int | float | bool):
        return True
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


# -- auto-remediation policy -------------------------------------------------------------------------

AUTO_ALLOWED = {"start_instances", "reboot_instances"}
DEFAULT_AUTO_PER_CYCLE = 3


@dataclass(frozen=True)
class AutoRule:
    alarm: str  # glob on the alarm name, case-insensitive
    action: str


@dataclass(frozen=True)
class AutoPolicy:
    rules: tuple[AutoRule, ...] = ()
    max_per_cycle: int = DEFAULT_AUTO_PER_CYCLE
    problems: tuple[str, ...] = ()  # rules refused, one line each, for the operator to read

    def action_for(self, alarm: str) -> str | None:
        name = alarm.casefold()
        return next((r.action for r in self.rules if fnmatch.fnmatchcase(name, r.alarm.casefold())), None)


def auto_policy(table: dict[str, Any] | None) -> AutoPolicy:
    """`[auto_remediation]` from aiops.toml. Off unless rules are given; stop/terminate are refused.

        [auto_remediation]
        rules = [{alarm = "*status-check*", action = "reboot_instances"}]
        max_per_cycle = 3
    """
    table = table or {}
    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        # "false" as a string must never leave auto actions on by accident.
        return AutoPolicy(problems=(f"aiops.toml [auto_remediation] enabled must be true or false, got {enabled!r}; "
                                    "auto-remediation is off",))
    if not enabled:
        return AutoPolicy()
    raw_rules = table.get("rules") or []
    problems: list[str] = []
    rules: list[AutoRule] = []
    if not isinstance(raw_rules, list):
        raw_rules, problems = [], ["aiops.toml [auto_remediation] rules must be a list of {alarm, action}"]
    for raw in raw_rules:
        alarm = raw.get("alarm") if isinstance(raw, dict) else None
        action = raw.get("action") if isinstance(raw, dict) else None
        if not isinstance(alarm, str) or not alarm.strip() or not isinstance(action, str):
            problems.append(f"auto_remediation rule {raw!r} needs alarm (a glob) and action; rule ignored")
        elif action not in AUTO_ALLOWED:
            problems.append(f"auto_remediation rule for {alarm!r} asks for {action}: only start_instances and "
                            "reboot_instances ever run without a person's approval; rule ignored")
        else:
            rules.append(AutoRule(alarm.strip(), action))
    cap = table.get("max_per_cycle", DEFAULT_AUTO_PER_CYCLE)
    if not isinstance(cap, int) or isinstance(cap, bool) or cap < 0:
        problems.append("auto_remediation max_per_cycle must be a whole number >= 0; using "
                        f"{DEFAULT_AUTO_PER_CYCLE}")
        cap = DEFAULT_AUTO_PER_CYCLE
    return AutoPolicy(tuple(rules), cap, tuple(problems))


def exact_confirmer(tool: str, instance_id: str) -> Callable[[str], Awaitable[bool]]:
    """Consents once, and only to `<ACTION> 1 instance(s):` naming exactly this instance."""
    used = False
    action = tool.removesuffix("_instances").upper()

    async def confirm(message: str) -> bool:
        nonlocal used
        lines = message.splitlines()
        targets = [line for line in lines if line.startswith("  - ")]
        ok = (not used and bool(lines) and lines[0] == f"{action} 1 instance(s):" and len(targets) == 1
              and instance_id in targets[0].split())
        used = True
        return ok

    return confirm
