"""A recovery proposal for an incident: the best SOP's `recovery` front matter, validated, or a built-in rule.

Trust boundary: alarm names, descriptions, log lines and SOP prose are data. The tool comes only
from the SOP's front matter (or our rules) and must be in the live tool catalog; the targets are
always the incident's own instance, whatever any text says. Arguments from front matter are kept
only when the tool's input schema declares them and they are plain values.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.catalog import Catalog
from agent.mcp_client import ConfirmationRequest

Risk = Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"]
RISKS = frozenset(Risk.__args__)

# A proposal is a suggestion for a person; a dry run or a retargeting is theirs to choose.
DROPPED_ARGUMENTS = {"instances", "instance", "dry_run"}
_SATURATION = re.compile(r"cpu|mem|disk|network|swap|bandwidth|packets|iops|throughput", re.IGNORECASE)


class Proposal(BaseModel):
    tool: str
    arguments: dict[str, Any]
    risk: Risk
    origin: Literal["sop", "rule"]
    reason: str  # one line: which SOP or rule it came from
    # From the catalog when proposed. A stored proposal without it waits for a person: never "harmless".
    mutating: bool = True
    # For a resource the catalog cannot act on: the SOP's steps for a person; `tool` is empty, nothing runs.
    steps: list[str] = Field(default_factory=list)

    def describe(self, instance_name: str | None = None) -> str:
        """`reboot_instances worker-1 (i-0abc)`: what a person reads in Slack or the terminal."""
        if self.steps:
            return "SOP steps (nothing runs): " + " ".join(f"{n}. {step}" for n, step in enumerate(self.steps, 1))
        target = self.arguments.get("instances") or self.arguments.get("instance")
        if isinstance(target, list):
            target = target[0] if len(target) == 1 else ", ".join(target)
        if target and instance_name:
            target = f"{instance_name} ({target})"
        extras = {k: v for k, v in self.arguments.items() if k not in DROPPED_ARGUMENTS}
        parts = [self.tool] + ([str(target)] if target else []) + [f"{k}={v}" for k, v in extras.items()]
        return " ".join(parts)


@dataclass(frozen=True)
class Subject:
    """What the proposal is about; every field comes from AWS structure, never from free text."""

    instance_id: str | None
    metric: str | None = None
    status_check: bool = False
    state_change: str | None = None  # "stopped" | "terminated" for instance-state incidents


def propose(catalog: Catalog, tool: str, arguments: dict[str, Any], origin: str, reason: str) -> Proposal:
    """A proposal whose risk and mutating flag come from the server's declaration of `tool`."""
    facts = catalog.get(tool)
    risk = facts.risk if facts and facts.risk in RISKS else "HIGH"
    return Proposal(tool=tool, arguments=arguments, risk=risk, origin=origin, reason=reason,
                    mutating=catalog.is_mutating(tool))


def build_proposal(
    subject: Subject, hits: list[dict[str, Any]], catalog: Catalog
) -> tuple[Proposal | None, str | None]:
    """(proposal, note). The note says why the SOP's recovery was not used, when it was not."""
    note = None
    top = hits[0] if hits else None
    if top and top.get("recovery") is not None:
        proposal, note = from_recovery(subject, top["recovery"], catalog, top.get("title") or "SOP")
        if proposal is not None and top.get("weak"):
            # The search said the best SOP is a weak match: whoever approves should know.
            score = float(top.get("score") or 0.0)
            proposal = proposal.model_copy(update={"reason": f"{proposal.reason} (weak match, score {score:.2f}: "
                                                             "check that it fits)"})
        if proposal is not None:
            return proposal, None
    return from_rules(subject, catalog), note


def from_recovery(
    subject: Subject, recovery: Any, catalog: Catalog, title: str
) -> tuple[Proposal | None, str | None]:
    if not isinstance(recovery, dict) or not isinstance(recovery.get("tool"), str):
        return None, f"SOP '{title}': recovery is not {{tool, arguments}}; ignored"
    tool = recovery["tool"]
    if tool not in catalog:
        return None, f"SOP '{title}': recovery tool {tool!r} is not in the tool catalog; ignored"
    raw_args = recovery.get("arguments") or {}
    if not isinstance(raw_args, dict):
        return None, f"SOP '{title}': recovery arguments are not a mapping; ignored"
    schema = catalog.get(tool).input_schema
    allowed = set(schema.get("properties") or {}) - DROPPED_ARGUMENTS
    arguments = {k: v for k, v in raw_args.items() if k in allowed and _plain(v)}
    if catalog.targets_argument(tool):
        if not subject.instance_id:
            return None, f"SOP '{title}': {tool} needs an instance and the incident has none; ignored"
        arguments.update(catalog.target_arguments(tool, subject.instance_id))
    missing = [r for r in schema.get("required") or [] if r not in arguments]
    if missing:
        return None, f"SOP '{title}': recovery {tool} lacks required argument {missing[0]!r}; ignored"
    return propose(catalog, tool, arguments, "sop", f"recovery from SOP '{title}'"), None


def from_rules(subject: Subject, catalog: Catalog) -> Proposal | None:
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
    arguments = catalog.target_arguments(tool, iid)
    if tool == "get_metric_statistics" and subject.metric:
        arguments["metric"] = subject.metric
    return propose(catalog, tool, arguments, "rule", why)


# What a page or a panel can carry: the SOP's steps, each one short line.
MAX_STEPS, MAX_STEP = 8, 200


def steps_proposal(hits: list[dict[str, Any]]) -> Proposal:
    """The top SOP's recovery steps as a proposal nothing runs: a person reads them (DESIGN.md, `{"steps": [...]}`)."""
    top = hits[0] if hits else None
    title = (top or {}).get("title") or "the alarm and its metric"
    steps = recovery_steps(top) if top else []
    reason = f"steps from SOP '{title}'" if top else "no SOP matched"
    total = len(top.get("steps") or []) if top else 0
    if total > MAX_STEPS:
        reason += f" (the first {MAX_STEPS} of {total}: the SOP has the rest)"
    return Proposal(tool="", arguments={}, risk="LOW", origin="sop", mutating=False,
                    steps=steps or [f"investigate: {title}"], reason=reason)


def recovery_steps(hit: dict[str, Any]) -> list[str]:
    """The SOP's own numbered recovery steps from the search hit, one short line each.

    SOP text is data: each step is flattened to one line and cut, shown to a person, never run. A hit
    without steps (an SOP whose recovery is prose) offers its recovery excerpt as the one step.
    """
    raw = hit.get("steps")
    steps = [_one_line(s) for s in raw[:MAX_STEPS] if isinstance(s, str)] if isinstance(raw, list) else []
    steps = [s for s in steps if s]
    if not steps and "recovery" in str(hit.get("section") or "").casefold():
        steps = [s for s in [_one_line(str(hit.get("excerpt") or ""))] if s]
    return steps


def _one_line(text: str) -> str:
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= MAX_STEP else flat[: MAX_STEP - 1].rsplit(" ", 1)[0] + "…"


def _plain(value: Any) -> bool:
    if isinstance(value, str | int | float | bool):
        return True
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


# -- auto-remediation policy -------------------------------------------------------------------------

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


def auto_policy(table: dict[str, Any] | None, allowed: Sequence[str]) -> AutoPolicy:
    """`[auto_remediation]` from aiops.toml. Off unless rules are given.

    `allowed`: the only tools that may ever run without a person, the catalog's restoring actions
    (`Catalog.restoring()`: start and reboot); a rule asking for stop or terminate is refused.

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
        elif action not in allowed:
            problems.append(f"auto_remediation rule for {alarm!r} asks for {action}: only "
                            f"{' and '.join(allowed)} ever run "
                            "without a person's approval; rule ignored")
        else:
            rules.append(AutoRule(alarm.strip(), action))
    cap = table.get("max_per_cycle", DEFAULT_AUTO_PER_CYCLE)
    if not isinstance(cap, int) or isinstance(cap, bool) or cap < 0:
        problems.append("auto_remediation max_per_cycle must be a whole number >= 0; using "
                        f"{DEFAULT_AUTO_PER_CYCLE}")
        cap = DEFAULT_AUTO_PER_CYCLE
    return AutoPolicy(tuple(rules), cap, tuple(problems))


def exact_confirmer(tool: str, instance_id: str) -> Callable[[ConfirmationRequest], Awaitable[bool]]:
    """Consents once, and only to a request whose facts name exactly this tool and this one instance."""
    used = False

    async def confirm(request: ConfirmationRequest) -> bool:
        nonlocal used
        ok = (not used and request.tool == tool and len(request.targets) == 1
              and request.targets[0].instance_id == instance_id)
        used = True
        return ok

    return confirm
