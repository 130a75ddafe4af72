"""The REPL's side of the monitor: panels for new incidents, the approval queue, the sandbox demo."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from rich.table import Table

from agent.mcp_client import ToolSession
from agent.terminal.io import Terminal
from agent.terminal.render import render_result
from notify.base import Notifier
from utils.config import Settings

SIMULATE_KINDS = ("cpu", "status", "disk")
# Event kinds a person should not miss among the ordinary lines.
WARNING_KINDS = {"notify_error", "config_error", "skipped"}


def opened_lines(inc) -> list[str]:
    """A new incident's panel, recovery first: the proposal, then the evidence, then the SOP."""
    from agent.monitor.models import answered_by_evidence, evidence_line, where
    from notify.evidence_text import evidence_lines

    proposal = inc.proposal.describe(inc.name) if inc.proposal else "none"
    lines = [f"alarm     {inc.alarm}", f"resource  {where(inc)}",
             *([f"where     {inc.region}, account {inc.account or 'default'}"] if inc.region else [])]
    after = []
    if inc.proposal and inc.proposal.steps:  # a resource the catalog cannot act on: steps for a person
        lines += ["steps     (from the SOP; nothing runs, nothing to approve)"]
        lines += [f"  {n}. {step}" for n, step in enumerate(inc.proposal.steps, 1)]
    elif inc.proposal and not inc.proposal.mutating:  # a read ran already: show what it found
        lines += [f"read      {proposal}"] + (["          (answered by the alarm's own metric, in the evidence below)"]
                                                if answered_by_evidence(inc) else
                                                [f"found     {evidence_line(inc.evidence) or 'nothing'}"])
        after = ["→ nothing to approve: a read needs none; the SOP's steps come next"]
    else:
        lines += [f"proposal  {proposal}"]
        after = [f"→ approve {inc.id}   |   reject {inc.id} [reason]"]
    seen = evidence_lines(inc.evidence)
    lines += [f"{'evidence' if n == 0 else '':<9} {line}" for n, line in enumerate(seen)]
    lines += [f"SOP       {inc.sops[0]['title'] if inc.sops else 'none found'}"]
    return lines + after


class MonitorControls:
    """`auto on|off`, `queue`, `approve`, `reject`, `incidents`, `simulate`: the monitor as a person drives it."""

    def __init__(self, terminal: Terminal, session: ToolSession, settings: Settings,
                 wait_for_sandbox: Callable[[], Awaitable[None]]):
        self.terminal, self.session, self.settings = terminal, session, settings
        self.wait_for_sandbox = wait_for_sandbox
        self.monitor = None
        self._notifier: Notifier | None = None
        self._clicks = None  # the Slack Socket Mode connection while the monitor runs

    @property
    def notifier(self) -> Notifier:
        """Where alerts go: the running monitor's notifier, or one built from settings (no network I/O)."""
        if self.monitor is not None:
            return self.monitor.notifier
        if self._notifier is None:
            from notify.registry import notifier_from_settings

            self._notifier = notifier_from_settings(self.settings)
        return self._notifier

    @property
    def running(self) -> bool:
        return self.monitor is not None and self.monitor.running

    def _ensure(self):
        if self.monitor is None:
            from agent.monitor.loop import Monitor

            self.monitor = Monitor(self.session, self.settings, notifier=self._notifier, on_event=self.on_event)
        return self.monitor

    async def start(self) -> None:
        if self.running:
            self.terminal.info("the monitor is already on")
            return
        await self.wait_for_sandbox()
        monitor = self._ensure()
        monitor.start()
        self.terminal.print(f"monitor on: checking alarms and status checks every {monitor.interval:g}s "
                                 "(first check now). New incidents appear here; `queue` lists proposals.")
        if self._clicks is None:
            await self._listen_for_clicks(monitor)

    async def _listen_for_clicks(self, monitor) -> None:
        """Approve / Reject from Slack too, when the Slack app's two tokens are set (Socket Mode)."""
        from agent.monitor.slack_approvals import listen_for_clicks

        try:
            self._clicks = await listen_for_clicks(monitor, self.session, self.settings)
        except Exception as exc:  # the terminal still approves; say why Slack cannot
            self._clicks = None
            self.terminal.warn(f"Slack buttons are off: {type(exc).__name__}: {exc}")
            return
        if self._clicks is not None:
            self.terminal.info("Slack buttons on: approvers can approve or reject from the page (Socket Mode)")

    async def stop(self) -> None:
        if not self.running:
            self.terminal.info("the monitor is off")
            return
        await self.monitor.stop()
        if self._clicks is not None:
            self._clicks.close()
            self._clicks = None
        self.terminal.print("monitor off")

    def on_event(self, event) -> None:
        """Called from the monitor task; patch_stdout keeps the line being typed intact."""
        terminal = self.terminal
        inc = event.incident
        if event.kind == "opened" and inc is not None:
            terminal.incident_panel(f"{inc.id}  Tier {inc.tier}", opened_lines(inc), inc.tier)
        elif event.kind == "resolved":
            terminal.incident_panel(f"{event.incident_id or ''} resolved", [event.message], None)
        elif event.kind == "did_not_help" and inc is not None:
            terminal.incident_panel(f"{inc.id}  Tier {inc.tier}  action did not help", self._fallback_lines(inc),
                                    inc.tier)
        elif event.kind in WARNING_KINDS:
            terminal.warn(event.message)
        else:
            terminal.print(event.message)

    def _fallback_lines(self, inc) -> list[str]:
        """The page one tier higher after an action that did not help: what was tried, what comes next."""
        watch = self.monitor.store.verification(inc.seq) if self.monitor is not None else None
        lines = [f"alarm     {inc.alarm} (still in ALARM)", f"verified  {watch.line() if watch else 'did not help'}",
                 f"re-paged  Tier {inc.tier} ({inc.tier_reason})", f"next      {inc.note or 'none'}"]
        if inc.proposal and inc.proposal.steps:
            lines += [f"  {n}. {step}" for n, step in enumerate(inc.proposal.steps, 1)]
        elif inc.proposal:
            lines += [f"→ approve {inc.id}   |   reject {inc.id} [reason]"]
        return lines

    async def approve(self, incident_id: str) -> None:
        from agent.monitor.records import ApprovalError

        monitor = self._ensure()
        try:
            proposal = monitor.approve(incident_id.upper())
        except (ApprovalError, ValueError) as exc:
            self.terminal.error(str(exc))
            return
        with self.terminal.spinner(f"running {proposal.tool}…"):
            outcome = await self.session.call(proposal.tool, proposal.arguments,
                                                     confirmer=self.terminal.confirm)
        monitor.record_action(incident_id.upper(), outcome)
        await self._tell_destinations(incident_id.upper(), f"approved in the terminal: "
                                      f"{proposal.describe(monitor.incident(incident_id.upper()).name)} → {outcome.status}")
        if outcome.data:
            self.terminal.print(render_result(outcome.tool, outcome.data))
        else:
            (self.terminal.info if outcome.ok else self.terminal.error)(outcome.message)
        from agent.monitor.records import NOTHING_RAN

        watch = monitor.store.verification(incident_id.upper()) if outcome.status == "ok" else None
        if watch is not None and watch.result == "watching":
            self.terminal.info(f"{incident_id.upper()}: {watch.line()} — recovered if it returns to OK, "
                               "else re-paged one tier higher with the next step")
        if outcome.status in NOTHING_RAN:
            self.terminal.info(f"{incident_id.upper()} still waits for approval: `approve {incident_id.upper()}` "
                               "when ready, or `reject` it")
        facts = self.session.catalog.get(proposal.tool)
        if outcome.status == "ok" and self.settings.sandbox and facts and facts.end_state == "running":
            await self._sandbox_recovers(incident_id.upper())

    async def _sandbox_recovers(self, incident_id: str) -> None:
        """In the sandbox nothing evaluates alarms, so play AWS: the fix worked and the alarm clears."""
        from utils.sandbox import clear_alarm_named

        inc = self.monitor.incident(incident_id)
        try:
            await asyncio.to_thread(clear_alarm_named, None, inc.alarm)
        except Exception:  # a synthetic signal (status check) has no alarm to clear
            return
        self.terminal.info(f"(sandbox) {inc.alarm} returns to OK; the monitor posts the resolve next cycle")

    async def reject(self, rest: str) -> None:
        from agent.monitor.records import ApprovalError

        incident_id, _, reason = rest.partition(" ")
        try:
            self._ensure().reject(incident_id.upper(), reason.strip(), by="user")
        except (ApprovalError, ValueError) as exc:
            self.terminal.error(str(exc))
            return
        self.terminal.print(f"{incident_id.upper()} rejected" + (f": {reason.strip()}" if reason else ""))
        await self._tell_destinations(incident_id.upper(), "proposal rejected in the terminal"
                                      + (f": {reason.strip()}" if reason.strip() else ""))

    async def _tell_destinations(self, incident_id: str, what: str) -> None:
        """A decision taken here reaches the pages too: the Slack page edited, PagerDuty acknowledged."""
        monitor = self._ensure()
        approval = monitor.store.approval(incident_id)
        await monitor.announcer.decision(monitor.incident(incident_id), f"{incident_id}: {what}",
                                         approval.decided_at if approval else None)

    def queue(self) -> None:
        items = self._ensure().queue()
        if not items:
            self.terminal.info("nothing waits for approval")
            return
        table = Table(header_style="bold", show_edge=False)
        for column in ("Incident", "Tier", "Alarm", "Proposal"):
            table.add_column(column, overflow="fold")
        for item in items:
            table.add_row(item.incident.id, str(item.incident.tier), item.incident.alarm, item.text)
        self.terminal.print(table)

    def incidents(self, limit: int = 15) -> None:
        from agent.monitor.models import duration

        rows = self._ensure().history(limit)
        if not rows:
            self.terminal.info("no incidents yet")
            return
        from agent.monitor.models import evidence_line
        from agent.terminal.render import cut_at_word

        table = Table(header_style="bold", show_edge=False)
        longest = max(len(row.incident.alarm) for row in rows)
        table.add_column("Incident", no_wrap=True)
        table.add_column("Tier", no_wrap=True)
        table.add_column("Alarm", overflow="fold", min_width=min(30, longest))
        for column in ("Status", "Decision", "Outcome"):
            table.add_column(column)
        now = time.time()
        for row in rows:
            inc, approval = row.incident, row.approval
            decision = f"{approval.status} by {approval.decided_by}" if approval and approval.decided_by else (
                approval.status if approval else "-")
            outcome = (approval.outcome_message or approval.outcome_status) if approval else None
            if inc.proposal and inc.proposal.steps:
                decision, outcome = "SOP steps, no approval", inc.proposal.steps[0]
            elif inc.proposal and not inc.proposal.mutating:  # a read ran at diagnosis; nothing to decide
                decision, outcome = "read, no approval", evidence_line(inc.evidence)
            if row.verification is not None:  # did the action work: recovered / did not help / watching
                outcome = row.verification.line()
            status = (f"resolved in {duration(inc.time_to_resolve)}" if inc.time_to_resolve is not None
                      else f"{inc.status}, {duration(now - inc.opened_at)}")
            table.add_row(inc.id, str(inc.tier), inc.alarm, status, cut_at_word(str(decision), 40),
                          cut_at_word(str(outcome or "-"), 80))
        self.terminal.print(table)

    def timeline(self, incident_id: str) -> None:
        """One incident's timeline: opened, paged, action, watching, recovered / did not help, re-paged, new proposal."""
        from datetime import datetime

        from agent.monitor.records import ApprovalError

        try:
            row = self._ensure().store.history_of(incident_id)
        except ApprovalError as exc:  # not an incident id
            self.terminal.error(str(exc))
            return
        if row is None:
            self.terminal.error(f"no incident {incident_id.upper()}")
            return
        inc = row.incident
        lines = [f"{datetime.fromtimestamp(e.ts):%H:%M:%S}  {e.kind:<12} {e.detail}" for e in row.timeline]
        self.terminal.incident_panel(f"{inc.id}  Tier {inc.tier}  {inc.alarm}  ({inc.status})", lines or ["no timeline"],
                                     inc.tier if inc.status == "open" else None)

    async def simulate(self, rest: str) -> None:
        from utils.sandbox import clear_alarm, simulate_alarm

        if not self.settings.sandbox:
            self.terminal.error("simulate works only in the sandbox (start with --sandbox / make run)")
            return
        words = rest.split()
        clear = bool(words) and words[0] == "clear"
        words = words[1:] if clear else words
        if len(words) != 2 or words[0] not in SIMULATE_KINDS:
            self.terminal.error("usage: simulate [clear] cpu|status|disk NAME   e.g. simulate status worker-2")
            return
        await self.wait_for_sandbox()
        try:
            alarm = await asyncio.to_thread(clear_alarm if clear else simulate_alarm, None, words[0], words[1])
        except Exception as exc:
            self.terminal.error(str(exc))
            return
        state = "OK" if clear else "ALARM"
        hint = "" if self.running else " — `auto on` to let the monitor pick it up"
        self.terminal.print(f"{alarm} → {state}{hint}")
