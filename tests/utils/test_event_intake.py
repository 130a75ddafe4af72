"""`setup events` against moto over HTTP: what it creates delivers alarm events; twice changes nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass

import boto3

from main import main
from utils.event_intake import DEAD_LETTER_NAME, QUEUE_NAME, RULE_NAME

ALARM_EVENT = {
    "Source": "aws.cloudwatch",
    "DetailType": "CloudWatch Alarm State Change",
    "Detail": json.dumps({"alarmName": "web-1-cpu-high", "state": {"value": "ALARM"}}),
}


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


def _setup(capsys, *extra: str) -> Done:
    """The command as a script runs it (argument parsing, dispatch, printing), in this process."""
    code = main(["setup", "events", *extra])
    out, err = capsys.readouterr()
    return Done(code, out, err)


def _client(aws_env, service: str):
    return boto3.client(service, region_name="us-east-1", endpoint_url=aws_env.url)


def test_setup_creates_a_queue_that_receives_alarm_state_changes_and_a_second_run_keeps_it(aws_env, capsys):
    first = _setup(capsys)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("create") == 5 and "queue URL: " in first.stdout

    sqs, events = _client(aws_env, "sqs"), _client(aws_env, "events")
    url = sqs.get_queue_url(QueueName=QUEUE_NAME)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(f":{DEAD_LETTER_NAME}") and int(redrive["maxReceiveCount"]) == 5
    assert json.loads(attributes["Policy"])["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"] \
        .endswith(f"rule/{RULE_NAME}")

    events.put_events(Entries=[ALARM_EVENT, {**ALARM_EVENT, "Source": "aws.ec2", "DetailType": "EC2 Spot"}])
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2)["Messages"]
    assert [json.loads(m["Body"])["detail"]["alarmName"] for m in got] == ["web-1-cpu-high"]  # only alarm changes

    second = _setup(capsys)
    assert second.returncode == 0 and "create" not in second.stdout and "update" not in second.stdout
    assert second.stdout.count("keep") == 5


def test_a_changed_queue_is_put_back_and_a_dry_run_changes_nothing(aws_env, capsys):
    dry = _setup(capsys, "--dry-run")
    assert dry.returncode == 0 and "dry run, nothing changed" in dry.stdout
    assert _client(aws_env, "sqs").list_queues().get("QueueUrls", []) == []
    assert _client(aws_env, "events").list_rules(NamePrefix=RULE_NAME)["Rules"] == []

    assert _setup(capsys).returncode == 0
    sqs = _client(aws_env, "sqs")
    url = sqs.get_queue_url(QueueName=QUEUE_NAME)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17",
                                                                             "Statement": []})})
    mended = _setup(capsys)
    assert "update  queue policy" in mended.stdout
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}


def test_remove_takes_it_all_down_and_a_second_remove_finds_nothing(aws_env, capsys):
    assert _setup(capsys).returncode == 0
    removed = _setup(capsys, "--remove")
    assert removed.returncode == 0 and removed.stdout.count("delete") == 4, removed.stdout
    assert _client(aws_env, "sqs").list_queues().get("QueueUrls", []) == []
    assert _client(aws_env, "events").list_rules(NamePrefix=RULE_NAME)["Rules"] == []
    again = _setup(capsys, "--remove")
    assert again.returncode == 0 and again.stdout.count("absent") == 3


def test_an_unreachable_endpoint_is_one_line_and_a_non_zero_exit(aws_env, capsys, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AIOPS_AWS_TIMEOUT", "2")
    done = _setup(capsys)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_with_a_dynamodb_store_setup_creates_the_shared_table_once(aws_env, capsys, monkeypatch):
    monkeypatch.setenv("AIOPS_STORE", "dynamodb:aiops-setup-test")
    dry = _setup(capsys, "--dry-run")
    assert "would create DynamoDB table aiops-setup-test" in dry.stdout
    first = _setup(capsys)
    assert first.returncode == 0 and "store: created DynamoDB table aiops-setup-test" in first.stdout
    table = _client(aws_env, "dynamodb").describe_table(TableName="aiops-setup-test")["Table"]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"gsi1", "gsi2"}
    again = _setup(capsys)
    assert "store: keep DynamoDB table aiops-setup-test" in again.stdout
    removed = _setup(capsys, "--remove")
    assert "keep DynamoDB table aiops-setup-test" in removed.stdout  # incidents are not setup's to delete
    monkeypatch.setenv("AIOPS_STORE", "mysql")
    bad = _setup(capsys)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1 and "AIOPS_STORE" in bad.stderr
