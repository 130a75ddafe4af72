"""Alarms, metrics, logs and cost through MCP against moto, including bad input."""

import io

import pytest

from tests.helpers import in_memory_client


async def test_alarms_firing_first(estate):
    async with in_memory_client() as client:
        everything = (await client.call_tool("list_alarms", {})).structured_content
        firing = (await client.call_tool("list_alarms", {"state": "alarm"})).structured_content
    assert everything["count"] == 34 and everything["firing"] == 2  # 3 per instance + 4 on RDS, SQS, Lambda, ALB
    assert [a["state"] for a in everything["alarms"][:2]] == ["ALARM", "ALARM"]
    assert {a["name"] for a in firing["alarms"]} == {"web-server-cpu-high", "worker-1-status-check-failed"}
    assert firing["alarms"][0]["instance_id"] in estate.values()


async def test_thousand_alarms_are_all_listed(aws_env):
    import boto3

    cw = boto3.client("cloudwatch", endpoint_url=aws_env.url, region_name="us-east-1")
    for n in range(1050):
        cw.put_metric_alarm(AlarmName=f"bulk-{n:04d}", Namespace="AWS/EC2", MetricName="CPUUtilization",
                            Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=90,
                            ComparisonOperator="GreaterThanThreshold")
    async with in_memory_client() as client:
        result = (await client.call_tool("list_alarms", {})).structured_content
        everything = (await client.call_tool("list_alarms", {"max": 10_000})).structured_content
    # A model gets a page its context can hold, and is told there is more; the monitor asks for all.
    assert result["count"] == 1050 and len(result["alarms"]) == 100 and result["has_more_results"] is True
    assert len(everything["alarms"]) == 1050 and everything["has_more_results"] is False


async def test_cpu_metric_for_a_named_instance(estate):
    async with in_memory_client() as client:
        result = (await client.call_tool("get_metric_statistics", {"instance": "web-server"})).structured_content
    assert result["instance_id"] == estate["web-server"]
    assert len(result["datapoints"]) >= 10
    assert result["maximum"] > 80


async def test_log_search_finds_matching_lines(estate):
    async with in_memory_client() as client:
        result = (await client.call_tool("search_logs", {"log_group": "/app/api", "pattern": "ERROR"})).structured_content
    assert len(result["events"]) == 2
    assert all("ERROR" in e["message"] for e in result["events"])


async def test_log_groups_are_listed_with_size_retention_and_age(estate, aws_env):
    import boto3

    boto3.client("logs", endpoint_url=aws_env.url, region_name="us-east-1").put_retention_policy(
        logGroupName="/app/api", retentionInDays=14)
    async with in_memory_client() as client:
        everything = (await client.call_tool("list_log_groups", {})).structured_content
        app = (await client.call_tool("list_log_groups", {"prefix": "/app/"})).structured_content
        none = (await client.call_tool("list_log_groups", {"prefix": "/nothing-here"})).structured_content
    names = [g["name"] for g in everything["log_groups"]]
    assert "/app/api" in names and names == sorted(names) and everything["count"] == len(names)
    api = next(g for g in everything["log_groups"] if g["name"] == "/app/api")
    assert api["retention_days"] == 14 and api["created"].startswith("20") and api["stored_bytes"] is not None
    assert app["log_groups"] and all(g["name"].startswith("/app/") for g in app["log_groups"])
    assert len(app["log_groups"]) < len(names)
    assert none == {"prefix": "/nothing-here", "count": 0, "log_groups": [], "has_more_results": False, "skipped": []}


async def test_cost_by_service(estate):
    async with in_memory_client() as client:
        result = (await client.call_tool("get_cost_and_usage", {})).structured_content
    services = [g["key"] for g in result["periods"][-1]["groups"]]
    assert services[0] == "Amazon Elastic Compute Cloud - Compute"
    assert result["total"] > 0


@pytest.mark.parametrize(
    ("tool", "arguments", "fragment"),
    [
        ("search_logs", {"log_group": "/app/nope"}, "ResourceNotFoundException: log group '/app/nope' does not exist"),
        ("search_logs", {"log_group": "/app/api", "minutes": -5}, "minutes must be between"),
        ("list_log_groups", {"prefix": "/" * 600}, "longer than a log group name"),
        ("get_cost_and_usage", {"start": "2999-01-01"}, "in the future"),
        ("get_cost_and_usage", {"start": "last tuesday"}, "must be a date"),
        ("get_cost_and_usage", {"granularity": "HOURLY"}, "MONTHLY or DAILY"),
        ("get_metric_statistics", {"instance": "web-server", "minutes": 0}, "minutes must be between"),
        ("get_metric_statistics", {"instance": "web-server", "statistic": "p99x"}, "unknown statistic"),
        ("list_alarms", {"state": "FIRING"}, "unknown alarm state"),
        ("list_instances", {"state": "sleeping"}, "unknown state"),
        ("describe_instance", {"instance": ""}, "empty instance reference"),
        ("search_sops", {"query": "   "}, "query is empty"),
    ],
)
async def test_bad_input_is_a_clear_tool_error(estate, tool, arguments, fragment):
    async with in_memory_client() as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error
    assert fragment in result.content[0].text


async def test_unreachable_endpoint_is_reported(aws_env, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    async with in_memory_client() as client:
        result = await client.call_tool("get_cost_and_usage", {})
    assert result.is_error
    assert "EndpointUnreachable" in result.content[0].text


def plain(renderable, width: int = 100) -> str:
    from rich.console import Console

    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


class CannedCostExplorer:
    """A Cost Explorer endpoint that answers every query with the same months, whatever was asked:
    what moto's canned results do, and what a misbehaving proxy could do against real AWS."""

    def __init__(self, months: list[tuple[str, str, float]]):
        self.months, self.asked = months, []

    def get_cost_and_usage(self, **kwargs):
        self.asked.append(kwargs["TimePeriod"])
        return {"ResultsByTime": [
            {"TimePeriod": {"Start": start, "End": end}, "Total": {},
             "Groups": [{"Keys": ["Amazon EC2"], "Metrics": {"UnblendedCost": {"Amount": str(amount), "Unit": "USD"}}}]}
            for start, end, amount in self.months]}


def test_cost_totals_only_the_asked_range_and_the_view_labels_it_by_its_days():
    from datetime import date

    from agent.terminal.render import cost_view
    from mcp_server.cost import get_cost_and_usage

    ce = CannedCostExplorer([("2026-11-01", "2026-12-01", 3260.87), ("2026-12-01", "2026-12-02", 108.68)])
    last_month = get_cost_and_usage(ce, "2026-11-01", "2026-12-01", today=date(2026, 12, 1))
    assert [p.start for p in last_month.periods] == ["2026-11-01"] and last_month.total == 3260.87
    this_month = get_cost_and_usage(ce, today=date(2026, 12, 1))
    assert [p.start for p in this_month.periods] == ["2026-12-01"] and this_month.total == 108.68
    shown = plain(cost_view(last_month.model_dump()))
    assert "Total 2026-11-01 → 2026-11-30: $3,260.87" in shown and "2026-12" not in shown
    assert "Total 2026-12-01: $108.68" in plain(cost_view(this_month.model_dump()))
