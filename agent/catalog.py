"""What the client knows about the tools, derived from the server's `tools/list` and nothing else.

The server declares each tool's facts once (mcp_server/catalog.py: `ToolAnnotations` plus the
`aiops/*` keys of `_meta`); every set the client needs (mutating, destructive, which argument names
instances, the risk label) is read here. A tool that declares nothing gets MCP's defaults, which
fail closed: not read-only, destructive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

META_TARGETS = "aiops/targets"
META_RISK = "aiops/risk"
META_END_STATE = "aiops/end_state"


@dataclass(frozen=True)
class ToolFacts:
    name: str
    read_only: bool
    destructive: bool
    targets: str | None  # the argument naming instances: "instances" (a list), "instance" (one) or None
    risk: str
    end_state: str | None  # the state a successful mutating call leaves its instances in
    input_schema: dict[str, Any]

    @property
    def mutating(self) -> bool:
        return not self.read_only

    @property
    def many_targets(self) -> bool:
        return self.targets == "instances"


def facts_of(tool: Any) -> ToolFacts:
    """Facts of one `mcp.types.Tool`; missing annotations take MCP's fail-closed defaults."""
    notes = tool.annotations
    meta = tool.meta or {}
    read_only = bool(notes.read_only_hint) if notes and notes.read_only_hint is not None else False
    destructive = (not read_only) and (notes.destructive_hint if notes and notes.destructive_hint is not None
                                       else True)
    targets = meta.get(META_TARGETS)
    return ToolFacts(
        name=tool.name, read_only=read_only, destructive=bool(destructive),
        targets=targets if targets in {"instances", "instance"} else None,
        risk=str(meta.get(META_RISK) or ("LOW" if read_only else "HIGH")),
        end_state=meta.get(META_END_STATE), input_schema=dict(tool.input_schema or {}),
    )


class Catalog:
    """The live tool catalog: `session.catalog`, rebuilt whenever the tool list is fetched."""

    def __init__(self, tools: Iterable[Any] = ()) -> None:
        self._facts = {t.name: facts_of(t) for t in tools}
        self.mutating = frozenset(n for n, f in self._facts.items() if f.mutating)
        self.destructive = frozenset(n for n, f in self._facts.items() if f.destructive)

    def __contains__(self, name: object) -> bool:
        return name in self._facts

    def __iter__(self):
        return iter(self._facts.values())

    @property
    def names(self) -> list[str]:
        return list(self._facts)

    def get(self, name: str) -> ToolFacts | None:
        return self._facts.get(name)

    def is_mutating(self, name: str) -> bool:
        """Unknown tools count as mutating: an undeclared tool is never treated as harmless."""
        facts = self._facts.get(name)
        return facts is None or facts.mutating

    def targets_argument(self, name: str) -> str | None:
        facts = self._facts.get(name)
        return facts.targets if facts else None

    def instance_refs(self, name: str, arguments: dict[str, Any]) -> list[str]:
        """The instance references a call's arguments name, as a list."""
        value = arguments.get(self.targets_argument(name) or "")
        if isinstance(value, str):
            return [value]
        if isinstance(value, list):
            return [v for v in value if isinstance(v, str)]
        return []

    def target_arguments(self, name: str, instance_id: str) -> dict[str, Any]:
        """Arguments that point `name` at exactly one instance."""
        facts = self._facts.get(name)
        if facts is None or facts.targets is None:
            return {}
        return {facts.targets: [instance_id] if facts.many_targets else instance_id}

    def restoring(self) -> tuple[str, ...]:
        """Mutating tools whose success leaves instances running (the only ones auto-remediation may run),
        in the server's order."""
        return tuple(n for n, f in self._facts.items() if f.mutating and f.end_state == "running")

    def leaves_down(self) -> frozenset[str]:
        """Mutating tools whose success leaves instances stopped or terminated."""
        return frozenset(n for n, f in self._facts.items() if f.end_state in {"stopped", "terminated"})
