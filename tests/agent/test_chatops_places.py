"""ChatOps and places: the configured accounts and regions reach the planner, and a model's action
aimed at another place than the request names is not taken (the injection guard, per place)."""

from types import SimpleNamespace

from agent.chatops import ChatOps, configured_places
from agent.mcp_client import open_session
from agent.model.planner import ModelPlan
from agent.planner.types import PlannedCall
from utils.config import load_settings


class ScriptedModel:
    """Stands in for the model only; the thing under test is ChatOps' handling of what it proposes."""

    def __init__(self, plan: ModelPlan):
        self._plan = plan

    async def plan(self, *_args, **_kwargs) -> ModelPlan:
        return self._plan


def test_configured_places_name_the_session_default_unless_an_entry_does():
    roles = SimpleNamespace(regions=["us-east-1", "eu-west-1"], accounts=[
        SimpleNamespace(name="prod", role_arn="arn:aws:iam::222222222222:role/aiops-sandbox", profile=None)])
    assert configured_places(roles) == {"accounts": ["default", "prod"], "regions": ["us-east-1", "eu-west-1"]}
    own = SimpleNamespace(regions=[], accounts=[{"name": "main"}, {"name": "prod", "profile": "prod"}])
    assert configured_places(own) == {"accounts": ["main", "prod"], "regions": []}
    assert configured_places(SimpleNamespace()) == {"accounts": [], "regions": []}


async def test_the_planner_knows_the_configured_accounts(estate):
    async with open_session(load_settings()) as session:
        chat = ChatOps(session, accounts=["default", "prod"], regions=["us-east-1", "eu-west-1"])
        unknown = await chat.plan("show alarms in the staging account")
        prod = await chat.plan("프로덕션 계정 알람 보여줘")
    assert unknown.call is None and unknown.clarification.candidates == ["default", "prod"]
    assert prod.call == PlannedCall(tool="list_alarms", arguments={"account": "prod"})


async def test_a_model_action_in_another_region_than_asked_is_not_taken(estate):
    elsewhere = ModelPlan(call=PlannedCall(tool="stop_instances", planner="ollama",
                                           arguments={"instances": [estate["web-server"]], "region": "us-east-1"}))
    async with open_session(load_settings()) as session:
        plan = await ChatOps(session, ScriptedModel(elsewhere)).plan("stop web-server in eu-west-1")
    assert plan.planner == "rules" and "does not ask for" in plan.note
    # The server says where each instance lives, and web-server is not in eu-west-1: a question, never
    # the model's stop in us-east-1.
    assert plan.call is None and "eu-west-1" in plan.clarification.message


class CountingSession:
    """The real session, counting the calls that reach it."""

    def __init__(self, session):
        self._session, self.calls = session, []

    def __getattr__(self, name):
        return getattr(self._session, name)

    async def call(self, tool, arguments, confirmer=None):
        self.calls.append((tool, dict(arguments)))
        return await self._session.call(tool, arguments, confirmer=confirmer)


async def test_all_regions_is_answered_from_the_planning_read(estate):
    async with open_session(load_settings()) as session:
        counted = CountingSession(session)
        reply = await ChatOps(counted, regions=["us-east-1", "eu-west-1"]).run("list instances in all regions")
    assert reply.status == "ok" and reply.plan.call.arguments == {"region": "all"}
    assert counted.calls == [("list_instances", {})]  # one read of the fleet, not two
    assert {i["name"] for i in reply.outcome.data["instances"]} >= {"web-server", "api-1"}
