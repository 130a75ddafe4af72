"""Both envelopes AWS pushes alarm changes in, read the same way; anything else is refused by name."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from agent.monitor.alarm_events import NotAnAlarmChange, parse_message

# As AWS documents them (EventBridge "CloudWatch Alarm State Change"; an alarm's SNS notification).
EVENT = {
    "version": "0", "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92", "detail-type": "CloudWatch Alarm State Change",
    "source": "aws.cloudwatch", "account": "123456789012", "time": "2026-12-02T07:04:40Z", "region": "eu-west-1",
    "resources": ["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:orders-db-cpu"],
    "detail": {
        "alarmName": "orders-db-cpu",
        "state": {"value": "ALARM", "reason": "Threshold Crossed: 1 datapoint [93.0] was >= 80.0",
                  "timestamp": "2026-12-02T07:04:40.985+0000"},
        "previousState": {"value": "OK", "reason": "ok", "timestamp": "2026-12-01T07:00:00.000+0000"},
        "configuration": {"description": "RDS CPU high", "metrics": [{
            "id": "m1", "returnData": True,
            "metricStat": {"metric": {"namespace": "AWS/RDS", "name": "CPUUtilization",
                                      "dimensions": {"DBInstanceIdentifier": "orders-db"}},
                           "period": 300, "stat": "Average"}}]},
    },
}
SNS_ALARM = {
    "AlarmName": "web-1-cpu-high", "AlarmDescription": "CPU on web-1", "AWSAccountId": "222222222222",
    "NewStateValue": "OK", "NewStateReason": "Threshold Crossed: back under", "OldStateValue": "ALARM",
    "StateChangeTime": "2026-12-02T07:10:00.000+0000", "Region": "US East (N. Virginia)",
    "AlarmArn": "arn:aws:cloudwatch:us-east-1:222222222222:alarm:web-1-cpu-high",
    "Trigger": {"MetricName": "CPUUtilization", "Namespace": "AWS/EC2", "Statistic": "AVERAGE",
                "Dimensions": [{"value": "i-0abc1234def567890", "name": "InstanceId"}], "Period": 300},
}


def test_an_eventbridge_event_gives_the_alarm_its_resource_and_its_own_change_time():
    change = parse_message(json.dumps(EVENT))
    assert (change.name, change.state, change.previous) == ("orders-db-cpu", "ALARM", "OK")
    assert (change.region, change.account_id) == ("eu-west-1", "123456789012")
    assert change.changed_at == datetime(2026, 12, 2, 7, 4, 40, 985000, tzinfo=UTC)
    row = change.as_alarm_row("default")
    assert row["dimensions"] == {"DBInstanceIdentifier": "orders-db"} and row["metric"] == "CPUUtilization"
    assert row["instance_id"] is None and row["account"] == "default"


def test_an_sns_notification_and_its_raw_delivery_read_the_same():
    wrapped = parse_message(json.dumps({"Type": "Notification", "MessageId": "m", "Subject": "OK: web-1",
                                        "Message": json.dumps(SNS_ALARM)}))
    raw = parse_message(json.dumps(SNS_ALARM))
    assert wrapped == raw
    assert (raw.state, raw.region, raw.account_id) == ("OK", "us-east-1", "222222222222")  # region from the ARN
    assert raw.as_alarm_row()["instance_id"] == "i-0abc1234def567890"


def test_a_metric_math_alarm_has_no_single_metric():
    event = json.loads(json.dumps(EVENT))
    event["detail"]["configuration"]["metrics"] = [
        {"id": "e1", "expression": "m1+m2", "returnData": True},
        {"id": "m1", "metricStat": {"metric": {"namespace": "A", "name": "x", "dimensions": {}}}},
        {"id": "m2", "metricStat": {"metric": {"namespace": "A", "name": "y", "dimensions": {}}}},
    ]
    change = parse_message(json.dumps(event))
    assert change.metric is None and change.dimensions == {}


@pytest.mark.parametrize("body, why", [
    ("not json", "not JSON"),
    ("[1, 2]", "not a JSON object"),
    (json.dumps({"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification"}), "event"),
    (json.dumps({**EVENT, "detail": {"alarmName": "x", "state": {"value": "ON_FIRE", "timestamp": EVENT["time"]}}}),
     "not an alarm state"),
    (json.dumps({**EVENT, "detail": {"alarmName": "x", "state": {"value": "OK", "timestamp": "yesterday"}},
                 "time": None}), "unreadable"),
    (json.dumps({"Type": "Notification", "Message": "{}"}), "alarm name missing"),
    (json.dumps({"hello": "world"}), "neither"),
    ("x" * (300 * 1024), "larger"),
])
def test_anything_else_is_refused_with_a_reason(body, why):
    with pytest.raises(NotAnAlarmChange, match=why):
        parse_message(body)
