"""The background monitor: watches alarms, status checks and instance states; opens, pages and resolves incidents.

It runs on the agent's asyncio loop and shares its one MCP session (`start()`/`stop()`), or one
cycle at a time (`run_cycle()`, for `monitor --once`). State lives in SQLite (agent/monitor/incidents.py)
so separate processes, restarts and crashes neither repeat nor lose an incident. Nothing
destructive runs here without a person's approval, except what `[auto_remediation]` allows
(start and reboot only), and then with a confirmer that consents to that one exact call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agent.mcp_client import ToolOutcome, ToolSession
from agent.monitor.announce import Announcer
from agent.monitor.incidents import (
    Approval,
    ApprovalError,
    Counts,
    Incident,
    IncidentHistory,
    IncidentStore,
    IncidentStoreUnavailable,
    parse_id,
)
from agent.monitor.models import (
    CycleReport,
    MonitorEvent,
    MonitorOptions,
    QueueItem,
    alert_for,
    delivery_line,
    duration,
    first_line,
    opened_line,
    where,
)
from agent.monitor.observe import DetailCache, Observation, add_details, observe
from agent.monitor.proposals import (
    Proposal,
    Subject,
    auto_policy,
    build_proposal,
    exact_confirmer,
    propose,
)
from agent.monitor.signals import (
    Signal,
    Skips,
    agent_stopped,
    alarm_key,
    alarm_signals,
    state_signals,
    status_signals,
)
from agent.monitor.tiers import TierRules, is_status_check
from notify.slack_webhook import Alert, DeliveryResult, SlackNotifier
from utils.audit import AuditLog, AuditUnavailable
from utils.config import Settings

log = logging.getLogger(__name__)

# A first page not marked sent after this long was orphaned by a crash; another cycle takes it over.
NOTIFY_LEASE_SECONDS = 300
STOP_GRACE_SECONDS = 10.0
AUTO_ACTOR = "auto-remediation"


@dataclass
class _Cycle:
    report: CycleReport
    skips: Skips = field(default_factory=Skips)
    sop_cache: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    auto_left: int = 0


def check_config(settings: Settings) -> tuple[MonitorOptions, TierRules]:
    """The [monitor] and [tiers] tables, or a ConfigError saying which key is wrong."""
    return MonitorOptions.from_settings(settings), TierRules.from_config(settings.tiers)


class Monitor:
    """Public surface for the REPL: start() / await stop() / running / on_event, await run_cycle(),
    approve() / reject() / record_action() / queue(), incident(), history(), counts_today(), close()."""

    def __init__(
        self,
        session: ToolSession,
        settings: Settings,
        *,
        notifier: SlackNotifier | None = None,
        store: IncidentStore | None = None,
        on_event: Callable[[MonitorEvent], None] | None = None,
        clock: Callable[[], float] = time.time,
        interval: float | None = None,
    ) -> None:
        """Raises ConfigError for a malformed [tiers] or [monitor] table (agent/cli.py prints one line)."""
        self.session, self.settings, self.clock = session, settings, clock
        self.interval = interval or settings.poll_seconds
        self.options, self.rules = check_config(settings)
        self.auto = auto_policy(settings.auto_remediation, session.catalog.restoring())
        self._standing: list[str] = list(self.auto.problems)  # conditions reported every cycle
        self.store = store or self._open_store()
        self.audit = self._open_audit()
        self.notifier = notifier or SlackNotifier.from_settings(settings)
        self._say = Announcer(self.notifier, on_event)
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._stopping: asyncio.Event | None = None
        self._config_announced = False
        self._details = DetailCache()

    def _open_store(self) -> IncidentStore:
        try:
            return IncidentStore(self.settings.home, clock=self.clock)
        except IncidentStoreUnavailable as exc:
            self._standing.append(f"{exc}; incidents kept in memory only (no dedup across processes)")
            return IncidentStore(None, clock=self.clock)

    def _open_audit(self) -> AuditLog | None:
        try:
            return AuditLog(self.settings.home)
        except AuditUnavailable as exc:
            self._standing.append(f"{exc}; stops the agent made cannot be told apart from others")
            return None

    def close(self) -> None:
        """Close the SQLite connections (the REPL keeps one monitor for the life of the process)."""
        self.store.close()
        if self.audit is not None:
            self.audit.close()

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> asyncio.Task:
        """Run cycles in the background on the current loop; the first one starts at once."""
        if self._task is None or self._task.done():
            self._stopping = asyncio.Event()
            self._task = asyncio.create_task(self._loop(), name="aiops-monitor")
        return self._task

    async def stop(self) -> None:
        """Let a cycle in progress finish (its Slack posts and SQLite writes), then end; cancel if it hangs."""
        task, self._task = self._task, None
        if task is None or task.done():
            return
        assert self._stopping is not None
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_GRACE_SECONDS)
        except TimeoutError:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _loop(self) -> None:
        assert self._stopping is not None
        while not self._stopping.is_set():
            try:
                await self.run_cycle()
            except Exception as exc:  # a broken cycle must not end the watch
                log.exception("monitor cycle failed")
                self._emit(None, MonitorEvent(kind="skipped", message=f"monitor cycle failed: {exc}"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)

    # -- one cycle -----------------------------------------------------------------------------

    async def run_cycle(self) -> CycleReport:
        async with self._lock:
            started = time.perf_counter()
            cycle = _Cycle(CycleReport(started_at=self.clock()), auto_left=self.auto.max_per_cycle)
            for line in self._standing:
                cycle.skips.add(line)
            try:
                await self._cycle(cycle)
            except IncidentStoreUnavailable as exc:
                cycle.skips.add(f"{exc}; the rest of this cycle was skipped")
            report = cycle.report
            try:
                report.open_incidents = self.store.open_incidents()
            except IncidentStoreUnavailable as exc:
                cycle.skips.add(str(exc))
            report.skipped = cycle.skips.lines()
            self._say.skips(report, quiet=set(self.auto.problems))  # those were config_error events
            report.duration_seconds = time.perf_counter() - started
            return report

    async def _cycle(self, c: _Cycle) -> None:
        if not self._config_announced:
            self._config_announced = True
            for problem in self.auto.problems:
                self._emit(c, MonitorEvent(kind="config_error", message=problem))
        await self._say.drain(c.report, c.skips)
        for approval in self.store.expire_due():
            self._emit(c, MonitorEvent(kind="expired", incident_id=approval.incident_id,
                                       message=f"{approval.incident_id}: proposal {approval.tool} expired unapproved"))
        seen = await observe(self.session, c.skips)
        c.report.instances, c.report.alarms_firing = len(seen.instances), len(seen.alarms or [])
        signals, active = await self._look(seen, c)
        await self._resolve(active, c)
        already = {inc.key for inc in self.store.open_incidents()}
        for signal in signals:
            if signal.incident.key not in already:  # the common case, without a write transaction
                await self._open(signal, c)
        await self._notify_orphans(c)
        await self._repage(c)
        if seen.statuses is not None:
            self.store.save_states({i.instance_id: (i.name, i.state) for i in seen.instances.values()})

    async def _look(self, seen: Observation, c: _Cycle) -> tuple[list[Signal], dict[str, set[str]]]:
        """Signals with tiers. Env/tags are fetched only for instances that would get a new incident."""
        self._details.forget_missing(seen)
        self._details.fill(seen)
        signals, _ = self._signals(seen, Skips())
        open_keys = {inc.key for inc in self.store.open_incidents()}
        wanted = {s.incident.instance_id for s in signals if s.incident.key not in open_keys and s.incident.instance_id}
        if seen.statuses is None:  # no fleet list: alarmed instances are only known by describing them
            wanted |= {a["instance_id"] for a in seen.alarms or [] if a.get("instance_id")}
        if wanted - {i for i, inst in seen.instances.items() if inst.detailed}:
            await add_details(self.session, seen, wanted, self._details, c.skips)
        return self._signals(seen, c.skips)

    def _signals(self, seen: Observation, skips: Skips) -> tuple[list[Signal], dict[str, set[str]]]:
        """Signals to open, and per source the keys still active (a source that failed resolves nothing)."""
        signals: list[Signal] = []
        active: dict[str, set[str]] = {}
        covered: set[str] = set()
        if seen.alarms is not None:
            found = alarm_signals(seen.alarms, seen.instances, self.rules, skips)
            signals += found
            covered = {s.incident.instance_id for s in found if s.status_check and s.incident.instance_id}
            active["alarm"] = {alarm_key(a["name"], a.get("instance_id")) for a in seen.alarms
                               if a.get("state") == "ALARM"}
        if seen.statuses is not None:
            found, active["status"] = status_signals(seen.statuses, seen.instances, self.rules, covered)
            signals += found
            previous, saved_at = self.store.last_states()
            acted = self._agent_acted(saved_at)
            found, active["state"] = state_signals(seen.instances, previous, acted, self.rules)
            signals += found
        return signals, active

    def _agent_acted(self, saved_at: float | None) -> set[str]:
        if self.audit is None or saved_at is None:
            return set()
        # Audit timestamps have whole seconds; a minute of slack cannot hide a real outage for long.
        since = datetime.fromtimestamp(saved_at - 60, UTC).isoformat(timespec="seconds")
        return agent_stopped(self.audit.recent(500), since, self.session.catalog.leaves_down())

    # -- incidents -----------------------------------------------------------------------------

    async def _resolve(self, active: dict[str, set[str]], c: _Cycle) -> None:
        for inc in self.store.open_incidents():
            keys = active.get(inc.source)
            if keys is None or inc.key in keys:
                continue
            done = self.store.resolve(inc.seq, "back to OK")
            if done is None:
                continue  # another process resolved it first
            c.report.resolved.append(done)
            took = duration(done.time_to_resolve)
            self._emit(c, MonitorEvent(kind="resolved", incident_id=done.id, tier=done.tier, incident=done,
                                       message=f"{done.id} resolved: {done.alarm} on {where(done)} after {took}"))
            await self._post(alert_for("resolved", done), done, c)

    async def _open(self, signal: Signal, c: _Cycle) -> None:
        inc = self.store.open_incident(signal.incident, self.owner)
        if inc is None:
            return  # already open: dedup, nothing new to say
        c.report.opened.append(inc.id)
        inc = await self._diagnose(inc, signal, c)
        self._emit(c, MonitorEvent(kind="opened", incident_id=inc.id, tier=inc.tier, incident=inc,
                                   message=opened_line(inc)))
        ran = await self._auto_remediate(inc, c)
        await self._first_page(self.store.get(inc.seq) or inc, c, ran)

    async def _diagnose(self, inc: Incident, signal: Signal, c: _Cycle) -> Incident:
        hits = await self._search(signal, c)
        subject = Subject(inc.instance_id, inc.metric, signal.status_check, signal.state_change)
        catalog = self.session.catalog
        proposal, note = build_proposal(subject, hits, catalog)
        action = self.auto.action_for(inc.alarm) if inc.instance_id else None
        if action and (proposal is None or proposal.tool != action) and action in catalog:
            # The rule decides the action; the target is still only the incident's own instance.
            proposal = propose(catalog, action, catalog.target_arguments(action, inc.instance_id), "rule",
                               "auto_remediation rule in aiops.toml")
        if note:
            c.skips.add(note)
        sops = [{"source": h.get("source"), "title": h.get("title")} for h in hits]
        data = proposal.model_dump() if proposal else None
        self.store.set_diagnosis(inc.seq, sops, data, note)
        if data:
            self.store.add_approval(inc.seq, data, self.options.approval_ttl_seconds)
        return self.store.get(inc.seq) or inc

    async def _search(self, signal: Signal, c: _Cycle) -> list[dict[str, Any]]:
        """One search per alarm kind per cycle: a search costs far more than the rest of a cycle's work."""
        query, kind = signal.sop_query, signal.sop_kind or signal.sop_query
        if not query or not kind:
            return []
        if kind in c.sop_cache:
            c.report.sop_cache_hits += 1
            return c.sop_cache[kind]
        c.report.sop_searches += 1
        outcome = await self.session.call("search_sops", {"query": query, "k": self.options.sop_k})
        hits = (outcome.data or {}).get("results") if outcome.ok else None
        if hits is None:
            c.skips.add(f"SOP search failed ({first_line(outcome.message)}); proposals from built-in rules")
            hits = []
        elif not hits:
            c.skips.add("no SOP matched (SOP store empty? `sop add`); proposals from built-in rules", query[:60])
        c.sop_cache[kind] = hits
        return hits

    async def _auto_remediate(self, inc: Incident, c: _Cycle) -> ToolOutcome | None:
        proposal = inc.proposal
        action = self.auto.action_for(inc.alarm)
        if not action or not proposal or proposal["tool"] != action or not inc.instance_id:
            return None
        if c.auto_left <= 0:
            c.skips.add("auto-remediation limit for one cycle reached; left for approval", inc.id)
            return None
        c.auto_left -= 1
        outcome = await self.session.call(action, {"instances": [inc.instance_id]},
                                          confirmer=exact_confirmer(action, inc.instance_id))
        self.store.record_action(inc.seq, outcome.status, outcome.message, AUTO_ACTOR, auto=True)
        c.report.auto_actions.append(inc.id)
        what = Proposal(**proposal).describe(inc.name)
        self._emit(c, MonitorEvent(kind="auto_action", incident_id=inc.id, tier=inc.tier, incident=inc,
                                   message=f"{inc.id}: auto-remediation {what}: {outcome.status} — {outcome.message}"))
        return outcome

    async def _first_page(self, inc: Incident, c: _Cycle, ran: ToolOutcome | None) -> None:
        result = await self._post(alert_for("open", inc, ran), inc, c)
        self.store.mark_notified(inc.seq, delivery_line(result))

    async def _notify_orphans(self, c: _Cycle) -> None:
        """First pages a crashed process left unsent; the claim makes sure only one process sends them."""
        for inc in self.store.open_incidents():
            if inc.notified_at is not None or inc.id in c.report.opened:
                continue
            if not self.store.claim_notification(inc.seq, self.owner, NOTIFY_LEASE_SECONDS):
                continue
            if inc.diagnosed_at is None:
                inc = await self._diagnose(inc, Signal(inc, None, is_status_check(inc.alarm, inc.metric)), c)
            await self._first_page(inc, c, None)

    async def _repage(self, c: _Cycle) -> None:
        for inc in self.store.open_incidents():
            if inc.tier != 0 or inc.notified_at is None or inc.id in c.report.opened:
                continue
            decided = self.store.approval(inc.seq)
            if decided is not None and decided.status in {"approved", "rejected"}:
                continue  # a person has answered it: acknowledged (DESIGN: repeats until acknowledged)
            if self.store.claim_repage(inc, self.options.repage_seconds):
                c.report.repaged.append(inc.id)
                self._emit(c, MonitorEvent(kind="repaged", incident_id=inc.id, tier=0, incident=inc,
                                           message=f"{inc.id} still firing: {inc.alarm} on {where(inc)} (repage)"))
                await self._post(alert_for("repage", inc), inc, c)

    # -- events ------------------------------------------------------------------------------

    @property
    def on_event(self) -> Callable[[MonitorEvent], None] | None:
        return self._say.on_event

    @on_event.setter
    def on_event(self, callback: Callable[[MonitorEvent], None] | None) -> None:
        self._say.on_event = callback

    def _emit(self, c: _Cycle | None, event: MonitorEvent) -> None:
        self._say.emit(c.report if c else None, event)

    async def _post(self, alert: Alert, inc: Incident, c: _Cycle) -> DeliveryResult | None:
        return await self._say.post(alert, inc, c.report, c.skips)

    # -- approvals, for the REPL -----------------------------------------------------------------

    def approve(self, incident_id: str, by: str = "user") -> Proposal:
        """Mark the proposal approved and return it; the caller runs it through its own y/N gate
        (`session.call(p.tool, p.arguments, confirmer=...)`) and then calls record_action()."""
        inc = self.incident(incident_id)
        if inc.proposal is None:
            raise ApprovalError(f"{inc.id} has no proposal")
        self.store.decide(inc.seq, approve=True, by=by)
        return Proposal(**inc.proposal)

    def reject(self, incident_id: str, reason: str = "", by: str = "user") -> Approval:
        return self.store.decide(incident_id, approve=False, by=by, reason=reason)

    def record_action(self, incident_id: str, outcome: ToolOutcome, by: str = "user") -> None:
        self.store.record_action(parse_id(incident_id), outcome.status, outcome.message, by)

    def queue(self) -> list[QueueItem]:
        items = []
        for approval in self.store.pending():
            inc = self.store.get(approval.incident_id)
            if inc is not None and inc.proposal:
                text = f"{Proposal(**inc.proposal).describe(inc.name)} — risk {approval.risk}"
                items.append(QueueItem(approval=approval, incident=inc, text=text))
        return items

    def incident(self, incident_id: str) -> Incident:
        inc = self.store.get(incident_id)
        if inc is None:
            raise ApprovalError(f"no incident {incident_id}")
        return inc

    def history(self, limit: int = 20) -> list[IncidentHistory]:
        return self.store.history(limit)

    def counts_today(self) -> Counts:
        return self.store.counts_today()
