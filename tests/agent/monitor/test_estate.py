"""Every alarm, whatever its namespace, opens an incident on the resource its dimensions name (issue 11).

Real moto over HTTP, the real MCP server in memory, a fake Slack webhook over HTTP, the shipped SOP library.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import asynccontextmanager

import boto3
import pytest

from agent.mcp_client import open_session
from agent.monitor.loop import Monitor
from agent.monitor.records import ApprovalError
from notify.slack_webhook import SlackWebhookNotifier
from tests.agent.monitor.monitor_fixtures import indexed_sops, sop_store_template  # noqa: F401 - fixtures
from tests.helpers import REPO
from tests.notify.slack_server import FakeSlackWebhook, no_proxy_fixture, slack_fixture  # noqa: F401
from utils.audit import AuditLog
from utils.config import load_settings

pytestmark = pytest.mark.usefixtures("indexed_sops")

RESOURCE_KEYS = {"type", "id", "name", "region", "account", "instance_id"}
COMMON = {"Statistic": "Average", "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0,
          "ComparisonOperator": "GreaterThanThreshold"}
# alarm name -> (namespace, metric, dimensions, expected resource type, expected resource id)
ALARMS = {
    "orders-db-cpu-high": ("AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": "orders-db"},
                           "rds:db-instance", "orders-db"),
    "web-alb-5xx": ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", {"LoadBalancer": "app/web-alb/50dc6c495c0c9188"},
                    "elb:load-balancer", "app/web-alb/50dc6c495c0c9188"),
    "web-tg-unhealthy": ("AWS/ApplicationELB", "UnHealthyHostCount",
                         {"TargetGroup": "targetgroup/web/73e2d6bc24d8a067", "LoadBalancer": "app/web-alb/50dc6c495c0c9188"},
                         "elb:target-group", "targetgroup/web/73e2d6bc24d8a067"),
    "resize-fn-errors": ("AWS/Lambda", "Errors", {"FunctionName": "resize-images"}, "lambda:function", "resize-images"),
    "api-svc-cpu": ("AWS/ECS", "CPUUtilization", {"ClusterName": "prod", "ServiceName": "api"}, "ecs:service", "prod/api"),
    "jobs-queue-age": ("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": "jobs"}, "sqs:queue", "jobs"),
    "carts-throttled": ("AWS/DynamoDB", "ThrottledRequests", {"TableName": "carts"}, "dynamodb:table", "carts"),
    "workers-asg-capacity": ("AWS/AutoScaling", "GroupInServiceInstances", {"AutoScalingGroupName": "workers"},
                             "autoscaling:group", "workers"),
    "checkout-latency-math": ("Custom/Shop", "CheckoutLatency", {}, "cloudwatch:alarm", "checkout-latency-math"),
}


def put_firing_alarms(url: str) -> None:
    cw = boto3.client("cloudwatch", endpoint_url=url, region_name="us-east-1")
    for name, (namespace, metric, dims, _, _) in ALARMS.items():
        cw.put_metric_alarm(AlarmName=name, Namespace=namespace, MetricName=metric,
                            Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()], **COMMON)
        cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason=f"{metric} above threshold")


@asynccontextmanager
async def monitor_on(slack: FakeSlackWebhook):
    settings = load_settings()
    notifier = SlackWebhookNotifier(settings.home, slack.url, max_retries=1, max_retry_after=1.0, timeout=5.0,
                                    backoff=0.01)
    async with open_session(settings) as session:
        yield Monitor(session, settings, notifier=notifier)


async def test_every_namespace_opens_an_incident_on_its_resource_with_sop_steps_that_nothing_runs(
        estate, aws_env, slack):
    put_firing_alarms(aws_env.url)
    async with monitor_on(slack) as monitor:
        report = await monitor.run_cycle()
        again = await monitor.run_cycle()
        queued = [item.incident.id for item in monitor.queue()]
        opened = {i.alarm: i for i in report.open_incidents}
        with pytest.raises(ApprovalError, match="SOP steps"):
            monitor.approve(opened["orders-db-cpu-high"].id)

    # The seeded EC2 incidents are still there, exactly as before; every other alarm has its own now.
    assert set(opened) == set(ALARMS) | {"web-server-cpu-high", "worker-1-status-check-failed"}
    document = {i["alarm"]: i for i in report.as_json()["incidents"]}
    for name, (_, _, _, rtype, rid) in ALARMS.items():
        resource = document[name]["resource"]
        assert set(resource) == RESOURCE_KEYS
        assert (resource["type"], resource["id"], resource["region"], resource["account"]) == (
            rtype, rid, "us-east-1", "default")
        assert resource["instance_id"] is None and resource["name"]
        steps = document[name]["proposal"]["steps"]
        assert set(document[name]["proposal"]) == {"steps"} and steps and all(isinstance(s, str) for s in steps)
        # No tags read yet: the default rules with no environment (DESIGN.md "Tiers": a warning).
        assert (opened[name].tier, opened[name].tier_reason) == (2, "default")
    cpu = document["web-server-cpu-high"]
    assert cpu["resource"]["type"] == "ec2:instance" and cpu["resource"]["instance_id"] == estate["web-server"]
    assert cpu["proposal"]["tool"] == "get_metric_statistics"
    assert document["worker-1-status-check-failed"]["proposal"]["tool"] == "reboot_instances"

    # Nothing ran and nothing waits: only the EC2 status check's reboot is queued, the audit log is empty.
    assert queued == [opened["worker-1-status-check-failed"].id]
    assert AuditLog(aws_env.home).recent() == []
    # Deduplicated: the second cycle opens nothing new and keeps the same incidents.
    assert again.opened == [] and {i.id for i in again.open_incidents} == {i.id for i in report.open_incidents}

    page = next(t for t in slack.texts() if "orders-db-cpu-high" in t)
    first = opened["orders-db-cpu-high"].proposal.steps[0]
    assert "rds:db-instance orders-db" in page and "SOP steps (nothing runs): 1." in page
    assert first[:40] in page and "waiting for approval" not in page and "risk" not in page


async def test_a_resolved_non_ec2_alarm_resolves_its_incident(estate, aws_env, slack):
    put_firing_alarms(aws_env.url)
    cw = boto3.client("cloudwatch", endpoint_url=aws_env.url, region_name="us-east-1")
    async with monitor_on(slack) as monitor:
        await monitor.run_cycle()
        cw.set_alarm_state(AlarmName="jobs-queue-age", StateValue="OK", StateReason="drained")
        later = await monitor.run_cycle()
    assert [i.alarm for i in later.resolved] == ["jobs-queue-age"]
    assert "jobs-queue-age" not in {i.alarm for i in later.open_incidents}


def test_sop_search_uses_the_resource_type_and_metric():
    from agent.monitor.signals import Skips, alarm_signals
    from agent.monitor.tiers import TierRules

    alarm = {"name": "orders-db-cpu-high", "state": "ALARM", "metric": "CPUUtilization", "namespace": "AWS/RDS",
             "dimensions": {"DBInstanceIdentifier": "orders-db"}}
    (signal,) = alarm_signals([alarm], {}, TierRules(), Skips())
    assert signal.sop_query.startswith("rds db instance") and "CPUUtilization" in signal.sop_query
    assert "orders" not in signal.sop_query  # the resource's own id is taken out: alarms of one kind share a search
    assert signal.incident.key == "alarm:orders-db-cpu-high|rds:db-instance:orders-db"


def test_incident_keys_for_ec2_and_resource_less_alarms_are_unchanged():
    from agent.monitor.signals import resource_key

    assert resource_key({"name": "web-cpu", "instance_id": "i-0abc", "dimensions": {"InstanceId": "i-0abc"}}) == \
        "alarm:web-cpu|i-0abc"
    assert resource_key({"name": "math", "dimensions": {}}) == "alarm:math|-"


@pytest.mark.e2e
def test_monitor_once_json_carries_the_resource_of_every_alarm(estate, aws_env, slack):
    put_firing_alarms(aws_env.url)
    env = {**{k: v for k, v in os.environ.items() if "proxy" not in k.lower()}, "SLACK_WEBHOOK_URL": slack.url}
    done = subprocess.run([sys.executable, "main.py", "monitor", "--once", "--json"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    found = {i["alarm"]: i["resource"] for i in json.loads(done.stdout)["incidents"]}
    assert {name: (found[name]["type"], found[name]["id"]) for name in ALARMS} == {
        name: (spec[3], spec[4]) for name, spec in ALARMS.items()}
    listed = subprocess.run([sys.executable, "main.py", "incidents", "--json"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert all(set(i["resource"]) == RESOURCE_KEYS for i in json.loads(listed.stdout))
