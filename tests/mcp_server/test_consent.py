"""Consent that cannot be stretched, attacked as a client would: both protocol generations, the real
server in memory, moto over loopback, and the fleet and the audit log checked afterwards."""

from __future__ import annotations

import asyncio

import mcp.types as mcp_types
import pytest
from mcp import Client

from mcp_server.server import build_server
from tests.helpers import state_of
from utils.audit import AuditLog
from utils.config import load_settings

MODES = ["auto", "legacy"]  # 2026-07-28 input-required rounds, and server-initiated requests mid-call


def client(person, mode: str, **settings) -> Client:
    return Client(build_server(load_settings(**settings)), elicitation_callback=person, mode=mode)


def answering(content=None, action: str = "accept", before=None, delay: float = 0.0):
    async def person(_ctx, _params):
        if before is not None:
            before()
        if delay:
            await asyncio.sleep(delay)
        return mcp_types.ElicitResult(action=action, content=content)

    return person


def audit_rows(home) -> list:
    return list(reversed(AuditLog(home).recent(50)))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("answer", ["true", "yes", 1, 1.0])
async def test_only_a_boolean_true_is_a_yes(estate, ec2, aws_env, mode, answer):
    async with client(answering({"confirm": answer}), mode) as c:
        result = await c.call_tool("stop_instances", {"instances": ["api-1"]})
    assert result.is_error
    assert state_of(ec2, estate["api-1"]) == "running"
    (row,) = audit_rows(aws_env.home)
    assert row.tool == "stop_instances" and row.decision in {"unconfirmed", "error"}


@pytest.mark.parametrize("mode", MODES)
async def test_a_dry_run_that_is_not_a_boolean_is_an_error_and_on_record(estate, ec2, aws_env, mode):
    async with client(answering({"confirm": True}), mode) as c:
        result = await c.call_tool("stop_instances", {"instances": ["api-1"], "dry_run": "false"})
    assert result.is_error
    assert state_of(ec2, estate["api-1"]) == "running"
    (row,) = audit_rows(aws_env.home)
    assert row.decision == "error" and row.arguments["dry_run"] == "false"


@pytest.mark.parametrize("mode", MODES)
async def test_guards_are_checked_again_after_the_answer(estate, ec2, aws_env, mode):
    def protect_meanwhile():
        ec2.create_tags(Resources=[estate["api-1"]], Tags=[{"Key": "aiops:protected", "Value": "true"}])

    async with client(answering({"confirm": True}, before=protect_meanwhile), mode) as c:
        result = await c.call_tool("stop_instances", {"instances": ["api-1"]})
    assert result.structured_content["status"] == "refused"
    assert "protected" in result.structured_content["message"]
    assert state_of(ec2, estate["api-1"]) == "running"
    assert audit_rows(aws_env.home)[-1].decision == "refused"


@pytest.mark.parametrize("mode", MODES)
async def test_a_late_yes_is_a_no(estate, ec2, aws_env, mode):
    async with client(answering({"confirm": True}, delay=1.5), mode, confirm_timeout_seconds=0.5) as c:
        result = await c.call_tool("reboot_instances", {"instances": ["worker-1"]})
    assert result.is_error and result.structured_content["status"] == "unconfirmed"
    (row,) = audit_rows(aws_env.home)
    assert row.decision == "unconfirmed"


async def test_one_consent_cannot_be_replayed(estate, ec2, aws_env):
    async def never_asked(_ctx, _params):  # declares elicitation; the rounds below are driven by hand
        raise AssertionError("the replay must not be answered by asking again")

    async with client(never_asked, "auto") as c:
        await c.list_tools()
        asked = await c.session.call_tool("stop_instances", {"instances": ["api-1"]}, allow_input_required=True)
        assert isinstance(asked, mcp_types.InputRequiredResult)
        yes = {key: mcp_types.ElicitResult(action="accept", content={"confirm": True}) for key in asked.input_requests}
        first = await c.session.call_tool("stop_instances", {"instances": ["api-1"]}, input_responses=yes,
                                          request_state=asked.request_state, allow_input_required=True)
        assert first.structured_content["status"] == "ok"
        ec2.start_instances(InstanceIds=[estate["api-1"]])
        again = await c.session.call_tool("stop_instances", {"instances": ["api-1"]}, input_responses=yes,
                                          request_state=asked.request_state, allow_input_required=True)
    assert again.is_error and again.structured_content["status"] == "refused"
    assert "already used" in again.structured_content["message"]
    assert state_of(ec2, estate["api-1"]) in {"pending", "running"}
    assert [r.decision for r in audit_rows(aws_env.home)] == ["allowed", "refused"]


@pytest.mark.parametrize("mode", MODES)
async def test_every_attempt_is_on_record_whatever_ends_it(estate, ec2, aws_env, mode):
    async with client(answering({"confirm": False}), mode) as c:
        await c.call_tool("stop_instances", {"instances": 5})  # wrong type: never reaches a guard
        await c.call_tool("stop_instances", {"instances": ["api-1"]})  # accepted, but confirm=false
        await c.call_tool("terminate_instances", {"instances": ["db-primary"]})  # protected
        await c.call_tool("start_instances", {"instances": ["worker-2"], "dry_run": True})
    decisions = [(r.tool, r.decision) for r in audit_rows(aws_env.home)]
    assert decisions == [("stop_instances", "error"), ("stop_instances", "declined"),
                         ("terminate_instances", "refused"), ("start_instances", "dry-run")]
    assert state_of(ec2, estate["api-1"]) == "running"


async def test_an_attempt_left_open_by_a_crash_ends_as_unconfirmed(aws_env):
    audit = AuditLog(aws_env.home)
    row = audit.begin("stop_instances", {"instances": ["api-1"]}, "crashed-client/1")
    assert audit.recent(1)[0].decision == "attempted"
    audit._db.execute("UPDATE audit SET ts = '2000-01-01T00:00:00+00:00' WHERE id = ?", (row,))
    assert audit.expire_attempts(60) == 1
    assert audit.recent(1)[0].decision == "unconfirmed"


@pytest.mark.parametrize("mode", MODES)
async def test_destructive_calls_need_the_whole_name(estate, ec2, aws_env, mode):
    async with client(answering({"confirm": True}), mode) as c:
        prefix = await c.call_tool("stop_instances", {"instances": ["web"]})
        spelled = await c.call_tool("stop_instances", {"instances": ["Web Server"]})
        listed = await c.call_tool("describe_instance", {"instance": "web"})  # reads keep prefix matching
    assert prefix.is_error and "whole name" in prefix.structured_content["message"]
    assert spelled.structured_content["status"] == "ok"  # case and spacing still do not count
    assert not listed.is_error and listed.structured_content["name"] == "web-server"


async def test_a_look_alike_name_is_shown_escaped(estate, ec2, aws_env):
    ec2.create_tags(Resources=[estate["api-2"]], Tags=[{"Key": "Name", "Value": "w\u0435b-2"}])  # Cyrillic е
    shown: list[str] = []

    async def person(_ctx, params):
        shown.append(params.message)
        return mcp_types.ElicitResult(action="decline")

    async with client(person, "auto") as c:
        await c.call_tool("stop_instances", {"instances": [estate["api-2"]]})
    assert "w\\u0435b-2" in shown[0] and "web-2" not in shown[0]


async def test_a_huge_name_never_reaches_ec2(aws_env):
    async with client(answering({"confirm": True}), "auto") as c:
        result = await c.call_tool("stop_instances", {"instances": ["x" * 5_000_000]})
    assert result.is_error and "too long" in result.structured_content["message"]
    (row,) = audit_rows(aws_env.home)
    assert row.decision == "refused" and len(row.arguments["instances"][0]) <= 300


async def test_the_blast_radius_counts_across_calls(estate, ec2, aws_env):
    async with client(answering({"confirm": True}), "auto", max_targets_per_window=4) as c:
        first = await c.call_tool("reboot_instances", {"instances": ["api-1", "api-2", "bastion"]})
        second = await c.call_tool("reboot_instances", {"instances": ["cache-1", "web-server"]})
        third = await c.call_tool("reboot_instances", {"instances": ["worker-1"]})
    assert first.structured_content["status"] == "ok", first.structured_content["message"]
    assert second.structured_content["status"] == "refused"
    assert "AIOPS_MAX_TARGETS_PER_WINDOW" in second.structured_content["message"]
    assert third.structured_content["status"] == "ok"  # 3 + 1 is still within 4
    assert [r.decision for r in audit_rows(aws_env.home)] == ["allowed", "refused", "allowed"]


async def test_parallel_calls_cannot_slip_under_the_window_together(estate, ec2, aws_env):
    groups = [["api-1", "api-2", "bastion"], ["cache-1", "web-server", "worker-1"]]
    async with client(answering({"confirm": True}), "auto", max_targets_per_window=4) as c:
        results = await asyncio.gather(*(c.call_tool("reboot_instances", {"instances": g}) for g in groups))
    assert sorted(r.structured_content["status"] for r in results) == ["ok", "refused"]


async def test_dry_runs_and_starts_do_not_use_up_the_window(estate, ec2, aws_env):
    async with client(answering({"confirm": True}), "auto", max_targets_per_window=2) as c:
        await c.call_tool("reboot_instances", {"instances": ["api-1", "api-2", "bastion"], "dry_run": True})
        await c.call_tool("start_instances", {"instances": ["worker-2", "dev-box-2"]})
        done = await c.call_tool("reboot_instances", {"instances": ["api-1", "api-2"]})
    assert done.structured_content["status"] == "ok"


async def _asked_and_yes(c, arguments):
    asked = await c.session.call_tool("reboot_instances", arguments, allow_input_required=True)
    yes = {key: mcp_types.ElicitResult(action="accept", content={"confirm": True}) for key in asked.input_requests}
    return asked, yes


async def never_asked(_ctx, _params):
    raise AssertionError("rounds are driven by hand")


async def test_copies_of_one_consent_sent_at_once_act_once(estate, ec2, aws_env):
    async with client(never_asked, "auto") as c:
        await c.list_tools()
        arguments = {"instances": ["worker-1"]}
        asked, yes = await _asked_and_yes(c, arguments)
        results = await asyncio.gather(*(
            c.session.call_tool("reboot_instances", arguments, input_responses=yes, request_state=asked.request_state,
                                allow_input_required=True) for _ in range(4)))
    assert sorted(r.structured_content["status"] for r in results) == ["ok", "refused", "refused", "refused"]
    assert sorted(r.decision for r in audit_rows(aws_env.home)) == ["allowed", "refused", "refused", "refused"]


async def test_a_consent_presented_with_other_arguments_is_refused_and_spent(estate, ec2, aws_env):
    async with client(never_asked, "auto") as c:
        await c.list_tools()
        asked, yes = await _asked_and_yes(c, {"instances": ["dev-box-1"]})
        other = await c.session.call_tool("reboot_instances", {"instances": ["cache-1"]}, input_responses=yes,
                                          request_state=asked.request_state, allow_input_required=True)
        original = await c.session.call_tool("reboot_instances", {"instances": ["dev-box-1"]}, input_responses=yes,
                                             request_state=asked.request_state, allow_input_required=True)
    assert other.structured_content["status"] == "refused"
    assert original.structured_content["status"] == "refused"  # spent: ask again to act
    rows = audit_rows(aws_env.home)
    assert [r.decision for r in rows] == ["refused", "refused", "refused"]
    assert rows[1].arguments["instances"] == ["cache-1"]  # the rebound attempt is on record as itself


async def test_hostile_text_never_loses_the_audit_row(estate, ec2, aws_env):
    async with client(answering({"confirm": True}), "auto") as c:
        surrogate = await c.call_tool("stop_instances", {"instances": ["api-1\ud800"]})
        padded = await c.call_tool("stop_instances", {**{f"junk{i}": i for i in range(30)}, "instances": ["api-1"]})
    assert surrogate.is_error
    assert padded.structured_content["status"] == "ok"  # junk is ignored; the person said yes to api-1
    rows = audit_rows(aws_env.home)
    assert [r.decision for r in rows][0] in {"refused", "error"} and rows[1].decision == "allowed"
    assert rows[1].arguments["instances"] == ["api-1"]  # twenty junk keys cannot push it out of the record
