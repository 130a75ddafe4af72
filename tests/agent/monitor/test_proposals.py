"""Recovery proposals: SOP front matter validated against the real tool catalog, and the built-in rules."""

from __future__ import annotations

import pytest

from agent.catalog import Catalog
from agent.mcp_client import ConfirmationRequest, ConfirmTarget, open_session
from agent.monitor.proposals import (
    MAX_STEP,
    MAX_STEPS,
    Subject,
    auto_policy,
    build_proposal,
    exact_confirmer,
    from_rules,
    steps_proposal,
)
from utils.config import load_settings

IID = "i-0abc1234def567890"
# What the catalog says may run unattended (test_catalog checks it is derived from the server).
RESTORING = ("start_instances", "reboot_instances")


@pytest.fixture
async def catalog(aws_env) -> Catalog:
    async with open_session(load_settings()) as session:
        return session.catalog


def sop(recovery, title="Runbook") -> list[dict]:
    return [{"id": "1", "source": "/sops/runbook.md", "title": title, "score": 0.9, "excerpt": "",
             "recovery": recovery}]


async def test_sop_recovery_targets_are_always_the_incidents_instance(catalog):
    recovery = {"tool": "reboot_instances", "arguments": {"instances": ["db-primary"], "dry_run": True}}
    proposal, note = build_proposal(Subject(IID, "CPUUtilization"), sop(recovery), catalog)
    assert note is None
    assert (proposal.tool, proposal.arguments, proposal.risk, proposal.origin) == (
        "reboot_instances", {"instances": [IID]}, "HIGH", "sop")


async def test_a_proposal_from_a_weak_sop_match_says_it_is_weak(catalog):
    hits = sop({"tool": "reboot_instances"}, title="EC2 instance status check failed")
    strong, _ = build_proposal(Subject(IID), hits, catalog)
    assert "weak" not in strong.reason
    hits[0].update(score=0.21, weak=True)
    proposal, _ = build_proposal(Subject(IID), hits, catalog)
    assert proposal.reason == ("recovery from SOP 'EC2 instance status check failed' "
                               "(weak match, score 0.21: check that it fits)")


async def test_sop_may_ask_for_stop_or_terminate_at_critical_risk(catalog):
    for tool in ("stop_instances", "terminate_instances"):
        proposal, _ = build_proposal(Subject(IID), sop({"tool": tool}), catalog)
        assert proposal.tool == tool and proposal.risk == "CRITICAL" and proposal.arguments == {"instances": [IID]}


async def test_sop_arguments_are_kept_only_when_the_tool_declares_them(catalog):
    recovery = {"tool": "get_metric_statistics",
                "arguments": {"instance": "db-primary", "metric": "NetworkIn", "minutes": 30, "shell": "rm -rf /",
                              "period": {"nested": ["no"]}}}
    proposal, _ = build_proposal(Subject(IID), sop(recovery), catalog)
    assert proposal.arguments == {"instance": IID, "metric": "NetworkIn", "minutes": 30}
    assert proposal.risk == "LOW"
    logs, _ = build_proposal(Subject(None), sop({"tool": "search_logs", "arguments": {"log_group": "/app/api"}}),
                             catalog)
    assert logs.arguments == {"log_group": "/app/api"}


@pytest.mark.parametrize(
    ("recovery", "note"),
    [
        ({"tool": "run_shell", "arguments": {"cmd": "x"}}, "not in the tool catalog"),
        ({"tool": "search_logs"}, "lacks required argument 'log_group'"),
        ({"tool": "reboot_instances", "arguments": ["i-1"]}, "not a mapping"),
        ("reboot everything", "not {tool, arguments}"),
    ],
)
async def test_an_unusable_sop_recovery_falls_back_to_the_rules(catalog, recovery, note):
    proposal, why = build_proposal(Subject(IID, "StatusCheckFailed", status_check=True), sop(recovery), catalog)
    assert note in why
    assert proposal.tool == "reboot_instances" and proposal.origin == "rule"


async def test_an_instance_tool_without_an_instance_is_not_proposed(catalog):
    proposal, why = build_proposal(Subject(None), sop({"tool": "reboot_instances"}), catalog)
    assert proposal is None and "needs an instance" in why


@pytest.mark.parametrize(
    ("subject", "tool", "risk"),
    [
        (Subject(IID, "StatusCheckFailed", status_check=True), "reboot_instances", "HIGH"),
        (Subject(IID, state_change="stopped"), "start_instances", "MEDIUM"),
        (Subject(IID, "CPUUtilization"), "get_metric_statistics", "LOW"),
        (Subject(IID, "mem_used_percent"), "get_metric_statistics", "LOW"),
        (Subject(IID, "disk_used_percent"), "get_metric_statistics", "LOW"),
        (Subject(IID, "NetworkOut"), "get_metric_statistics", "LOW"),
        (Subject(IID, "Latency"), None, None),
        (Subject(IID, state_change="terminated"), None, None),
        (Subject(None, "CPUUtilization"), None, None),
    ],
)
async def test_rules_without_a_sop(catalog, subject, tool, risk):
    proposal = from_rules(subject, catalog)
    assert (proposal.tool if proposal else None, proposal.risk if proposal else None) == (tool, risk)
    if proposal and proposal.tool == "get_metric_statistics":
        assert proposal.arguments == {"instance": IID, "metric": subject.metric}


async def test_describe_names_the_target(catalog):
    proposal = from_rules(Subject(IID, "StatusCheckFailed", status_check=True), catalog)
    assert proposal.describe("worker-1") == f"reboot_instances worker-1 ({IID})"


def test_auto_policy_allows_only_start_and_reboot():
    policy = auto_policy({"rules": [
        {"alarm": "*status-check*", "action": "reboot_instances"},
        {"alarm": "*stopped*", "action": "start_instances"},
        {"alarm": "*cpu*", "action": "stop_instances"},
        {"alarm": "*", "action": "terminate_instances"},
        {"action": "reboot_instances"},
    ], "max_per_cycle": 2}, RESTORING)
    assert [(r.alarm, r.action) for r in policy.rules] == [
        ("*status-check*", "reboot_instances"), ("*stopped*", "start_instances")]
    assert len(policy.problems) == 3
    assert "stop_instances" in policy.problems[0] and "rule ignored" in policy.problems[0]
    assert policy.action_for("Worker-1-STATUS-check-failed") == "reboot_instances"
    assert policy.action_for("web-cpu-high") is None
    assert policy.max_per_cycle == 2


def test_auto_policy_is_off_by_default_and_when_disabled():
    assert auto_policy({}, RESTORING).rules == ()
    assert auto_policy({"enabled": False, "rules": [{"alarm": "*", "action": "reboot_instances"}]}, RESTORING).rules == ()
    assert "must be a list" in auto_policy({"rules": "reboot"}, RESTORING).problems[0]


async def test_the_auto_confirmer_consents_once_to_exactly_its_call():
    def asked(tool: str, *ids: str) -> ConfirmationRequest:
        return ConfirmationRequest(message="REBOOT …", action=tool.removesuffix("_instances"), tool=tool,
                                   targets=[ConfirmTarget(instance_id=i) for i in ids])

    message = asked("reboot_instances", IID)
    assert not await exact_confirmer("reboot_instances", IID)(asked("reboot_instances", "i-0fffffffffffffff0"))
    assert not await exact_confirmer("reboot_instances", IID)(asked("reboot_instances", IID, "i-0aaaaaaaaaaaaaaa0"))
    assert not await exact_confirmer("reboot_instances", IID)(asked("terminate_instances", IID))
    # A request without facts (words only) is never consented to automatically.
    assert not await exact_confirmer("reboot_instances", IID)(ConfirmationRequest(message=f"REBOOT {IID}"))
    confirm = exact_confirmer("reboot_instances", IID)
    assert await confirm(message)
    assert not await confirm(message)  # one call only


def test_steps_proposal_is_every_sop_step_as_one_short_line_that_nothing_runs():
    written = [f"Step {n}: check the thing number {n}." for n in range(1, 6)]
    written[1] = "Run `aws rds modify-db-instance --apply-immediately`\nthen\twait " + "and watch " * 40
    proposal = steps_proposal([{"title": "RDS free storage low", "section": "RDS free storage low > Recovery",
                                "excerpt": "1. Step 1", "steps": written, "recovery": None}])
    assert (proposal.tool, proposal.arguments, proposal.mutating) == ("", {}, False)
    assert len(proposal.steps) == 5 and proposal.steps[0] == written[0] and proposal.steps[4] == written[4]
    long = proposal.steps[1]
    assert long.startswith("Run `aws rds modify-db-instance --apply-immediately` then wait and watch")
    assert len(long) <= MAX_STEP and long.endswith("…") and "\n" not in long and "\t" not in long
    assert proposal.reason == "steps from SOP 'RDS free storage low'"
    assert proposal.describe().startswith("SOP steps (nothing runs): 1. Step 1: check the thing number 1. 2. Run")


def test_a_long_runbook_shows_its_first_steps_and_says_the_sop_has_the_rest():
    steps = [f"step {n}" for n in range(1, 13)]
    proposal = steps_proposal([{"title": "Big runbook", "section": "Big runbook > Recovery", "steps": steps}])
    assert proposal.steps == steps[:MAX_STEPS]
    assert proposal.reason == f"steps from SOP 'Big runbook' (the first {MAX_STEPS} of 12: the SOP has the rest)"


def test_an_sop_whose_recovery_is_prose_offers_its_recovery_excerpt_and_no_sop_says_investigate():
    prose = {"title": "Queue stuck", "section": "Queue stuck > Recovery", "excerpt": "Restart the consumers.",
             "steps": []}
    assert steps_proposal([prose]).steps == ["Restart the consumers."]
    elsewhere = {**prose, "section": "Queue stuck > Root causes"}  # not recovery: no step invented from it
    assert steps_proposal([elsewhere]).steps == ["investigate: Queue stuck"]
    none = steps_proposal([])
    assert none.steps == ["investigate: the alarm and its metric"] and none.reason == "no SOP matched"
