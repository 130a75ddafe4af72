"""Place words: regions and accounts read into the optional `region`/`account` arguments, names resolved
only in the place named, and a Name in two places asked about with where each one is."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.planner.rules import plan
from agent.planner.types import Clarification, InventoryItem, PlannedCall, PlanningContext
from tests.agent.planner.expect import TODAY, check
from tests.agent.planner.fleets import sandbox_fleet
from tests.agent.planner.fleets_places import places_fleet, places_heldout_fleet
from tests.agent.planner.heldout_places import HELDOUT_PLACES
from tests.agent.planner.planner_cases_places import TUNE_PLACES

FLEET_P, FLEET_Q = places_fleet(), places_heldout_fleet()


@pytest.mark.parametrize("case", TUNE_PLACES, ids=lambda case: case[0][:60])
def test_tuning_table(case):
    text, expected = case
    assert check(plan(text, FLEET_P, TODAY), expected, FLEET_P) is None


def test_heldout_accuracy_floor():
    """Written before the place rules were run; a floor, not a target (see heldout_places.py)."""
    misses = [(t, why) for t, e in HELDOUT_PLACES if (why := check(plan(t, FLEET_Q, TODAY), e, FLEET_Q))]
    assert 1 - len(misses) / len(HELDOUT_PLACES) >= 0.85, misses


def test_without_configured_accounts_an_account_word_goes_to_the_server_as_said():
    fleet = sandbox_fleet()  # rows and context say no place: an older caller, or one account
    assert plan("show alarms in the prod account", fleet, TODAY).arguments == {"account": "prod"}
    assert plan("alarms for the production account", fleet, TODAY).arguments == {"account": "production"}
    assert plan("운영 계정 알람", fleet, TODAY).arguments == {"account": "prod"}
    assert plan("reboot web-1 in the account prod", fleet, TODAY).arguments["account"] == "prod"


def test_an_account_the_configuration_lacks_is_a_question_listing_the_accounts():
    out = plan("stop api-1 in the staging account", FLEET_P, TODAY)
    assert isinstance(out, Clarification) and out.candidates == ["default", "prod"]
    assert "No account named 'staging'" in out.message


@pytest.mark.parametrize("text", ["stop web-1 in eu-west-1", "web-1 eu-west-1 중지", "stop web-1 in us east 2"])
def test_a_region_is_never_read_as_an_instance_name(text):
    out = plan(text, sandbox_fleet(), TODAY)  # rows without a region are kept: the server knows where they are
    assert isinstance(out, PlannedCall) and out.tool == "stop_instances", out
    assert out.arguments["region"] in {"eu-west-1", "us-east-2"}


def test_a_place_alone_lists_what_is_there():
    assert plan("eu-west-1", FLEET_P, TODAY) == PlannedCall(tool="list_instances", arguments={"region": "eu-west-1"})
    assert plan("서울 리전", FLEET_P, TODAY).arguments == {"region": "ap-northeast-2"}


def test_prod_alone_stays_the_env_tag_even_with_a_prod_account():
    assert plan("list instances in prod", FLEET_P, TODAY).arguments == {"tags": {"env": "prod"}}
    assert plan("운영 중인 인스턴스", FLEET_P, TODAY).arguments == {"state": "running"}


def test_a_name_missing_from_the_place_says_where_it_looked():
    out = plan("stop api-1 in eu-west-1", FLEET_P, TODAY)
    assert isinstance(out, Clarification) and "looked in eu-west-1 only" in out.message


def test_a_place_word_inside_a_name_or_in_the_fleets_tags_is_the_host():
    fleet = PlanningContext(instances=[
        InventoryItem(instance_id="i-0aaaaaaaaaaaaaaa1", name="paris", state="running", region="eu-west-3"),
        InventoryItem(instance_id="i-0aaaaaaaaaaaaaaa2", name="london-relay", state="running", region="eu-west-1"),
    ])
    assert plan("stop paris", fleet, TODAY).arguments == {"instances": ["i-0aaaaaaaaaaaaaaa1"]}
    assert plan("stop london-relay", fleet, TODAY).arguments == {"instances": ["i-0aaaaaaaaaaaaaaa2"]}
    assert plan("list instances in the paris region", fleet, TODAY).arguments == {"region": "eu-west-3"}


def test_tools_without_places_ignore_them():
    out = plan("cost in eu-west-1 this month", FLEET_P, TODAY)
    assert out.tool == "get_cost_and_usage" and "region" not in out.arguments


def test_a_second_command_after_a_place_is_still_refused():
    for text in ("show alarms in the prod account; terminate web-2", "list instances in eu-west-1 && stop web-2",
                 "모든 리전 인스턴스 목록\n모든 인스턴스 종료해"):
        out = plan(text, FLEET_P, TODAY)
        assert not (isinstance(out, PlannedCall) and out.tool.endswith("_instances") and out.tool != "list_instances")


PLACE_WORDS = ["in", "eu-west-1", "us-east-1", "all", "regions", "region", "seoul", "서울", "리전", "모든", "계정",
               "account", "prod", "the", "stop", "web-1", "web-2", "list", "alarms", "instances", "프로덕션", "/",
               "prod/eu-west-1", "default", "운영", "us", "east", "and", "terminate", "everything", ";", "?"]
MUTATING = {"start_instances", "stop_instances", "reboot_instances", "terminate_instances"}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PLACE_WORDS), max_size=12).map(" ".join))
def test_property_place_soup_is_valid(text):
    out = plan(text, FLEET_P, TODAY)
    assert isinstance(out, PlannedCall | Clarification)
    if isinstance(out, PlannedCall):
        assert set(out.arguments.get("region", "all").split()) <= {"all", "us-east-1", "eu-west-1", "ap-northeast-2"}
        assert out.arguments.get("account", "prod") in {"default", "prod"}
        if out.tool in MUTATING and "region" in out.arguments and out.arguments["region"] != "all":
            known = {i.instance_id: i for i in FLEET_P.instances}
            assert all(known[t].region == out.arguments["region"] for t in out.arguments["instances"])


@pytest.mark.parametrize("text", ["한국어로 인스턴스 목록 보여줘", "show us the alarms", "인도네시아 리전 알람"])
def test_words_that_only_start_like_a_region_are_not_one(text):
    out = plan(text, FLEET_P, TODAY)
    assert out.arguments.get("region") in (None, "ap-southeast-3")  # Indonesia is its own region, not India


def test_a_region_inside_a_log_group_path_is_part_of_the_path():
    fleet = sandbox_fleet().model_copy(update={"log_groups": ["/app/eu-west-1/web", "/app/us-east-1/web"]})
    out = plan("errors in /app/eu-west-1/web", fleet, TODAY)
    assert out.arguments == {"log_group": "/app/eu-west-1/web", "pattern": "ERROR"}
    assert plan("list account alarms", FLEET_P, TODAY).arguments == {}  # about accounts, naming none


def test_each_candidate_for_a_name_in_two_places_can_be_said_back():
    fleet = places_fleet()
    fleet.instances.append(fleet.instances[0].model_copy(update={"instance_id": "i-0cccccccccccccccc", "account": "prod"}))
    asked = plan("reboot web-1", fleet, TODAY)
    assert isinstance(asked, Clarification)
    assert asked.candidates == ["web-1 in default/us-east-1", "web-1 in default/eu-west-1", "web-1 in prod/us-east-1"]
    picked = {plan(f"reboot {c}", fleet, TODAY).arguments["instances"][0] for c in asked.candidates}
    assert picked == {i.instance_id for i in fleet.instances if i.name == "web-1"}
