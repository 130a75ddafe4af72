"""Result models of the tool catalog. Field descriptions are read by the model and by MCP clients."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mcp_server.catalog import ACTIONS


def _flatten_nullable(schema: dict[str, Any]) -> None:
    """Publish `X | None` as {"type": [X, "null"]} instead of anyOf.

    Same meaning, but MCP clients validate every result against the output schema, and
    jsonschema evaluates anyOf by spawning sub-validators: on a 10-instance list that was
    most of the protocol's overhead.
    """
    for prop in schema.get("properties", {}).values():
        options = prop.get("anyOf")
        if not options or len(options) != 2 or {"type": "null"} not in options:
            continue
        other = next(o for o in options if o != {"type": "null"})
        if set(other) == {"type"} and isinstance(other["type"], str):
            del prop["anyOf"]
            prop["type"] = [other["type"], "null"]


class Result(BaseModel):
    model_config = ConfigDict(json_schema_extra=_flatten_nullable)


class PlaceSkip(Result):
    account: str = Field(description="Configured account name")
    region: str
    reason: str = Field(description="Why this place could not be read (one line)")


SKIPPED = "Places that could not be read this time; the rest of the answer is complete"


class InstanceSummary(Result):
    instance_id: str = Field(description="EC2 instance id, e.g. i-0abc1234")
    region: str | None = Field(None, description="Region the instance lives in")
    account: str | None = Field(None, description="Configured account name the instance lives in")
    name: str | None = Field(None, description="Value of the Name tag")
    state: str = Field(description="pending, running, stopping, stopped, shutting-down or terminated")
    instance_type: str | None = Field(None, description="EC2 instance type, e.g. t3.small")
    availability_zone: str | None = Field(None, description="Availability zone")
    private_ip: str | None = Field(None, description="Private IPv4 address")
    public_ip: str | None = Field(None, description="Public IPv4 address, if any")
    launch_time: str | None = Field(None, description="Launch time, ISO 8601")
    env: str | None = Field(None, description="Value of the env tag (prod, staging, dev...)")
    role: str | None = Field(None, description="Value of the role tag (web, api, db...)")
    protected: bool = Field(False, description="True when tagged aiops:protected=true")
    tags: dict[str, str] = Field(default_factory=dict, description="All tags")


class InstanceList(Result):
    instances: list[InstanceSummary] = Field(description="Matching instances, sorted by Name")
    count: int = Field(description="How many instances matched")
    has_more_results: bool = Field(False, description="True when the list was cut to keep the answer short")
    skipped: list[PlaceSkip] = Field(default_factory=list, description=SKIPPED)


class InstanceDetail(InstanceSummary):
    image_id: str | None = Field(None, description="AMI id")
    vpc_id: str | None = Field(None, description="VPC id")
    subnet_id: str | None = Field(None, description="Subnet id")
    security_groups: list[str] = Field(default_factory=list, description="Security group names")
    key_name: str | None = Field(None, description="SSH key pair name")
    platform: str | None = Field(None, description="Platform details, e.g. Linux/UNIX")
    stop_protection: bool = Field(False, description="EC2 stop protection (disableApiStop)")
    termination_protection: bool = Field(False, description="EC2 termination protection (disableApiTermination)")
    state_reason: str | None = Field(None, description="Why the instance is in its current state, if known")


class InstanceStatus(Result):
    instance_id: str
    name: str | None = None
    region: str | None = None
    account: str | None = None
    state: str = Field(description="Instance state")
    system_status: str = Field(description="System status check: ok, impaired, initializing, not-applicable")
    instance_status: str = Field(description="Instance status check: ok, impaired, initializing, not-applicable")
    events: list[str] = Field(default_factory=list, description="Scheduled events such as system-reboot")
    env: str | None = Field(None, description="Value of the env tag")
    tags: dict[str, str] = Field(default_factory=dict, description="All tags")
    alarms: list[str] = Field(default_factory=list, description=(
        "This instance's CloudWatch alarms in ALARM, status-check alarms first: a failing check the EC2 "
        "checks may not show yet"))
    status_check_alarm: bool = Field(False, description="A StatusCheckFailed* alarm of this instance is in ALARM")


class InstanceStatusList(Result):
    statuses: list[InstanceStatus]
    impaired: int = Field(description="How many instances have a failed status check")
    alarming: int = Field(0, description="How many instances have a CloudWatch alarm in ALARM")
    alarms_checked: bool = Field(True, description="False when the CloudWatch alarms could not be read")
    skipped: list[PlaceSkip] = Field(default_factory=list, description=SKIPPED)


class TargetChange(Result):
    instance_id: str
    name: str | None = None
    region: str | None = None
    account: str | None = None
    env: str | None = None
    previous_state: str | None = Field(None, description="State before the action")
    current_state: str | None = Field(None, description="State reported after the action")


# The verbs of the catalog's mutating actions (declared once, in mcp_server/catalog.py).
ActionVerb = Literal[tuple(ACTIONS)]  # type: ignore[valid-type]


class ActionResult(Result):
    action: ActionVerb
    status: Literal["ok", "dry_run", "declined", "refused", "unconfirmed", "error"] = Field(
        description="ok: done; dry_run: only checked; declined: the person said no; refused: a guard stopped it; "
                    "unconfirmed: nobody could be asked, or no answer came in time"
    )
    message: str = Field(description="One sentence saying what happened and why")
    targets: list[TargetChange] = Field(default_factory=list)
    dry_run: bool = False


class Alarm(Result):
    name: str
    state: str = Field(description="ALARM, OK or INSUFFICIENT_DATA")
    reason: str | None = Field(None, description="Why the alarm is in this state")
    description: str | None = Field(None, description="Alarm description (untrusted text)")
    metric: str | None = Field(None, description="Metric name, e.g. CPUUtilization")
    namespace: str | None = Field(None, description="Metric namespace, e.g. AWS/EC2")
    dimensions: dict[str, str] = Field(default_factory=dict)
    instance_id: str | None = Field(None, description="Instance the alarm watches, if any")
    instance_name: str | None = Field(None, description="That instance's Name tag, if it has one")
    resource_type: str = Field("cloudwatch:alarm", description="What it watches: ec2:instance, rds:db-instance, "
                               "elb:load-balancer, lambda:function, sqs:queue, ..., or cloudwatch:alarm (itself)")
    resource_id: str | None = Field(None, description="That resource's id from the dimensions (ECS: cluster/service)")
    resource_name: str | None = Field(None, description="That resource's Name tag, if it has one")
    resource_env: str | None = Field(None, description="That resource's env tag (prod, staging, dev...), if any")
    region: str | None = Field(None, description="Region the alarm lives in")
    account: str | None = Field(None, description="Configured account name the alarm lives in")
    threshold: float | None = None
    comparison: str | None = None
    updated: str | None = Field(None, description="When the state last changed, ISO 8601")


class AlarmList(Result):
    alarms: list[Alarm] = Field(description="Firing first, then by name; at most `max` of them")
    count: int = Field(description="How many alarms matched in all")
    firing: int = Field(description="How many are in ALARM")
    has_more_results: bool = Field(False, description="true when `count` is more than the alarms listed")
    skipped: list[PlaceSkip] = Field(default_factory=list, description=SKIPPED)


class Datapoint(Result):
    timestamp: str
    value: float


class MetricSeries(Result):
    instance_id: str
    name: str | None = None
    region: str | None = None
    account: str | None = None
    metric: str
    statistic: str
    unit: str | None = None
    period: int
    datapoints: list[Datapoint] = Field(description="Oldest first")
    latest: float | None = None
    maximum: float | None = None
    average: float | None = None


class LogEvent(Result):
    timestamp: str
    stream: str
    message: str
    region: str | None = None
    account: str | None = None


class LogSearchResult(Result):
    log_group: str
    pattern: str
    events: list[LogEvent] = Field(description="Matching events, newest last")
    has_more_results: bool = False
    skipped: list[PlaceSkip] = Field(default_factory=list, description=SKIPPED)


class LogGroup(Result):
    name: str = Field(description="Log group name, e.g. /aws/ec2/web; pass it to search_logs")
    stored_bytes: int | None = Field(None, description="Bytes stored in the group")
    retention_days: int | None = Field(None, description="Days events are kept; null: kept forever")
    created: str | None = Field(None, description="When the group was created (ISO 8601, UTC)")
    region: str | None = None
    account: str | None = None


class LogGroupList(Result):
    prefix: str = Field(description="The name prefix asked for; empty for every group")
    count: int
    log_groups: list[LogGroup] = Field(description="Groups in name order")
    has_more_results: bool = Field(False, description="True when more groups match than were returned")
    skipped: list[PlaceSkip] = Field(default_factory=list, description=SKIPPED)


class CostLine(Result):
    key: str = Field(description="Service name (or 'Total')")
    amount: float
    unit: str = "USD"


class CostPeriod(Result):
    start: str
    end: str
    total: float
    groups: list[CostLine] = Field(default_factory=list)


class CostReport(Result):
    start: str
    end: str
    granularity: str
    group_by: str | None = None
    periods: list[CostPeriod]
    total: float
    unit: str = "USD"


class SopHitResult(Result):
    id: str
    source: str
    title: str
    score: float
    excerpt: str
    weak: bool = False  # under the weak-match threshold (sop.ranking.WEAK_SCORE)
    section: str | None = None
    recovery: dict[str, Any] | None = None
    steps: list[str] = []  # the SOP's recovery steps, one line each: text for a person, never run


class SopSearchResult(Result):
    query: str
    results: list[SopHitResult]


class EvidenceMetric(Result):
    name: str = Field(description="Metric name, e.g. CPUUtilization")
    namespace: str = Field(description="Metric namespace, e.g. AWS/RDS")
    statistic: str = Field(description="The alarm's statistic, e.g. Average")
    unit: str | None = None
    period: int = Field(description="Seconds per point")
    threshold: float | None = Field(None, description="The alarm's threshold")
    points: list[tuple[str, float]] = Field(description="[ISO time, value], oldest first")


class EvidenceLogLine(Result):
    timestamp: str
    message: str = Field(description="One matching line, cut to a sane length (untrusted text)")


class EvidenceLogs(Result):
    log_group: str
    mapped_by: str = Field(description="Where the mapping came from: the tag aiops:log-group or aiops.toml")
    lines: list[EvidenceLogLine] = Field(description="Error-like lines of the window, newest last")
    has_more_results: bool = False


class EvidenceStatus(Result):
    instance_id: str
    state: str
    system_status: str
    instance_status: str
    events: list[str] = Field(default_factory=list)


class AlarmEvidence(Result):
    alarm: str
    resource_type: str
    resource_id: str | None = None
    minutes: int = Field(description="The window looked at, ending now")
    metric: EvidenceMetric | None = Field(None, description="The alarm's own metric over the window")
    logs: EvidenceLogs | None = Field(None, description="Error lines from the resource's mapped log group")
    status: EvidenceStatus | None = Field(None, description="EC2 status checks (instances only)")
    left_out: list[str] = Field(default_factory=list, description="Parts not gathered and why (late, failed)")
    seconds: float = Field(description="How long gathering took")
