"""The background monitor: each cycle reads every source, then opens, pages and resolves incidents.

It runs on the agent's asyncio loop and shares its one MCP session (`start()`/`stop()`), or one
cycle at a time (`run_cycle()`, for `monitor --once`). Which sources it reads (agent/monitor/sources.py)
and which destinations it pages (notify/, behind the Notifier protocol) it does not know; what it
does about each incident is agent/monitor/respond.py. State lives in SQLite (agent/monitor/incidents.py)
so separate processes, restarts and crashes neither repeat nor lose an incident.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from agent.mcp_client import ToolOutcome, ToolSession
from agent.monitor.announce import Announcer
from agent.monitor.incidents import IncidentStore, IncidentStoreUnavailable
from agent.monitor.models import CycleReport, MonitorEvent, MonitorOptions, QueueItem
from agent.monitor.observe import DetailCache, observe
from agent.monitor.proposals import Proposal, auto_policy
from agent.monitor.records import Approval, ApprovalError, Counts, Incident, IncidentHistory, parse_id
from agent.monitor.respond import Cycle, Responder
from agent.monitor.sources import Source, SourceContext, SourceReading, build_sources
from agent.monitor.stores import open_store
from agent.monitor.tiers import TierRules
from agent.monitor.verify import Verifier
from notify.base import Notifier
from notify.owners import Owner
from notify.registry import notifier_from_settings
from utils.audit import AuditLog, AuditUnavailable
from utils.audit_store import open_audit
from utils.config import Settings

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 10.0


def check_config(settings: Settings) -> tuple[MonitorOptions, TierRules]:
    """The [monitor] and [tiers] tables, or a ConfigError saying which key is wrong."""
    return MonitorOptions.from_settings(settings), TierRules.from_config(settings.tiers, getattr(settings, "accounts", []))


class Monitor:
    """Public surface for the REPL: start() / await stop() / running / on_event, await run_cycle(),
    approve() / reject() / record_action() / queue(), incident(), history(), counts_today(), close()."""

    def __init__(
        self,
        session: ToolSession,
        settings: Settings,
        *,
        notifier: Notifier | None = None,
        sources: list[Source] | None = None,
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
        self._standing_problems: list[str] = list(self.auto.problems)  # conditions reported every cycle
        self.store = store or self._open_store()
        self.audit = self._open_audit()
        self.notifier = notifier or notifier_from_settings(settings)
        self.sources = sources if sources is not None else build_sources()
        self.announcer = Announcer(self.notifier, on_event)
        self._owner = Owner(settings.state_dir)  # names this process on incident claims; dead owners are taken over
        self.owner = self._owner.name
        self.responder = Responder(session, self.store, self.options, self.auto, self.announcer, self.owner)
        self.verifier = Verifier(session, self.store, self.options, self.announcer)
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._stopping: asyncio.Event | None = None
        self._config_announced = False
        self._details = DetailCache()
        self.on_cycle: Callable[[CycleReport], None] | None = None  # each finished cycle's report (metrics)

    def _open_store(self) -> IncidentStore:
        """The store, or IncidentStoreUnavailable: the monitor does not start without it.

        Watching "in memory" would open and page every firing alarm again on every run (under
        cron, a page storm) and lose the approval queue; a damaged file is left for a person to
        look at rather than moved aside, which would also page everything again under new ids.
        """
        return open_store(self.settings, clock=self.clock)  # AIOPS_STORE: SQLite, or DynamoDB shared by workers

    def _open_audit(self) -> AuditLog | None:
        try:
            return open_audit(self.settings)
        except AuditUnavailable as exc:
            self._standing_problems.append(f"{exc}; stops the agent made cannot be told apart from others")
            return None

    def close(self) -> None:
        """Close the SQLite connections (the REPL keeps one monitor for the life of the process)."""
        self.store.close()
        self._owner.close()
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
        """Let a cycle in progress finish (its pages and SQLite writes), then end; cancel if it hangs."""
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
            cycle = Cycle(CycleReport(started_at=self.clock()), auto_left=self.auto.max_per_cycle)
            for line in self._standing_problems:
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
            self.announcer.skips(report, quiet=set(self.auto.problems))  # those were config_error events
            report.duration_seconds = time.perf_counter() - started
            if self.on_cycle is not None:
                self.on_cycle(report)
            return report

    async def _cycle(self, cycle: Cycle) -> None:
        if not self._config_announced:
            self._config_announced = True
            for problem in self.auto.problems:
                self._emit(cycle, MonitorEvent(kind="config_error", message=problem))
        await self.announcer.drain(cycle.report, cycle.skips)
        for approval in self.store.expire_due():
            self._emit(cycle, MonitorEvent(kind="expired", incident_id=approval.incident_id,
                                           message=f"{approval.incident_id}: proposal {approval.tool} expired unapproved"))
        readings = await self._read_sources(cycle)
        active = {name: r.active for name, r in readings.items()}
        await self.responder.resolve(active, cycle)
        await self.verifier.check(active, cycle)  # after the resolves: a cleared alarm is a fix that worked
        covered = {key for r in readings.values() for s in r.signals for key in s.covers}
        signals = [s for r in readings.values() for s in r.signals if s.incident.key not in covered]
        already = {inc.key for inc in self.store.open_incidents()}
        # Only new keys: the common case, without a write transaction.
        await self.responder.open_all([s for s in signals if s.incident.key not in already], cycle)
        await self.responder.notify_orphans(cycle)
        await self.responder.repage(cycle)
        for reading in readings.values():
            if reading.commit is not None:
                await reading.commit()

    async def _read_sources(self, cycle: Cycle) -> dict[str, SourceReading]:
        """Every source's reading of this cycle's look at the estate, with tiers (env/tags fetched on demand)."""
        seen = await observe(self.session, cycle.skips)
        cycle.report.instances, cycle.report.alarms_firing = len(seen.instances), len(seen.alarms or [])
        self._details.forget_missing(seen)
        self._details.fill(seen)
        context = SourceContext(self.session, seen, self.rules, self.store, self.audit, cycle.skips, self._details,
                                open_keys={inc.key for inc in self.store.open_incidents()})
        readings: dict[str, SourceReading] = {}
        for source in self.sources:
            try:
                reading = await source.read(context)
            except IncidentStoreUnavailable:
                raise
            except Exception as exc:  # one broken source must not blind the others: it resolves nothing
                log.exception("monitor source %s failed", source.name)
                cycle.skips.add(f"source {source.name} failed ({type(exc).__name__}: {exc}); it waits a cycle")
                reading = SourceReading()
                cycle.report.unread[source.name] = f"{type(exc).__name__}: {exc}"
            if reading.active is None and source.name not in cycle.report.unread:
                cycle.report.unread[source.name] = "; ".join(seen.failures) or "it could not be read"
            context.covered |= {key for s in reading.signals for key in s.covers}
            readings[source.name] = reading
        held = {inc.key for inc in self.store.open_incidents() if seen.holds(inc.account, inc.region)}
        for reading in readings.values():
            if reading.active is not None:
                reading.active |= held  # a place not read this cycle resolves nothing
        return readings

    # -- events ------------------------------------------------------------------------------

    @property
    def on_event(self) -> Callable[[MonitorEvent], None] | None:
        return self.announcer.on_event

    @on_event.setter
    def on_event(self, callback: Callable[[MonitorEvent], None] | None) -> None:
        self.announcer.on_event = callback

    def _emit(self, cycle: Cycle | None, event: MonitorEvent) -> None:
        self.announcer.emit(cycle.report if cycle else None, event)

    # -- approvals, for the REPL -----------------------------------------------------------------

    def approve(self, incident_id: str, by: str = "user") -> Proposal:
        """Mark the proposal approved and return it; the caller runs it through its own y/N gate
        (`session.call(p.tool, p.arguments, confirmer=...)`) and then calls record_action()."""
        inc = self.incident(incident_id)
        if inc.proposal is None:
            raise ApprovalError(f"{inc.id} has no proposal")
        if inc.proposal.steps:
            raise ApprovalError(f"{inc.id}: the proposal is SOP steps for a person; nothing to approve")
        if not inc.proposal.mutating:
            raise ApprovalError(f"{inc.id}: {inc.proposal.tool} is a read; it ran when the incident opened "
                                "and nothing waits for approval")
        self.store.decide(inc.seq, approve=True, by=by)
        return inc.proposal

    def reject(self, incident_id: str, reason: str = "", by: str = "user") -> Approval:
        return self.store.decide(incident_id, approve=False, by=by, reason=reason)

    def record_action(self, incident_id: str, outcome: ToolOutcome, by: str = "user") -> None:
        self.store.record_action(parse_id(incident_id), outcome.status, outcome.message, by,
                                 watch_seconds=self.options.verify_seconds)

    def queue(self) -> list[QueueItem]:
        items = []
        for approval in self.store.pending():
            inc = self.store.get(approval.incident_id)
            if inc is not None and inc.proposal:
                text = f"{inc.proposal.describe(inc.name)} — risk {approval.risk}"
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
