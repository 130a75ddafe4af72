"""How planner test tables write expectations, and how they are checked.

Expectations name instances by Name; `check` maps them to ids against the fleet,
so a table reads like the request it tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from agent.planner.types import Clarification, PlannedCall, PlanningContext

# Every table computes cost periods from this day (a Friday), so expectations are fixed dates.
TODAY = date(2025, 3, 14)


@dataclass(frozen=True)
class Contains:
    """An argument that must be a string containing `part` (case-insensitive): SOP queries."""

    part: str


@dataclass(frozen=True)
class Expect:
    tool: str | None  # None: a Clarification is expected
    args: dict[str, Any] = field(default_factory=dict)
    candidates: tuple[str, ...] = ()  # names the Clarification must offer


def call(tool: str, **args: Any) -> Expect:
    return Expect(tool, args)


def clarify(*candidates: str) -> Expect:
    return Expect(None, {}, tuple(candidates))


def _resolve(value: Any, key: str, by_name: dict[str, str]) -> Any:
    if key == "instances":  # a Name, or an id where one Name is in several places
        return sorted(n if n.startswith("i-") else by_name[n] for n in value)
    if key == "instance":
        return value if value.startswith("i-") else by_name[value]
    return value


def check(outcome: PlannedCall | Clarification, expected: Expect, ctx: PlanningContext) -> str | None:
    """None when `outcome` meets `expected`, else a one-line reason (used in assertion messages)."""
    if expected.tool is None:
        if not isinstance(outcome, Clarification):
            return f"expected a clarification, got {outcome.tool} {outcome.arguments}"
        missing = [c for c in expected.candidates if c not in outcome.candidates]
        return f"candidates {outcome.candidates} lack {missing}" if missing else None
    if not isinstance(outcome, PlannedCall):
        return f"expected {expected.tool}, got clarification: {outcome.message}"
    if outcome.tool != expected.tool:
        return f"expected {expected.tool}, got {outcome.tool} {outcome.arguments}"
    by_name = {i.name: i.instance_id for i in ctx.instances}
    got = dict(outcome.arguments)
    if isinstance(got.get("instances"), list):
        got["instances"] = sorted(got["instances"])
    for key, want in expected.args.items():
        if isinstance(want, Contains):
            if want.part.lower() not in str(got.get(key, "")).lower():
                return f"{key}={got.get(key)!r} lacks {want.part!r}"
            continue
        want = _resolve(want, key, by_name)
        if got.get(key) != want:
            return f"{key}: expected {want!r}, got {got.get(key)!r} (all: {outcome.arguments})"
    extra = set(got) - set(expected.args)
    return f"unexpected arguments {sorted(extra)}: {outcome.arguments}" if extra else None
