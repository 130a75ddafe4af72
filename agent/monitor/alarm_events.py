"""Alarm state changes as AWS pushes them, read from an SQS message body.

Two envelopes carry the same fact: EventBridge's "CloudWatch Alarm State Change" event, and an
alarm's SNS action (a `Notification` whose `Message` is the alarm JSON; with raw message delivery the
alarm JSON is the body itself). Both become one `AlarmChange`. Pure: the queue source does the I/O.

Everything in a message is untrusted: names and reasons are only ever shown and searched, never run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

STATES = {"ALARM", "OK", "INSUFFICIENT_DATA"}
MAX_BODY = 256 * 1024  # SQS's own limit; anything bigger did not come from AWS
MAX_TEXT = 1024


class NotAnAlarmChange(ValueError):
    """The message is not an alarm state change (malformed, or another kind of event)."""


@dataclass(frozen=True)
class AlarmChange:
    name: str
    state: str
    changed_at: datetime  # the alarm's own state-change time: what orders two changes of one alarm
    region: str | None = None
    account_id: str | None = None
    previous: str | None = None
    reason: str = ""
    description: str = ""
    metric: str | None = None
    namespace: str | None = None
    dimensions: dict[str, str] = field(default_factory=dict)

    def as_alarm_row(self, account: str | None = None) -> dict[str, Any]:
        """The shape `list_alarms` rows have, so one set of rules turns both into signals."""
        return {"name": self.name, "state": self.state, "metric": self.metric, "namespace": self.namespace,
                "dimensions": dict(self.dimensions), "reason": self.reason, "description": self.description,
                "region": self.region, "account": account, "instance_id": self.dimensions.get("InstanceId"),
                "updated": self.changed_at.isoformat()}


def parse_message(body: str) -> AlarmChange:
    """One SQS message body -> AlarmChange; NotAnAlarmChange says in a few words why not."""
    if len(body) > MAX_BODY:
        raise NotAnAlarmChange("message larger than SQS allows")
    doc = _json(body)
    if doc.get("Type") == "Notification" and "Message" in doc:
        return _from_alarm_json(_json(doc["Message"]))
    if doc.get("detail-type") is not None or doc.get("source") is not None:
        return _from_event(doc)
    if "AlarmName" in doc:
        return _from_alarm_json(doc)  # SNS with raw message delivery
    raise NotAnAlarmChange("neither an EventBridge event nor an SNS alarm notification")


def _from_event(event: dict[str, Any]) -> AlarmChange:
    if event.get("source") != "aws.cloudwatch" or event.get("detail-type") != "CloudWatch Alarm State Change":
        raise NotAnAlarmChange(f"event {_text(event.get('detail-type'))!r} from {_text(event.get('source'))!r}")
    detail = _dict(event.get("detail"), "detail")
    state = _dict(detail.get("state"), "detail.state")
    previous = detail.get("previousState") if isinstance(detail.get("previousState"), dict) else {}
    config = detail.get("configuration") if isinstance(detail.get("configuration"), dict) else {}
    metric, namespace, dimensions = _event_metric(config)
    return AlarmChange(
        name=_name(detail.get("alarmName")),
        state=_state(state.get("value")),
        changed_at=_time(state.get("timestamp") or event.get("time")),
        region=_text(event.get("region")) or None,
        account_id=_text(event.get("account")) or None,
        previous=_text(previous.get("value")) or None,
        reason=_text(state.get("reason")),
        description=_text(config.get("description")),
        metric=metric, namespace=namespace, dimensions=dimensions,
    )


def _event_metric(config: dict[str, Any]) -> tuple[str | None, str | None, dict[str, str]]:
    """The first metric the alarm returns; metric math alarms have several, and no one resource."""
    metrics = config.get("metrics") if isinstance(config.get("metrics"), list) else []
    stats = [m.get("metricStat") for m in metrics if isinstance(m, dict) and isinstance(m.get("metricStat"), dict)]
    if len(stats) != 1:
        return None, None, {}
    metric = stats[0].get("metric") if isinstance(stats[0].get("metric"), dict) else {}
    dims = metric.get("dimensions") if isinstance(metric.get("dimensions"), dict) else {}
    return (_text(metric.get("name")) or None, _text(metric.get("namespace")) or None,
            {_text(k): _text(v) for k, v in dims.items()})


def _from_alarm_json(alarm: dict[str, Any]) -> AlarmChange:
    trigger = alarm.get("Trigger") if isinstance(alarm.get("Trigger"), dict) else {}
    dims = trigger.get("Dimensions") if isinstance(trigger.get("Dimensions"), list) else []
    arn = _text(alarm.get("AlarmArn"))
    arn_parts = arn.split(":")  # arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME; "Region" is a display name
    return AlarmChange(
        name=_name(alarm.get("AlarmName")),
        state=_state(alarm.get("NewStateValue")),
        changed_at=_time(alarm.get("StateChangeTime")),
        region=arn_parts[3] if len(arn_parts) > 4 and arn_parts[3] else None,
        account_id=_text(alarm.get("AWSAccountId")) or (arn_parts[4] if len(arn_parts) > 4 else None) or None,
        previous=_text(alarm.get("OldStateValue")) or None,
        reason=_text(alarm.get("NewStateReason")),
        description=_text(alarm.get("AlarmDescription")),
        metric=_text(trigger.get("MetricName")) or None,
        namespace=_text(trigger.get("Namespace")) or None,
        dimensions={_text(d.get("name")): _text(d.get("value")) for d in dims
                    if isinstance(d, dict) and d.get("name")},
    )


def _json(text: Any) -> dict[str, Any]:
    if not isinstance(text, str):
        raise NotAnAlarmChange("message is not text")
    try:
        doc = json.loads(text)
    except ValueError:
        raise NotAnAlarmChange("message is not JSON") from None
    if not isinstance(doc, dict):
        raise NotAnAlarmChange("message is not a JSON object")
    return doc


def _dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise NotAnAlarmChange(f"{where} missing")
    return value


def _name(value: Any) -> str:
    name = _text(value)
    if not name or len(name) > 255:  # CloudWatch's own limit on alarm names
        raise NotAnAlarmChange("alarm name missing or too long")
    return name


def _state(value: Any) -> str:
    if value not in STATES:
        raise NotAnAlarmChange(f"state {_text(value)[:40]!r} is not an alarm state")
    return value


def _time(value: Any) -> datetime:
    """CloudWatch writes `2019-10-02T17:04:40.989+0000`; EventBridge's `time` is `2019-10-02T17:04:40Z`."""
    text = _text(value)
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"  # +0000 -> +00:00 for fromisoformat
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise NotAnAlarmChange("state-change time missing or unreadable") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text(value: Any) -> str:
    return value[:MAX_TEXT] if isinstance(value, str) else ""
