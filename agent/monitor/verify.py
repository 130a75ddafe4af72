"""Did the fix work: after an action on an incident, watch its alarm and say what happened.

An approved or automatic action that ran starts a watch in the store (agent/monitor/watches.py,
in the same transaction that records the outcome). If the alarm returns to OK, the resolve says
"recovered 3m 10s after reboot" (the store ends the watch as it resolves). If it is still in
ALARM `verify_minutes` after the action, this room marks the action as not helping, pages one
tier higher (Tier 0 stays 0 and pages again) and falls back to the SOPs' next recovery that was
not tried yet; the new proposal waits for a person like any other. Everything is in the store,
so a restarted monitor keeps watching, and the store's claim lets only one process page.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from agent.catalog import Catalog
from agent.mcp_client import ToolSession
from agent.monitor.announce import Announcer
from agent.monitor.incidents import IncidentStore
from agent.monitor.models import MonitorEvent, MonitorOptions, alert_for, where
from agent.monitor.proposals import Proposal, Subject, from_recovery
from agent.monitor.records import Incident, Verification
from agent.monitor.respond import Cycle


class Verifier:
    def __init__(self, session: ToolSession, store: IncidentStore, options: MonitorOptions,
                 announcer: Announcer) -> None:
        self.session, self.store, self.options, self.announcer = session, store, options, announcer

    async def check(self, active: dict[str, set[str] | None], cycle: Cycle) -> None:
        """Watches whose time is up, after this cycle's resolves: a cleared alarm was resolved as recovered."""
        for watch in self.store.watches_due():
            inc = self.store.get(watch.incident_id)
            keys = active.get(inc.source) if inc is not None else None
            if inc is None or keys is None or inc.key not in keys:
                continue  # its source was not read this cycle: no verdict on what was not seen
            await self._did_not_help(inc, watch, cycle)

    async def _did_not_help(self, inc: Incident, watch: Verification, cycle: Cycle) -> None:
        proposal, line = fallback_proposal(inc, watch.tried, self.session.catalog)
        raised = self.store.action_did_not_help(watch, proposal, line, self.options.approval_ttl_seconds)
        if raised is None:
            return  # resolved meanwhile, or another monitor process concluded it and paged
        ended = self.store.verification(raised.seq) or watch
        cycle.report.repaged.append(raised.id)
        message = (f"{raised.id} Tier {raised.tier}: {raised.alarm} on {where(raised)} — {ended.line()}; "
                   f"re-paged Tier {raised.tier} (was Tier {inc.tier}); {line}")
        self.announcer.emit(cycle.report, MonitorEvent(kind="did_not_help", incident_id=raised.id, tier=raised.tier,
                                                       incident=raised, message=message))
        # The key folds a second hand-over of this same page (after a crash) into one send.
        alert = alert_for("repage", raised).model_copy(update={
            "verification": ended.line(), "dedup_key": f"{raised.id}@{watch.acted_at!r}:did_not_help"})
        await self.announcer.post(alert, raised, cycle.report, cycle.skips)


def fallback_proposal(inc: Incident, tried: Collection[str], catalog: Catalog) -> tuple[Proposal | None, str]:
    """The SOPs' next recovery that acts and was not tried (top SOP first), else its steps, else none; and the
    line that says which. Only the stored SOP front matter gives the tool; the target is the incident's own."""
    subject = Subject(inc.instance_id, inc.metric)
    for sop in inc.sops:
        title = sop.get("title") or "SOP"
        for recovery in _recoveries(sop.get("recovery")):
            proposal, _ = from_recovery(subject, recovery, catalog, title)
            if proposal is not None and proposal.mutating and proposal.tool not in tried:
                return proposal, (f"new proposal: {proposal.describe(inc.name)} from SOP '{title}', "
                                  f"waiting for approval ({inc.id})")
    done = " and ".join(tried) or "the action"
    steps = next((list(s["steps"]) for s in inc.sops if s.get("steps")), None)
    if steps:
        title = next(s.get("title") or "SOP" for s in inc.sops if s.get("steps"))
        proposal = Proposal(tool="", arguments={}, risk="LOW", origin="sop", mutating=False, steps=steps,
                            reason=f"steps from SOP '{title}': no recovery left to try")
        return proposal, f"no recovery in the SOPs besides {done}: the SOP's steps, for a person"
    return None, f"no recovery in the SOPs besides {done}, and no steps: no proposal, a person decides"


def _recoveries(value: Any) -> Iterable[Any]:
    """A SOP's `recovery` front matter: one {tool, arguments}, or (read leniently) a list of them in order."""
    if isinstance(value, list):
        return value
    return [value] if value is not None else []
