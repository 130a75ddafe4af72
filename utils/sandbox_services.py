"""Alarms on the sandbox's non-EC2 resources and the metric history that agrees with them.

An instance's series live in utils/sandbox_seed.py; these are the other services' (RDS, load
balancers, Lambda, SQS, DynamoDB): each alarm's own metric gets deterministic 5-minute points,
above (or, for free storage, below) its threshold for the last half hour when the alarm was seeded
in ALARM, well on the right side of it otherwise. `simulate` moves them with the alarm.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from utils.sandbox_seed import SERVICE_ALARMS, STEP, history_times, put_points

# metric -> (unit, normal level, normal spread, alarming level). A count stays a whole number.
PROFILES: dict[str, tuple[str, float, float, float]] = {
    "CPUUtilization": ("Percent", 32.0, 10.0, 91.0),
    "ReplicaLag": ("Seconds", 2.0, 1.5, 140.0),
    "FreeStorageSpace": ("Bytes", 8.2e10, 2.0e9, 6.0e9),
    "HTTPCode_Target_5XX_Count": ("Count", 1.0, 1.0, 45.0),
    "HTTPCode_ELB_5XX_Count": ("Count", 0.5, 0.5, 40.0),
    "UnHealthyHostCount": ("Count", 0.0, 0.0, 1.0),
    "Errors": ("Count", 0.5, 0.5, 18.0),
    "Throttles": ("Count", 0.0, 0.0, 6.0),
    "ApproximateAgeOfOldestMessage": ("Seconds", 35.0, 25.0, 1500.0),
    "WriteThrottleEvents": ("Count", 0.0, 0.0, 30.0),
}
INSTANCE_NAMESPACES = frozenset({"AWS/EC2", "CWAgent"})  # their series are the instances' (sandbox_seed)


@dataclass(frozen=True)
class ServiceAlarm:
    name: str
    namespace: str
    metric: str
    dimensions: dict[str, str] = field(hash=False)
    threshold: float
    statistic: str
    description: str
    below: bool = False  # alarms when the metric falls under the threshold (free storage)
    firing: bool = False

    def put(self, cloudwatch) -> None:
        """Create the alarm in its seeded state (moto creates alarms in OK)."""
        cloudwatch.put_metric_alarm(
            AlarmName=self.name, AlarmDescription=self.description, Namespace=self.namespace,
            MetricName=self.metric, Dimensions=_dimensions(self.dimensions), Statistic=self.statistic,
            Period=STEP, EvaluationPeriods=2, Threshold=self.threshold,
            ComparisonOperator="LessThanThreshold" if self.below else "GreaterThanOrEqualToThreshold",
        )
        if self.firing:
            sign = "<" if self.below else ">="
            cloudwatch.set_alarm_state(AlarmName=self.name, StateValue="ALARM",
                                       StateReason=f"Threshold crossed: {self.metric} {sign} {self.threshold:g}")


def first_region_alarms() -> list[ServiceAlarm]:
    """The first region's alarms on other services (utils/sandbox_seed.py creates them), for their history."""
    return [ServiceAlarm(name, namespace, metric, {dim: value}, threshold, stat, description)
            for name, (namespace, metric, dim, value, threshold, stat, description) in SERVICE_ALARMS.items()]


def _dimensions(dims: dict[str, str]) -> list[dict[str, str]]:
    return [{"Name": k, "Value": v} for k, v in dims.items()]


def service_value(resource: str, metric: str, at: float, alarming: bool = False) -> float:
    """One point of `resource`'s `metric` at epoch second `at`: deterministic, different per resource."""
    unit, level, spread, alarm_level = PROFILES[metric]
    noise = random.Random(f"{resource}/{metric}/{int(at) // STEP}").random()  # noqa: S311 - not crypto
    if alarming:
        value = alarm_level * (0.95 + 0.1 * noise)
    else:
        value = max(0.0, level * (0.9 + (zlib.crc32(resource.encode()) % 20) / 100) + spread * (2 * noise - 1))
    return float(round(value)) if unit == "Count" else round(value, 2)


def _resource(dims: dict[str, str]) -> str:
    return "/".join(dims.values()) or "none"


def series(namespace: str, metric: str, dims: dict[str, str], times: list[float],
           alarming_since: float | None = None) -> list[dict]:
    """put_metric_data items for `times`; from `alarming_since` on the metric reads as alarming."""
    unit = PROFILES[metric][0]
    resource = _resource(dims)
    return [{"MetricName": metric, "Dimensions": _dimensions(dims), "Timestamp": datetime.fromtimestamp(at, UTC),
             "Unit": unit,
             "Value": service_value(resource, metric, at, alarming_since is not None and at >= alarming_since)}
            for at in times]


def seed_service_history(cloudwatch, alarms: list[ServiceAlarm], now: float) -> int:
    """Each alarm's metric over the history, alarming for the last half hour where the alarm fires."""
    times = history_times(now)
    batches: dict[str, list[dict]] = {}
    for alarm in alarms:
        if alarm.metric in PROFILES:
            since = times[-6] if alarm.firing else None
            batches.setdefault(alarm.namespace, []).extend(
                series(alarm.namespace, alarm.metric, alarm.dimensions, times, since))
    return put_points(cloudwatch, batches)


def tick_services(cloudwatch, times: list[float]) -> None:
    """The new 5-minute points of every service alarm's metric, alarming where its alarm is in ALARM now."""
    batches: dict[str, list[dict]] = {}
    for page in cloudwatch.get_paginator("describe_alarms").paginate():
        for raw in page.get("MetricAlarms", []):
            if raw.get("Namespace") in INSTANCE_NAMESPACES or raw.get("MetricName") not in PROFILES:
                continue
            dims = {d["Name"]: d["Value"] for d in raw.get("Dimensions") or []}
            alarming = times[0] if raw.get("StateValue") == "ALARM" else None
            batches.setdefault(raw["Namespace"], []).extend(series(raw["Namespace"], raw["MetricName"], dims, times,
                                                                   alarming))
    put_points(cloudwatch, batches)


def move_service_metric(cloudwatch, raw: dict, alarming: bool, now: float) -> None:
    """Make the alarm's metric read alarming over its last periods (or normal again), as `move_metric`
    does for instances: an Average is outweighed by a heavy datum; a Sum or Maximum can only rise, so
    going back to normal leaves the past and lets the new points read normal."""
    metric, namespace = raw.get("MetricName"), raw.get("Namespace")
    if metric not in PROFILES or (not alarming and raw.get("Statistic") != "Average"):
        return
    dims = {d["Name"]: d["Value"] for d in raw.get("Dimensions") or []}
    unit, resource = PROFILES[metric][0], _resource(dims)
    items = []
    for at in history_times(now, hours=0.5)[-3 if alarming else -6:]:
        stamp = datetime.fromtimestamp(at, UTC)
        value = service_value(resource, metric, at, alarming)
        if raw.get("Statistic") == "Average":
            seen = cloudwatch.get_metric_statistics(
                Namespace=namespace, MetricName=metric, Dimensions=_dimensions(dims), StartTime=stamp,
                EndTime=stamp + timedelta(seconds=STEP), Period=STEP, Statistics=["SampleCount"])["Datapoints"]
            weight = 99 * max(1.0, sum(p.get("SampleCount", 0) for p in seen))
            items.append({"MetricName": metric, "Dimensions": _dimensions(dims), "Timestamp": stamp, "Unit": unit,
                          "StatisticValues": {"SampleCount": weight, "Sum": value * weight,
                                              "Minimum": value, "Maximum": value}})
        else:
            items.append({"MetricName": metric, "Dimensions": _dimensions(dims), "Timestamp": stamp, "Unit": unit,
                          "Value": value})
    if items:
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=items)
