"""Approve from Slack: a page with buttons, a click over Socket Mode (local websocket stand-in), the action
through the server's guards, audited as the person; a non-approver and a second click change nothing."""

from __future__ import annotations

import asyncio

import pytest

from agent.monitor.slack_approvals import SlackApprovals, approvers_from
from notify.slack_app import SlackAppNotifier
from notify.slack_socket import SlackClicks
from tests.agent.monitor.monitor_fixtures import indexed_sops, sop_store_template  # noqa: F401 - fixtures
from tests.agent.monitor.test_monitor import monitor_on
from tests.notify.slack_api_server import APP_TOKEN, TOKEN, FakeSlackApi
from tests.notify.slack_server import no_proxy_fixture  # noqa: F401 - fixture
from tests.notify.socket_mode_server import FakeSocketMode
from utils.audit import AuditLog
from utils.config import ConfigError

pytestmark = pytest.mark.usefixtures("indexed_sops")
APPROVER, STRANGER = "UAPPROVER1", "USTRANGER1"


async def wait_for(condition, timeout: float = 15.0) -> bool:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


async def test_an_approver_click_runs_the_proposal_once_and_a_stranger_click_nothing(estate, aws_env):
    with FakeSlackApi() as api, FakeSocketMode() as socket:
        api.socket_url = socket.url
        async with monitor_on() as monitor:
            monitor.notifier = monitor.announcer.notifier = SlackAppNotifier(
                aws_env.home, TOKEN, "C0ALERTS", api_url=api.url, max_retries=0, timeout=5, buttons=True)
            await monitor.run_cycle()
            status = next(i for i in monitor.store.open_incidents() if "status-check" in i.alarm)
            assert status.proposal and status.proposal.tool == "reboot_instances"
            page = next(m for m in api.top_level() if status.id in m.text)
            buttons = [b for b in page.blocks if b.get("block_id") == "aiops_decision"]
            assert [e["action_id"] for e in buttons[0]["elements"]] == ["aiops_approve", "aiops_reject"]
            cpu_page = next(m for m in api.top_level() if m is not page)  # a read proposal: nothing to approve
            assert not [b for b in cpu_page.blocks if b.get("block_id") == "aiops_decision"]

            approvals = SlackApprovals(monitor, monitor.session, frozenset({APPROVER}), tell=lambda c, t: None,
                                       note=monitor.notifier.note)
            clicks = SlackClicks(APP_TOKEN, TOKEN, api.url, approvals.on_click)
            approvals.tell = clicks.tell
            approvals.attach(asyncio.get_running_loop())
            await asyncio.to_thread(clicks.start)
            try:
                assert await asyncio.to_thread(socket.wait_connected)
                stranger = socket.click(STRANGER, "aiops_approve", status.id, message_ts=page.ts)
                assert (await asyncio.to_thread(socket.wait_ack, stranger)) < 3  # Slack's rule
                assert await wait_for(lambda: len(api.ephemeral) == 1)
                assert "not an approver" in api.ephemeral[0]["text"] and api.ephemeral[0]["user"] == STRANGER
                assert monitor.store.approval(status.id).status == "pending"

                socket.click(APPROVER, "aiops_approve", status.id, message_ts=page.ts)
                assert await wait_for(lambda: len(api.ephemeral) == 2)
                assert "Approved" in api.ephemeral[1]["text"] and "ok" in api.ephemeral[1]["text"]
                socket.click(APPROVER, "aiops_approve", status.id, message_ts=page.ts)  # a second click
                assert await wait_for(lambda: len(api.ephemeral) == 3)
                assert "already approved" in api.ephemeral[2]["text"]
            finally:
                clicks.close()

            rows = AuditLog(aws_env.home).recent(20)
            reboots = [r for r in rows if r.tool == "reboot_instances"]
            assert [(r.caller, r.decision) for r in reboots if r.decision != "attempted"] == [
                (f"slack:{APPROVER}", "allowed"), (f"slack:{STRANGER}", "refused")]
            assert [m.text for m in api.thread(page.ts)][0].startswith(f"{status.id}: approved in Slack by slack:{APPROVER}")
            assert not [b for b in page.edits[-1]["blocks"] if b.get("block_id") == "aiops_decision"]


def test_approvers_must_be_a_list_of_user_ids():
    assert approvers_from({}) == frozenset()
    assert approvers_from({"approvers": ["U1", " U2 "]}) == {"U1", "U2"}
    with pytest.raises(ConfigError, match="slack.approvers"):
        approvers_from({"approvers": "U1"})
