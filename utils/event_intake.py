"""The push path's AWS side (`setup events`): an EventBridge rule for alarm state changes that
delivers to an SQS queue with a dead-letter queue, in one region.

One function walks the desired state and either only reads (`apply=False`: the dry run, and what
`--remove` checks first) or also writes. Every step says what it found, so running it twice prints
"keep" for everything and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

QUEUE_NAME = "aiops-alarm-events"
DEAD_LETTER_NAME = "aiops-alarm-events-dlq"
RULE_NAME = "aiops-alarm-state-change"
TARGET_ID = "aiops-alarm-events"
EVENT_PATTERN = {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"]}
MAX_RECEIVES = 5  # a message that failed five times is a poison message: the dead-letter queue keeps it
DEAD_LETTER_RETENTION = 14 * 24 * 3600  # SQS's longest, so a person has time to look
# Long polling: a receive waits up to 20 s for a message instead of returning empty at once.
QUEUE_ATTRIBUTES = {"ReceiveMessageWaitTimeSeconds": "20", "VisibilityTimeout": "60"}

# What `setup events` calls, for the IAM policy of whoever runs it (printed, and in the README).
SETUP_PERMISSIONS = (
    "sts:GetCallerIdentity", "sqs:GetQueueUrl", "sqs:CreateQueue", "sqs:GetQueueAttributes",
    "sqs:SetQueueAttributes", "events:DescribeRule", "events:PutRule", "events:ListTargetsByRule",
    "events:PutTargets",
)
REMOVE_PERMISSIONS = (
    "sts:GetCallerIdentity", "sqs:GetQueueUrl", "sqs:DeleteQueue", "events:DescribeRule",
    "events:ListTargetsByRule", "events:RemoveTargets", "events:DeleteRule",
)


@dataclass(frozen=True)
class Step:
    action: str  # create | update | keep | delete | absent
    what: str  # dead-letter queue | queue | queue policy | rule | target
    detail: str

    def line(self) -> str:
        return f"{self.action:<7} {self.what:<18} {self.detail}"


@dataclass
class RegionPlan:
    region: str
    steps: list[Step]
    queue_url: str | None = None


def queue_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sqs:{region}:{account}:{name}"


def rule_arn(region: str, account: str) -> str:
    return f"arn:aws:events:{region}:{account}:rule/{RULE_NAME}"


def send_policy(queue: str, rule: str) -> dict[str, Any]:
    """Only this rule may send to the queue: EventBridge's service principal, pinned by the rule's ARN."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "aiops-eventbridge-send",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule}},
        }],
    }


def set_up(sqs, events, account: str, region: str, *, apply: bool) -> RegionPlan:
    steps: list[Step] = []
    dead_letter_arn = queue_arn(region, account, DEAD_LETTER_NAME)
    target_arn = queue_arn(region, account, QUEUE_NAME)
    rule = rule_arn(region, account)

    if _queue_url(sqs, DEAD_LETTER_NAME) is None:
        steps.append(Step("create", "dead-letter queue", DEAD_LETTER_NAME))
        if apply:
            sqs.create_queue(QueueName=DEAD_LETTER_NAME,
                             Attributes={"MessageRetentionPeriod": str(DEAD_LETTER_RETENTION)})
    else:
        steps.append(Step("keep", "dead-letter queue", DEAD_LETTER_NAME))

    wanted = {
        **QUEUE_ATTRIBUTES,
        "RedrivePolicy": {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": MAX_RECEIVES},
        "Policy": send_policy(target_arn, rule),
    }
    url = _queue_url(sqs, QUEUE_NAME)
    if url is None:
        steps.append(Step("create", "queue", f"{QUEUE_NAME} (dead-letter after {MAX_RECEIVES} receives)"))
        steps.append(Step("create", "queue policy", f"events.amazonaws.com may send, from {RULE_NAME} only"))
        if apply:
            url = sqs.create_queue(QueueName=QUEUE_NAME, Attributes=_as_attributes(wanted))["QueueUrl"]
    else:
        have = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]).get("Attributes", {})
        stale = {k: v for k, v in wanted.items() if _parsed(have.get(k)) != _parsed(v)}
        policy_stale = stale.pop("Policy", None) is not None
        steps.append(Step("update" if stale else "keep", "queue",
                          f"{QUEUE_NAME}" + (f" ({', '.join(sorted(stale))})" if stale else "")))
        steps.append(Step("update" if policy_stale else "keep", "queue policy",
                          f"events.amazonaws.com may send, from {RULE_NAME} only"))
        if apply and (stale or policy_stale):
            changes = dict(stale, **({"Policy": wanted["Policy"]} if policy_stale else {}))
            sqs.set_queue_attributes(QueueUrl=url, Attributes=_as_attributes(changes))

    existing = _rule(events)
    pattern_ok = existing is not None and _parsed(existing.get("EventPattern")) == EVENT_PATTERN
    enabled = existing is not None and existing.get("State") == "ENABLED"
    action = "create" if existing is None else ("keep" if pattern_ok and enabled else "update")
    steps.append(Step(action, "rule", f"{RULE_NAME} (CloudWatch Alarm State Change, every alarm)"))
    if apply and action != "keep":
        events.put_rule(Name=RULE_NAME, EventPattern=json.dumps(EVENT_PATTERN), State="ENABLED",
                        Description="AIOps Agent: CloudWatch alarm state changes to SQS")

    targets = _targets(events) if existing is not None else []
    if any(t.get("Arn") == target_arn for t in targets):
        steps.append(Step("keep", "target", f"{RULE_NAME} -> {QUEUE_NAME}"))
    else:
        steps.append(Step("create", "target", f"{RULE_NAME} -> {QUEUE_NAME}"))
        if apply:
            events.put_targets(Rule=RULE_NAME, Targets=[{"Id": TARGET_ID, "Arn": target_arn}])
    return RegionPlan(region, steps, url)


def take_down(sqs, events, region: str, *, apply: bool) -> RegionPlan:
    steps: list[Step] = []
    if _rule(events) is None:
        steps.append(Step("absent", "rule", RULE_NAME))
    else:
        ids = [t["Id"] for t in _targets(events)]
        if ids:
            steps.append(Step("delete", "target", f"{RULE_NAME} -> {', '.join(ids)}"))
            if apply:
                events.remove_targets(Rule=RULE_NAME, Ids=ids)
        steps.append(Step("delete", "rule", RULE_NAME))
        if apply:
            events.delete_rule(Name=RULE_NAME)
    for what, name in (("queue", QUEUE_NAME), ("dead-letter queue", DEAD_LETTER_NAME)):
        url = _queue_url(sqs, name)
        steps.append(Step("absent" if url is None else "delete", what, name))
        if apply and url is not None:
            sqs.delete_queue(QueueUrl=url)
    return RegionPlan(region, steps)


@dataclass
class RegionFailure:
    region: str
    error: BaseException


def in_every_region(settings, regions: list[str], *, remove: bool, apply: bool) -> tuple[str, list]:
    """(account id, a RegionPlan or RegionFailure per region): one region's failure never stops the next."""
    from utils.aws import TimeoutBudget, client_config, make_session

    session = make_session(settings)
    config = client_config(TimeoutBudget.from_settings(settings))

    def client(service: str, region: str):
        return session.client(service, region_name=region, endpoint_url=settings.aws_endpoint_url, config=config)

    account = client("sts", regions[0]).get_caller_identity()["Account"]
    results: list[RegionPlan | RegionFailure] = []
    for region in regions:
        sqs, events = client("sqs", region), client("events", region)
        try:
            results.append(take_down(sqs, events, region, apply=apply) if remove
                           else set_up(sqs, events, account, region, apply=apply))
        except Exception as exc:
            results.append(RegionFailure(region, exc))
    return account, results


def _queue_url(sqs, name: str) -> str | None:
    return _unless_missing(lambda: sqs.get_queue_url(QueueName=name)["QueueUrl"],
                           "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


def _rule(events) -> dict[str, Any] | None:
    return _unless_missing(lambda: events.describe_rule(Name=RULE_NAME), "ResourceNotFoundException")


def _targets(events) -> list[dict[str, Any]]:
    return events.list_targets_by_rule(Rule=RULE_NAME).get("Targets", [])


def _unless_missing(read: Callable[[], Any], *missing_codes: str) -> Any:
    from botocore.exceptions import ClientError

    try:
        return read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in missing_codes:
            return None
        raise


def _as_attributes(values: dict[str, Any]) -> dict[str, str]:
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


def _parsed(value: Any) -> Any:
    """Attribute values compared as data: SQS hands back JSON documents with its own spacing and numbers
    as strings (`"maxReceiveCount": "5"`)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: _parsed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_parsed(v) for v in value]
    return str(value) if isinstance(value, int | float) else value
