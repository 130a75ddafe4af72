"""The worker's queue against moto over HTTP: messages come once handled-and-deleted, poison goes to the DLQ."""

from __future__ import annotations

import json

import boto3

from utils.alarm_queue import AlarmQueue, region_of
from utils.config import load_settings
from utils.event_intake import DEAD_LETTER_NAME, QUEUE_NAME, set_up


def _intake(aws_env):
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=aws_env.url)
    events = boto3.client("events", region_name="us-east-1", endpoint_url=aws_env.url)
    set_up(sqs, events, "123456789012", "us-east-1", apply=True)
    return sqs, events


def _event(name: str, state: str) -> dict:
    return {"Source": "aws.cloudwatch", "DetailType": "CloudWatch Alarm State Change",
            "Detail": json.dumps({"alarmName": name, "state": {"value": state}})}


def test_messages_are_received_by_name_and_gone_once_deleted(aws_env):
    _, events = _intake(aws_env)
    events.put_events(Entries=[_event(f"a-{i}", "ALARM") for i in range(3)])
    queue = AlarmQueue(load_settings(), QUEUE_NAME)
    got = queue.receive(wait_seconds=2)
    assert sorted(json.loads(m.body)["detail"]["alarmName"] for m in got) == ["a-0", "a-1", "a-2"]
    assert all(m.receive_count == 1 for m in got)
    assert queue.delete(got) == []
    assert queue.depth() == 0 and queue.receive(wait_seconds=0) == []


def test_a_message_never_deleted_comes_back_then_lands_in_the_dead_letter_queue(aws_env):
    sqs, _ = _intake(aws_env)
    queue = AlarmQueue(load_settings(), QUEUE_NAME)
    sqs.send_message(QueueUrl=queue.url, MessageBody="not an alarm")
    counts = []
    for _ in range(6):
        counts += [m.receive_count for m in queue.receive(wait_seconds=1, visibility_seconds=0)]
    assert counts == [1, 2, 3, 4, 5]  # the sixth receive finds it gone: five receives, then the DLQ
    dlq = sqs.get_queue_url(QueueName=DEAD_LETTER_NAME)["QueueUrl"]
    kept = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in kept] == ["not an alarm"]


def test_the_region_is_read_from_an_aws_queue_url():
    assert region_of("https://sqs.eu-west-1.amazonaws.com/123456789012/aiops-alarm-events") == "eu-west-1"
    assert region_of("aiops-alarm-events") is None
    assert region_of("http://127.0.0.1:5000/123456789012/aiops-alarm-events") is None
