"""The Ollama planner against a fake Ollama that speaks the real /api/chat NDJSON protocol.

Nothing is patched: ChatOllama and the ollama client talk HTTP to tests/fake_ollama.py, and
each case checks the ModelPlan the ChatOps core (and so the user) would get.
"""

from __future__ import annotations

import socket
import time

import mcp.types as mcp_types
import pytest
from pydantic import BaseModel, Field

from agent.model.planner import ModelPlan, OllamaPlanner
from agent.planner.types import PlannedCall
from tests.agent.planner.fleets import generated_fleet, sandbox_fleet
from tests.fake_ollama import FakeOllama, Reply

MODEL = "llama3.1:8b"


# Input schemas written the way the MCP server's tools produce them (Pydantic, Optional as anyOf).
class ListInstances(BaseModel):
    name: str | None = Field(None, description="Glob on the Name tag")
    state: str | None = Field(None, description="Only this state: running, stopped...")
    tags: dict[str, str] | None = Field(None, description="Only instances with these tags")


class InstanceAction(BaseModel):
    instances: list[str] = Field(description="Instance ids (i-...) or Name tags")
    dry_run: bool = Field(False, description="true: only check whether EC2 would allow it")


class DescribeInstance(BaseModel):
    instance: str = Field(description="One instance id (i-...) or Name tag")


class SearchLogs(BaseModel):
    log_group: str = Field(description="CloudWatch Logs group")
    pattern: str = Field("", description="CloudWatch filter pattern")
    minutes: int = Field(60, description="How far back to search, in minutes")


def _tool(name: str, args: type[BaseModel], kind: str) -> mcp_types.Tool:
    hints = mcp_types.ToolAnnotations(read_only_hint=kind == "read", destructive_hint=kind == "destructive")
    return mcp_types.Tool(name=name, description=f"{name.replace('_', ' ')}.", input_schema=args.model_json_schema(),
                          annotations=hints)


TOOLS = [
    _tool("list_instances", ListInstances, "read"),
    _tool("describe_instance", DescribeInstance, "read"),
    _tool("start_instances", InstanceAction, "mutating"),
    _tool("stop_instances", InstanceAction, "destructive"),
    _tool("search_logs", SearchLogs, "read"),
]
FLEET = sandbox_fleet()


@pytest.fixture
def ollama():
    with FakeOllama(models=[MODEL]) as server:
        yield server


@pytest.fixture
def planner(ollama) -> OllamaPlanner:
    return OllamaPlanner(ollama.url, MODEL, timeout=5)


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed on return: nothing listens there


def _call(tool: str, **arguments) -> ModelPlan:
    return ModelPlan(call=PlannedCall(tool=tool, arguments=arguments, planner="ollama"))


async def test_a_proper_tool_call_becomes_the_plan(ollama, planner):
    ollama.script(Reply.tool_call("list_instances", {"state": "running"}))
    assert await planner.plan("show me the running instances", TOOLS, FLEET) == _call("list_instances",
                                                                                     state="running")


async def test_korean_request_gets_an_english_prompt_and_the_bound_tools(ollama, planner):
    ollama.script(Reply.tool_call("start_instances", {"instances": ["web-1"]}))
    plan = await planner.plan("웹 서버 시작해줘", TOOLS, FLEET)
    assert plan == _call("start_instances", instances=["web-1"])
    sent = ollama.chat_requests()[0]
    system, user = sent["messages"][0], sent["messages"][1]
    assert system["role"] == "system" and system["content"].isascii() and "Korean" in system["content"]
    assert user == {"role": "user", "content": "웹 서버 시작해줘"}
    assert [t["function"]["name"] for t in sent["tools"]] == [t.name for t in TOOLS]
    assert sent["model"] == MODEL and sent["stream"] is True and sent["options"]["temperature"] == 0


async def test_bound_tools_keep_optional_types_and_mark_destructive_ones(ollama, planner):
    ollama.script(Reply.tool_call("list_instances"))
    await planner.plan("list", TOOLS, FLEET)
    tools = {t["function"]["name"]: t["function"] for t in ollama.chat_requests()[0]["tools"]}
    # Pydantic's anyOf-with-null would reach Ollama with no type at all; the planner flattens it.
    assert tools["list_instances"]["parameters"]["properties"]["state"]["type"] == "string"
    assert tools["list_instances"]["parameters"]["properties"]["tags"]["type"] == "object"
    assert tools["stop_instances"]["parameters"]["required"] == ["instances"]
    assert tools["stop_instances"]["description"].startswith("DESTRUCTIVE")
    assert not tools["start_instances"]["description"].startswith("DESTRUCTIVE")


async def test_prompt_carries_inventory_and_log_groups_capped(ollama, planner):
    ollama.script(Reply.tool_call("list_instances"), Reply.tool_call("list_instances"))
    await planner.plan("list", TOOLS, FLEET)
    await planner.plan("list", TOOLS, generated_fleet(100))
    small, big = (r["messages"][0]["content"] for r in ollama.chat_requests())
    web = next(i for i in FLEET.instances if i.name == "web-1")
    assert f"web-1 | {web.instance_id} | running | env=prod | role=web" in small
    assert "/aws/ec2/web" in small and "$inventory" not in small
    assert "100 instances" in big and "and 40 more" in big
    assert big.count(" | env=") == 60


STRING_ARGUMENTS = ('{"model":"llama3.1:8b","message":{"role":"assistant","content":"","tool_calls":'
                    '[{"function":{"name":"list_instances","arguments":"{\\"state\\": \\"running\\"}"}}]},'
                    '"done":true,"done_reason":"stop"}')


@pytest.mark.parametrize("reply", [Reply.malformed(), Reply.raw(STRING_ARGUMENTS)], ids=["cut-line", "string-args"])
async def test_malformed_json_falls_back(ollama, planner, reply):
    # ollama-python types arguments as an object, so a string there fails before langchain sees it.
    ollama.script(reply)
    plan = await planner.plan("list instances", TOOLS, FLEET)
    assert plan == ModelPlan(fallback_reason="model returned malformed JSON")


async def test_call_written_as_json_text_is_used_and_broken_json_text_falls_back(ollama, planner):
    ollama.script(Reply.text('{"name": "list_instances", "parameters": {"state": "stopped"}}'),
                  Reply.text('{"name": "list_instances", "parameters": {"state": '))
    assert await planner.plan("stopped ones", TOOLS, FLEET) == _call("list_instances", state="stopped")
    plan = await planner.plan("stopped ones", TOOLS, FLEET)
    assert plan.call is None and "malformed" in plan.fallback_reason


async def test_hallucinated_tool_falls_back(ollama, planner):
    ollama.script(Reply.tool_call("restart_server", {"name": "web-1"}))
    plan = await planner.plan("restart the web server", TOOLS, FLEET)
    assert plan == ModelPlan(fallback_reason="model chose unknown tool 'restart_server'")


@pytest.mark.parametrize("arguments, needle", [
    ({"instances": 5}, "instances: 5 is not of type 'array'"),
    ({}, "'instances' is a required property"),
    ({"instances": [""]}, "instances must be instance ids or Names"),
    ({"instances": ["web-1"], "force": True}, "unexpected argument 'force'"),
])
async def test_arguments_failing_validation_fall_back(ollama, planner, arguments, needle):
    ollama.script(Reply.tool_call("stop_instances", arguments))
    plan = await planner.plan("stop web-1", TOOLS, FLEET)
    assert plan.call is None and plan.fallback_reason.startswith("arguments failed validation: ")
    assert needle in plan.fallback_reason


@pytest.mark.parametrize("tool, sent, planned", [
    ("stop_instances", {"instances": "web-1"}, {"instances": ["web-1"]}),
    ("stop_instances", {"instances": '["web-1", "web-2"]'}, {"instances": ["web-1", "web-2"]}),
    ("stop_instances", {"parameters": {"instances": ["web-1"]}}, {"instances": ["web-1"]}),
    ("search_logs", {"log_group": "/app/api", "minutes": "30", "pattern": ""}, {"log_group": "/app/api", "minutes": 30}),
    ("list_instances", {"state": "running", "name": None, "tags": {}}, {"state": "running"}),
])
async def test_unambiguous_small_model_slips_are_repaired(ollama, planner, tool, sent, planned):
    ollama.script(Reply.tool_call(tool, sent))
    assert await planner.plan("do it", TOOLS, FLEET) == _call(tool, **planned)


async def test_text_instead_of_a_tool_call_falls_back(ollama, planner):
    ollama.script(Reply.text("Sure! I would list your instances with the list_instances tool."))
    plan = await planner.plan("list instances", TOOLS, FLEET)
    assert plan == ModelPlan(fallback_reason="model answered with text instead of a tool call")


async def test_several_calls_in_one_turn(ollama, planner):
    ollama.script(Reply.calls([("stop_instances", {"instances": ["web-1"]}), ("stop_instances", {"instances": ["web-2"]})]),
                  Reply.calls([("list_instances", {"state": "stopped"}), ("stop_instances", {"instances": ["web-2"]})]))
    plan = await planner.plan("stop web-1 and web-2", TOOLS, FLEET)
    assert plan == ModelPlan(fallback_reason="model made 2 tool calls in one turn")
    assert await planner.plan("list stopped, then stop", TOOLS, FLEET) == _call("list_instances", state="stopped")


async def test_a_reply_slower_than_the_timeout_falls_back_in_time(ollama):
    ollama.script(Reply.tool_call("list_instances", delay=2))
    planner = OllamaPlanner(ollama.url, MODEL, timeout=0.5)
    started = time.monotonic()
    plan = await planner.plan("list instances", TOOLS, FLEET)
    assert plan == ModelPlan(fallback_reason="timed out after 0.5s")
    assert time.monotonic() - started < 1.2


async def test_ollama_down_falls_back_fast_without_leaking_credentials(closed_port):
    planner = OllamaPlanner(f"http://admin:s3cret@127.0.0.1:{closed_port}", MODEL, timeout=5)
    started = time.monotonic()
    plan = await planner.plan("list instances", TOOLS, FLEET)
    assert plan == ModelPlan(fallback_reason=f"Ollama not reachable at http://127.0.0.1:{closed_port}")
    assert time.monotonic() - started < 1.0


async def test_model_not_pulled_says_how_to_pull_it(ollama):
    planner = OllamaPlanner(ollama.url, "qwen2.5:7b", timeout=5)
    plan = await planner.plan("list instances", TOOLS, FLEET)
    assert plan == ModelPlan(fallback_reason="model qwen2.5:7b is not pulled (ollama pull qwen2.5:7b)")


async def test_server_errors_fall_back_with_ollamas_message(ollama, planner):
    ollama.script(Reply.server_error("llama runner process has terminated: signal: killed"),
                  Reply.stream_error("an error was encountered while running the model: CUDA error"),
                  Reply.http_error(400, 'registry.ollama.ai/library/gemma:2b does not support tools'))
    first, second, third = [await planner.plan("list", TOOLS, FLEET) for _ in range(3)]
    assert first.fallback_reason == "Ollama error 500: llama runner process has terminated: signal: killed"
    assert "CUDA error" in second.fallback_reason
    assert third.fallback_reason == f"model {MODEL} does not support tool calling; choose one that does (e.g. llama3.1:8b)"


async def test_multi_step_sends_earlier_results_and_ends_in_words(ollama, planner):
    listed = PlannedCall(tool="list_instances", arguments={"state": "stopped"}, planner="ollama")
    summary = "1 instance: dev-box-2 (i-4be17bec2c6113c18) stopped, env=dev"
    ollama.script(Reply.tool_call("start_instances", {"instances": ["dev-box-2"]}),
                  Reply.text("dev-box-2 is starting."))
    steps = [(listed, summary)]
    assert await planner.plan("start whatever is stopped", TOOLS, FLEET, steps) == _call(
        "start_instances", instances=["dev-box-2"])
    started = PlannedCall(tool="start_instances", arguments={"instances": ["dev-box-2"]}, planner="ollama")
    plan = await planner.plan("start whatever is stopped", TOOLS, FLEET, [*steps, (started, "dev-box-2: pending")])
    assert plan == ModelPlan(final_text="dev-box-2 is starting.")
    messages = ollama.chat_requests()[0]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool"]
    assert messages[2]["tool_calls"][0]["function"] == {"name": "list_instances", "arguments": {"state": "stopped"}}
    assert summary in messages[3]["content"] and "data, not instructions" in messages[3]["content"]


async def test_repeating_an_earlier_call_falls_back(ollama, planner):
    listed = PlannedCall(tool="list_instances", arguments={"state": "stopped"}, planner="ollama")
    ollama.script(Reply.tool_call("list_instances", {"state": "stopped"}))
    plan = await planner.plan("start whatever is stopped", TOOLS, FLEET, [(listed, "none")])
    assert plan == ModelPlan(fallback_reason="model repeated its earlier list_instances call")


async def test_probe_reports_ready_missing_model_and_unreachable(ollama, closed_port):
    assert await OllamaPlanner(ollama.url, MODEL, timeout=5).probe() is None
    missing = await OllamaPlanner(ollama.url, "llama3.1:70b", timeout=5).probe()
    assert missing == "model llama3.1:70b is not pulled (ollama pull llama3.1:70b)"
    started = time.monotonic()
    down = await OllamaPlanner(f"127.0.0.1:{closed_port}", MODEL, timeout=5).probe()
    assert down == f"Ollama not reachable at http://127.0.0.1:{closed_port}"
    assert time.monotonic() - started < 1.5


async def test_probe_resolves_an_untagged_model_name_to_latest():
    with FakeOllama(models=["mistral:latest"]) as server:
        assert await OllamaPlanner(server.url, "mistral", timeout=5).probe() is None
        assert await OllamaPlanner(server.url, "mistral:7b", timeout=5).probe() is not None


def test_from_settings_uses_host_model_and_timeout():
    from utils.config import Settings

    settings = Settings(ollama_host="ollama.lan", model="qwen2.5:7b", ollama_timeout_seconds=12)
    planner = OllamaPlanner.from_settings(settings)
    assert (planner.host, planner.model, planner.timeout) == ("http://ollama.lan:11434", "qwen2.5:7b", 12)
