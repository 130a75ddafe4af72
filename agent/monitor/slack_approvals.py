"""What a click on a page's Approve or Reject button may do (the transport is notify/slack_socket.py).

The same path as `approve ID` in the terminal: the store decides (pending -> approved once; a second
click, an expired or a resolved proposal is refused with the reason), the tool runs through the MCP
server and its guards (protected, read-only, blast radius), and the server's confirmation is
answered yes for exactly that one call, because the click was the person's yes. The audit row names
the person: `slack:<user id>`. Only user ids in `[slack] approvers` may decide; anyone else is told
so, and the attempt is audited.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from agent.mcp_client import ToolSession
from agent.monitor.models import MonitorEvent
from agent.monitor.proposals import exact_confirmer
from agent.monitor.records import ApprovalError
from utils.config import ConfigError

log = logging.getLogger(__name__)


def approvers_from(table: dict[str, Any]) -> frozenset[str]:
    """`[slack] approvers = ["U0123ABCD", …]`; empty (the default): nobody approves from Slack."""
    approvers = table.get("approvers", [])
    if not isinstance(approvers, list) or not all(isinstance(a, str) and a.strip() for a in approvers):
        raise ConfigError("invalid setting slack.approvers: a list of Slack user ids (e.g. [\"U0123ABCD\"])")
    return frozenset(a.strip() for a in approvers)


def require_other_from(table: dict[str, Any]) -> bool:
    """`[slack] require_other_approver = true`: nobody approves an action they requested (see `requested_by`)."""
    value = table.get("require_other_approver", False)
    if not isinstance(value, bool):
        raise ConfigError("invalid setting slack.require_other_approver: true or false")
    return value


class SlackApprovals:
    def __init__(self, monitor: Any, session: ToolSession, approvers: frozenset[str],
                 tell: Callable[[Any, str], None], *, require_other: bool = False,
                 ask_reason: Callable[[Any], bool] | None = None, sandbox: bool = False) -> None:
        self.monitor, self.session, self.approvers = monitor, session, approvers
        self.tell = tell  # (click, text): only the clicker sees it
        self.require_other = require_other  # [slack] require_other_approver: nobody approves their own request
        self.ask_reason = ask_reason  # (click) -> whether Reject's reason dialog opened
        self.sandbox = sandbox  # nothing evaluates the sandbox's alarms: a fix that worked clears its alarm here
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def on_click(self, click: Any) -> None:
        """From the Socket Mode thread: the decision runs on the monitor's loop, which owns the MCP session."""
        assert self._loop is not None, "attach() the loop first"
        asyncio.run_coroutine_threadsafe(self.decide(click), self._loop)

    async def decide(self, click: Any) -> str:
        who = f"slack:{click.user}"
        try:
            reply = await self._decide(click, who)
        except ApprovalError as exc:
            reply = f"Nothing done: {exc}"
        except Exception as exc:  # a click must never take the monitor down
            log.exception("Slack decision on %s failed", click.incident_id)
            reply = f"Nothing done: {type(exc).__name__}: {exc}"
        if reply:
            await asyncio.to_thread(self.tell, click, reply)
        return reply

    async def _decide(self, click: Any, who: str) -> str:
        incident = self.monitor.incident(click.incident_id)  # ApprovalError for an unknown id
        if click.user not in self.approvers:
            self._audit(incident, who, "refused", f"{who} is not a Slack approver ([slack] approvers in aiops.toml)")
            return (f"You are not an approver for {incident.id}; nothing was done. "
                    "Approvers are listed in aiops.toml under [slack] approvers.")
        self._waiting(incident)  # says why nothing runs: resolved, decided, expired
        if click.decision == "reject":
            return await self._reject(click, incident, who)
        requester = requested_by(self.monitor, incident) if self.require_other else None
        if requester == who:
            self._audit(incident, who, "refused", f"{who} requested this action; [slack] require_other_approver "
                                                  "wants another approver")
            return (f"You requested this action on {incident.id} (you approved the step before it), and "
                    "[slack] require_other_approver is on: another approver must approve it. Nothing was done.")
        proposal = self.monitor.approve(incident.id, by=who)
        outcome = await self.session.call(proposal.tool, proposal.arguments,
                                          confirmer=exact_confirmer(proposal.tool, incident.instance_id),
                                          on_behalf_of=who)
        self.monitor.record_action(incident.id, outcome, by=who)
        what = proposal.describe(incident.name)
        tail = f"{what} → {outcome.status}" + (f" ({outcome.message})" if outcome.message else "")
        await self._announce(incident, f"{incident.id}: approved in Slack by {who}: {tail}")
        if outcome.status != "ok":  # a guard (read-only, protected, blast radius) said no, as in the terminal
            return f"Approved, but nothing changed: {tail}"
        await self._sandbox_recovers(incident, proposal.tool)
        return f"Approved: {tail}"

    async def _sandbox_recovers(self, incident: Any, tool: str) -> None:
        """As the terminal's `approve` does in the sandbox: play AWS, the fix worked and the alarm clears."""
        facts = self.session.catalog.get(tool)
        if not self.sandbox or facts is None or facts.end_state != "running":
            return
        from utils.sandbox import clear_alarm_named

        try:
            await asyncio.to_thread(clear_alarm_named, None, incident.alarm)
        except Exception:  # a synthetic signal (a status check with no alarm) has nothing to clear
            return
        self.monitor.announcer.emit(None, MonitorEvent(kind="decided", incident_id=incident.id, tier=incident.tier,
                                                       message=f"(sandbox) {incident.alarm} returns to OK; the "
                                                               "monitor posts the resolve next cycle"))

    async def _reject(self, click: Any, incident: Any, who: str) -> str:
        if click.reason is None and self.ask_reason is not None and await asyncio.to_thread(self.ask_reason, click):
            return ""  # the dialog is open; its submission comes back as a click with the reason
        reason = (click.reason or "").strip()
        self.monitor.reject(incident.id, reason=reason or "rejected in Slack", by=who)
        self._audit(incident, who, "rejected", f"rejected in Slack: {reason or 'no reason given'}")
        await self._announce(incident, f"{incident.id}: proposal rejected in Slack by {who}"
                             + (f": {reason}" if reason else ""))
        return f"Rejected the proposal for {incident.id}." + (f" Reason: {reason}" if reason else "")

    def _waiting(self, incident: Any) -> Any:
        """The pending approval, or ApprovalError saying why there is nothing to decide (before a dialog opens)."""
        if incident.status == "resolved":
            raise ApprovalError(f"{incident.id} is resolved; its proposal is withdrawn")
        approval = self.monitor.store.approval(incident.seq)
        if approval is None:
            raise ApprovalError(f"{incident.id} has no proposal waiting for a decision")
        if approval.status != "pending":
            who = f" by {approval.decided_by}" if approval.decided_by else ""
            raise ApprovalError(f"{incident.id}: the proposal is already {approval.status}{who}")
        if approval.expires_at is not None and approval.expires_at <= self.monitor.store.clock():
            raise ApprovalError(f"{incident.id}: the proposal expired (no decision within the approval TTL)")
        return approval

    async def _announce(self, incident: Any, line: str) -> None:
        """The terminal's panel, and every destination: the Slack page edited, PagerDuty acknowledged."""
        self.monitor.announcer.emit(None, MonitorEvent(kind="decided", incident_id=incident.id, tier=incident.tier,
                                                       message=line))
        approval = self.monitor.store.approval(incident.seq)
        await self.monitor.announcer.decision(self.monitor.incident(incident.id), line,
                                              approval.decided_at if approval else None)

    def _audit(self, incident: Any, who: str, decision: str, outcome: str) -> None:
        audit = getattr(self.monitor, "audit", None)
        proposal = incident.proposal
        if audit is None or proposal is None:
            return
        target = [{"instance_id": incident.instance_id, "name": incident.name}] if incident.instance_id else []
        audit.record(tool=proposal.tool, targets=target, arguments=proposal.arguments, decision=decision,
                     outcome=outcome, caller=who)


def requested_by(monitor: Any, incident: Any) -> str:
    """Who asked for the action now waiting. The monitor proposes on its own ("monitor"), so any approver may
    approve its first proposal; the fallback after an action that did not help was asked for by whoever approved
    that action (the incident's last `approved` event), and with require_other_approver someone else decides it."""
    history = monitor.store.history_of(incident.id)
    approved = [e.actor for e in (history.timeline if history else []) if e.kind == "approved"]
    return approved[-1] if approved else "monitor"


async def listen_for_clicks(monitor: Any, session: ToolSession, settings: Any) -> Any | None:
    """Socket Mode on, when both Slack tokens are set; returns the connection (`.close()` it) or None."""
    if settings.slack_app_token is None or settings.slack_bot_token is None:
        return None
    from notify.slack_socket import SlackClicks

    approvers = approvers_from(settings.slack)
    approvals = SlackApprovals(monitor, session, approvers, tell=lambda _click, _text: None,
                               require_other=require_other_from(settings.slack), sandbox=bool(settings.sandbox))
    clicks = SlackClicks(settings.slack_app_token.get_secret_value(), settings.slack_bot_token.get_secret_value(),
                         settings.slack_api_url, approvals.on_click)
    approvals.tell, approvals.ask_reason = clicks.tell, clicks.ask_reason
    approvals.attach(asyncio.get_running_loop())
    await asyncio.to_thread(clicks.start)  # apps.connections.open and the websocket handshake
    return clicks
