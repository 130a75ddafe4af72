"""The seeded estate is consistent with itself: per-instance history, alarms that match it,
simulate moving metric, alarm and status together, Cost Explorer answering the asked period."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.helpers import in_memory_client
from utils.sandbox import clear_alarm, simulate_alarm
from utils.sandbox_costs import COST_BY_SERVICE, synthesize


async def _metric(client, instance: str, metric: str = "CPUUtilization", minutes: int = 60) -> dict:
    result = await client.call_tool("get_metric_statistics",
                                    {"instance": instance, "metric": metric, "minutes": minutes})
    assert not result.is_error, result.content[0].text
    return result.structured_content


def _values(series: dict) -> list[float]:
    return [p["value"] for p in series["datapoints"]]


async def test_each_instance_has_its_own_cpu_network_and_disk_history(estate):
    async with in_memory_client() as client:
        two_hours = {name: await _metric(client, name, minutes=120) for name in ("api-1", "api-2", "cache-1")}
        network = await _metric(client, "api-2", "NetworkIn", minutes=30)
        network_out = await _metric(client, "api-2", "NetworkOut", minutes=30)
        disk = await _metric(client, "db-primary", "disk_used_percent", minutes=180)
    assert {name: len(s["datapoints"]) for name, s in two_hours.items()} == {"api-1": 24, "api-2": 24, "cache-1": 24}
    sparklines = {tuple(_values(s)) for s in two_hours.values()}
    assert len(sparklines) == 3  # no two instances share a history
    assert len(network["datapoints"]) == 6 and min(_values(network)) > 0
    assert _values(network_out) != _values(network)
    assert len(disk["datapoints"]) == 36 and all(0 < v < 90 for v in _values(disk))


async def test_web_server_history_agrees_with_its_alarm(estate):
    async with in_memory_client() as client:
        alarms = (await client.call_tool("list_alarms", {"state": "ALARM"})).structured_content
        web = await _metric(client, "web-server", minutes=15)
        calm = await _metric(client, "api-1", minutes=15)
    assert "web-server-cpu-high" in {a["name"] for a in alarms["alarms"]}
    assert min(_values(web)) >= 80  # seeded in ALARM, and its metric says so
    assert max(_values(calm)) < 80


async def test_simulate_cpu_moves_the_metric_and_the_alarm_and_clear_moves_them_back(estate, aws_env):
    async with in_memory_client() as client:
        before = _values(await _metric(client, "api-1", minutes=15))
        simulate_alarm(aws_env.url, "cpu", "api-1")
        during = _values(await _metric(client, "api-1", minutes=15))
        firing = (await client.call_tool("list_alarms", {"state": "ALARM"})).structured_content
        clear_alarm(aws_env.url, "cpu", "api-1")
        after = _values(await _metric(client, "api-1", minutes=30))
        quiet = (await client.call_tool("list_alarms", {"state": "ALARM"})).structured_content
    assert max(before) < 80 and min(during) >= 80 and max(after) < 80
    assert "api-1-cpu-high" in {a["name"] for a in firing["alarms"]}
    assert "api-1-cpu-high" not in {a["name"] for a in quiet["alarms"]}


async def _status_row(client, name: str) -> tuple[dict, dict]:
    data = (await client.call_tool("get_instance_status", {"instances": [name]})).structured_content
    return data, data["statuses"][0]


async def test_instance_status_reports_a_status_check_alarm_in_alarm(estate, aws_env):
    async with in_memory_client() as client:
        fleet, worker = await _status_row(client, "worker-1")
        simulate_alarm(aws_env.url, "status", "api-2")
        _, api = await _status_row(client, "api-2")
        clear_alarm(aws_env.url, "status", "api-2")
        _, api_after = await _status_row(client, "api-2")
    assert worker["alarms"] == ["worker-1-status-check-failed"] and worker["status_check_alarm"] is True
    assert fleet["alarming"] == 1 and fleet["alarms_checked"] is True
    assert api["alarms"] == ["api-2-status-check-failed"] and api["status_check_alarm"]
    assert api_after["alarms"] == [] and not api_after["status_check_alarm"]


def test_status_table_shows_the_alarm_next_to_the_checks():
    from rich.console import Console

    from agent.terminal.render import status_table

    data = {"impaired": 0, "alarming": 1, "alarms_checked": True, "statuses": [
        {"name": "worker-1", "instance_id": "i-1", "state": "running", "system_status": "ok",
         "instance_status": "ok", "alarms": ["worker-1-status-check-failed"], "events": []}]}
    console = Console(width=160, record=True)
    console.print(status_table(data))
    text = console.export_text()
    assert "1 with alarms in ALARM" in text and "worker-1-status-check-failed" in text


MONTH = sum(COST_BY_SERVICE.values())


@pytest.mark.parametrize(
    ("start", "end", "granularity", "periods"),
    [
        ("2026-11-01", "2026-12-01", "MONTHLY", [("2026-11-01", "2026-12-01")]),
        ("2026-12-01", "2026-12-03", "MONTHLY", [("2026-12-01", "2026-12-03")]),
        ("2026-11-29", "2026-12-02", "DAILY", [("2026-11-29", "2026-11-30"), ("2026-11-30", "2026-12-01"),
                                             ("2026-12-01", "2026-12-02")]),
        ("2026-10-15", "2026-12-03", "MONTHLY", [("2026-10-15", "2026-11-01"), ("2026-11-01", "2026-12-01"),
                                               ("2026-12-01", "2026-12-03")]),
    ],
)
def test_cost_periods_are_exactly_the_asked_range(start, end, granularity, periods):
    body = {"TimePeriod": {"Start": start, "End": end}, "Granularity": granularity, "Metrics": ["UnblendedCost"],
            "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}]}
    answer = synthesize(body, today=date(2026, 12, 2))
    got = [(p["TimePeriod"]["Start"], p["TimePeriod"]["End"]) for p in answer["ResultsByTime"]]
    assert got == periods


def test_cost_amounts_follow_the_days_asked():
    def total(start: str, end: str, granularity: str = "MONTHLY") -> float:
        body = {"TimePeriod": {"Start": start, "End": end}, "Granularity": granularity, "Metrics": ["UnblendedCost"]}
        answer = synthesize(body, today=date(2026, 12, 2))
        return round(sum(float(p["Total"]["UnblendedCost"]["Amount"]) for p in answer["ResultsByTime"]), 2)

    assert total("2026-11-01", "2026-12-01") == pytest.approx(MONTH, abs=0.01)  # a whole month: the bill
    assert total("2026-12-01", "2026-12-03") == pytest.approx(MONTH * 2 / 31, abs=0.02)  # 2 days so far
    assert total("2026-12-01", "2027-01-01") == total("2026-12-01", "2026-12-03")  # nothing after today
    assert total("2026-11-01", "2026-12-01", "DAILY") == pytest.approx(MONTH, abs=0.2)


async def test_a_private_sandbox_answers_cost_for_the_asked_month(aws_env):
    """Through MCP against a private sandbox's moto: last month is one period, that month's bill.
    (moto's backends are per process: aws_env empties them and restores the environment after.)"""
    from utils.config import load_settings
    from utils.sandbox import start_private_sandbox

    first = date.today().replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    settings = load_settings(sandbox=True)
    sandbox = start_private_sandbox(settings)
    try:
        async with in_memory_client(sandbox=True) as client:
            result = (await client.call_tool("get_cost_and_usage", {"start": previous.isoformat(), "end": first.isoformat()}
                                             )).structured_content
    finally:
        sandbox.stop()
    assert [(p["start"], p["end"]) for p in result["periods"]] == [(previous.isoformat(), first.isoformat())]
    assert result["total"] == pytest.approx(MONTH, abs=0.01)


def test_the_history_keeps_up_with_time_for_running_instances(estate, aws_env, ec2):
    """A sandbox that lives for hours: each tick adds the new 5-minute points, alarming where the
    alarm is in ALARM, and none for a stopped instance."""
    import time
    from datetime import UTC, datetime, timedelta

    import boto3

    from utils.sandbox_seed import history_times, seed_clients, tick

    ec2.stop_instances(InstanceIds=[estate["api-1"]])
    last = history_times(time.time())[-1]
    later = last + 3 * 300 + 10
    assert tick(seed_clients(aws_env.url, "us-east-1"), last, now=later) == last + 900
    cloudwatch = boto3.client("cloudwatch", endpoint_url=aws_env.url, region_name="us-east-1")

    def new_points(name: str) -> list[float]:
        answer = cloudwatch.get_metric_statistics(
            Namespace="AWS/EC2", MetricName="CPUUtilization", Dimensions=[{"Name": "InstanceId", "Value": estate[name]}],
            StartTime=datetime.fromtimestamp(last + 1, UTC), EndTime=datetime.fromtimestamp(later, UTC) + timedelta(1),
            Period=300, Statistics=["Average"])
        return [p["Average"] for p in answer["Datapoints"]]

    assert len(new_points("web-server")) == 3 and min(new_points("web-server")) >= 80
    assert len(new_points("api-2")) == 3 and max(new_points("api-2")) < 80
    assert new_points("api-1") == []  # stopped: no new metrics, as on AWS
