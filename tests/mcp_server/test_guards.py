"""Every guard refuses server-side, leaves the fleet as it was, and writes the audit log."""

import pytest

from tests.helpers import ScriptedPerson, in_memory_client, state_of
from utils.audit import AuditLog


async def stop(client, *names, tool="stop_instances", **extra):
    return await client.call_tool(tool, {"instances": list(names), **extra})


def assert_refused(result, fragment):
    assert result.is_error
    assert result.structured_content["status"] == "refused"
    assert fragment in result.structured_content["message"]


async def test_read_only_refuses_even_with_a_yes(estate, ec2, aws_env):
    person = ScriptedPerson("accept")
    async with in_memory_client(person, read_only=True) as client:
        result = await stop(client, "web-server")
        start = await stop(client, "worker-2", tool="start_instances")
        listing = await client.call_tool("list_instances", {})
    assert_refused(result, "read-only")
    assert_refused(start, "read-only")
    assert not listing.is_error
    assert person.shown == []  # refused before anyone was asked
    assert state_of(ec2, estate["web-server"]) == "running"
    assert state_of(ec2, estate["worker-2"]) == "stopped"
    assert [e.decision for e in AuditLog(aws_env.home).recent(5)] == ["refused", "refused"]


@pytest.mark.parametrize("tool", ["stop_instances", "reboot_instances", "terminate_instances"])
async def test_protected_tag_refuses(estate, ec2, tool):
    async with in_memory_client(ScriptedPerson("accept")) as client:
        result = await stop(client, "db-primary", tool=tool)
    assert_refused(result, "aiops:protected=true")
    assert state_of(ec2, estate["db-primary"]) == "running"


async def test_termination_protection_refuses(estate, ec2):
    async with in_memory_client(ScriptedPerson("accept")) as client:
        result = await stop(client, "bastion", tool="terminate_instances")
    assert_refused(result, "termination protection")
    assert state_of(ec2, estate["bastion"]) == "running"


async def test_ec2_protections_keep_their_aws_meaning_and_never_block_a_reboot(estate, ec2):
    ec2.modify_instance_attribute(InstanceId=estate["cache-1"], DisableApiStop={"Value": True})
    async with in_memory_client(ScriptedPerson("accept")) as client:
        reboot_guarded = await stop(client, "bastion", "cache-1", tool="reboot_instances")
        terminate_stop_guarded = await stop(client, "cache-1", tool="terminate_instances", dry_run=True)
    assert reboot_guarded.structured_content["status"] == "ok"
    assert terminate_stop_guarded.structured_content["status"] == "dry_run"


async def test_stop_protection_refuses(estate, ec2):
    ec2.modify_instance_attribute(InstanceId=estate["cache-1"], DisableApiStop={"Value": True})
    async with in_memory_client(ScriptedPerson("accept")) as client:
        result = await stop(client, "cache-1")
    assert_refused(result, "stop protection")
    assert state_of(ec2, estate["cache-1"]) == "running"


async def test_protection_of_one_target_refuses_the_whole_call(estate, ec2):
    async with in_memory_client(ScriptedPerson("accept")) as client:
        result = await stop(client, "api-1", "db-primary")
    assert_refused(result, "db-primary")
    assert state_of(ec2, estate["api-1"]) == "running"


async def test_blast_radius_refuses_more_than_the_limit(estate, ec2):
    person = ScriptedPerson("accept")
    async with in_memory_client(person, max_targets=2) as client:
        result = await stop(client, "api-1", "api-2", "web-server")
        started = await stop(client, "worker-2", "dev-box-2", "worker-1", tool="start_instances")
    assert_refused(result, "blast radius: 3 instances")
    assert_refused(started, "blast radius")
    assert person.shown == []
    assert all(state_of(ec2, estate[n]) == "running" for n in ("api-1", "api-2", "web-server"))


async def test_blast_radius_comes_from_the_environment(estate, monkeypatch):
    monkeypatch.setenv("AIOPS_MAX_TARGETS", "1")
    async with in_memory_client(ScriptedPerson("accept")) as client:
        result = await stop(client, "api-1", "api-2")
    assert_refused(result, "limit of 1")


async def test_dry_run_changes_nothing_and_asks_nothing(estate, ec2, aws_env):
    person = ScriptedPerson("decline")
    async with in_memory_client(person) as client:
        result = await stop(client, "api-1", dry_run=True)
    assert not result.is_error
    assert result.structured_content["status"] == "dry_run"
    assert "would allow" in result.structured_content["message"]
    assert person.shown == []
    assert state_of(ec2, estate["api-1"]) == "running"
    assert AuditLog(aws_env.home).recent(1)[0].decision == "dry-run"  # the documented word


async def test_dry_run_still_respects_guards(estate):
    async with in_memory_client(ScriptedPerson("accept")) as client:
        result = await stop(client, "db-primary", dry_run=True)
    assert_refused(result, "protected")


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"instances": []}, "no instances given"),
        ({"instances": ["  "]}, "no instances given"),
        ({"instances": ["i-nothex!"]}, "not a valid instance id"),
        ({"instances": ["no-such-box"]}, "no instance named"),
    ],
)
async def test_bad_targets_are_refused_and_audited(estate, aws_env, arguments, fragment):
    async with in_memory_client(ScriptedPerson("accept")) as client:
        result = await client.call_tool("stop_instances", arguments)
    assert_refused(result, fragment)
    assert AuditLog(aws_env.home).recent(1)[0].decision == "refused"


async def test_wrong_argument_types_are_tool_errors(estate, ec2):
    async with in_memory_client(ScriptedPerson("accept")) as client:
        result = await client.call_tool("stop_instances", {"instances": 42})
    assert result.is_error
    assert all(state_of(ec2, i) in {"running", "stopped"} for i in estate.values())


async def test_unwritable_home_fails_closed(estate, ec2, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where AIOPS_HOME should be a folder")
    async with in_memory_client(None, home=blocker / "home") as client:
        result = await stop(client, "worker-2", tool="start_instances")
        listing = await client.call_tool("list_instances", {})
    assert_refused(result, "audit log")
    assert not listing.is_error
    assert state_of(ec2, estate["worker-2"]) == "stopped"
