"""An alarm on a resource the tool catalog cannot act on proposes the SOP's own recovery steps (issue 11).

Real moto over HTTP, the real MCP server in memory (search_sops over the shipped library), a fake Slack
webhook over HTTP. The steps come from the SOP document itself, all of them, one line each; nothing runs.
"""

from __future__ import annotations

import re

import boto3
import pytest

from agent.mcp_client import open_session
from agent.monitor.loop import Monitor
from agent.monitor.proposals import MAX_STEP
from notify.slack_webhook import SlackWebhookNotifier
from tests.agent.monitor.monitor_fixtures import indexed_sops, sop_store_template  # noqa: F401 - fixtures
from tests.helpers import REPO
from tests.notify.slack_server import no_proxy_fixture, slack_fixture  # noqa: F401
from utils.audit import AuditLog
from utils.config import load_settings

pytestmark = pytest.mark.usefixtures("indexed_sops")

LIBRARY = REPO / "sop" / "library"
# alarm name -> (namespace, metric, dimensions, the SOP it should find)
ALARMS = {
    "ledger-db-free-storage-low": ("AWS/RDS", "FreeStorageSpace", {"DBInstanceIdentifier": "ledger-db"},
                                   "rds-storage-low"),
    "invoice-jobs-age-of-oldest-message": ("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": "invoice-jobs"},
                                           "sqs-message-age"),
}


def written_steps(stem: str) -> list[str]:
    """The numbered items of the SOP file's Recovery section, each with its continuation lines."""
    section = (LIBRARY / f"{stem}.md").read_text(encoding="utf-8").split("\n## Recovery\n", 1)[1].split("\n## ")[0]
    items: list[str] = []
    for line in section.splitlines():
        start = re.match(r"^\d{1,2}\. (.+)$", line)
        if start:
            items.append(start.group(1))
        elif items and line.startswith("   ") and line.strip():
            items[-1] += " " + line.strip()
    return [" ".join(item.split()) for item in items]


async def test_a_database_and_a_queue_alarm_propose_every_recovery_step_of_their_sop(aws_env, slack):
    cw = boto3.client("cloudwatch", endpoint_url=aws_env.url, region_name="us-east-1")
    for name, (namespace, metric, dims, _) in ALARMS.items():
        cw.put_metric_alarm(AlarmName=name, Namespace=namespace, MetricName=metric, Statistic="Maximum",
                            Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()], Period=60,
                            EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold")
        cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason=f"{metric} crossed the threshold")
    settings = load_settings()
    notifier = SlackWebhookNotifier(settings.home, slack.url, max_retries=1, max_retry_after=1.0, timeout=5.0,
                                    backoff=0.01)
    async with open_session(settings) as session:
        report = await Monitor(session, settings, notifier=notifier).run_cycle()

    incidents = {i["alarm"]: i for i in report.as_json()["incidents"]}
    for name, (_, _, _, stem) in ALARMS.items():
        incident = incidents[name]
        assert incident["sops"][0]["source"] == str(LIBRARY / f"{stem}.md")
        steps, written = incident["proposal"]["steps"], written_steps(stem)
        assert set(incident["proposal"]) == {"steps"} and len(steps) == len(written) >= 5
        for shown, step in zip(steps, written, strict=True):
            assert len(shown) <= MAX_STEP and "\n" not in shown
            assert shown == step or (shown.endswith("…") and step.startswith(shown[:-1]))
        assert steps[-1].startswith("Escalate")
    # Steps are for a person: nothing ran, nothing is waiting for approval.
    assert AuditLog(aws_env.home).recent() == []
    page = next(t for t in slack.texts() if "ledger-db-free-storage-low" in t)
    assert "SOP steps (nothing runs): 1. Check how fast it falls" in page
