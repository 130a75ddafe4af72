"""The sandbox's estate: instances, alarms, a metric history per instance, logs.

The history is consistent with the alarms: every instance has its own deterministic CPU,
network, disk and status-check series (5-minute points over the last HISTORY_HOURS), and an
alarm seeded in ALARM (web-server's CPU, worker-1's status check) has the points to match.
Seeding takes few calls: one run_instances per instance, alarms created in their seeded state,
the whole history in a handful of put_metric_data calls.
"""

from __future__ import annotations

import functools
import math
import random
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

AMI = "ami-0abcdef1234567890"
STEP = 300  # seconds between seeded points
HISTORY_HOURS = 4
PUT_LIMIT = 1000  # MetricData items per put_metric_data call (CloudWatch's limit)


@dataclass(frozen=True)
class SeedInstance:
    name: str
    env: str
    role: str
    instance_type: str = "t3.small"
    running: bool = True
    protected_tag: bool = False
    termination_protection: bool = False


ESTATE: list[SeedInstance] = [
    SeedInstance("web-server", "prod", "web", "t3.medium"),
    SeedInstance("api-1", "prod", "api", "m5.large"),
    SeedInstance("api-2", "prod", "api", "m5.large"),
    SeedInstance("db-primary", "prod", "db", "r5.xlarge", protected_tag=True),
    SeedInstance("cache-1", "prod", "cache", "r5.large"),
    SeedInstance("bastion", "prod", "bastion", "t3.micro", termination_protection=True),
    SeedInstance("worker-1", "staging", "worker", "c5.large"),
    SeedInstance("worker-2", "staging", "worker", "c5.large", running=False),
    SeedInstance("dev-box-1", "dev", "dev", "t3.small"),
    SeedInstance("dev-box-2", "dev", "dev", "t3.small", running=False),
]

LOG_LINES = {
    "/aws/ec2/web-server": [
        '10.0.1.12 - - "GET /health HTTP/1.1" 200 12 0.002',
        '10.0.1.40 - - "GET /checkout HTTP/1.1" 502 166 30.001',
        "[error] upstream timed out (110: Connection timed out) while reading response header from upstream",
        '10.0.1.41 - - "POST /api/cart HTTP/1.1" 504 160 60.000',
        "[warn] 1024 worker_connections are not enough",
        '10.0.1.12 - - "GET /health HTTP/1.1" 200 12 0.001',
    ],
    "/app/api": [
        "INFO request_id=8f1c GET /v1/orders 200 38ms",
        "ERROR request_id=9a2d database connection pool exhausted (max=20) after 5000ms",
        "ERROR request_id=9a2e TimeoutError: upstream payments-service did not answer in 10s",
        "WARN retrying payments call attempt=2",
        "INFO request_id=9b00 GET /v1/orders 200 41ms",
    ],
    "/app/worker": [
        "INFO job=nightly-report started",
        "ERROR job=nightly-report OutOfMemoryError: Java heap space",
        "INFO job=cleanup finished in 12s",
    ],
}

# The log group each instance writes to, as its `aiops:log-group` tag says: a page's evidence shows its errors.
LOG_GROUP_OF = {"web-server": "/aws/ec2/web-server", "api-1": "/app/api", "api-2": "/app/api",
                "worker-1": "/app/worker", "worker-2": "/app/worker"}

# kind -> (namespace, metric, threshold, statistic, unit, description template)
ALARM_SPECS = {
    "cpu": ("AWS/EC2", "CPUUtilization", 80.0, "Average", "Percent", "CPU above 80% for 10 minutes on {}"),
    "status": ("AWS/EC2", "StatusCheckFailed", 1.0, "Maximum", "Count", "EC2 status check failing on {}"),
    "disk": ("CWAgent", "disk_used_percent", 90.0, "Average", "Percent", "Root volume above 90% on {}"),
}
FIRING = {("web-server", "cpu"), ("worker-1", "status")}
# Alarms on resources the catalog cannot act on (issue 11), seeded in OK: `simulate` or a test fires them.
# name -> (namespace, metric, dimension, value, threshold, statistic, description)
SERVICE_ALARMS = {
    "orders-db-cpu-high": ("AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", "orders-db", 80.0, "Average",
                           "RDS CPU above 80% on orders-db"),
    "jobs-queue-oldest-message": ("AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", "jobs", 900.0, "Maximum",
                                  "Oldest message in the jobs queue older than 15 minutes"),
    "resize-images-errors": ("AWS/Lambda", "Errors", "FunctionName", "resize-images", 5.0, "Sum",
                             "Lambda resize-images errors"),
    "web-alb-5xx": ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", "app/web-alb/50dc6c495c0c9188",
                    10.0, "Sum", "ALB web-alb returning 5xx"),
}
# metric -> (namespace, unit); the series every instance gets
SERIES = {
    "CPUUtilization": ("AWS/EC2", "Percent"),
    "NetworkIn": ("AWS/EC2", "Bytes"),
    "NetworkOut": ("AWS/EC2", "Bytes"),
    "StatusCheckFailed": ("AWS/EC2", "Count"),
    "disk_used_percent": ("CWAgent", "Percent"),
}
KIND_OF_METRIC = {spec[1]: kind for kind, spec in ALARM_SPECS.items()}
ROLE_CPU = {"web": 35.0, "api": 28.0, "db": 22.0, "cache": 12.0, "bastion": 2.0, "worker": 40.0, "dev": 6.0}
ROLE_NET = {"web": 4.0e7, "api": 2.5e7, "db": 1.2e7, "cache": 3.0e7, "bastion": 2.0e5, "worker": 6.0e6, "dev": 8.0e5}


def alarm_names(name: str) -> dict[str, str]:
    """The sandbox's alarm naming, shared with `simulate`."""
    return {"cpu": f"{name}-cpu-high", "status": f"{name}-status-check-failed", "disk": f"{name}-disk-full"}


def _salt(name: str) -> int:
    return zlib.crc32(name.encode())


def metric_value(name: str, role: str, metric: str, at: float, alarming: bool = False) -> float:
    """One point of `name`'s `metric` at epoch second `at`: deterministic, different per instance.

    `alarming`: the value of a metric whose alarm is in ALARM (above its threshold, or 1 failed check).
    """
    salt = _salt(name)
    noise = random.Random(f"{name}/{metric}/{int(at) // STEP}").random()  # noqa: S311 - not crypto
    hours = at / 3600
    wave = math.sin(hours * 2 * math.pi / (3 + salt % 5) + salt % 7)
    if metric == "CPUUtilization":
        if alarming:
            return round(88.0 + 8 * noise, 2)
        base = ROLE_CPU.get(role, 10.0) * (0.7 + (salt % 60) / 100)
        return round(max(0.5, min(75.0, base * (1 + 0.35 * wave) + 6 * (noise - 0.5))), 2)
    if metric in {"NetworkIn", "NetworkOut"}:
        base = ROLE_NET.get(role, 1e6) * (0.6 + (salt % 80) / 100) * (0.45 if metric == "NetworkOut" else 1.0)
        return float(round(base * (1 + 0.4 * wave + 0.3 * (noise - 0.5))))
    if metric == "disk_used_percent":
        if alarming:
            return round(93.0 + 4 * noise, 2)
        return round(30 + salt % 45 + 2 * wave + noise, 2)
    if metric == "StatusCheckFailed":
        return 1.0 if alarming else 0.0
    raise ValueError(f"no sandbox series for {metric}")


def points(instance_id: str, spec: SeedInstance, metric: str, times: list[float],
           alarming_since: float | None = None) -> list[dict]:
    """put_metric_data items for `times`; from `alarming_since` on the metric reads as alarming."""
    namespace, unit = SERIES[metric]
    return [{"MetricName": metric, "Dimensions": [{"Name": "InstanceId", "Value": instance_id}],
             "Timestamp": datetime.fromtimestamp(at, UTC), "Unit": unit,
             "Value": metric_value(spec.name, spec.role, metric, at,
                                   alarming_since is not None and at >= alarming_since)}
            for at in times]


def put_points(cloudwatch, items_by_namespace: dict[str, list[dict]]) -> int:
    """Send items in as few calls as CloudWatch allows; returns the number of calls."""
    calls = 0
    for namespace, items in items_by_namespace.items():
        for start in range(0, len(items), PUT_LIMIT):
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=items[start:start + PUT_LIMIT])
            calls += 1
    return calls


@functools.lru_cache(maxsize=1)
def sandbox_session():
    """The one boto3 session seeding builds its clients from: its loader reads each service model once
    (~0.1 s for EC2's alone), whatever the region or the account."""
    import boto3

    return boto3.session.Session(aws_access_key_id="sandbox", aws_secret_access_key="sandbox")


@functools.lru_cache(maxsize=8)
def seed_clients(url: str, region: str):
    """Seeding's clients, kept per endpoint (building them, and loading their models, costs ~0.4 s)."""
    from botocore.config import Config

    config = Config(retries={"max_attempts": 1})
    return {name: sandbox_session().client(name, endpoint_url=url, region_name=region, config=config)
            for name in ("ec2", "cloudwatch", "logs")}


def seed_instances(ec2, estate: list[SeedInstance]) -> dict[str, str]:
    ids: dict[str, str] = {}
    for spec in estate:
        tags = [{"Key": "Name", "Value": spec.name}, {"Key": "env", "Value": spec.env},
                {"Key": "role", "Value": spec.role}]
        if spec.protected_tag:
            tags.append({"Key": "aiops:protected", "Value": "true"})
        if spec.name in LOG_GROUP_OF:
            tags.append({"Key": "aiops:log-group", "Value": LOG_GROUP_OF[spec.name]})
        response = ec2.run_instances(
            ImageId=AMI, MinCount=1, MaxCount=1, InstanceType=spec.instance_type,
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
        )
        ids[spec.name] = response["Instances"][0]["InstanceId"]
    stopped = [ids[s.name] for s in estate if not s.running]
    if stopped:
        ec2.stop_instances(InstanceIds=stopped)
    for spec in estate:
        if spec.termination_protection:
            # run_instances(DisableApiTermination=True) is ignored by moto; the attribute call works.
            ec2.modify_instance_attribute(InstanceId=ids[spec.name], DisableApiTermination={"Value": True})
    return ids


def seed_alarms(cloudwatch, ids: dict[str, str]) -> None:
    """Each instance's three alarms and a few on other services; moto creates them in OK, so only the firing
    ones need a state call."""
    seed_instance_alarms(cloudwatch, ids)
    for alarm, (namespace, metric, dim, value, threshold, stat, description) in SERVICE_ALARMS.items():
        cloudwatch.put_metric_alarm(
            AlarmName=alarm, AlarmDescription=description, Namespace=namespace, MetricName=metric,
            Dimensions=[{"Name": dim, "Value": value}], Statistic=stat, Period=STEP, EvaluationPeriods=2,
            Threshold=threshold, ComparisonOperator="GreaterThanOrEqualToThreshold",
        )


def seed_instance_alarms(cloudwatch, ids: dict[str, str]) -> None:
    """Each instance's cpu, status and disk alarms; the FIRING ones in ALARM."""
    for name, instance_id in ids.items():
        names = alarm_names(name)
        for kind, (namespace, metric, threshold, stat, _unit, description) in ALARM_SPECS.items():
            cloudwatch.put_metric_alarm(
                AlarmName=names[kind], AlarmDescription=description.format(name), Namespace=namespace,
                MetricName=metric, Dimensions=[{"Name": "InstanceId", "Value": instance_id}], Statistic=stat,
                Period=STEP, EvaluationPeriods=2, Threshold=threshold,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
            )
            if (name, kind) in FIRING:
                cloudwatch.set_alarm_state(AlarmName=names[kind], StateValue="ALARM",
                                           StateReason=f"Threshold crossed: {metric} >= {threshold}")


def history_times(now: float, hours: float = HISTORY_HOURS) -> list[float]:
    """5-minute boundaries from `hours` ago up to the last one at or before `now`."""
    last = now - now % STEP
    return [last - STEP * k for k in range(int(hours * 3600 // STEP), -1, -1)]


def seed_metrics(cloudwatch, ids: dict[str, str], estate: list[SeedInstance], now: float | None = None) -> int:
    """Every instance's history for every series, in as few calls as the API allows; returns the calls."""
    times = history_times(time.time() if now is None else now)
    firing_since = times[-6]  # the last half hour reads as alarming for the alarms seeded in ALARM
    by_name = {spec.name: spec for spec in estate}
    batches: dict[str, list[dict]] = {}
    for name, instance_id in ids.items():
        spec = by_name[name]
        for metric, (namespace, _unit) in SERIES.items():
            kind = KIND_OF_METRIC.get(metric)
            since = firing_since if (name, kind) in FIRING else None
            batches.setdefault(namespace, []).extend(points(instance_id, spec, metric, times, since))
    return put_points(cloudwatch, batches)


def seed_logs(logs) -> None:
    now_ms = int(time.time() * 1000)
    for group, lines in LOG_LINES.items():
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="i-sandbox/main")
        events = [{"timestamp": now_ms - (len(lines) - i) * 60_000, "message": line} for i, line in enumerate(lines)]
        logs.put_log_events(logGroupName=group, logStreamName="i-sandbox/main", logEvents=events)


def seed_estate(url: str, region: str = "us-east-1", estate: list[SeedInstance] | None = None,
                on_fleet: Callable[[], None] | None = None) -> dict[str, str]:
    """Create instances, alarms, metric history, logs and costs. Returns Name -> instance id.

    `on_fleet` is called once the instances exist, before the rest: what EC2 requests need."""
    from utils.sandbox_costs import seed_costs

    estate = estate or ESTATE
    clients = seed_clients(url, region)
    ids = seed_instances(clients["ec2"], estate)
    if on_fleet:
        on_fleet()
    seed_alarms(clients["cloudwatch"], ids)
    seed_metrics(clients["cloudwatch"], ids, estate)
    seed_logs(clients["logs"])
    seed_costs(url)
    return ids


def tick(clients: dict, since: float, now: float | None = None) -> float:
    """Extend every running instance's history with the 5-minute points after `since` up to now,
    alarming where the instance's alarm is in ALARM now (a live fleet: the one after a stop or a
    reset, too). Returns the last boundary written (or `since`)."""
    now = time.time() if now is None else now
    times = [at for at in history_times(now, hours=1) if at > since]
    if not times:
        return since
    ec2, cloudwatch = clients["ec2"], clients["cloudwatch"]
    firing: set[tuple[str, str]] = set()
    for page in cloudwatch.get_paginator("describe_alarms").paginate(StateValue="ALARM"):
        for alarm in page.get("MetricAlarms", []):
            kind = KIND_OF_METRIC.get(alarm.get("MetricName", ""))
            for dimension in alarm.get("Dimensions") or []:
                if kind and dimension.get("Name") == "InstanceId":
                    firing.add((dimension["Value"], kind))
    batches: dict[str, list[dict]] = {}
    filters = [{"Name": "instance-state-name", "Values": ["running"]}]
    for reservation in ec2.describe_instances(Filters=filters)["Reservations"]:
        for raw in reservation["Instances"]:
            tags = {t["Key"]: t["Value"] for t in raw.get("Tags") or []}
            spec = SeedInstance(tags.get("Name", raw["InstanceId"]), tags.get("env", "dev"), tags.get("role", "dev"))
            for metric, (namespace, _unit) in SERIES.items():
                alarming = (raw["InstanceId"], KIND_OF_METRIC.get(metric)) in firing
                batches.setdefault(namespace, []).extend(
                    points(raw["InstanceId"], spec, metric, times, times[0] if alarming else None))
    put_points(cloudwatch, batches)
    return times[-1]


def spec_of(name: str) -> SeedInstance:
    return next((s for s in ESTATE if s.name == name), SeedInstance(name, "dev", "dev"))


def move_metric(cloudwatch, instance_id: str, name: str, kind: str, alarming: bool, now: float | None = None) -> None:
    """Make the recent points of alarm `kind`'s metric read alarming (or normal again), outweighing
    what is there: CloudWatch has no delete, so each recent period gets a heavy aggregated datum."""
    namespace, metric, _threshold, stat, unit, _ = ALARM_SPECS[kind]
    now = time.time() if now is None else now
    # Alarming: the last 3 periods (the alarm's 2 evaluation periods and the one being filled);
    # back to normal: the last half hour, which covers what an earlier simulate moved.
    times = history_times(now, hours=0.5)[-3 if alarming else -6:]
    dims = [{"Name": "InstanceId", "Value": instance_id}]
    spec = spec_of(name)
    items = []
    for at in times:
        stamp = datetime.fromtimestamp(at, UTC)
        seen = cloudwatch.get_metric_statistics(
            Namespace=namespace, MetricName=metric, Dimensions=dims, StartTime=stamp,
            EndTime=stamp + timedelta(seconds=STEP), Period=STEP, Statistics=["SampleCount"])["Datapoints"]
        weight = 99 * max(1.0, sum(p.get("SampleCount", 0) for p in seen))
        value = metric_value(name, spec.role, metric, at, alarming)
        if stat == "Maximum" and not alarming:
            continue  # a maximum cannot be outweighed; new points after now read as normal
        items.append({"MetricName": metric, "Dimensions": dims, "Timestamp": stamp, "Unit": unit,
                      "StatisticValues": {"SampleCount": weight, "Sum": value * weight,
                                          "Minimum": value, "Maximum": value}})
    if items:
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=items)
