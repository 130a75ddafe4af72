"""What the monitor does about each incident: open, diagnose (SOP + proposal), auto-remediate, page, repage, resolve.

Every step that must happen once across processes is a claim in the incident store; every
page goes through the Announcer to whatever Notifier is configured. Nothing destructive runs
here without a person's approval, except what `[auto_remediation]` allows (start and reboot
only), and then with a confirmer that consents to that one exact call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from agent.mcp_client import ToolOutcome, ToolSession
from agent.monitor.announce import Announcer
from agent.monitor.incidents import IncidentStore
from agent.monitor.models import (
    CycleReport,
    MonitorEvent,
    MonitorOptions,
    alert_for,
    delivery_line,
    duration,
    evidence_from,
    evidence_of,
    evidence_summary,
    first_line,
    opened_line,
    resource_type,
    where,
)
from agent.monitor.proposals import (
    AutoPolicy,
    Proposal,
    Subject,
    build_proposal,
    exact_confirmer,
    propose,
    recovery_steps,
    steps_proposal,
)
from agent.monitor.records import Incident, NewIncident
from agent.monitor.signals import Signal, Skips
from agent.monitor.tiers import is_status_check
from notify.base import Alert, DeliveryResult
from notify.owners import owner_alive

# A first page not marked sent after this long was orphaned by a crash; another cycle takes it over.
NOTIFY_LEASE_SECONDS = 300
AUTO_ACTOR = "auto-remediation"
EVIDENCE_TOOL = "get_alarm_evidence"
EVIDENCE_CONCURRENCY = 16  # evidence calls in flight at once: a storm must not flood the server's threads
EVIDENCE_GRACE_SECONDS = 0.5  # the server keeps the budget; this is only for the call's own way there and back


@dataclass
class Cycle:
    report: CycleReport
    skips: Skips = field(default_factory=Skips)
    sop_cache: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    auto_left: int = 0
    evidence: dict[str, dict[str, Any]] = field(default_factory=dict)  # by incident key, gathered before opening


class Responder:
    def __init__(self, session: ToolSession, store: IncidentStore, options: MonitorOptions, auto: AutoPolicy,
                 announcer: Announcer, owner: str) -> None:
        self.session, self.store, self.options, self.auto = session, store, options, auto
        self.announcer, self.owner = announcer, owner

    def _alive(self, holder: str) -> bool | None:
        return owner_alive(self.store.path.parent, holder) if self.store.path is not None else None

    def emit(self, cycle: Cycle | None, event: MonitorEvent) -> None:
        self.announcer.emit(cycle.report if cycle else None, event)

    async def _post(self, alert: Alert, inc: Incident, cycle: Cycle) -> DeliveryResult | None:
        return await self.announcer.post(alert, inc, cycle.report, cycle.skips)

    # -- opening and resolving -------------------------------------------------------------------

    async def resolve(self, active: dict[str, set[str] | None], cycle: Cycle) -> None:
        """Resolve open incidents whose source was read and no longer reports them."""
        for inc in self.store.open_incidents():
            keys = active.get(inc.source)
            if keys is None or inc.key in keys:
                continue
            await self._resolve_one(inc, cycle)

    async def resolve_incidents(self, incidents: list[Incident], cycle: Cycle) -> None:
        """Resolve exactly these (an alarm's pushed change back to OK), by number: one another worker opened
        under the same key since is left alone."""
        for inc in incidents:
            await self._resolve_one(inc, cycle)

    async def _resolve_one(self, inc: Incident, cycle: Cycle) -> None:
        done = self.store.resolve(inc.seq, "back to OK")
        if done is None:
            return  # another process resolved it first
        cycle.report.resolved.append(done)
        took = duration(done.time_to_resolve)
        worked = self.store.verification(done.seq)  # an action's watch this resolve ended (agent/monitor/verify.py)
        note = worked.line() if worked and worked.result == "recovered" and worked.ended_at == done.resolved_at else None
        self.emit(cycle, MonitorEvent(kind="resolved", incident_id=done.id, tier=done.tier, incident=done,
                                      message=f"{done.id} resolved: {done.alarm} on {where(done)} after {took}"
                                      + (f"; {note}" if note else "")))
        await self._post(alert_for("resolved", done).model_copy(update={"verification": note}), done, cycle)

    async def open_all(self, signals: list[Signal], cycle: Cycle) -> None:
        """Open each new signal's incident, its evidence gathered for all of them at once first."""
        await self.prefetch_evidence(signals, cycle)
        for signal in signals:
            await self.open(signal, cycle)

    async def prefetch_evidence(self, signals: list[Signal], cycle: Cycle) -> None:
        """Evidence for every new alarm incident, concurrently, within one budget: a storm of 500 alarms
        costs the budget once, not 500 times; what is not back in time is left out, never waited for."""
        wanted = [s for s in signals if s.incident.source == "alarm" and s.incident.key not in cycle.evidence]
        if not wanted or EVIDENCE_TOOL not in self.session.catalog:
            return
        budget = self.options.evidence_seconds
        gate = asyncio.Semaphore(EVIDENCE_CONCURRENCY)

        async def one(signal: Signal) -> None:
            async with gate:
                cycle.evidence[signal.incident.key] = await self._evidence(signal.incident, budget)

        tasks = [asyncio.create_task(one(s)) for s in wanted]
        _done, late = await asyncio.wait(tasks, timeout=budget + EVIDENCE_GRACE_SECONDS)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        missed = [s for s in wanted if s.incident.key not in cycle.evidence]
        for signal in missed:
            cycle.evidence[signal.incident.key] = {"left_out": [
                f"evidence: not gathered within the {budget:g} s budget ({len(wanted)} incidents opened at once)"]}
        if missed:
            cycle.skips.add(f"evidence left out: the {budget:g} s budget ran out", f"{len(missed)} incidents")

    async def _evidence(self, inc: NewIncident, budget: float) -> dict[str, Any]:
        arguments: dict[str, Any] = {"alarm": inc.alarm, "seconds": budget}
        for place in ("region", "account"):  # the alarm's own place: never read from another
            if getattr(inc, place, None):
                arguments[place] = getattr(inc, place)
        outcome = await self.session.call(EVIDENCE_TOOL, arguments)
        if not outcome.ok:
            return {"left_out": [f"evidence: {first_line(outcome.message)}"]}
        return evidence_of(outcome.data)

    async def open(self, signal: Signal, cycle: Cycle) -> None:
        inc = self.store.open_incident(signal.incident, self.owner)
        if inc is None:
            return  # already open: dedup, nothing new to say
        cycle.report.opened.append(inc.id)
        inc = await self._diagnose(inc, signal, cycle)
        self.emit(cycle, MonitorEvent(kind="opened", incident_id=inc.id, tier=inc.tier, incident=inc,
                                      message=opened_line(inc)))
        ran = await self._auto_remediate(inc, cycle)
        await self._first_page(self.store.get(inc.seq) or inc, cycle, ran)

    # -- diagnosis -------------------------------------------------------------------------------

    async def _diagnose(self, inc: Incident, signal: Signal, cycle: Cycle) -> Incident:
        if inc.source == "alarm" and inc.key not in cycle.evidence:  # opened without a prefetch (an orphan)
            await self.prefetch_evidence([signal], cycle)
        evidence = cycle.evidence.pop(inc.key, {})
        hits = await self._search(signal, cycle)
        subject = Subject(inc.instance_id, inc.metric, signal.status_check, signal.state_change)
        catalog = self.session.catalog
        proposal, note = build_proposal(subject, hits, catalog)
        if resource_type(inc) != "ec2:instance":
            proposal, note = steps_proposal(hits), None  # the catalog acts on EC2 only: steps for a person
        action = self.auto.action_for(inc.alarm) if inc.instance_id else None
        if action and (proposal is None or proposal.tool != action) and action in catalog:
            # The rule decides the action; the target is still only the incident's own instance.
            proposal = propose(catalog, action, catalog.target_arguments(action, inc.instance_id), "rule",
                               "auto_remediation rule in aiops.toml")
        if note:
            cycle.skips.add(note)
        # Each SOP's recovery and steps are kept too: the fallback when an action does not help (verify.py).
        sops = [{"source": h.get("source"), "title": h.get("title"), "recovery": h.get("recovery"),
                 "steps": recovery_steps(h)} for h in hits]
        self.store.set_diagnosis(inc.seq, sops, proposal, note)
        if proposal and not proposal.steps and not proposal.mutating:
            evidence = await self._read_proposal(proposal, evidence)
        elif proposal and not proposal.steps:
            self.store.add_approval(inc.seq, proposal, self.options.approval_ttl_seconds)
        if evidence:
            self.store.set_evidence(inc.seq, evidence, evidence_summary(evidence))
        return self.store.get(inc.seq) or inc

    async def _read_proposal(self, proposal: Proposal, evidence: dict[str, Any]) -> dict[str, Any]:
        """Reads need no approval: run it now, unless the evidence already holds what it would read (the
        alarm's metric), and keep what it found with the evidence."""
        if proposal.tool == "get_metric_statistics" and evidence.get("metric"):
            return evidence
        outcome = await self.session.call(proposal.tool, proposal.arguments)
        if not outcome.ok:
            failed = f"{proposal.tool}: {first_line(outcome.message)}"
            return {**evidence, "left_out": [*evidence.get("left_out", []), failed]}
        return {**evidence_from(proposal.tool, outcome.data), **evidence}

    async def _search(self, signal: Signal, cycle: Cycle) -> list[dict[str, Any]]:
        """One search per alarm kind per cycle: a search costs far more than the rest of a cycle's work."""
        query, kind = signal.sop_query, signal.sop_kind or signal.sop_query
        if not query or not kind:
            return []
        if kind in cycle.sop_cache:
            cycle.report.sop_cache_hits += 1
            return cycle.sop_cache[kind]
        cycle.report.sop_searches += 1
        outcome = await self.session.call("search_sops", {"query": query, "k": self.options.sop_k})
        hits = (outcome.data or {}).get("results") if outcome.ok else None
        if hits is None:
            cycle.skips.add(f"SOP search failed ({first_line(outcome.message)}); proposals from built-in rules")
            hits = []
        elif not hits:
            cycle.skips.add("no SOP matched (SOP store empty? `sop add`); proposals from built-in rules", query[:60])
        cycle.sop_cache[kind] = hits
        return hits

    async def _auto_remediate(self, inc: Incident, cycle: Cycle) -> ToolOutcome | None:
        proposal = inc.proposal
        action = self.auto.action_for(inc.alarm)
        if not action or not proposal or proposal.tool != action or not inc.instance_id:
            return None
        if cycle.auto_left <= 0:
            cycle.skips.add("auto-remediation limit for one cycle reached; left for approval", inc.id)
            return None
        cycle.auto_left -= 1
        outcome = await self.session.call(action, {"instances": [inc.instance_id]},
                                          confirmer=exact_confirmer(action, inc.instance_id))
        self.store.record_action(inc.seq, outcome.status, outcome.message, AUTO_ACTOR, auto=True,
                                 watch_seconds=self.options.verify_seconds)
        cycle.report.auto_actions.append(inc.id)
        what = proposal.describe(inc.name)
        self.emit(cycle, MonitorEvent(kind="auto_action", incident_id=inc.id, tier=inc.tier, incident=inc,
                                      message=f"{inc.id}: auto-remediation {what}: {outcome.status} — {outcome.message}"))
        return outcome

    # -- paging ----------------------------------------------------------------------------------

    async def _first_page(self, inc: Incident, cycle: Cycle, ran: ToolOutcome | None) -> None:
        result = await self._post(alert_for("open", inc, ran), inc, cycle)
        line = delivery_line(self.announcer.notifier.name, result)
        if result is None:  # not even in the outbox: a later cycle pages it (notify_orphans)
            self.store.release_notification(inc.seq, self.owner, line)
            return
        self.store.mark_notified(inc.seq, line)

    async def notify_orphans(self, cycle: Cycle) -> None:
        """First pages a crashed (or failed) hand-over left unrecorded; the claim makes sure one process sends each.

        The alert carries the same dedup key as the first try, so one the outbox already holds
        (or sent) is recognised there and not sent again; only what never reached it is paged now.
        """
        for inc in self.store.open_incidents():
            if inc.notified_at is not None or inc.id in cycle.report.opened:
                continue
            if not self.store.claim_notification(inc.seq, self.owner, NOTIFY_LEASE_SECONDS, self._alive):
                continue
            if inc.diagnosed_at is None:
                inc = await self._diagnose(inc, Signal(inc, None, is_status_check(inc.alarm, inc.metric)), cycle)
            await self._first_page(inc, cycle, None)

    async def repage(self, cycle: Cycle) -> None:
        for inc in self.store.open_incidents():
            if inc.tier != 0 or inc.notified_at is None or inc.id in cycle.report.opened:
                continue
            decided = self.store.approval(inc.seq)
            if decided is not None and decided.status in {"approved", "rejected"}:
                continue  # a person has answered it: acknowledged (Tier 0 repeats until acknowledged)
            if self.store.claim_repage(inc, self.options.repage_seconds):
                cycle.report.repaged.append(inc.id)
                self.emit(cycle, MonitorEvent(kind="repaged", incident_id=inc.id, tier=0, incident=inc,
                                              message=f"{inc.id} still firing: {inc.alarm} on {where(inc)} (repage)"))
                await self._post(alert_for("repage", inc), inc, cycle)
