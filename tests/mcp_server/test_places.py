"""Two regions and two accounts through the real server over moto (DESIGN.md, "The estate").

moto keeps accounts apart by credentials: the `prod` account is reached as on AWS, sts:AssumeRole
on its role, and has its own empty state. web-1 lives in three places; a name never resolves to a
guess, a place named is never ignored, and a place that cannot be read is one `skipped` entry.
"""

from __future__ import annotations

import boto3
import pytest

from tests.helpers import ScriptedPerson, in_memory_client, state_of
from utils.audit import AuditLog
from utils.sandbox_seed import SeedInstance, seed_instances

PROD_ROLE = "arn:aws:iam::222222222222:role/aiops"
PLACES = {"regions": ["us-east-1", "eu-west-1"], "accounts": [{"name": "prod", "role_arn": PROD_ROLE}]}


class Places:
    def __init__(self, url: str):
        self.url = url
        keys = boto3.client("sts", endpoint_url=url, region_name="us-east-1").assume_role(
            RoleArn=PROD_ROLE, RoleSessionName="test")["Credentials"]
        self.prod_keys = {"aws_access_key_id": keys["AccessKeyId"], "aws_secret_access_key": keys["SecretAccessKey"],
                          "aws_session_token": keys["SessionToken"]}

    def client(self, service: str, account: str, region: str):
        keys = self.prod_keys if account == "prod" else {}
        return boto3.client(service, endpoint_url=self.url, region_name=region, **keys)


@pytest.fixture
def places(aws_env):
    """web-1 in default/us-east-1, default/eu-west-1 and prod/us-east-1; api-1 only at home."""
    estate = Places(aws_env.url)
    ids = {}
    for account, region, names in (("default", "us-east-1", ["web-1", "api-1"]), ("default", "eu-west-1", ["web-1"]),
                                   ("prod", "us-east-1", ["web-1"])):
        ids[(account, region)] = seed_instances(estate.client("ec2", account, region),
                                                [SeedInstance(n, "prod", "web") for n in names])
    estate.ids = ids
    return estate


def _rows(result) -> list[tuple[str, str, str]]:
    return sorted((r["name"], r["account"], r["region"]) for r in result.structured_content["instances"])


async def test_a_read_without_a_place_covers_every_place_and_rows_say_where(places):
    async with in_memory_client(**PLACES) as client:
        everything = await client.call_tool("list_instances", {})
        ireland = await client.call_tool("list_instances", {"region": "eu-west-1"})
        prod = await client.call_tool("list_instances", {"account": "prod", "region": "all"})
    assert _rows(everything) == [("api-1", "default", "us-east-1"), ("web-1", "default", "eu-west-1"),
                                 ("web-1", "default", "us-east-1"), ("web-1", "prod", "us-east-1")]
    assert everything.structured_content["skipped"] == []
    assert _rows(ireland) == [("web-1", "default", "eu-west-1")]
    assert _rows(prod) == [("web-1", "prod", "us-east-1")]


async def test_a_name_in_two_places_asks_which_and_a_named_region_stops_only_that_one(places, aws_env):
    person = ScriptedPerson("accept")
    async with in_memory_client(person, **PLACES) as client:
        ambiguous = await client.call_tool("stop_instances", {"instances": ["web-1"]})
        assert ambiguous.is_error and not person.shown  # nobody is asked about a guess
        message = ambiguous.structured_content["message"]
        assert "matches 3 instances" in message and "in eu-west-1, account default" in message
        assert "in us-east-1, account prod" in message
        stopped = await client.call_tool("stop_instances", {"instances": ["web-1"], "region": "eu-west-1"})
    assert stopped.structured_content["status"] == "ok"
    assert "region=eu-west-1  account=default" in person.shown[0] and len(person.shown) == 1
    ireland = places.ids[("default", "eu-west-1")]["web-1"]
    assert state_of(places.client("ec2", "default", "eu-west-1"), ireland) in {"stopping", "stopped"}
    assert state_of(places.client("ec2", "default", "us-east-1"), places.ids[("default", "us-east-1")]["web-1"]) \
        == "running"
    assert state_of(places.client("ec2", "prod", "us-east-1"), places.ids[("prod", "us-east-1")]["web-1"]) == "running"
    entry = AuditLog(aws_env.home).recent(1)[0]
    assert entry.decision == "allowed" and entry.targets == [
        {"instance_id": ireland, "name": "web-1", "account": "default", "region": "eu-west-1"}]


async def test_an_account_acts_with_its_own_credentials(places):
    async with in_memory_client(ScriptedPerson("accept"), **PLACES) as client:
        result = await client.call_tool("reboot_instances", {"instances": ["web-1"], "account": "prod"})
    assert result.structured_content["status"] == "ok"
    assert result.structured_content["targets"][0]["instance_id"] == places.ids[("prod", "us-east-1")]["web-1"]
    assert result.structured_content["targets"][0]["account"] == "prod"


async def test_an_unknown_place_is_one_line_and_never_a_wider_call(places):
    person = ScriptedPerson("accept")
    async with in_memory_client(person, **PLACES) as client:
        account = await client.call_tool("list_instances", {"account": "staging"})
        region = await client.call_tool("list_alarms", {"region": "mars-north-1"})
        stop = await client.call_tool("stop_instances", {"instances": ["api-1"], "account": "staging"})
    assert account.is_error and "UnknownPlace: no account named 'staging'" in account.content[0].text
    assert "default, prod" in account.content[0].text
    assert region.is_error and "UnknownPlace: 'mars-north-1' is not an AWS region" in region.content[0].text
    assert stop.is_error and stop.structured_content["status"] == "refused" and not person.shown
    assert state_of(places.client("ec2", "default", "us-east-1"), places.ids[("default", "us-east-1")]["api-1"]) \
        == "running"


async def test_a_place_that_fails_is_skipped_and_the_rest_answers(places):
    broken = {**PLACES, "accounts": [*PLACES["accounts"], {"name": "legacy", "profile": "no-such-profile",
                                                           "regions": ["us-east-1"]}]}
    async with in_memory_client(**broken) as client:
        listed = (await client.call_tool("list_instances", {})).structured_content
        status = (await client.call_tool("get_instance_status", {})).structured_content
        # A name cannot resolve while a place that might hold it is unread; narrowed, it can.
        unsure = await client.call_tool("describe_instance", {"instance": "api-1"})
        sure = await client.call_tool("describe_instance", {"instance": "api-1", "account": "default"})
    assert len(listed["instances"]) == 4 and len(status["statuses"]) == 4
    for result in (listed, status):
        assert [(s["account"], s["region"]) for s in result["skipped"]] == [("legacy", "us-east-1")]
        assert "ProfileNotFound" in result["skipped"][0]["reason"]
    assert unsure.is_error and "legacy" in unsure.content[0].text
    assert sure.structured_content["name"] == "api-1" and sure.structured_content["region"] == "us-east-1"


async def test_the_same_alarm_name_in_two_regions_is_two_rows(places):
    for account, region in (("default", "us-east-1"), ("default", "eu-west-1"), ("prod", "us-east-1")):
        cloudwatch = places.client("cloudwatch", account, region)
        cloudwatch.put_metric_alarm(AlarmName="queue-depth", Namespace="AWS/SQS", MetricName="ApproximateNumberOfMessagesVisible",
                                    Dimensions=[{"Name": "QueueName", "Value": "jobs"}], Statistic="Maximum",
                                    Period=60, EvaluationPeriods=1, Threshold=10,
                                    ComparisonOperator="GreaterThanThreshold")
        cloudwatch.set_alarm_state(AlarmName="queue-depth", StateValue="ALARM", StateReason="test")
    async with in_memory_client(**PLACES) as client:
        alarms = (await client.call_tool("list_alarms", {"state": "ALARM"})).structured_content
        narrowed = (await client.call_tool("list_alarms", {"region": "eu-west-1"})).structured_content
    assert sorted((a["name"], a["account"], a["region"]) for a in alarms["alarms"]) == [
        ("queue-depth", "default", "eu-west-1"), ("queue-depth", "default", "us-east-1"),
        ("queue-depth", "prod", "us-east-1")]
    assert alarms["firing"] == 3
    assert [(a["account"], a["region"]) for a in narrowed["alarms"]] == [("default", "eu-west-1")]


async def test_logs_are_searched_in_every_place_that_has_the_group(places):
    import time

    now = int(time.time() * 1000)
    for account, region, line in (("default", "eu-west-1", "ERROR eu timeout"), ("prod", "us-east-1", "ERROR prod 500")):
        logs = places.client("logs", account, region)
        logs.create_log_group(logGroupName="/app/web")
        logs.create_log_stream(logGroupName="/app/web", logStreamName="s")
        logs.put_log_events(logGroupName="/app/web", logStreamName="s", logEvents=[{"timestamp": now, "message": line}])
    async with in_memory_client(**PLACES) as client:
        found = (await client.call_tool("search_logs", {"log_group": "/app/web", "pattern": "ERROR"})).structured_content
        prod = (await client.call_tool("search_logs", {"log_group": "/app/web", "account": "prod"})).structured_content
        nowhere = await client.call_tool("search_logs", {"log_group": "/app/none"})
    assert sorted((e["message"], e["account"], e["region"]) for e in found["events"]) == [
        ("ERROR eu timeout", "default", "eu-west-1"), ("ERROR prod 500", "prod", "us-east-1")]
    assert [e["message"] for e in prod["events"]] == ["ERROR prod 500"]
    assert nowhere.is_error and "does not exist" in nowhere.content[0].text


async def test_evidence_finds_its_alarm_in_whichever_place_holds_it(places):
    cw = places.client("cloudwatch", "prod", "us-east-1")
    cw.put_metric_alarm(AlarmName="prod-only-errors", Namespace="AWS/Lambda", MetricName="Errors", Statistic="Sum",
                        Dimensions=[{"Name": "FunctionName", "Value": "payments"}], Period=60, EvaluationPeriods=1,
                        Threshold=1.0, ComparisonOperator="GreaterThanThreshold")
    async with in_memory_client(**PLACES) as client:
        found = await client.call_tool("get_alarm_evidence", {"alarm": "prod-only-errors", "seconds": 20})
        named_wrong = await client.call_tool("get_alarm_evidence", {"alarm": "prod-only-errors", "account": "default",
                                                                    "region": "us-east-1", "seconds": 20})
    assert not found.is_error and found.structured_content["resource_id"] == "payments"
    assert named_wrong.is_error and "no alarm named 'prod-only-errors'" in named_wrong.content[0].text  # never elsewhere
