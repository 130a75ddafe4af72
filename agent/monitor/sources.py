"""Where incidents come from: one class per source behind one small interface, registered by name.

Each cycle the loop hands every source the same context (the cycle's look at the estate,
tier rules, the incident store) and gets back a SourceReading: the signals to open, the keys
still active (what is not among them resolves), and an optional commit to run once the
cycle's incident changes are stored. The loop never knows which source it talks to: a queue
consumer or an alarm source for another account plugs in by registering a class.

Sources run in order; a signal may `cover` keys of later sources (a firing status-check
alarm already pages for its instance, so the status-check source does not page again).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from agent.mcp_client import ToolSession
from agent.monitor.incidents import IncidentStore
from agent.monitor.observe import DetailCache, Observation, add_details
from agent.monitor.signals import (
    Signal,
    Skips,
    agent_stopped,
    alarm_signals,
    resource_key,
    state_signals,
    status_signals,
)
from agent.monitor.tiers import TierRules
from utils.audit import AuditLog


@dataclass
class SourceReading:
    signals: list[Signal] = field(default_factory=list)
    active: set[str] | None = None  # keys still active; None: not read this cycle, so it resolves nothing
    # Runs after the cycle stored its incident changes (a queue consumer deletes its messages here).
    commit: Callable[[], Awaitable[None]] | None = None


@dataclass
class SourceContext:
    """What one cycle offers every source. `seen` is shared: env/tags fetched for one source serve the next."""

    session: ToolSession
    seen: Observation
    rules: TierRules
    store: IncidentStore
    audit: AuditLog | None
    skips: Skips
    details: DetailCache
    open_keys: set[str]  # incidents open when the cycle began
    covered: set[str] = field(default_factory=set)  # keys earlier sources' signals already page for

    async def with_details(self, build: Callable[[Skips], SourceReading], also: set[str] | None = None) -> SourceReading:
        """`build` once to learn which instances would get a new incident, env/tags for those (and `also`),
        then `build` again for real: tiers need env/tags, and fetching them for the whole fleet every
        cycle would cost a call per instance."""
        draft = build(Skips())  # its skips are said by the real build
        wanted = {s.incident.instance_id for s in draft.signals if s.incident.instance_id
                  and s.incident.key not in self.open_keys and s.incident.key not in self.covered}
        wanted |= also or set()
        if wanted - {iid for iid, inst in self.seen.instances.items() if inst.detailed}:
            await add_details(self.session, self.seen, wanted, self.details, self.skips)
        return build(self.skips)


@runtime_checkable
class Source(Protocol):
    name: str  # incidents it opens carry it as their `source`; it resolves only those

    async def read(self, context: SourceContext) -> SourceReading:
        """This cycle's signals and active keys; never raises for a failed read (active None, a skip)."""
        ...


class AlarmSource:
    """CloudWatch alarms in ALARM, every namespace (list_alarms, in the shared observation)."""

    name = "alarm"

    async def read(self, context: SourceContext) -> SourceReading:
        seen, rules = context.seen, context.rules
        alarms = seen.alarms
        if alarms is None:
            return SourceReading()
        # Without the fleet list an alarmed instance is only known by describing it.
        also = None if seen.statuses is not None else {a["instance_id"] for a in alarms if a.get("instance_id")}
        active = {resource_key(a) for a in alarms if a.get("state") == "ALARM"}
        return await context.with_details(
            lambda skips: SourceReading(alarm_signals(alarms, seen.instances, rules, skips), active), also)


class StatusCheckSource:
    """EC2 status checks that are impaired (get_instance_status, in the shared observation)."""

    name = "status"

    async def read(self, context: SourceContext) -> SourceReading:
        seen, rules = context.seen, context.rules
        statuses = seen.statuses
        if statuses is None:
            return SourceReading()
        return await context.with_details(lambda _: SourceReading(*status_signals(statuses, seen.instances, rules)))


class StateChangeSource:
    """Instances that went from up to stopped or terminated since the last cycle, not by the agent's hand."""

    name = "state"

    async def read(self, context: SourceContext) -> SourceReading:
        seen, rules, store = context.seen, context.rules, context.store
        if seen.statuses is None:
            return SourceReading()
        previous, saved_at = store.last_states()
        acted = agent_acted(context.audit, saved_at, context.session.catalog.leaves_down())
        reading = await context.with_details(
            lambda _: SourceReading(*state_signals(seen.instances, previous, acted, rules)))

        async def commit() -> None:  # after the incidents: a crash in between sees the change again
            store.save_states({i.instance_id: (i.name, i.state) for i in seen.instances.values()})

        reading.commit = commit
        return reading


def agent_acted(audit: AuditLog | None, saved_at: float | None, stopping_tools: frozenset[str]) -> set[str]:
    """Instances the agent itself stopped or terminated since the states were last saved."""
    if audit is None or saved_at is None:
        return set()
    # Audit timestamps have whole seconds; a minute of slack cannot hide a real outage for long.
    since = datetime.fromtimestamp(saved_at - 60, UTC).isoformat(timespec="seconds")
    return agent_stopped(audit.recent(500), since, stopping_tools)


SOURCES: dict[str, Callable[[], Source]] = {
    AlarmSource.name: AlarmSource,
    StatusCheckSource.name: StatusCheckSource,
    StateChangeSource.name: StateChangeSource,
}
DEFAULT_SOURCES = (AlarmSource.name, StatusCheckSource.name, StateChangeSource.name)


def register(name: str, factory: Callable[[], Source]) -> None:
    """Make a source available by name (its instances' `name` must be the same)."""
    SOURCES[name] = factory


def build_sources(names: tuple[str, ...] = DEFAULT_SOURCES) -> list[Source]:
    unknown = [n for n in names if n not in SOURCES]
    if unknown:
        raise ValueError(f"unknown monitor source {unknown[0]!r} (known: {', '.join(SOURCES)})")
    return [SOURCES[n]() for n in names]
