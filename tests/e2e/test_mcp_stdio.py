"""`python main.py mcp` over stdio, as any MCP client sees it: a real subprocess and the real protocol."""

import os
import sys

import mcp.types as mcp_types
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from agent.mcp_client import ConfirmationRequest
from tests.helpers import REPO, ScriptedPerson, state_of

pytestmark = pytest.mark.e2e


def server(env: dict, *flags: str) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=[str(REPO / "main.py"), *flags, "mcp"],
                                 env={**os.environ, **env}, cwd=str(REPO))


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-07-28 input-required rounds, and the older handshake
async def test_stdio_catalog_guards_and_confirmation(estate, aws_env, ec2, mode):
    person = ScriptedPerson("accept")
    async with Client(server(aws_env.env), elicitation_callback=person, mode=mode) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        listed = await client.call_tool("list_instances", {"state": "stopped"})
        protected = await client.call_tool("terminate_instances", {"instances": ["db-primary"]})
        stopped = await client.call_tool("stop_instances", {"instances": ["api-1"]})
    assert len(tools) == 14 and "list_log_groups" in tools
    assert {i["name"] for i in listed.structured_content["instances"]} == {"worker-2", "dev-box-2"}
    assert protected.structured_content["status"] == "refused"
    assert stopped.structured_content["status"] == "ok" and len(person.shown) == 1
    assert state_of(ec2, estate["api-1"]) in {"stopping", "stopped"}
    assert state_of(ec2, estate["db-primary"]) == "running"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_stdio_confirmation_carries_its_facts_as_data(estate, aws_env, ec2, mode):
    asked: list[ConfirmationRequest] = []

    async def person(_ctx, params):
        asked.append(ConfirmationRequest.from_params(params))
        return mcp_types.ElicitResult(action="decline")

    async with Client(server(aws_env.env), elicitation_callback=person, mode=mode) as client:
        declined = await client.call_tool("reboot_instances", {"instances": ["web-server"]})
    assert declined.structured_content["status"] == "declined"
    (request,) = asked
    assert (request.action, request.tool, request.risk, request.production) == (
        "reboot", "reboot_instances", "HIGH", True)
    assert [(t.instance_id, t.name, t.state, t.env) for t in request.targets] == [
        (estate["web-server"], "web-server", "running", "prod")]
    assert "REBOOT 1 instance(s):" in request.message  # the same facts in words, for other clients
    assert state_of(ec2, estate["web-server"]) == "running"


async def test_stdio_client_without_elicitation_cannot_stop_anything(estate, aws_env, ec2):
    async with Client(server(aws_env.env)) as client:
        result = await client.call_tool("stop_instances", {"instances": ["web-server"]})
    assert result.is_error and "confirmation required" in result.structured_content["message"]
    assert state_of(ec2, estate["web-server"]) == "running"


async def test_sandbox_server_serves_its_own_emulator(tmp_path):
    async with Client(server({"AIOPS_HOME": str(tmp_path)}, "--sandbox")) as client:
        result = await client.call_tool("list_instances", {})
    # Its own places: ten instances at home, web-1 in the second region, web-1 and batch-1 in prod.
    assert result.structured_content["count"] == 13
    places = {(i["account"], i["region"]) for i in result.structured_content["instances"]}
    assert places == {("default", "us-east-1"), ("default", "eu-west-1"), ("prod", "us-east-1")}


async def test_stdio_a_sealed_consent_is_good_for_one_call(estate, aws_env, ec2):
    async def never_asked(_ctx, _params):
        raise AssertionError("the replay must not be answered by asking again")

    async with Client(server(aws_env.env), elicitation_callback=never_asked) as client:
        await client.list_tools()
        asked = await client.session.call_tool("stop_instances", {"instances": ["api-1"]}, allow_input_required=True)
        yes = {key: mcp_types.ElicitResult(action="accept", content={"confirm": True}) for key in asked.input_requests}
        first = await client.session.call_tool("stop_instances", {"instances": ["api-1"]}, input_responses=yes,
                                               request_state=asked.request_state, allow_input_required=True)
        ec2.start_instances(InstanceIds=[estate["api-1"]])
        replay = await client.session.call_tool("stop_instances", {"instances": ["api-1"]}, input_responses=yes,
                                                request_state=asked.request_state, allow_input_required=True)
    assert first.structured_content["status"] == "ok"
    assert replay.structured_content["status"] == "refused" and "already used" in replay.structured_content["message"]
    assert state_of(ec2, estate["api-1"]) in {"pending", "running"}


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_stdio_guards_again_after_the_answer_and_a_late_yes_is_no(estate, aws_env, ec2, mode):
    import asyncio

    async def protect_then_accept(_ctx, _params):
        ec2.create_tags(Resources=[estate["api-1"]], Tags=[{"Key": "aiops:protected", "Value": "true"}])
        return mcp_types.ElicitResult(action="accept", content={"confirm": True})

    async def slow_yes(_ctx, _params):
        await asyncio.sleep(2.5)
        return mcp_types.ElicitResult(action="accept", content={"confirm": True})

    async with Client(server(aws_env.env), elicitation_callback=protect_then_accept, mode=mode) as client:
        protected = await client.call_tool("stop_instances", {"instances": ["api-1"]})
    env = {**aws_env.env, "AIOPS_CONFIRM_TIMEOUT": "1"}
    async with Client(server(env), elicitation_callback=slow_yes, mode=mode) as client:
        late = await client.call_tool("reboot_instances", {"instances": ["worker-1"]})
    assert protected.structured_content["status"] == "refused"
    assert late.structured_content["status"] == "unconfirmed"
    assert state_of(ec2, estate["api-1"]) == "running"
    from utils.audit import AuditLog

    assert [r.decision for r in reversed(AuditLog(aws_env.home).recent(10))] == ["refused", "unconfirmed"]
