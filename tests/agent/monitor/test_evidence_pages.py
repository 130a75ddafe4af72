"""Evidence on every page (issue 11): gathered when an incident opens, stored, shown in the panel and paged,
recovery first. Real moto over HTTP (through a counting proxy), the real MCP server in memory, a fake Slack
webhook over HTTP, the shipped SOP library.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

import pytest

from agent.mcp_client import open_session
from agent.monitor.loop import Monitor
from agent.monitor.records import Incident
from agent.terminal.monitor_panel import opened_lines
from notify.base import Alert
from notify.discord import build_embed
from notify.slack_message import MAX_BLOCKS, SECTION_LIMIT, build_message
from notify.slack_webhook import SlackWebhookNotifier
from tests.agent.monitor.monitor_fixtures import indexed_sops, sop_store_template  # noqa: F401 - fixtures
from tests.counting_proxy import CountingProxy
from tests.notify.slack_server import FakeSlackWebhook, no_proxy_fixture, slack_fixture  # noqa: F401
from utils.config import load_settings

SPARK = set("▁▂▃▄▅▆▇█")


@asynccontextmanager
async def monitor_on(slack: FakeSlackWebhook):
    settings = load_settings()
    notifier = SlackWebhookNotifier(settings.home, slack.url, max_retries=1, max_retry_after=1.0, timeout=5.0,
                                    backoff=0.01)
    async with open_session(settings) as session:
        yield Monitor(session, settings, notifier=notifier)


@pytest.mark.usefixtures("indexed_sops")
async def test_a_new_incident_carries_its_evidence_into_the_json_the_panel_and_the_page(estate, aws_env, slack,
                                                                                        monkeypatch):
    with CountingProxy(aws_env.url) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        async with monitor_on(slack) as monitor:
            report = await monitor.run_cycle()
    incidents = {i["alarm"]: i for i in report.as_json()["incidents"]}
    cpu = incidents["web-server-cpu-high"]["evidence"]
    assert set(cpu["metric"]) >= {"name", "statistic", "unit", "points"} and cpu["metric"]["name"] == "CPUUtilization"
    assert len(cpu["metric"]["points"]) >= 10 and all(len(p) == 2 for p in cpu["metric"]["points"])
    assert max(v for _, v in cpu["metric"]["points"]) > 80
    assert cpu["logs"]["log_group"] == "/aws/ec2/web-server" and "upstream timed out" in cpu["logs"]["lines"][-1]["message"]
    assert cpu["status"]["instance_id"] == estate["web-server"]
    status = incidents["worker-1-status-check-failed"]["evidence"]
    assert status["status"]["instance_id"] == estate["worker-1"] and status["metric"]["name"] == "StatusCheckFailed"
    # The CPU alarm's read proposal is answered by the evidence: one metric read per alarm incident, not two.
    assert proxy.actions["GetMetricStatistics"] == 2, proxy.actions

    panel = opened_lines(next(i for i in report.open_incidents if i.alarm == "web-server-cpu-high"))
    text = "\n".join(panel)
    assert text.index("read ") < text.index("evidence") < text.index("SOP ")
    assert SPARK & set(text) and "upstream timed out" in text

    page = next(m for m in slack.delivered if "web-server-cpu-high" in m["text"])
    words = page["text"]
    assert words.index("Proposed action:") < words.index("Evidence: CPUUtilization") < words.index("SOP:")
    sections = [b["text"]["text"] for b in page["attachments"][0]["blocks"] if "text" in b]
    titles = [s.split("\n", 1)[0] for s in sections]
    assert titles[:3] == ["*Proposed action*", "*Evidence*", "*Top SOP*"]  # recovery first
    assert SPARK & set(sections[1]) and "```" in sections[1] and "upstream timed out" in sections[1]


def huge_alert() -> Alert:
    lines = [{"timestamp": f"2026-12-07T04:0{n}:00+00:00", "message": "<!channel> ERROR " + "z" * 4000} for n in range(9)]
    evidence = {"metric": {"name": "CPUUtilization", "statistic": "Average", "unit": "Percent",
                           "points": [[f"t{n}", float(n % 17)] for n in range(5000)]},
                "logs": {"log_group": "/app/api", "lines": lines, "has_more_results": True},
                "left_out": ["status: " + "slow " * 400]}
    return Alert(kind="open", tier=0, incident_id="INC-9", alarm="api-1-cpu-high", resource_name="api-1",
                 resource_id="i-0abc", proposal="reboot_instances api-1 (i-0abc)", risk="HIGH", sop_title="High CPU",
                 evidence=evidence)


def test_a_huge_evidence_stays_within_block_kit_limits_cut_visibly():
    message = build_message(huge_alert())
    blocks = message["blocks"] + message["attachments"][0]["blocks"]
    texts = [b["text"]["text"] for b in blocks if "text" in b]
    assert len(blocks) <= MAX_BLOCKS and all(len(t) <= SECTION_LIMIT for t in texts)
    section = next(t for t in texts if t.startswith("*Evidence*"))
    assert len(section) > 2500 and "…" in section and section.count("```") % 2 == 0  # cut, and the block closed
    assert "<!channel>" not in section.replace("<!channel> :rotating_light:", "")  # log text cannot ping
    assert len(message["text"]) < 4000 and max(len(line) for line in section.split("\n")) < 700


def test_discord_and_pagerduty_show_the_evidence_after_the_action(tmp_path):
    from notify.pagerduty import PagerDutyNotifier
    from tests.notify.stand_ins import FakePagerDuty

    embed = build_embed(huge_alert())["embeds"][0]
    assert [f["name"] for f in embed["fields"]][:2] == ["Proposed action", "Evidence"]
    assert len(embed["fields"][1]["value"]) <= 1024 and embed["fields"][1]["value"].startswith("CPUUtilization")
    with FakePagerDuty() as pagerduty:
        sent = PagerDutyNotifier(tmp_path, "R0UT1NGKEY0123456789abcdefabcdef", events_url=pagerduty.url).notify(
            huge_alert())
        (trigger,) = pagerduty.delivered
    details = trigger["payload"]["custom_details"]
    assert sent.status == "sent" and details["evidence"].startswith("CPUUtilization (Average, %) last hour ")
    assert list(details).index("proposed action") < list(details).index("evidence") < list(details).index("SOP")


def test_panel_order_for_an_action_waiting_for_approval():
    from agent.monitor.proposals import Proposal

    inc = Incident(key="k", alarm="api-1-status-check-failed", source="alarm", tier=0, instance_id="i-0abc",
                   name="api-1", seq=4, status="open", opened_at=0.0,
                   sops=[{"title": "EC2 status check failed"}],
                   proposal=Proposal(tool="reboot_instances", arguments={"instances": ["i-0abc"]}, risk="HIGH",
                                     origin="rule", reason="r"),
                   evidence={"status": {"instance_id": "i-0abc", "state": "running", "system_status": "ok",
                                        "instance_status": "impaired"}, "left_out": ["logs: not back in time"]})
    lines = opened_lines(inc)
    assert lines[2].startswith("proposal  reboot_instances")
    assert lines[3] == "evidence  status checks: system ok, instance impaired (running)"
    assert lines[4].strip() == "left out: logs: not back in time"
    assert lines[5].startswith("SOP ") and lines[6].startswith("→ approve INC-4")


def test_evidence_seconds_is_read_from_aiops_toml_and_checked(tmp_path):
    from agent.monitor.models import MonitorOptions
    from utils.config import ConfigError

    assert MonitorOptions.from_settings(load_settings(home=tmp_path)).evidence_seconds == 2.0
    (tmp_path / "aiops.toml").write_text("[monitor]\nevidence_seconds = 0.5\n")
    assert MonitorOptions.from_settings(load_settings(home=tmp_path)).evidence_seconds == 0.5
    (tmp_path / "aiops.toml").write_text("[monitor]\nevidence_seconds = 0\n")
    with pytest.raises(ConfigError, match="evidence_seconds must be a number above 0"):
        MonitorOptions.from_settings(load_settings(home=tmp_path))
