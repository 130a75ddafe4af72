"""What tool results look like on a real terminal width: 80 columns and wide, from the real tools."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from agent.terminal.render import render_result
from tests.agent.terminal.screen import assert_fits
from tests.helpers import in_memory_client

ID = re.compile(r"i-[0-9a-f]{17}")


def shown(tool: str, data: dict, width: int) -> str:
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(render_result(tool, data))
    return console.export_text()


async def read(tool: str, arguments: dict | None = None) -> dict:
    async with in_memory_client() as client:
        return (await client.call_tool(tool, arguments or {})).structured_content


@pytest.mark.parametrize("width", [80, 140])
async def test_the_instance_list_fits_and_never_cuts_an_id(estate, width):
    text = shown("list_instances", await read("list_instances"), width)
    assert_fits(text, width)  # every table line ends in its border: nothing cropped at the edge
    assert set(ID.findall(text)) == set(estate.values())  # every id whole, on one line
    assert re.search(r"db-primary 🔒 +│ i-", text)  # the mark stays beside its name
    assert "🔒 tag aiops:protected (stop, reboot, terminate refused)" in text
    assert ("AZ" in text) == (width >= 100)


@pytest.mark.parametrize("width", [80, 140])
async def test_the_alarm_table_names_instances_and_keeps_alarm_names_whole(estate, width):
    text = shown("list_alarms", await read("list_alarms"), width)
    assert_fits(text, width)  # every table line ends in its border: nothing cropped at the edge
    assert re.search(r"│ web-server-cpu-high +│ ALARM │ .*web-server", text)
    assert "worker-1-status-check-failed" in text
    assert bool(ID.search(text)) == (width >= 130)  # names, not ids, unless there is room for both


async def test_describe_shows_every_protection_in_the_guards_words(estate, ec2):
    ec2.modify_instance_attribute(InstanceId=estate["cache-1"], DisableApiStop={"Value": True})
    bastion = shown("describe_instance", await read("describe_instance", {"instance": "bastion"}), 100)
    assert "protection         EC2 termination protection (terminate refused)" in bastion
    db = shown("describe_instance", await read("describe_instance", {"instance": "db-primary"}), 100)
    assert "tag aiops:protected (stop, reboot, terminate refused)" in db
    cache = shown("describe_instance", await read("describe_instance", {"instance": "cache-1"}), 100)
    assert "EC2 stop protection (stop refused)" in cache
    web = shown("describe_instance", await read("describe_instance", {"instance": "web-server"}), 100)
    assert re.search(r"protection +none", web) and "protected" not in web.replace("protection", "")


@pytest.mark.parametrize("width", [80, 140])
async def test_the_alarm_table_shows_every_namespace_with_its_resource(estate, aws_env, width):
    import boto3

    cw = boto3.client("cloudwatch", endpoint_url=aws_env.url, region_name="us-east-1")
    common = {"Statistic": "Average", "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0,
              "ComparisonOperator": "GreaterThanThreshold"}
    cw.put_metric_alarm(AlarmName="orders-db-cpu", Namespace="AWS/RDS", MetricName="CPUUtilization",
                        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": "orders-db"}], **common)
    cw.put_metric_alarm(AlarmName="jobs-age", Namespace="AWS/SQS", MetricName="ApproximateAgeOfOldestMessage",
                        Dimensions=[{"Name": "QueueName", "Value": "jobs"}], **common)
    cw.put_metric_alarm(AlarmName="checkout-math", Namespace="Custom/Shop", MetricName="Latency", **common)
    cw.set_alarm_state(AlarmName="orders-db-cpu", StateValue="ALARM", StateReason="CPU high")
    data = await read("list_alarms", {"state": "ALARM"})
    kinds = {a["name"]: (a["resource_type"], a["resource_id"], a["region"]) for a in data["alarms"]}
    assert kinds["orders-db-cpu"] == ("rds:db-instance", "orders-db", "us-east-1")
    assert kinds["web-server-cpu-high"] == ("ec2:instance", estate["web-server"], "us-east-1")
    every = await read("list_alarms", {"max": 100})
    types = {a["name"]: a["resource_type"] for a in every["alarms"]}
    assert (types["jobs-age"], types["checkout-math"]) == ("sqs:queue", "cloudwatch:alarm")
    text = shown("list_alarms", every, width)
    assert_fits(text, width)  # every table line ends in its border: nothing cropped at the edge
    assert re.search(r"│ orders-db-cpu +│ ALARM +│ .*rds orders-db", text)
    assert re.search(r"│ jobs-age +│ OK +│ .*sqs jobs", text) and "(the alarm itself)" in text
    assert ("rds:db-instance" in text) == (width >= 130)
