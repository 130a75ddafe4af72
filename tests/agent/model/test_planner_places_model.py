"""The model path and place words: the tools' `region`/`account` reach the model typed, the prompt says
when to fill them and which accounts exist, and a city the model writes for a region becomes its code."""

from __future__ import annotations

import mcp.types as mcp_types
import pytest
from pydantic import BaseModel, Field

from agent.model.planner import OllamaPlanner, system_prompt
from agent.planner.types import PlannedCall
from tests.agent.planner.fleets_places import placed_id, places_fleet
from tests.fake_ollama import FakeOllama, Reply

MODEL = "llama3.1:8b"


# The place arguments as the server declares them: optional, described for the model.
class Placed(BaseModel):
    region: str | None = Field(None, description='A region name such as eu-west-1, or "all"; default: every '
                                                 "configured region")
    account: str | None = Field(None, description="A configured account name; default: every account")


class ListInstances(Placed):
    state: str | None = Field(None, description="Only this state")


class StopInstances(Placed):
    instances: list[str] = Field(description="Instance ids (i-...) or Name tags")


TOOLS = [
    mcp_types.Tool(name="list_instances", description="List instances.", input_schema=ListInstances.model_json_schema(),
                   annotations=mcp_types.ToolAnnotations(read_only_hint=True)),
    mcp_types.Tool(name="stop_instances", description="Stop instances.", input_schema=StopInstances.model_json_schema(),
                   annotations=mcp_types.ToolAnnotations(destructive_hint=True)),
]
FLEET = places_fleet()


@pytest.fixture
def ollama():
    with FakeOllama(models=[MODEL]) as server:
        yield server


async def test_place_arguments_reach_the_model_typed_and_described(ollama):
    ollama.script(Reply.tool_call("list_instances", {"region": "all"}))
    plan = await OllamaPlanner(ollama.url, MODEL, timeout=5).plan("list instances in all regions", TOOLS, FLEET)
    assert plan.call == PlannedCall(tool="list_instances", arguments={"region": "all"}, planner="ollama")
    bound = {t["function"]["name"]: t["function"] for t in ollama.chat_requests()[0]["tools"]}
    for tool in ("list_instances", "stop_instances"):
        props = bound[tool]["parameters"]["properties"]
        assert props["region"]["type"] == props["account"]["type"] == "string"
        assert "eu-west-1" in props["region"]["description"] and "account" in props["account"]["description"]


async def test_a_city_the_model_writes_for_a_region_becomes_its_code(ollama):
    ollama.script(Reply.tool_call("stop_instances", {"instances": [placed_id("web-1", "default", "eu-west-1")],
                                                     "region": "Ireland"}))
    plan = await OllamaPlanner(ollama.url, MODEL, timeout=5).plan("stop web-1 in ireland", TOOLS, FLEET)
    assert plan.call.arguments["region"] == "eu-west-1"


def test_the_prompt_says_when_to_fill_places_and_lists_accounts_regions_and_where_each_instance_is():
    prompt = system_prompt(FLEET)
    assert prompt.isascii()
    assert "`region`" in prompt and "`account`" in prompt and '"all"' in prompt
    assert "Accounts: default, prod" in prompt and "Regions: us-east-1, eu-west-1" in prompt
    web = placed_id("web-1", "default", "eu-west-1")
    assert f"web-1 | {web} | running | env=prod | role=web | region=eu-west-1 | account=default" in prompt
