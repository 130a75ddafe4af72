"""Rows from several accounts and regions on 80-, 100- and 130-column terminals: where each row lives is
on screen, no table runs past the edge, and a read that could not cover a place says so under it."""

from __future__ import annotations

import copy
import io
import re

import pytest
from rich.console import Console

from agent.terminal.render import render_result
from tests.agent.terminal.estate_rows import SKIPPED, alarm_list, instance_list, status_list
from tests.agent.terminal.screen import assert_fits, headers, printed

WIDTHS = [80, 100, 130]
ID = re.compile(r"i-[0-9a-f]{17}")


def shown(tool: str, data: dict, width: int) -> str:
    return printed(render_result(tool, data), width)


def one_place(rows: list[dict]) -> list[dict]:
    rows = copy.deepcopy(rows)
    for row in rows:
        row.update(region="us-east-1", account="default")
        if "availability_zone" in row:
            row["availability_zone"] = "us-east-1a"
    return rows


def without_place(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("region", "account")} for r in one_place(rows)]


CASES = [("list_instances", instance_list, "instances"), ("list_alarms", alarm_list, "alarms"),
         ("get_instance_status", status_list, "statuses")]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("tool", "build", "key"), CASES, ids=[c[0] for c in CASES])
def test_one_place_looks_as_it_always_has(tool, build, key, width):
    rows = build()[key]
    assert shown(tool, build(one_place(rows)), width) == shown(tool, build(without_place(rows)), width)
    assert not headers(shown(tool, build(one_place(rows)), width)) & {"Region", "Account", "Where"}


@pytest.mark.parametrize("width", WIDTHS)
def test_instances_from_several_places_say_where_each_is(width):
    text = shown("list_instances", instance_list(), width)
    assert_fits(text, width)
    assert len(set(ID.findall(text))) == 5  # every id whole, the two web-1s apart
    if width >= 100:
        assert {"Region", "Account"} <= headers(text)
        assert re.search(r"│ web-1 +│ i-0f9e8d7c6b5a40312 │ running │ default │ eu-west-1 +│", text)
        assert "ap-northeast-2" in text
    else:  # the place under the name, as account/region
        assert "Region" not in headers(text)
        assert re.search(r"│ web-1 +│ i-0f9e8d7c6b5a40312 │.*\n│ default/eu-west-1 +│", text)
        assert "default/ap-northeast-2" in text
    assert ("AZ" in headers(text)) == (width >= 130)


@pytest.mark.parametrize("width", WIDTHS)
def test_alarms_from_several_places_say_where_each_is_and_keep_names_whole(width):
    text = shown("list_alarms", alarm_list(), width)
    assert_fits(text, width)
    for name in ("orders-db-cpu-high", "web-1-status-check-failed", "checkout-lambda-errors", "jobs-queue-age"):
        assert f"│ {name} " in text
    if width >= 130:
        assert {"Region", "Account"} <= headers(text)
        assert re.search(r"│ orders-db-cpu-high +│ ALARM +│ CPUUtilization │ rds orders-db +│ prod +│ eu-west-1 ", text)
    else:
        assert re.search(r"│ rds orders-db +│.*\n│ +│ +│(?: +│)? prod/eu-west-1 +│", text)


@pytest.mark.parametrize("width", WIDTHS)
def test_status_checks_from_several_places_say_where_each_is(width):
    text = shown("get_instance_status", status_list(), width)
    assert_fits(text, width)
    assert ({"System", "Instance"} if width >= 100 else {"Checks"}) | {"Alarms"} <= headers(text)
    assert "Events" not in headers(text)  # no row has one
    assert ({"Region", "Account"} <= headers(text)) == (width >= 130)
    assert ("default/us-east-1" in text) == (width < 130)
    assert "impaired" in text and "web-1-st" in text  # the alarm name folds in a narrow column


def test_two_regions_in_one_account_show_a_region_and_no_account():
    rows = [r for r in instance_list()["instances"] if r["account"] == "default"]
    text = shown("list_instances", instance_list(rows), 100)
    assert "Region" in headers(text) and "Account" not in headers(text)
    narrow = shown("list_instances", instance_list(rows), 80)
    assert re.search(r"\n│ eu-west-1 +│", narrow) and "default/" not in narrow


@pytest.mark.parametrize("width", WIDTHS)
def test_each_place_a_read_could_not_cover_is_one_dim_line_under_the_table(width):
    console = Console(width=width, record=True, file=io.StringIO(), color_system="standard", force_terminal=True)
    console.print(render_result("list_alarms", alarm_list(skipped=SKIPPED)))
    text = console.export_text(clear=False)
    lines = text.splitlines()
    skips = [line for line in lines if line.startswith("skipped ")]
    assert [s.split(":")[0] for s in skips] == ["skipped prod/ap-northeast-2", "skipped default/sa-east-1"]
    assert lines.index(skips[0]) > max(i for i, line in enumerate(lines) if line.startswith("└"))
    assert all(len(s) <= width for s in skips)  # one line each, however long the AWS message
    assert skips[0].startswith("skipped prod/ap-northeast-2: AccessDenied: User: arn:aws:sts::222222222222")
    assert "\x1b[2m" in console.export_text(styles=True)  # dim


def test_skips_show_under_any_table_that_carries_them():
    rows = one_place(instance_list()["instances"])
    text = shown("list_instances", instance_list(rows, skipped=[SKIPPED[1]]), 100)
    assert text.rstrip().endswith("skipped default/sa-east-1: ExpiredToken: the security token has expired")


def test_a_scheduled_event_brings_its_column_back():
    rows = status_list()["statuses"]
    rows[1] = {**rows[1], "events": ["system-reboot"]}
    for width in WIDTHS:
        text = shown("get_instance_status", status_list(rows), width)
        assert_fits(text, width)  # below 130 columns the event folds, but within the table
        assert "Events" in headers(text) or width < 100
        assert "system-" in text or width < 100


def test_every_confirmation_shows_account_and_region_per_target():
    from agent.outcomes import ConfirmationRequest
    from agent.terminal.render import confirmation_panel

    facts = {"action": "stop", "tool": "stop_instances", "risk": "medium", "consequence": "It stops.",
             "production": True, "targets": [
                 {"instance_id": "i-0f9e8d7c6b5a40312", "name": "web-1", "state": "running", "env": "prod",
                  "account": "prod", "region": "eu-west-1"}]}
    request = ConfirmationRequest(message="Stop web-1? Proceed? [y/N]", **facts)
    text = printed(confirmation_panel(request), 80)
    assert re.search(r"Name +ID +State +Env +Account +Region", text)
    assert re.search(r"web-1 +i-0f9e8d7c6b5a40312 +running +prod +prod +eu-west-1", text)
    facts["targets"][0] = {k: v for k, v in facts["targets"][0].items() if k not in ("account", "region")}
    older = printed(confirmation_panel(ConfirmationRequest(message="", **facts)), 80)
    assert "Region" not in older and "web-1" in older  # a server that says no place: as before


def test_describe_and_action_results_say_where():
    detail = printed(render_result("describe_instance", {**instance_list()["instances"][2]}), 100)
    assert re.search(r"account +prod", detail) and re.search(r"region +eu-west-1", detail)
    targets = [{"instance_id": r["instance_id"], "name": r["name"], "previous_state": "running",
                "current_state": "stopping", "region": r["region"], "account": r["account"]}
               for r in instance_list()["instances"][:2]]
    action = printed(render_result("stop_instances", {"action": "stop", "status": "ok", "message": "stopping",
                                                      "targets": targets}), 100)
    assert re.search(r"web-1 │ i-0a1b2c3d4e5f60718 │ us-east-1 +│ running │ stopping", action)
    assert re.search(r"web-1 │ i-0f9e8d7c6b5a40312 │ eu-west-1 ", action)
