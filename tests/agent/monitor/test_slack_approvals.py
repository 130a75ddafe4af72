"""Approve from Slack: a page with buttons, a click over Socket Mode (local websocket stand-in), the action
through the server's guards, audited as the person; the page edited in place and PagerDuty acknowledged;
a non-approver, a second click, a click after the resolve or after a restart, an expired proposal and one's own
request change nothing and say why; Reject asks for a reason in a modal."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import pytest

from agent.mcp_client import open_session
from agent.monitor.loop import Monitor
from agent.monitor.slack_approvals import (
    SlackApprovals,
    approvers_from,
    listen_for_clicks,
    require_other_from,
)
from notify.fanout import FanOutNotifier
from notify.pagerduty import PagerDutyNotifier
from notify.slack_app import REASON_BLOCK, REASON_INPUT, SlackAppNotifier
from notify.slack_socket import Click, SlackClicks
from tests.agent.monitor.monitor_fixtures import indexed_sops, sop_store_template  # noqa: F401 - fixtures
from tests.agent.monitor.test_monitor import Clock
from tests.agent.monitor.test_verify import add_sop
from tests.helpers import state_of
from tests.notify.slack_api_server import APP_TOKEN, TOKEN, FakeSlackApi
from tests.notify.slack_server import no_proxy_fixture  # noqa: F401 - fixture
from tests.notify.socket_mode_server import FakeSocketMode
from tests.notify.stand_ins import FakePagerDuty
from utils.audit import AuditLog
from utils.config import ConfigError, load_settings
from utils.sandbox import clear_alarm

pytestmark = pytest.mark.usefixtures("indexed_sops")
APPROVER, OTHER, STRANGER = "UAPPROVER1", "UAPPROVER2", "USTRANGER1"
ROUTING_KEY = "R0UT1NGKEY0123456789abcdefabcdef"


async def wait_for(condition, timeout: float = 15.0) -> bool:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


@asynccontextmanager
async def slack_monitor(home, api: FakeSlackApi, pd: FakePagerDuty, clock: Clock, **overrides):
    """One monitor process paging the Slack app (buttons on) and PagerDuty (every tier), with its clicks' handler."""
    settings = load_settings(**overrides)
    notifier = FanOutNotifier([
        SlackAppNotifier(home, TOKEN, "C0ALERTS", api_url=api.url, max_retries=0, timeout=5, buttons=True),
        PagerDutyNotifier(home, ROUTING_KEY, events_url=pd.url, tiers=(0, 1, 2))])
    async with open_session(settings) as session:
        monitor = Monitor(session, settings, notifier=notifier, clock=clock)
        approvals = SlackApprovals(monitor, session, frozenset({APPROVER, OTHER}), tell=lambda c, t: None,
                                   require_other=require_other_from(settings.slack))
        approvals.attach(asyncio.get_running_loop())
        try:
            yield monitor, approvals
        finally:
            monitor.close()


def status_incident(monitor: Monitor):
    return next(i for i in monitor.store.open_incidents() if "status-check" in i.alarm)


def buttons_of(blocks) -> list[str]:
    return [e["action_id"] for b in blocks or [] if b.get("block_id") == "aiops_decision" for e in b["elements"]]


def status_lines(edit) -> str:
    return " ".join(e["text"] for b in edit["blocks"] if b.get("block_id") == "aiops_status" for e in b["elements"])


async def test_an_approver_click_reboots_once_updates_the_page_and_acknowledges_pagerduty(estate, aws_env, ec2):
    clock = Clock()
    with FakeSlackApi() as api, FakeSocketMode() as socket, FakePagerDuty() as pd:
        api.socket_url = socket.url
        async with slack_monitor(aws_env.home, api, pd, clock) as (monitor, approvals):
            await monitor.run_cycle()
            status = status_incident(monitor)
            assert status.proposal and status.proposal.tool == "reboot_instances"
            page = next(m for m in api.top_level() if status.id in m.text)
            assert buttons_of(page.blocks) == ["aiops_approve", "aiops_reject"]
            cpu_page = next(m for m in api.top_level() if m is not page)  # a read proposal: nothing to approve
            assert buttons_of(cpu_page.blocks) == []

            clicks = SlackClicks(APP_TOKEN, TOKEN, api.url, approvals.on_click)
            approvals.tell, approvals.ask_reason = clicks.tell, clicks.ask_reason
            await asyncio.to_thread(clicks.start)
            try:
                assert await asyncio.to_thread(socket.wait_connected)
                stranger = socket.click(STRANGER, "aiops_approve", status.id, message_ts=page.ts, api=api)
                assert (await asyncio.to_thread(socket.wait_ack, stranger)) < 3  # Slack's rule
                assert await wait_for(lambda: len(api.ephemeral) == 1)
                assert "not an approver" in api.ephemeral[0]["text"] and api.ephemeral[0]["user"] == STRANGER
                socket.click(STRANGER, "aiops_reject", status.id, message_ts=page.ts, api=api)
                assert await wait_for(lambda: len(api.ephemeral) == 2)
                assert api.views == [] and monitor.store.approval(status.id).status == "pending"

                approve = socket.click(APPROVER, "aiops_approve", status.id, message_ts=page.ts, api=api)
                assert (await asyncio.to_thread(socket.wait_ack, approve)) < 3
                assert await wait_for(lambda: len(api.ephemeral) == 3)
                assert api.ephemeral[2]["text"].startswith("Approved: reboot") and "→ ok" in api.ephemeral[2]["text"]
                socket.click(APPROVER, "aiops_approve", status.id, message_ts=page.ts, api=api)  # a second click
                assert await wait_for(lambda: len(api.ephemeral) == 4)
                assert f"already approved by slack:{APPROVER}" in api.ephemeral[3]["text"]
            finally:
                clicks.close()
            assert state_of(ec2, status.instance_id) == "running"  # rebooted, through the server's guards

            clear_alarm(aws_env.url, "status", status.name)  # the reboot worked
            clock.advance(60)
            report = await monitor.run_cycle()
            assert status.id in [i.id for i in report.resolved]
        # A click replayed after a restart: a new process on the same store runs nothing and says why.
        async with slack_monitor(aws_env.home, api, pd, Clock()) as (_restarted, approvals):
            reply = await approvals.decide(Click(APPROVER, "approve", status.id))

    rows = AuditLog(aws_env.home).recent(20)
    reboots = [(r.caller, r.decision) for r in rows if r.tool == "reboot_instances" and r.decision != "attempted"]
    assert reboots == [(f"slack:{APPROVER}", "allowed"), (f"slack:{STRANGER}", "refused"),
                       (f"slack:{STRANGER}", "refused")]
    decided, resolved = [m.text for m in api.thread(page.ts)]
    assert f"{status.id}: approved in Slack by slack:{APPROVER}: reboot" in decided and "Resolved" in resolved
    approved_edit, resolved_edit = page.edits
    assert buttons_of(approved_edit["blocks"]) == [] and "approved in Slack by" in status_lines(approved_edit)
    assert "approved in Slack by" in status_lines(resolved_edit) and "Resolved after" in status_lines(resolved_edit)
    assert resolved_edit["attachments"][0]["color"] == "#2EB67D"
    ours = [(e["event_action"], e["dedup_key"]) for e in pd.delivered if e["dedup_key"] == status.id]
    assert ours == [("trigger", status.id), ("acknowledge", status.id), ("resolve", status.id)]

    assert reply == f"Nothing done: {status.id} is resolved; its proposal is withdrawn"
    assert len([r for r in AuditLog(aws_env.home).recent(30) if r.tool == "reboot_instances"]) == len(
        [r for r in rows if r.tool == "reboot_instances"])


async def test_reject_asks_a_reason_in_a_modal_and_records_it(estate, aws_env):
    clock = Clock()
    with FakeSlackApi() as api, FakeSocketMode() as socket, FakePagerDuty() as pd:
        api.socket_url = socket.url
        async with slack_monitor(aws_env.home, api, pd, clock) as (monitor, approvals):
            await monitor.run_cycle()
            status = status_incident(monitor)
            page = next(m for m in api.top_level() if status.id in m.text)
            clicks = SlackClicks(APP_TOKEN, TOKEN, api.url, approvals.on_click)
            approvals.tell, approvals.ask_reason = clicks.tell, clicks.ask_reason
            await asyncio.to_thread(clicks.start)
            try:
                assert await asyncio.to_thread(socket.wait_connected)
                socket.click(APPROVER, "aiops_reject", status.id, message_ts=page.ts, api=api)
                assert await wait_for(lambda: len(api.views) == 1)
                view = api.views[0]["view"]
                assert view["blocks"][0]["optional"] is True  # the reason is optional
                assert monitor.store.approval(status.id).status == "pending"  # nothing decided before the submit
                submitted = socket.submit(APPROVER, view, {REASON_BLOCK: {REASON_INPUT: "planned maintenance"}})
                assert (await asyncio.to_thread(socket.wait_ack, submitted)) < 3
                assert await wait_for(lambda: len(api.ephemeral) == 1)
            finally:
                clicks.close()
            assert api.ephemeral[0]["text"] == f"Rejected the proposal for {status.id}. Reason: planned maintenance"
            decided = monitor.store.approval(status.id)
            history = monitor.store.history_of(status.id)


    assert (decided.status, decided.decided_by, decided.reason) == ("rejected", f"slack:{APPROVER}",
                                                                     "planned maintenance")
    assert [(e.kind, e.actor, e.detail) for e in history.timeline if e.kind == "rejected"] == [
        ("rejected", f"slack:{APPROVER}", "planned maintenance")]
    [row] = [r for r in AuditLog(aws_env.home).recent(20) if r.decision == "rejected"]
    assert row.caller == f"slack:{APPROVER}" and "planned maintenance" in row.outcome
    [note] = [m.text for m in api.thread(page.ts)]
    assert f"proposal rejected in Slack by slack:{APPROVER}: planned maintenance" in note
    assert buttons_of(page.edits[-1]["blocks"]) == [] and "rejected in Slack" in status_lines(page.edits[-1])
    assert [e["event_action"] for e in pd.delivered if e["dedup_key"] == status.id] == ["trigger", "acknowledge"]


async def test_require_other_approver_refuses_whoever_approved_the_step_that_did_not_help(estate, aws_env, ec2,
                                                                                           tmp_path):
    add_sop(aws_env, tmp_path)  # a next step after the reboot: stop_instances
    (aws_env.home / "aiops.toml").write_text("[slack]\nrequire_other_approver = true\n[monitor]\nsop_k = 5\n")
    clock = Clock()
    with FakeSlackApi() as api, FakePagerDuty() as pd:
        async with slack_monitor(aws_env.home, api, pd, clock) as (monitor, approvals):
            await monitor.run_cycle()
            status = status_incident(monitor)
            first = await approvals.decide(Click(APPROVER, "approve", status.id))  # the monitor asked: allowed
            clock.advance(monitor.options.verify_seconds + 1)
            await monitor.run_cycle()  # still failing: did not help, the next step waits
            own = await approvals.decide(Click(APPROVER, "approve", status.id))
            pending = monitor.store.approval(status.id).status
            second = await approvals.decide(Click(OTHER, "approve", status.id))
    page = next(m for m in api.top_level() if status.id in m.text)

    assert first.startswith("Approved: reboot")
    assert own.startswith(f"You requested this action on {status.id}") and pending == "pending"
    assert second.startswith("Approved: stop") and state_of(ec2, status.instance_id) == "stopped"
    did_not_help = next(e for e in page.edits if "action did not help" in status_lines(e))
    assert buttons_of(did_not_help["blocks"]) == ["aiops_approve", "aiops_reject"]  # a new proposal waits
    refused = [r for r in AuditLog(aws_env.home).recent(30) if r.decision == "refused"]
    assert [r.caller for r in refused] == [f"slack:{APPROVER}"] and "require_other_approver" in refused[0].outcome


async def test_a_click_on_an_expired_proposal_runs_nothing_and_says_why(estate, aws_env, ec2):
    clock = Clock()
    with FakeSlackApi() as api, FakePagerDuty() as pd:
        async with slack_monitor(aws_env.home, api, pd, clock) as (monitor, approvals):
            await monitor.run_cycle()
            status = status_incident(monitor)
            clock.advance(monitor.options.approval_ttl_seconds + 1)  # nobody decided within the TTL
            reply = await approvals.decide(Click(APPROVER, "approve", status.id))
            again = await approvals.decide(Click(APPROVER, "reject", status.id))
            left = monitor.store.approval(status.id).status
    assert reply == again == f"Nothing done: {status.id}: the proposal expired (no decision within the approval TTL)"
    assert left == "pending"  # said, not written: the next cycle expires it in the store
    assert not [r for r in AuditLog(aws_env.home).recent(20) if r.tool == "reboot_instances"]
    assert api.views == [] and state_of(ec2, status.instance_id) == "running"


async def test_listening_from_settings_a_read_only_guard_holds_for_a_click_as_in_the_terminal(estate, aws_env, ec2,
                                                                                                monkeypatch):
    """The wiring the REPL's `auto on` and the headless `monitor` share (listen_for_clicks, from the environment
    and aiops.toml), and the server's guards: in read-only mode an approver's click is refused, nothing runs."""
    (aws_env.home / "aiops.toml").write_text(f'[slack]\napprovers = ["{APPROVER}"]\n')
    with FakeSlackApi() as api, FakeSocketMode() as socket, FakePagerDuty() as pd:
        api.socket_url = socket.url
        for name, value in {"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_CHANNEL": "C0ALERTS",
                            "SLACK_API_URL": api.url, "AIOPS_READ_ONLY": "1"}.items():
            monkeypatch.setenv(name, value)
        async with slack_monitor(aws_env.home, api, pd, Clock()) as (monitor, _approvals):
            await monitor.run_cycle()
            status = status_incident(monitor)
            clicks = await listen_for_clicks(monitor, monitor.session, load_settings())
            try:
                assert await asyncio.to_thread(socket.wait_connected)
                socket.click(APPROVER, "aiops_approve", status.id, api=api)
                assert await wait_for(lambda: len(api.ephemeral) == 1)
            finally:
                clicks.close()
    told = api.ephemeral[0]["text"]
    assert told.startswith("Approved, but nothing changed: reboot") and "read-only" in told, told
    assert state_of(ec2, status.instance_id) == "running"
    [row] = [r for r in AuditLog(aws_env.home).recent(20) if r.tool == "reboot_instances"]
    assert (row.caller, row.decision) == (f"slack:{APPROVER}", "refused")


def test_approvers_must_be_a_list_of_user_ids():
    assert approvers_from({}) == frozenset()
    assert approvers_from({"approvers": ["U1", " U2 "]}) == {"U1", "U2"}
    with pytest.raises(ConfigError, match="slack.approvers"):
        approvers_from({"approvers": "U1"})
    assert require_other_from({}) is False and require_other_from({"require_other_approver": True}) is True
    with pytest.raises(ConfigError, match="slack.require_other_approver"):
        require_other_from({"require_other_approver": "yes"})
