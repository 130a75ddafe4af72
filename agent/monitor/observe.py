"""One look at the estate per cycle, through the shared MCP session.

Every cycle: get_instance_status (ids, names, states and status checks of the whole fleet) and
list_alarms in ALARM, concurrently. Env and tags, which only tiering needs, are fetched only for
instances about to get a *new* incident and are cached across cycles: a few describe_instance
calls, or one list_instances when many are needed at once (fewer API calls on a real account).
A call that fails leaves its part None: what depends on it neither opens nor resolves this cycle.
Both calls cover every configured account and region; a place the server could not read comes back in
their `skipped`, is one line in the cycle's skips, and its incidents stay as they are (`unread`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.mcp_client import ToolSession
from agent.monitor.signals import Instance, Skips

LOOKUP_CONCURRENCY = 8
# Above this many unknown instances one list_instances is cheaper than describing each.
LIST_THRESHOLD = 10
DETAILS_TTL_SECONDS = 600
# Every firing alarm, not the page a model gets (the tool's own maximum).
MAX_ALARMS = 10_000


@dataclass
class Observation:
    instances: dict[str, Instance]  # every instance by id; env/tags filled in where known
    statuses: list[dict[str, Any]] | None  # None: get_instance_status failed this cycle
    alarms: list[dict[str, Any]] | None  # firing alarms; None: list_alarms failed this cycle
    failures: list[str] = field(default_factory=list)  # "list_alarms failed (why)", one per failed call
    unread: set[tuple[str, str]] = field(default_factory=set)  # (account, region) a call could not read

    def holds(self, account: str | None, region: str | None) -> bool:
        """An incident in a place this look could not read neither resolves nor changes (no region: unsure)."""
        if not self.unread:
            return False
        return region is None or ((account or "default"), region) in self.unread


async def observe(session: ToolSession, skips: Skips) -> Observation:
    statuses, alarms = await asyncio.gather(
        session.call("get_instance_status", {}), session.call("list_alarms", {"state": "ALARM", "max": MAX_ALARMS}))
    failures: list[str] = []
    rows = _rows(statuses, "statuses", skips, "status checks and stop detection wait a cycle", failures)
    # get_instance_status carries each instance's tags, so tiering needs no further call.
    instances = {r["instance_id"]: Instance.from_tool(r) if "tags" in r
                 else Instance(r["instance_id"], r.get("name"), r.get("state") or "unknown")
                 for r in rows or []}
    alarm_rows = _rows(alarms, "alarms", skips, "alarms neither open nor resolve", failures)
    return Observation(instances, rows, alarm_rows, failures, _unread(skips, statuses, alarms))


def _unread(skips: Skips, *outcomes: Any) -> set[tuple[str, str]]:
    """The places the server skipped, each said once however many calls skipped it."""
    unread: dict[tuple[str, str], str] = {}
    for outcome in outcomes:
        for skip in (outcome.data or {}).get("skipped") or [] if outcome.ok else []:
            if isinstance(skip, dict) and skip.get("region"):
                unread.setdefault((skip.get("account") or "default", skip["region"]), str(skip.get("reason") or ""))
    for (account, region), reason in unread.items():
        skips.add(f"skipped {account}/{region}: {' '.join(reason.split())[:300]}; its incidents wait a cycle")
    return set(unread)


def _rows(outcome: Any, name: str, skips: Skips, consequence: str,
          failures: list[str]) -> list[dict[str, Any]] | None:
    rows = (outcome.data or {}).get(name) if outcome.ok else None
    if not isinstance(rows, list):
        failures.append(f"{outcome.tool} failed ({outcome.message or outcome.status})")
        skips.add(f"{failures[-1]}; {consequence}")
        return None
    return rows


@dataclass
class DetailCache:
    """Env/tags per instance id: they change rarely, and fetching them is the costly part of a look."""

    clock: Callable[[], float] = time.monotonic
    ttl: float = DETAILS_TTL_SECONDS
    _entries: dict[str, tuple[float, Instance]] = field(default_factory=dict)

    def fill(self, seen: Observation) -> None:
        now = self.clock()
        for iid, inst in seen.instances.items():
            entry = self._entries.get(iid)
            if entry and now - entry[0] < self.ttl:
                cached = entry[1]
                inst.env, inst.role, inst.tags, inst.detailed = cached.env, cached.role, cached.tags, True

    def put(self, inst: Instance) -> None:
        self._entries[inst.instance_id] = (self.clock(), inst)

    def forget_missing(self, seen: Observation) -> None:
        if seen.statuses is not None:  # a complete fleet: drop what is gone, so memory stays flat
            for iid in set(self._entries) - set(seen.instances):
                del self._entries[iid]


async def add_details(session: ToolSession, seen: Observation, wanted: set[str], cache: DetailCache,
                      skips: Skips) -> None:
    """Env/tags for `wanted` instance ids not known yet, into `seen` and the cache."""
    missing = sorted(i for i in wanted if not (seen.instances.get(i) and seen.instances[i].detailed))
    if len(missing) > LIST_THRESHOLD:
        listed = await session.call("list_instances", {})
        for data in (listed.data or {}).get("instances", []) if listed.ok else []:
            _learn(seen, cache, Instance.from_tool(data))
        if listed.ok and (listed.data or {}).get("has_more_results"):
            skips.add(f"list_instances returned {len(listed.data['instances'])} of {listed.data.get('count')} "
                      "instances (the tool's cap); the rest were described one by one")
        missing = [i for i in missing if not seen.instances[i].detailed] if listed.ok else missing
    gate = asyncio.Semaphore(LOOKUP_CONCURRENCY)

    async def describe(iid: str) -> None:
        known = seen.instances.get(iid)
        # Where it lives, when known: an id needs no search of every place (nor every place to answer).
        place = {k: v for k, v in (("region", known.region), ("account", known.account)) if v} if known else {}
        async with gate:
            outcome = await session.call("describe_instance", {"instance": iid, **place})
        if outcome.ok and outcome.data:
            _learn(seen, cache, Instance.from_tool(outcome.data))

    await asyncio.gather(*(describe(i) for i in missing))


def _learn(seen: Observation, cache: DetailCache, inst: Instance) -> None:
    current = seen.instances.get(inst.instance_id)
    if current is None and seen.statuses is not None:
        return  # not in this cycle's fleet: nothing to tier
    if current is not None:
        inst.state = current.state  # the status call's state is this cycle's
    seen.instances[inst.instance_id] = inst
    cache.put(inst)
