"""Did the fix work: after an approved reboot the monitor watches the alarm (moto over HTTP, real SQLite, a
local Slack webhook server), says "recovered … after reboot" or pages one tier higher with the next step."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from contextlib import asynccontextmanager

import pytest

from agent.mcp_client import open_session
from agent.monitor.incidents import IncidentStore
from agent.monitor.loop import Monitor
from agent.monitor.records import NewIncident
from agent.monitor.verify import fallback_proposal
from agent.monitor_command import history_json
from notify.slack_webhook import SlackWebhookNotifier
from tests.agent.monitor.monitor_fixtures import indexed_sops, sop_store_template  # noqa: F401 - fixtures
from tests.agent.monitor.test_monitor import Clock
from tests.helpers import REPO, state_of
from tests.notify.slack_server import FakeSlackWebhook, no_proxy_fixture, slack_fixture  # noqa: F401
from utils.config import load_settings
from utils.sandbox import clear_alarm

pytestmark = pytest.mark.usefixtures("indexed_sops")

STATUS_ALARM = "worker-1-status-check-failed"  # Tier 2 in the seeded estate (staging); proposal: reboot
# A runbook whose recovery is not a reboot, so the fallback has a next step to offer.
STOP_START_SOP = """---
title: Worker status check still failing after a reboot
alarms: ["*status-check-failed*"]
recovery:
  tool: stop_instances
---
# Worker status check still failing after a reboot

When an EC2 status check keeps failing after a reboot, the host may be impaired: stop and start the
instance so that it comes back on new hardware.

## Recovery

1. Stop the instance. 2. Start it again. 3. Check both status checks pass.
"""


@asynccontextmanager
async def monitor_on(slack: FakeSlackWebhook, clock: Clock, events: list | None = None, **overrides):
    """One monitor process's view: its own MCP session and store handle on the shared AIOPS_HOME."""
    settings = load_settings(**overrides)
    notifier = SlackWebhookNotifier(settings.home, slack.url, max_retries=1, max_retry_after=1.0, timeout=5.0,
                                    backoff=0.01)
    async with open_session(settings) as session:
        monitor = Monitor(session, settings, notifier=notifier, clock=clock,
                          on_event=events.append if events is not None else None)
        try:
            yield monitor
        finally:
            monitor.close()


async def yes(_request) -> bool:
    return True


async def approve_reboot(monitor: Monitor) -> str:
    """What `approve INC-n` does in the REPL: decide, run through the server's confirmation, record."""
    report = await monitor.run_cycle()
    inc = next(i for i in report.open_incidents if i.alarm == STATUS_ALARM)
    proposal = monitor.approve(inc.id, by="alice")
    assert proposal.tool == "reboot_instances"
    outcome = await monitor.session.call(proposal.tool, proposal.arguments, confirmer=yes)
    assert outcome.status == "ok", outcome.message
    monitor.record_action(inc.id, outcome, by="alice")
    return inc.id


def add_sop(aws_env, tmp_path) -> None:
    from sop.store import SopStore

    doc = tmp_path / "stop-start.md"
    doc.write_text(STOP_START_SOP, encoding="utf-8")
    if not SopStore(aws_env.home).add([doc]).ok:
        pytest.skip("the SOP store could not index a SOP")


async def test_an_approved_reboot_whose_alarm_clears_resolves_as_recovered_after_reboot(estate, slack, aws_env):
    clock, events = Clock(), []
    async with monitor_on(slack, clock, events) as monitor:
        incident_id = await approve_reboot(monitor)
        watching = monitor.store.verification(incident_id)
        clock.advance(190)
        clear_alarm(aws_env.url, "status", "worker-1")  # the reboot worked: AWS sets the alarm back to OK
        cleared = await monitor.run_cycle()
        history = next(h for h in monitor.history() if h.incident.id == incident_id)

    assert watching.result == "watching" and watching.action == "reboot_instances"
    assert [i.id for i in cleared.resolved] == [incident_id]
    (resolved,) = [e for e in events if e.kind == "resolved"]
    assert resolved.message.endswith("recovered 3m 10s after reboot")
    page = slack.texts()[-1]
    assert page.startswith("Resolved:") and "recovered 3m 10s after reboot" in page
    kinds = [e.kind for e in history.timeline]
    assert kinds[kinds.index("approved"):] == ["approved", "action", "watching", "resolved", "recovered"]
    assert history.timeline[-1].detail == "recovered 3m 10s after reboot"
    document = history_json(history)
    assert document["verification"]["result"] == "recovered" and document["verification"]["after_seconds"] == 190
    assert document["verification"]["action"] == "reboot_instances"
    assert not [e for e in events if e.kind == "did_not_help"]


async def test_a_reboot_that_does_not_help_is_repaged_a_tier_higher_with_the_next_step_across_a_restart(
        estate, slack, aws_env, ec2, tmp_path):
    add_sop(aws_env, tmp_path)
    clock, events = Clock(), []
    async with monitor_on(slack, clock, monitor={"sop_k": 5}) as first:  # the process that ran the reboot
        incident_id = await approve_reboot(first)
        clock.advance(9 * 60)
        early = await first.run_cycle()
    pages_before = len(slack.texts())
    clock.advance(61)  # ten minutes and a second after the reboot, the alarm still in ALARM
    async with monitor_on(slack, clock, events, monitor={"sop_k": 5}) as restarted:
        verdict = await restarted.run_cycle()
        again = await restarted.run_cycle()
        queue = restarted.queue()
        history = next(h for h in restarted.history() if h.incident.id == incident_id)

    assert early.repaged == [] and incident_id in {i.id for i in early.open_incidents}
    assert verdict.repaged == [incident_id] and again.repaged == []
    (said,) = [e for e in events if e.kind == "did_not_help"]
    assert said.tier == 1 and "action did not help: still in ALARM 10m 1s after reboot" in said.message
    assert "re-paged Tier 1 (was Tier 2)" in said.message
    (page,) = slack.texts()[pages_before:]  # one page, one tier higher
    assert page.startswith("Tier 1 — CRITICAL") and "action did not help" in page and STATUS_ALARM in page
    (waiting,) = [q for q in queue if q.incident.id == incident_id]
    assert waiting.approval.status == "pending" and waiting.approval.tool != "reboot_instances"
    assert waiting.incident.proposal.mutating and waiting.incident.proposal.arguments == {
        "instances": [estate["worker-1"]]}
    assert waiting.approval.tool in {s["recovery"]["tool"] for s in waiting.incident.sops if s.get("recovery")}
    assert f"waiting for approval ({incident_id})" in page
    assert state_of(ec2, estate["worker-1"]) == "running"  # the new proposal waits for a person: nothing ran
    kinds = [e.kind for e in history.timeline]
    assert kinds[kinds.index("action"):] == ["action", "watching", "did_not_help", "repaged", "proposal"]
    assert history.timeline[-1].detail.startswith(f"new proposal: {waiting.approval.tool} worker-1")
    document = history_json(history)
    assert document["tier"] == 1 and document["verification"]["result"] == "did_not_help"
    assert document["verification"]["after_seconds"] == 601
    shown = subprocess.run([sys.executable, "main.py", "incidents", "--limit", "5"], cwd=REPO, capture_output=True,
                           text=True, timeout=120, env={**os.environ, **aws_env.env})
    assert shown.returncode == 0, shown.stderr
    assert "    verification: action did not help: still in ALARM 10m 1s after reboot" in shown.stdout
    assert "    repaged: re-paged Tier 1 (was Tier 2): reboot did not help" in shown.stdout
    assert f"    proposal: new proposal: {waiting.approval.tool} worker-1" in shown.stdout


async def test_two_monitor_processes_page_a_fix_that_did_not_help_once(estate, slack, aws_env):
    clock = Clock()
    async with monitor_on(slack, clock) as one, monitor_on(slack, clock) as two:
        incident_id = await approve_reboot(one)
        clock.advance(601)
        pages_before = len(slack.texts())
        reports = await asyncio.gather(one.run_cycle(), two.run_cycle())
        later = await asyncio.gather(one.run_cycle(), two.run_cycle())
        watch = two.store.verification(incident_id)
    assert sorted(r.repaged for r in reports) == [[], [incident_id]]
    assert all(r.repaged == [] for r in later)
    assert [t for t in slack.texts()[pages_before:] if "action did not help" in t] == slack.texts()[pages_before:]
    assert len(slack.texts()) - pages_before == 1
    assert watch.result == "did_not_help"


async def test_with_no_other_recovery_the_proposal_becomes_the_sop_steps_or_none(estate, slack):
    async with monitor_on(slack, Clock()) as monitor:
        report = await monitor.run_cycle()
        inc = next(i for i in report.open_incidents if i.alarm == STATUS_ALARM)
        catalog = monitor.session.catalog
    stepped = inc.model_copy(update={"sops": [{"title": "EC2 instance status check failed",
                                               "recovery": {"tool": "reboot_instances"},
                                               "steps": ["Check the console output", "Stop and start"]}]})
    proposal, line = fallback_proposal(stepped, ["reboot_instances"], catalog)
    assert proposal.steps == ["Check the console output", "Stop and start"] and not proposal.mutating
    assert line == "no recovery in the SOPs besides reboot_instances: the SOP's steps, for a person"
    bare = inc.model_copy(update={"sops": [{"title": "x", "recovery": {"tool": "reboot_instances"}}]})
    assert fallback_proposal(bare, ["reboot_instances"], catalog) == (
        None, "no recovery in the SOPs besides reboot_instances, and no steps: no proposal, a person decides")
    # A list of recoveries in front matter is read in order, and one already tried is passed over.
    listed = inc.model_copy(update={"sops": [{"title": "y", "recovery": [{"tool": "reboot_instances"},
                                                                           {"tool": "start_instances"}]}]})
    proposal, line = fallback_proposal(listed, ["reboot_instances"], catalog)
    assert proposal.tool == "start_instances" and line.startswith("new proposal: start_instances worker-1")


def test_store_handles_conclude_a_watch_once_and_it_survives_reopening(tmp_path):
    clock = Clock()
    first = IncidentStore(tmp_path, clock=clock)
    inc = first.open_incident(NewIncident(key="k", alarm="a-status-check-failed", source="alarm", tier=0,
                                          instance_id="i-0abc1234", name="api-2"), "owner-a")
    from agent.monitor.proposals import Proposal

    first.add_approval(inc.seq, Proposal(tool="reboot_instances", arguments={"instances": ["i-0abc1234"]},
                                         risk="HIGH", origin="rule", reason="r"), ttl_seconds=600)
    first.decide(inc.seq, approve=True, by="alice")
    first.record_action(inc.seq, "ok", "rebooted", "alice", watch_seconds=600)
    first.close()
    clock.advance(600)
    one, two = IncidentStore(tmp_path, clock=clock), IncidentStore(tmp_path, clock=clock)  # after a restart
    (due,) = one.watches_due()
    assert two.watches_due() == [due] and due.tried == ["reboot_instances"]
    outcomes = [one.action_did_not_help(due, None, "no next step", 600),
                two.action_did_not_help(due, None, "no next step", 600)]
    assert [o is not None for o in outcomes] == [True, False]
    assert outcomes[0].tier == 0 and outcomes[0].proposal is None  # Tier 0 stays 0 (and was paged again)
    assert outcomes[0].pages == 1 and one.watches_due() == []


async def test_the_repl_panel_and_incidents_table_show_the_fallback(estate, slack):
    from rich.console import Console

    from agent.terminal.io import Terminal
    from agent.terminal.monitor_panel import MonitorControls

    terminal = Terminal(history_file=None)
    terminal.console = Console(file=io.StringIO(), width=160, highlight=False, color_system=None)
    clock = Clock()
    async with monitor_on(slack, clock) as monitor:
        controls = MonitorControls(terminal, monitor.session, monitor.settings, wait_for_sandbox=None)
        controls.monitor = monitor
        monitor.on_event = controls.on_event
        incident_id = await approve_reboot(monitor)
        clock.advance(601)
        await monitor.run_cycle()
        controls.incidents()
        controls.timeline(incident_id.lower())
        controls.timeline("INC-999")
    shown = terminal.console.file.getvalue()
    for step in ("action", "watching", "did_not_help", "repaged", "proposal"):
        assert f"  {step:<12} " in shown  # `incidents INC-n`: every step of the timeline
    assert "re-paged Tier 1 (was Tier 2): reboot did not help" in shown
    assert f"{incident_id}  Tier 1  action did not help" in shown
    assert "verified  action did not help: still in ALARM 10m 1s after reboot" in shown
    assert "re-paged  Tier 1 (reboot did not help (was Tier 2))" in shown
    assert f"approve {incident_id}" in shown
    assert "action did not help: still in ALARM 10m 1s after reboot" in shown.split("Outcome")[-1]


async def test_an_automatic_reboot_that_does_not_help_leaves_the_next_step_to_a_person(estate, slack, aws_env):
    from utils.audit import AuditLog

    rules = {"rules": [{"alarm": "*status-check*", "action": "reboot_instances"}]}
    clock = Clock()
    async with monitor_on(slack, clock, auto_remediation=rules, monitor={"verify_minutes": 5}) as monitor:
        first = await monitor.run_cycle()
        inc = next(i for i in first.open_incidents if i.alarm == STATUS_ALARM)
        watching = monitor.store.verification(inc.id)
        clock.advance(301)
        verdict = await monitor.run_cycle()
        after = monitor.incident(inc.id)
        queued = {q.incident.id: q for q in monitor.queue()}
    assert first.auto_actions == [inc.id] and watching.by == "auto-remediation"
    assert watching.due_at - watching.acted_at == 300  # [monitor] verify_minutes = 5
    assert verdict.repaged == [inc.id] and verdict.auto_actions == []
    assert [row.tool for row in AuditLog(aws_env.home).recent()] == ["reboot_instances"]  # never again on its own
    assert after.tier == 1 and after.proposal is not None and after.proposal.tool != "reboot_instances"
    if after.proposal.steps:  # no other recovery in the SOPs: the steps, for a person, nothing queued
        assert inc.id not in queued and after.note.startswith("no recovery in the SOPs besides reboot_instances")
    else:
        assert queued[inc.id].approval.status == "pending"


def test_verify_minutes_comes_from_aiops_toml_and_the_environment_wins(aws_env, monkeypatch):
    from agent.monitor.models import MonitorOptions
    from utils.config import ConfigError

    aws_env.home.mkdir(parents=True, exist_ok=True)
    toml = aws_env.home / "aiops.toml"
    assert MonitorOptions.from_settings(load_settings()).verify_seconds == 600  # the default: 10 minutes
    toml.write_text("[monitor]\nverify_minutes = 3\n", encoding="utf-8")
    assert MonitorOptions.from_settings(load_settings()).verify_seconds == 180
    monkeypatch.setenv("AIOPS_VERIFY_MINUTES", "2")
    assert MonitorOptions.from_settings(load_settings()).verify_seconds == 120
    monkeypatch.setenv("AIOPS_VERIFY_MINUTES", "0")
    with pytest.raises(ConfigError, match="invalid setting AIOPS_VERIFY_MINUTES: Input should be greater than 0"):
        load_settings()
    monkeypatch.delenv("AIOPS_VERIFY_MINUTES")
    toml.write_text("[monitor]\nverify_minutes = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="verify_minutes must be a number above 0"):
        MonitorOptions.from_settings(load_settings())
