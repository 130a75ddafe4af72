"""The client's catalog facts come from the server's declaration, and fail closed when absent."""

from __future__ import annotations

import mcp.types as mcp_types

from agent.catalog import Catalog
from agent.mcp_client import open_session
from utils.config import load_settings


async def test_facts_are_read_from_the_servers_tool_list(aws_env):
    async with open_session(load_settings()) as session:
        catalog = session.catalog
    assert catalog.mutating == {"start_instances", "stop_instances", "reboot_instances", "terminate_instances"}
    assert catalog.destructive == {"stop_instances", "reboot_instances", "terminate_instances"}
    assert catalog.leaves_down() == {"stop_instances", "terminate_instances"}
    assert catalog.restoring() == ("start_instances", "reboot_instances")
    assert catalog.targets_argument("describe_instance") == "instance"
    assert catalog.targets_argument("get_metric_statistics") == "instance"
    assert catalog.targets_argument("get_instance_status") == "instances"
    assert catalog.targets_argument("list_alarms") is None
    assert catalog.target_arguments("reboot_instances", "i-1") == {"instances": ["i-1"]}
    assert catalog.get("terminate_instances").risk == "CRITICAL"
    assert catalog.get("list_instances").risk == "LOW"


def test_a_tool_that_declares_nothing_is_treated_as_destructive():
    bare = mcp_types.Tool(name="wipe_everything", input_schema={"type": "object", "properties": {}})
    catalog = Catalog([bare])
    assert catalog.is_mutating("wipe_everything") and "wipe_everything" in catalog.destructive
    assert catalog.is_mutating("never_heard_of_it")  # unknown: never harmless
    assert catalog.get("wipe_everything").risk == "HIGH"
