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


class SlackApprovals:
    def __init__(self, monitor: Any, session: ToolSession, approvers: frozenset[str],
                 tell: Callable[[Any, str], None], note: Callable[[str, str], None] | None = None) -> None:
        self.monitor, self.session, self.approvers = monitor, session, approvers
        self.tell = tell  # (click, text): only the clicker sees it
        self.note = note  # (incident id, text): in the page's thread, for everyone
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
        await asyncio.to_thread(self.tell, click, reply)
        return reply

    async def _decide(self, click: Any, who: str) -> str:
        incident = self.monitor.incident(click.incident_id)  # ApprovalError for an unknown id
        if click.user not in self.approvers:
            self._audit_refusal(incident, who)
            return (f"You are not an approver for {incident.id}; nothing was done. "
                    "Approvers are listed in aiops.toml under [slack] approvers.")
        if click.decision == "reject":
            self.monitor.reject(incident.id, reason="rejected in Slack", by=who)
            self._announce(incident, f"{incident.id}: proposal rejected in Slack by {who}")
            return f"Rejected the proposal for {incident.id}."
        proposal = self.monitor.approve(incident.id, by=who)
        outcome = await self.session.call(proposal.tool, proposal.arguments,
                                          confirmer=exact_confirmer(proposal.tool, incident.instance_id),
                                          on_behalf_of=who)
        self.monitor.record_action(incident.id, outcome, by=who)
        what = proposal.describe(incident.name)
        line = f"{incident.id}: approved in Slack by {who}: {what} → {outcome.status}" + (
            f" ({outcome.message})" if outcome.message else "")
        self._announce(incident, line)
        return f"Approved: {what} → {outcome.status}" + (f" ({outcome.message})" if outcome.message else "")

    def _announce(self, incident: Any, line: str) -> None:
        self.monitor.announcer.emit(None, MonitorEvent(kind="decided", incident_id=incident.id, tier=incident.tier,
                                                       message=line))
        if self.note is not None:
            try:
                self.note(incident.id, line)
            except Exception as exc:
                log.warning("could not post the decision in the page's thread: %s", exc)

    def _audit_refusal(self, incident: Any, who: str) -> None:
        audit = getattr(self.monitor, "audit", None)
        proposal = incident.proposal
        if audit is None or proposal is None:
            return
        target = [{"instance_id": incident.instance_id, "name": incident.name}] if incident.instance_id else []
        audit.record(tool=proposal.tool, targets=target, arguments=proposal.arguments, decision="refused",
                     outcome=f"{who} is not a Slack approver ([slack] approvers in aiops.toml)", caller=who)


async def listen_for_clicks(monitor: Any, session: ToolSession, settings: Any) -> Any | None:
    """Socket Mode on, when both Slack tokens are set; returns the connection (`.close()` it) or None."""
    if settings.slack_app_token is None or settings.slack_bot_token is None:
        return None
    from notify.slack_app import SlackAppNotifier
    from notify.slack_socket import SlackClicks

    approvers = approvers_from(settings.slack)
    app = _destination(monitor.notifier, SlackAppNotifier)
    approvals = SlackApprovals(monitor, session, approvers, tell=lambda _click, _text: None,
                               note=app.note if app is not None else None)
    clicks = SlackClicks(settings.slack_app_token.get_secret_value(), settings.slack_bot_token.get_secret_value(),
                         settings.slack_api_url, approvals.on_click)
    approvals.tell = clicks.tell
    approvals.attach(asyncio.get_running_loop())
    await asyncio.to_thread(clicks.start)  # apps.connections.open and the websocket handshake
    return clicks


def _destination(notifier: Any, kind: type) -> Any | None:
    """The destination of `kind` inside whatever wraps it (metrics, fan-out)."""
    seen = notifier
    for _ in range(4):
        if isinstance(seen, kind):
            return seen
        for inner in getattr(seen, "destinations", None) or []:
            if isinstance(inner, kind):
                return inner
        seen = getattr(seen, "inner", None)
        if seen is None:
            return None
    return None
