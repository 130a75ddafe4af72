"""The sandbox beyond its first region (issue 11), read as a user would: boto3 over HTTP.

A second region of the default account (an RDS replica, an ALB, their alarms, the replica's CPU in
ALARM) and a second account, prod, that only its assumed role's credentials see (instances, a Lambda
function whose Errors alarm fires, an SQS queue, a DynamoDB table). web-1 is in two places. Each
alarm's metric agrees with its state.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from utils.sandbox import Sandbox, clear_alarm_named, simulate_alarm, simulate_alarm_named
from utils.sandbox_places import (
    DEFAULT_ACCOUNT_ID,
    PROD_ACCOUNT_ID,
    PROD_ROLE_ARN,
    SANDBOX_ACCOUNTS,
    SANDBOX_REGIONS,
    seed_sandbox,
    tick_places,
)

# One seeded sandbox for the reading tests; the tests that change it seed their own.
pytestmark = pytest.mark.xdist_group("sandbox-places")
USER = {"aws_access_key_id": "someone", "aws_secret_access_key": "someone"}  # the default account's


@dataclass
class Estate:
    url: str

    def client(self, service: str, region: str = "us-east-1", **credentials):
        return boto3.client(service, endpoint_url=self.url, region_name=region, **(credentials or USER))

    def prod(self, service: str, region: str = "us-east-1"):
        """A client with the prod role's credentials, assumed as the agent assumes it."""
        keys = self.client("sts").assume_role(RoleArn=PROD_ROLE_ARN, RoleSessionName="test")["Credentials"]
        return self.client(service, region, aws_access_key_id=keys["AccessKeyId"],
                           aws_secret_access_key=keys["SecretAccessKey"], aws_session_token=keys["SessionToken"])


@pytest.fixture(scope="module")
def sandbox() -> Estate:
    """A real private sandbox: the child process `--sandbox` spawns, seeded by it."""
    running = Sandbox()
    running.spawn()
    try:
        assert running.ready.wait(120) and running.error is None, running.error
        yield Estate(running.url)
    finally:
        running.stop()


def _names(instances_answer: dict) -> dict[str, str]:
    return {next(t["Value"] for t in i["Tags"] if t["Key"] == "Name"): i["InstanceId"]
            for r in instances_answer["Reservations"] for i in r["Instances"]}


def _firing(cloudwatch) -> list[str]:
    return sorted(a["AlarmName"] for a in cloudwatch.describe_alarms(StateValue="ALARM")["MetricAlarms"])


def test_the_places_are_declared_once_for_the_agent_to_configure():
    assert SANDBOX_REGIONS == ["us-east-1", "eu-west-1"]
    assert SANDBOX_ACCOUNTS == [{"name": "prod", "role_arn": "arn:aws:iam::222222222222:role/aiops-sandbox",
                                 "account_id": "222222222222", "env": "prod"}]


def test_the_second_region_has_the_replica_the_load_balancer_and_one_alarm_firing(sandbox):
    rds, elb = sandbox.client("rds", "eu-west-1"), sandbox.client("elbv2", "eu-west-1")
    db = rds.describe_db_instances()["DBInstances"]
    tags = {t["Key"]: t["Value"] for t in rds.list_tags_for_resource(ResourceName=db[0]["DBInstanceArn"])["TagList"]}
    groups = elb.describe_target_groups()["TargetGroups"]
    health = elb.describe_target_health(TargetGroupArn=groups[0]["TargetGroupArn"])["TargetHealthDescriptions"]
    web_1 = _names(sandbox.client("ec2", "eu-west-1").describe_instances())["web-1"]
    alarms = {a["AlarmName"]: a for a in sandbox.client("cloudwatch", "eu-west-1").describe_alarms()["MetricAlarms"]}

    assert [d["DBInstanceIdentifier"] for d in db] == ["orders-db-eu"] and tags["env"] == "prod"
    assert [lb["LoadBalancerName"] for lb in elb.describe_load_balancers()["LoadBalancers"]] == ["web-eu-alb"]
    assert [g["TargetGroupName"] for g in groups] == ["web-eu-tg"] and [h["Target"]["Id"] for h in health] == [web_1]
    assert {"orders-db-eu-cpu-high", "orders-db-eu-replica-lag", "orders-db-eu-free-storage-low",
            "web-eu-alb-target-5xx", "web-eu-tg-unhealthy-hosts", "web-1-cpu-high"} <= set(alarms)
    assert _firing(sandbox.client("cloudwatch", "eu-west-1")) == ["orders-db-eu-cpu-high"]
    unhealthy = {d["Name"] for d in alarms["web-eu-tg-unhealthy-hosts"]["Dimensions"]}
    assert unhealthy == {"TargetGroup", "LoadBalancer"}
    # us-east-1 has only its own database, not the replica.
    assert [d["DBInstanceIdentifier"] for d in sandbox.client("rds").describe_db_instances()["DBInstances"]] == [
        "orders-db"]


def test_the_prod_account_is_seen_only_through_its_assumed_role(sandbox):
    identity = sandbox.prod("sts").get_caller_identity()
    functions = sandbox.prod("lambda").list_functions()["Functions"]
    tags = sandbox.prod("lambda").list_tags(Resource=functions[0]["FunctionArn"])["Tags"]
    queues = sandbox.prod("sqs").list_queues().get("QueueUrls", [])
    tables = sandbox.prod("dynamodb").list_tables()["TableNames"]
    prod_instances = _names(sandbox.prod("ec2").describe_instances())

    assert identity["Account"] == PROD_ACCOUNT_ID
    assert [f["FunctionName"] for f in functions] == ["payments-webhook"]
    assert tags["env"] == "prod" and tags["aiops:log-group"] == "/aws/lambda/payments-webhook"
    assert [q.rsplit("/", 1)[1] for q in queues] == ["payments-jobs"] and tables == ["carts"]
    assert set(prod_instances) == {"web-1", "batch-1"}
    assert _firing(sandbox.prod("cloudwatch")) == ["payments-webhook-errors"]
    errors = sandbox.prod("logs").filter_log_events(logGroupName="/aws/lambda/payments-webhook",
                                                   filterPattern="ERROR")["events"]
    assert len(errors) == 2

    # The session's own credentials are another account: none of prod's resources are there.
    assert sandbox.client("sts").get_caller_identity()["Account"] == DEFAULT_ACCOUNT_ID
    # Only the first region's own function and queue (utils/sandbox_places.py `_first_region_resources`).
    assert [f["FunctionName"] for f in sandbox.client("lambda").list_functions()["Functions"]] == ["resize-images"]
    assert [q.rsplit("/", 1)[1] for q in sandbox.client("sqs").list_queues().get("QueueUrls", [])] == ["jobs"]
    assert sandbox.client("dynamodb").list_tables()["TableNames"] == []
    assert "batch-1" not in _names(sandbox.client("ec2").describe_instances())
    assert "payments-webhook-errors" not in {a["AlarmName"] for a in
                                             sandbox.client("cloudwatch").describe_alarms()["MetricAlarms"]}


def test_web_1_is_in_two_places_and_not_in_the_first_region(sandbox):
    first = _names(sandbox.client("ec2").describe_instances())
    europe = _names(sandbox.client("ec2", "eu-west-1").describe_instances())
    prod = _names(sandbox.prod("ec2").describe_instances())
    assert "web-1" not in first and "web-server" in first  # today's estate, unchanged
    assert europe["web-1"] != prod["web-1"]


def _breaches(alarm: dict, value: float) -> bool:
    return value < alarm["Threshold"] if alarm["ComparisonOperator"].startswith("Less") else value >= alarm["Threshold"]


def _recent_points(cloudwatch, alarm: dict, minutes: int) -> list[float]:
    end = datetime.now(UTC)
    answer = cloudwatch.get_metric_statistics(
        Namespace=alarm["Namespace"], MetricName=alarm["MetricName"], Dimensions=alarm["Dimensions"],
        StartTime=end - timedelta(minutes=minutes), EndTime=end, Period=300, Statistics=[alarm["Statistic"]])
    return [p[alarm["Statistic"]] for p in answer["Datapoints"]]


def test_every_alarm_in_every_place_has_a_history_that_agrees_with_its_state(sandbox):
    checked = {}
    for place, cloudwatch in (("us-east-1", sandbox.client("cloudwatch")),
                              ("eu-west-1", sandbox.client("cloudwatch", "eu-west-1")),
                              ("prod", sandbox.prod("cloudwatch"))):
        for alarm in cloudwatch.describe_alarms()["MetricAlarms"]:
            firing = alarm["StateValue"] == "ALARM"
            # Firing: the last half hour breaches; calm: four hours that never do.
            points = _recent_points(cloudwatch, alarm, 30 if firing else 240)
            checked[(place, alarm["AlarmName"])] = (firing, len(points) >= 6 and all(_breaches(alarm, v) == firing
                                                                                     for v in points))
    assert {key for key, (firing, _) in checked.items() if firing} == {
        ("us-east-1", "web-server-cpu-high"), ("us-east-1", "worker-1-status-check-failed"),
        ("eu-west-1", "orders-db-eu-cpu-high"), ("prod", "payments-webhook-errors")}
    assert [name for name, (_, agrees) in checked.items() if not agrees] == []
    # 4 + 5 + 4 on services; cpu, status and disk on each of the 10 + 1 + 2 instances
    assert len(checked) == 13 + 3 * 13


def _estate(url: str) -> Estate:
    return Estate(url)


def test_every_place_has_its_instances_before_the_fleet_is_announced(aws_env):
    """A one-shot waits only for the fleet: both web-1s must exist by then, or "stop web-1" would not ask."""
    estate, seen = _estate(aws_env.url), {}

    def at_fleet() -> None:
        seen["europe"] = _names(estate.client("ec2", "eu-west-1").describe_instances())
        seen["prod"] = _names(estate.prod("ec2").describe_instances())
        seen["functions"] = estate.prod("lambda").list_functions()["Functions"]

    ids = seed_sandbox(aws_env.url, on_fleet=at_fleet)
    assert set(seen["europe"]) == {"web-1"} and set(seen["prod"]) == {"web-1", "batch-1"}
    assert seen["functions"] == []  # the rest comes after
    assert ids[("prod", "us-east-1")] == seen["prod"] and ids[("default", "eu-west-1")] == seen["europe"]
    assert set(ids[("default", "us-east-1")]) >= {"web-server", "worker-1"}


def test_simulate_moves_any_places_alarm_with_its_metric_and_asks_where_a_name_is_twice(aws_env):
    estate = _estate(aws_env.url)
    seed_sandbox(aws_env.url)
    europe = estate.client("cloudwatch", "eu-west-1")
    lag = next(a for a in europe.describe_alarms(AlarmNames=["orders-db-eu-replica-lag"])["MetricAlarms"])

    simulate_alarm_named(aws_env.url, "orders-db-eu-replica-lag")
    during = _recent_points(europe, lag, 10)
    firing = _firing(europe)
    clear_alarm_named(aws_env.url, "orders-db-eu-replica-lag")
    after = _recent_points(europe, lag, 10)
    simulate_alarm_named(aws_env.url, "payments-jobs-oldest-message")  # in prod, through its role

    assert firing == ["orders-db-eu-cpu-high", "orders-db-eu-replica-lag"] and min(during) >= 60
    assert "orders-db-eu-replica-lag" not in _firing(europe) and max(after) < 60
    assert _firing(estate.prod("cloudwatch")) == ["payments-jobs-oldest-message", "payments-webhook-errors"]
    with pytest.raises(ValueError, match=r"2 places \(default/eu-west-1, prod/us-east-1\)"):
        simulate_alarm(aws_env.url, "cpu", "web-1")
    assert simulate_alarm(aws_env.url, "cpu", "web-1", place=("prod", "us-east-1")) == "web-1-cpu-high"
    assert _firing(estate.prod("cloudwatch"))[-1] == "web-1-cpu-high" and "web-1-cpu-high" not in _firing(europe)


def test_the_other_places_history_keeps_up_with_time(aws_env):
    estate = _estate(aws_env.url)
    seed_sandbox(aws_env.url)
    now = time.time()
    last = now - now % 300
    tick_places(aws_env.url, "us-east-1", last, now=last + 2 * 300 + 10)

    def new_points(cloudwatch, alarm_name: str) -> list[float]:
        alarm = cloudwatch.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"][0]
        answer = cloudwatch.get_metric_statistics(
            Namespace=alarm["Namespace"], MetricName=alarm["MetricName"], Dimensions=alarm["Dimensions"],
            StartTime=datetime.fromtimestamp(last + 1, UTC), EndTime=datetime.fromtimestamp(last + 900, UTC),
            Period=300, Statistics=[alarm["Statistic"]])
        return [p[alarm["Statistic"]] for p in answer["Datapoints"]]

    europe, prod = estate.client("cloudwatch", "eu-west-1"), estate.prod("cloudwatch")
    assert len(new_points(europe, "orders-db-eu-cpu-high")) == 2 and min(new_points(europe, "orders-db-eu-cpu-high")) >= 80
    assert len(new_points(prod, "payments-webhook-errors")) == 2 and min(new_points(prod, "payments-webhook-errors")) >= 5
    assert len(new_points(prod, "web-1-cpu-high")) == 2 and max(new_points(prod, "web-1-cpu-high")) < 80
