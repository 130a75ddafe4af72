"""How the monitor tells people: events for the terminal (`on_event`) and alerts for the notifier.

Both are best effort by design: a broken terminal callback or an unwritable outbox is reported
as a skip and never ends a cycle. Repeating conditions are said once, not every cycle. Only the
Notifier protocol (notify/base.py) is known here: which destination it is, it names itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from agent.monitor.models import CycleReport, MonitorEvent, alert_for
from agent.monitor.records import Incident
from agent.monitor.signals import Skips
from notify.base import Alert, DeliveryResult, Notifier

log = logging.getLogger(__name__)


class Announcer:
    def __init__(self, notifier: Notifier, on_event: Callable[[MonitorEvent], None] | None) -> None:
        self.notifier = notifier
        self.on_event = on_event
        self._notify_error: str | None = None
        self._last_skips: set[str] = set()

    def emit(self, report: CycleReport | None, event: MonitorEvent) -> None:
        if report is not None:
            report.events.append(event)
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:  # the terminal's problem must not stop the watch
                log.exception("on_event callback failed")

    async def drain(self, report: CycleReport, skips: Skips) -> None:
        """Send what earlier cycles left in the outbox, oldest first, before anything new."""
        try:
            await asyncio.to_thread(self.notifier.drain)
        except Exception as exc:  # the outbox lives in AIOPS_HOME, which may be unwritable
            skips.add(f"{self.notifier.name} outbox not drained: {exc}")
        self._check_notifier(report)

    async def post(self, alert: Alert, inc: Incident, report: CycleReport, skips: Skips) -> DeliveryResult | None:
        """Hand the alert over; None when it did not even reach the outbox (nothing will send it)."""
        name = self.notifier.name
        if alert.kind in {"open", "resolved"} and alert.dedup_key is None:
            # Once per incident: the same key on a second hand-over (after a crash) is sent once.
            alert = alert.model_copy(update={"dedup_key": f"{inc.id}@{inc.opened_at!r}:{alert.kind}"})
        try:
            result = await asyncio.to_thread(self.notifier.notify, alert)
        except Exception as exc:
            skips.add(f"{name} post failed ({type(exc).__name__}: {exc}); shown in the terminal only", inc.id)
            return None
        if result.status in {"sent", "queued"}:
            report.notified.append(inc.id)
        if result.status == "queued":
            skips.add(f"{name} post queued, sent on a later cycle: {result.detail}", inc.id)
        self._check_notifier(report)
        return result

    async def decision(self, inc: Incident, line: str, decided_at: float | None) -> DeliveryResult | None:
        """A person approved or rejected (terminal or Slack): every destination hears it through its outbox, in order
        after the page — the Slack page is edited to say so, PagerDuty acknowledges. Best effort, like a page."""
        alert = alert_for("decided", inc).model_copy(update={
            "decision": line, "awaiting_approval": False, "dedup_key": f"{inc.id}@{decided_at!r}:decided"})
        try:
            return await asyncio.to_thread(self.notifier.notify, alert)
        except Exception as exc:
            log.warning("%s: the decision on %s was not handed over: %s", self.notifier.name, inc.id, exc)
            return None

    def _check_notifier(self, report: CycleReport) -> None:
        error = self.notifier.config_error
        if error and error != self._notify_error:
            self.emit(report, MonitorEvent(kind="notify_error", message=f"{self.notifier.name}: {error}"))
        self._notify_error = error

    def skips(self, report: CycleReport, quiet: set[str]) -> None:
        """A skip that repeats every cycle is shown once, not every 30 seconds; `quiet` lines never."""
        for line in report.skipped:
            if line not in self._last_skips and line not in quiet:
                self.emit(report, MonitorEvent(kind="skipped", message=line))
        self._last_skips = set(report.skipped)
