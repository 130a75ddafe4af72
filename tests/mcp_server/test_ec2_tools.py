"""EC2 tools through a real MCP client session against moto, asserting on the fleet afterwards."""

import pytest

from tests.helpers import ScriptedPerson, in_memory_client, state_of
from utils.audit import AuditLog


async def call(client, tool, **arguments):
    return await client.call_tool(tool, arguments)


async def test_list_instances_filters(estate):
    async with in_memory_client() as client:
        everything = (await call(client, "list_instances")).structured_content
        stopped = (await call(client, "list_instances", state="stopped")).structured_content
        prod = (await call(client, "list_instances", tags={"env": "prod"})).structured_content
        webs = (await call(client, "list_instances", name="WEB*")).structured_content
    assert everything["count"] == len(estate) == 10
    assert {i["name"] for i in stopped["instances"]} == {"worker-2", "dev-box-2"}
    assert {i["name"] for i in prod["instances"]} == {"web-server", "api-1", "api-2", "db-primary", "cache-1", "bastion"}
    assert [i["name"] for i in webs["instances"]] == ["web-server"]
    db = next(i for i in everything["instances"] if i["name"] == "db-primary")
    assert db["protected"] is True and db["env"] == "prod" and db["role"] == "db"


async def test_describe_resolves_names_loosely_and_reports_protection(estate):
    async with in_memory_client() as client:
        by_spacing = (await call(client, "describe_instance", instance="Web Server")).structured_content
        by_prefix = (await call(client, "describe_instance", instance="bast")).structured_content
    assert by_spacing["instance_id"] == estate["web-server"]
    assert by_prefix["termination_protection"] is True and by_prefix["stop_protection"] is False


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("api", "matches 2 instances"),
        ("nginx-9", "no instance named 'nginx-9'"),
        ("i-12345678", "no instance with id i-12345678"),
        ("i-zz", "not a valid instance id"),
    ],
)
async def test_bad_references_are_errors_with_candidates(estate, reference, expected):
    async with in_memory_client() as client:
        result = await call(client, "describe_instance", instance=reference)
    assert result.is_error
    assert expected in result.content[0].text


async def test_instance_status_for_named_instances(estate):
    async with in_memory_client() as client:
        result = (await call(client, "get_instance_status", instances="api-1")).structured_content
    assert [s["name"] for s in result["statuses"]] == ["api-1"]
    assert result["statuses"][0]["system_status"] in {"ok", "initializing"}


@pytest.mark.parametrize("answer", ["decline", "cancel", "accept-false"])
async def test_stop_without_a_yes_changes_nothing(estate, ec2, aws_env, answer):
    person = ScriptedPerson(answer)
    async with in_memory_client(person) as client:
        result = await call(client, "stop_instances", instances=["api-1"])
    assert result.is_error and result.structured_content["status"] == "declined"
    assert state_of(ec2, estate["api-1"]) == "running"
    assert "api-1" in person.shown[0] and estate["api-1"] in person.shown[0] and "env=prod" in person.shown[0]
    assert AuditLog(aws_env.home).recent(1)[0].decision == "declined"


async def test_stop_with_a_yes_stops_and_is_audited(estate, ec2, aws_env):
    person = ScriptedPerson("accept")
    async with in_memory_client(person) as client:
        result = await call(client, "stop_instances", instances=["api 2"])
    assert not result.is_error and result.structured_content["status"] == "ok"
    assert state_of(ec2, estate["api-2"]) in {"stopping", "stopped"}
    entry = AuditLog(aws_env.home).recent(1)[0]
    assert (entry.tool, entry.decision) == ("stop_instances", "allowed")
    assert entry.targets == [{"instance_id": estate["api-2"], "name": "api-2", "account": "default",
                              "region": "us-east-1"}]


async def test_client_without_elicitation_is_unconfirmed_not_declined(estate, ec2, aws_env):
    async with in_memory_client(None) as client:
        result = await call(client, "terminate_instances", instances=["dev-box-1"])
    assert result.is_error and result.structured_content["status"] == "unconfirmed"
    assert "confirmation required" in result.structured_content["message"]
    assert state_of(ec2, estate["dev-box-1"]) == "running"
    entry = AuditLog(aws_env.home).recent(1)[0]
    assert entry.decision == "unconfirmed" and "declined" not in entry.outcome  # nobody was asked


async def test_start_needs_no_confirmation(estate, ec2):
    async with in_memory_client(None) as client:
        result = await call(client, "start_instances", instances=["worker-2"])
    assert result.structured_content["status"] == "ok"
    assert state_of(ec2, estate["worker-2"]) in {"pending", "running"}


async def test_terminate_with_a_yes_terminates(estate, ec2):
    async with in_memory_client(ScriptedPerson("accept")) as client:
        result = await call(client, "terminate_instances", instances=[estate["dev-box-1"]])
    assert result.structured_content["status"] == "ok"
    assert state_of(ec2, estate["dev-box-1"]) in {"shutting-down", "terminated"}


async def test_reboot_with_a_yes_keeps_it_running(estate, ec2):
    async with in_memory_client(ScriptedPerson("accept")) as client:
        result = await call(client, "reboot_instances", instances=["cache-1"])
    assert result.structured_content["status"] == "ok"
    assert state_of(ec2, estate["cache-1"]) == "running"
