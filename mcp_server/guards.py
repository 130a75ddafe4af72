"""Server-side guards for mutating tools, in the documented order (docs/architecture.md, "Guards").

1 read-only mode, 2 protected instances, 3 blast radius, 4 confirmation (asked through
MCP elicitation by ec2_tools.py), 5 dry run. Everything here fails closed: an error
while checking is a refusal, never a pass.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from pydantic import BaseModel, Field, StrictBool, create_model

from mcp_server.catalog import ACTIONS, CONFIRMATION_KEY, DESTRUCTIVE_ACTIONS
from mcp_server.ec2 import protection_flags
from mcp_server.errors import describe_aws_error
from mcp_server.fleet import Fleet
from mcp_server.inventory import ResolutionError
from mcp_server.models import InstanceSummary

PROD_ENVS = {"prod", "production"}
CONFIRM_DESCRIPTION = "true to go ahead, false to cancel"


class Confirmation(BaseModel):
    """What the person answers; only an explicit accept with confirm=true (a JSON boolean) proceeds."""

    confirm: StrictBool = Field(description=CONFIRM_DESCRIPTION)


class GuardVerdict(BaseModel):
    action: str
    targets: list[InstanceSummary] = Field(default_factory=list)
    refusal: str | None = None
    guard: str | None = None

    @property
    def refused(self) -> bool:
        return self.refusal is not None


def check_guards(
    fleet: Fleet, action: str, refs: list[str], *, read_only: bool, max_targets: int, audit_error: str | None
) -> GuardVerdict:
    """Guards 1-3 plus the checks no action may skip (valid targets, a writable audit log).

    `fleet`: the places the call covers; the blast radius counts targets over all of them."""
    if read_only:
        return _refuse(action, "read_only", f"read-only mode: {action} is not allowed (started with --read-only)")
    if audit_error:
        return _refuse(action, "audit", f"{audit_error}; mutating actions are disabled until it is fixed")
    refs = [r for r in (refs or []) if isinstance(r, str) and r.strip()]
    if not refs:
        return _refuse(action, "invalid", "no instances given: name at least one instance id or Name")
    try:
        targets = fleet.resolve(refs, prefix=action not in DESTRUCTIVE_ACTIONS)
    except ResolutionError as exc:
        return _refuse(action, "resolution", str(exc))
    except Exception as exc:  # AWS unreachable or denied: we cannot check, so we refuse
        return _refuse(action, "aws", describe_aws_error(exc, "EC2"))
    verdict = GuardVerdict(action=action, targets=targets)
    gone = [t for t in targets if t.state in {"terminated", "shutting-down"}]
    if gone:
        return _refuse(action, "invalid", f"{_label(gone[0])} is already {gone[0].state}", targets)
    # Every reason that applies, said once: a person fixing one should not meet the next on retry.
    reasons: list[tuple[str, str]] = []
    if action in DESTRUCTIVE_ACTIONS:
        protected = _protected_reason(fleet, action, targets, max_targets)
        if protected:
            reasons.append(("protected", protected))
    if len(targets) > max_targets:
        reasons.append(("blast_radius", f"blast radius: {len(targets)} instances in one {action} is more than the "
                                        f"limit of {max_targets} (AIOPS_MAX_TARGETS); act on fewer at a time"))
    if reasons:
        return _refuse(action, reasons[0][0], "; ".join(reason for _, reason in reasons), targets)
    return verdict


def _protected_reason(fleet: Fleet, action: str, targets: list[InstanceSummary], max_targets: int) -> str | None:
    tagged = [t for t in targets if t.protected]
    if tagged:
        names = ", ".join(_label(t) for t in tagged[:5]) + (f" and {len(tagged) - 5} more" if len(tagged) > 5 else "")
        verb = "is" if len(tagged) == 1 else "are"
        return f"{names} {verb} protected (tag aiops:protected=true); {action} refused"
    if len(targets) > max_targets:
        return None  # blast radius refuses anyway; spare the per-instance attribute calls
    for target in targets:
        try:
            stop_protected, termination_protected = protection_flags(fleet.ec2_of(target), target.instance_id)
        except Exception as exc:
            return f"could not check the protection of {_label(target)}: {describe_aws_error(exc, 'EC2')}"
        # EC2's own meaning: stop protection refuses stop, termination protection refuses terminate;
        # neither blocks a reboot.
        if stop_protected and action == "stop":
            return f"{_label(target)} has EC2 stop protection on; {action} refused"
        if termination_protected and action == "terminate":
            return f"{_label(target)} has EC2 termination protection on; {action} refused"
    return None


def shown_name(name: str | None) -> str:
    """A Name as a person must read it before consenting: anything outside printable ASCII escaped.

    A Cyrillic `е` in `wеb-2` reads exactly like `web-2`; escaped (`w\\u0435b-2`) it cannot pass for it.
    """
    if not name:
        return "(no name)"
    return "".join(c if " " <= c <= "~" else c.encode("unicode_escape").decode("ascii") for c in name)


def confirmation_facts(verdict: GuardVerdict) -> dict[str, Any]:
    """What is about to happen, as data: our client renders it, and no client parses sentences."""
    action = ACTIONS[verdict.action]
    return {
        "action": action.verb,
        "tool": action.tool,
        "risk": action.risk,
        "consequence": action.consequence,
        "production": any((t.env or "").lower() in PROD_ENVS for t in verdict.targets),
        "targets": [{"instance_id": t.instance_id, "name": shown_name(t.name) if t.name else None,
                     "state": t.state, "env": t.env, "account": t.account, "region": t.region}
                    for t in verdict.targets],
    }


def confirmation_message(verdict: GuardVerdict) -> str:
    """The same facts in words, for MCP clients that show only the message. Deterministic."""
    facts = confirmation_facts(verdict)
    lines = [f"{verdict.action.upper()} {len(verdict.targets)} instance(s):"]
    for t in verdict.targets:
        place = f"  region={t.region}  account={t.account}" if t.region else ""
        lines.append(f"  - {shown_name(t.name)}  {t.instance_id}  state={t.state}  env={t.env or '-'}{place}")
    if facts["production"]:
        lines.append("This touches PRODUCTION.")
    lines.append(f"Risk: {facts['consequence']}.")
    lines.append("Proceed? [y/N]")
    return "\n".join(lines)


def confirmation_schema(verdict: GuardVerdict) -> type[Confirmation]:
    """The elicitation's schema: the `confirm` answer, its property carrying the facts under CONFIRMATION_KEY.

    On the `confirm` property because MCP's wire model keeps a property's extra keywords but drops
    unknown top-level ones; JSON Schema ignores unknown keywords, so other clients see a boolean.
    """
    facts = confirmation_facts(verdict)
    return create_model(
        "Confirmation", __base__=Confirmation,
        confirm=(StrictBool, Field(description=CONFIRM_DESCRIPTION, json_schema_extra={CONFIRMATION_KEY: facts})),
    )


def _refuse(
    action: str, guard: str, reason: str, targets: list[InstanceSummary] | None = None
) -> GuardVerdict:
    return GuardVerdict(action=action, targets=targets or [], refusal=reason, guard=guard)


def _label(t: InstanceSummary) -> str:
    return f"{t.name} ({t.instance_id})" if t.name else t.instance_id


class BlastWindow:
    """Guard 3 across calls: 3 + 3 sequential calls, or 2 x 5 parallel ones, must not stop ten machines.

    Counts the targets of allowed destructive calls per caller (the client's declared name) over a
    rolling window. `take` checks and reserves in one step under a lock, so parallel calls cannot
    both slip under the limit. Per server process: another process keeps its own window.
    """

    def __init__(self, limit: int, seconds: float, clock=time.monotonic) -> None:
        self.limit, self.seconds, self.clock = limit, seconds, clock
        self._taken: dict[str, deque[tuple[float, int]]] = {}
        self._lock = threading.Lock()

    def refusal(self, caller: str, count: int) -> str | None:
        """Why `count` more targets for `caller` would exceed the window now, or None."""
        with self._lock:
            return self._over(caller, count)

    def take(self, caller: str, count: int) -> str | None:
        """Reserve `count` targets for `caller`; the refusal instead when the window is full."""
        with self._lock:
            over = self._over(caller, count)
            if over is None:
                self._taken.setdefault(caller, deque()).append((self.clock(), count))
            return over

    def _over(self, caller: str, count: int) -> str | None:
        taken = self._taken.setdefault(caller, deque())
        while taken and self.clock() - taken[0][0] > self.seconds:
            taken.popleft()
        used = sum(n for _, n in taken)
        if used + count <= self.limit:
            return None
        return (f"blast radius: {used} instance(s) already stopped, rebooted or terminated by this client in the "
                f"last {self.seconds / 60:g} minutes; {count} more would pass the limit of {self.limit} "
                "(AIOPS_MAX_TARGETS_PER_WINDOW); wait, or act from the console")
