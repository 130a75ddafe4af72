"""What tool results look like on a real terminal width: 80 columns and wide, from the real tools."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from agent.terminal.render import render_result
from tests.helpers import in_memory_client

ID = re.compile(r"i-[0-9a-f]{17}")


def shown(tool: str, data: dict, width: int) -> str:
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(render_result(tool, data))
    return console.export_text()


async def read(tool: str, arguments: dict | None = None) -> dict:
    async with in_memory_client() as client:
        return (await client.call_tool(tool, arguments or {})).structured_content


@pytest.mark.parametrize("width", [80, 140])
async def test_the_instance_list_fits_and_never_cuts_an_id(estate, width):
    text = shown("list_instances", await read("list_instances"), width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert set(ID.findall(text)) == set(estate.values())  # every id whole, on one line
    assert re.search(r"db-primary 🔒 +│ i-", text)  # the mark stays beside its name
    assert "🔒 tag aiops:protected (stop, reboot, terminate refused)" in text
    assert ("AZ" in text) == (width >= 100)


@pytest.mark.parametrize("width", [80, 140])
async def test_the_alarm_table_names_instances_and_keeps_alarm_names_whole(estate, width):
    text = shown("list_alarms", await read("list_alarms"), width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert re.search(r"│ web-server-cpu-high +│ ALARM │ .*web-server", text)
    assert "worker-1-status-check-failed" in text
    assert bool(ID.search(text)) == (width >= 130)  # names, not ids, unless there is room for both


async def test_describe_shows_every_protection_in_the_guards_words(estate, ec2):
    ec2.modify_instance_attribute(InstanceId=estate["cache-1"], DisableApiStop={"Value": True})
    bastion = shown("describe_instance", await read("describe_instance", {"instance": "bastion"}), 100)
    assert "protection         EC2 termination protection (terminate refused)" in bastion
    db = shown("describe_instance", await read("describe_instance", {"instance": "db-primary"}), 100)
    assert "tag aiops:protected (stop, reboot, terminate refused)" in db
    cache = shown("describe_instance", await read("describe_instance", {"instance": "cache-1"}), 100)
    assert "EC2 stop protection (stop refused)" in cache
    web = shown("describe_instance", await read("describe_instance", {"instance": "web-server"}), 100)
    assert re.search(r"protection +none", web) and "protected" not in web.replace("protection", "")
