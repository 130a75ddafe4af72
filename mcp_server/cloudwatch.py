"""CloudWatch alarms and metrics as plain functions taking a boto3 client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mcp_server.models import Alarm, AlarmList, Datapoint, MetricSeries
from utils.resources import resource_of

ALARM_STATES = {"ALARM", "OK", "INSUFFICIENT_DATA"}
STATISTICS = {"Average", "Maximum", "Minimum", "Sum", "SampleCount"}
# Metrics the CloudWatch agent publishes; everything else is the EC2 namespace.
AGENT_METRICS = {"mem_used_percent", "disk_used_percent", "swap_used_percent", "MemoryUtilization"}
# A page a model's context can hold; the monitor asks for up to the maximum.
DEFAULT_LISTED_ALARMS = 100
MAX_LISTED_ALARMS = 10_000
MAX_MINUTES = 15 * 24 * 60  # CloudWatch keeps 1-minute data for 15 days


def alarm_from_raw(raw: dict) -> Alarm:
    dimensions = {d["Name"]: d["Value"] for d in raw.get("Dimensions") or []}
    updated = raw.get("StateUpdatedTimestamp")
    resource_type, resource_id = resource_of(raw["AlarmName"], dimensions)
    arn = (raw.get("AlarmArn") or "").split(":")
    return Alarm(
        name=raw["AlarmName"],
        state=raw.get("StateValue", "INSUFFICIENT_DATA"),
        reason=raw.get("StateReason"),
        description=raw.get("AlarmDescription"),
        metric=raw.get("MetricName"),
        namespace=raw.get("Namespace"),
        dimensions=dimensions,
        instance_id=dimensions.get("InstanceId"),
        resource_type=resource_type,
        resource_id=resource_id,
        region=arn[3] if len(arn) > 3 and arn[3] else None,
        threshold=raw.get("Threshold"),
        comparison=raw.get("ComparisonOperator"),
        updated=updated.isoformat() if hasattr(updated, "isoformat") else updated,
    )


def fetch_alarms(cloudwatch, state: str | None = None) -> list[Alarm]:
    kwargs = {"StateValue": state} if state else {}
    alarms: list[Alarm] = []
    for page in cloudwatch.get_paginator("describe_alarms").paginate(**kwargs):
        alarms.extend(alarm_from_raw(raw) for raw in page.get("MetricAlarms", []))
        for raw in page.get("CompositeAlarms", []):
            alarms.append(alarm_from_raw(raw))
    return alarms


def alarm_query(state: str | None, limit: int) -> str | None:
    """The state asked for, checked (before any place is read); a bad argument is a ValueError."""
    if not 1 <= limit <= MAX_LISTED_ALARMS:
        raise ValueError(f"max must be between 1 and {MAX_LISTED_ALARMS}")
    if state:
        state = state.strip().upper()
        if state not in ALARM_STATES:
            raise ValueError(f"unknown alarm state '{state}'; use ALARM, OK or INSUFFICIENT_DATA")
    return state or None


def list_alarms(cloudwatch, state: str | None = None, limit: int = DEFAULT_LISTED_ALARMS) -> AlarmList:
    state = alarm_query(state, limit)
    alarms = fetch_alarms(cloudwatch, state)
    # Firing first: that is what a person asking about alarms wants to see.
    alarms.sort(key=lambda a: (a.state != "ALARM", a.name.casefold()))
    return AlarmList(alarms=alarms[:limit], count=len(alarms), firing=sum(a.state == "ALARM" for a in alarms),
                     has_more_results=len(alarms) > limit)


TAG_FILTER_VALUES = 200  # EC2 takes at most 200 values per filter


def name_instances(ec2, listing: AlarmList) -> AlarmList:
    """Fill each EC2 alarm's instance_name (and resource_name, resource_env) from the Name and env tags, a few
    DescribeTags calls for the whole page.

    Names are a courtesy to the reader: a role without ec2:DescribeTags still gets its alarms.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    ids = sorted({a.instance_id for a in listing.alarms if a.instance_id})
    tags: dict[tuple[str, str], str] = {}
    try:
        for start in range(0, len(ids), TAG_FILTER_VALUES):
            filters = [{"Name": "resource-id", "Values": ids[start:start + TAG_FILTER_VALUES]},
                       {"Name": "key", "Values": ["Name", "env"]}]
            for page in ec2.get_paginator("describe_tags").paginate(Filters=filters):
                tags.update({(t["ResourceId"], t["Key"]): t["Value"] for t in page.get("Tags", [])})
    except (BotoCoreError, ClientError):
        return listing
    for alarm in listing.alarms:
        if alarm.instance_id:
            alarm.instance_name = alarm.resource_name = tags.get((alarm.instance_id, "Name"))
            alarm.resource_env = tags.get((alarm.instance_id, "env"))
    return listing


def get_metric_statistics(
    cloudwatch,
    instance_id: str,
    name: str | None,
    metric: str = "CPUUtilization",
    minutes: int = 60,
    period: int = 300,
    statistic: str = "Average",
    now: datetime | None = None,
) -> MetricSeries:
    if not 1 <= minutes <= MAX_MINUTES:
        raise ValueError(f"minutes must be between 1 and {MAX_MINUTES} (a window ending now)")
    if period < 60 or period % 60:
        raise ValueError("period must be a multiple of 60 seconds")
    statistic = statistic.capitalize() if statistic.lower() != "samplecount" else "SampleCount"
    if statistic not in STATISTICS:
        raise ValueError(f"unknown statistic '{statistic}'; use one of {', '.join(sorted(STATISTICS))}")
    end = now or datetime.now(UTC)
    namespace = "CWAgent" if metric in AGENT_METRICS else "AWS/EC2"
    response = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": "InstanceId", "Value": instance_id}],
        StartTime=end - timedelta(minutes=minutes),
        EndTime=end,
        Period=period,
        Statistics=[statistic],
    )
    points = sorted(response.get("Datapoints", []), key=lambda p: p["Timestamp"])
    values = [float(p.get(statistic, 0.0)) for p in points]
    return MetricSeries(
        instance_id=instance_id,
        name=name,
        metric=metric,
        statistic=statistic,
        unit=points[0].get("Unit") if points else None,
        period=period,
        datapoints=[Datapoint(timestamp=p["Timestamp"].isoformat(), value=v) for p, v in zip(points, values, strict=True)],
        latest=values[-1] if values else None,
        maximum=max(values) if values else None,
        average=sum(values) / len(values) if values else None,
    )
