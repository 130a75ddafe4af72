"""Misspelt and casual verbs, "we don't need it", Korean alarm states, tag words said in passing,
and log-group listings: the tuning table on fleet G, and the rules behind it."""

from __future__ import annotations

import pytest

from agent.planner.fuzzy import REAL_WORDS, korean_verbs, verb_for
from agent.planner.rules import plan
from agent.planner.types import Clarification, PlannedCall
from tests.agent.planner.expect import TODAY, check
from tests.agent.planner.fleets import heldout_fleet_3, instance_id, tagword_fleet
from tests.agent.planner.planner_cases import MAIN
from tests.agent.planner.planner_cases_other import SECOND, THIRD
from tests.agent.planner.planner_cases_typos import TUNE

FLEET_G = tagword_fleet()
MUTATING = {"start_instances", "stop_instances", "reboot_instances", "terminate_instances"}


@pytest.mark.parametrize("case", TUNE, ids=lambda case: case[0][:60])
def test_tuning_table(case):
    text, expected = case
    assert check(plan(text, FLEET_G, TODAY), expected, FLEET_G) is None


@pytest.mark.parametrize(("typo", "verb"), [
    ("stpo", "stop"), ("sotp", "stop"), ("stp", "stop"), ("sstop", "stop"), ("stoop", "stop"),
    ("rebot", "reboot"), ("reboooot", "reboot"), ("reobot", "reboot"), ("restat", "reboot"), ("retsart", "reboot"),
    ("strat", "start"), ("strt", "start"), ("terminte", "terminate"), ("termiante", "terminate"),
    ("terminat", "terminate"),
])
def test_slips_people_make_are_read_as_the_verb(typo, verb):
    assert verb_for(typo) == verb


@pytest.mark.parametrize("word", sorted(REAL_WORDS | {
    "step", "shop", "stat", "state", "stats", "starr", "spot", "top", "tops", "stomp", "strip", "story", "start",
    "stop", "reboot", "sort", "restore", "resort", "report", "termination", "determine", "stash", "status"}))
def test_real_words_and_changed_letters_are_not_verbs(word):
    """A short verb forgives no changed letter and no stray one: "step" and "shop" are one edit from "stop"."""
    assert verb_for(word) is None


def test_real_words_next_to_a_name_never_act():
    forms_of_verbs = {"reboots", "stops", "terminated", "terminates", "terminating"}  # the vocabulary's own
    for word in sorted(REAL_WORDS - forms_of_verbs):
        out = plan(f"{word} api-1", FLEET_G, TODAY)
        assert not (isinstance(out, PlannedCall) and out.tool in MUTATING), (word, out)


def test_korean_slips_keep_the_stem_and_leave_real_words_alone():
    assert [a for a, _, _ in korean_verbs("재부트 해줘")] == ["reboot"]
    assert [a for a, _, _ in korean_verbs("제부팅해줘")] == ["reboot"]
    for real in ("재시도 해줘", "중시해줘", "재부서", "리부서 알려줘"):  # retry, emphasise, not verbs of ours
        assert korean_verbs(real) == [], real


def test_no_read_case_of_the_other_tables_becomes_an_action():
    """False positives of the typo reader, measured on every read request the older tables hold."""
    from tests.agent.planner.fleets import sandbox_fleet, second_fleet, styled_fleet

    for table, fleet in ((MAIN, sandbox_fleet()), (SECOND, second_fleet()), (THIRD, styled_fleet())):
        reads = [t for t, e in table if e.tool not in MUTATING]
        acted = [t for t in reads if (out := plan(t, fleet, TODAY)) and isinstance(out, PlannedCall)
                 and out.tool in MUTATING]
        assert acted == []


def test_typo_in_a_destructive_verb_still_names_the_action_and_targets():
    out = plan("stpo checkout-web-2", heldout_fleet_3(), TODAY)
    assert out == PlannedCall(tool="stop_instances", arguments={"instances": [instance_id("checkout-web-2")]})


def test_a_real_negation_still_cancels_a_misspelt_verb():
    for text in ("don't stpo api-1", "do not terminte dev-vm", "dev-vm 재부트 하지 마"):
        assert isinstance(plan(text, FLEET_G, TODAY), Clarification), text


def test_tag_word_in_passing_still_contradicts_an_action():
    """Reads follow the named host; an action whose name and group disagree still asks first."""
    out = plan("stop api-1, the dev one", FLEET_G, TODAY)
    assert isinstance(out, Clarification) and "does not match" in out.message
