"""The tool catalog is a contract: names, argument names and annotations as docs/architecture.md fixes them."""

from tests.helpers import in_memory_client

# The optional place arguments (DESIGN.md, "The estate") of every tool that reads or acts in a place.
PLACE = {"region", "account"}
EXPECTED = {
    "list_instances": ({"name", "state", "tags", *PLACE}, set(), "read"),
    "describe_instance": ({"instance", *PLACE}, {"instance"}, "read"),
    "get_instance_status": ({"instances", *PLACE}, set(), "read"),
    "start_instances": ({"instances", "dry_run", *PLACE}, {"instances"}, "mutating"),
    "stop_instances": ({"instances", "dry_run", *PLACE}, {"instances"}, "destructive"),
    "reboot_instances": ({"instances", "dry_run", *PLACE}, {"instances"}, "destructive"),
    "terminate_instances": ({"instances", "dry_run", *PLACE}, {"instances"}, "destructive"),
    "list_alarms": ({"state", "max", *PLACE}, set(), "read"),
    "get_metric_statistics": ({"instance", "metric", "minutes", "period", "statistic", *PLACE}, {"instance"}, "read"),
    "search_logs": ({"log_group", "pattern", "minutes", "limit", *PLACE}, {"log_group"}, "read"),
    "list_log_groups": ({"prefix", *PLACE}, set(), "read"),
    "get_cost_and_usage": ({"start", "end", "granularity", "group_by"}, set(), "read"),
    "search_sops": ({"query", "k"}, {"query"}, "read"),
    "get_alarm_evidence": ({"alarm", "region", "account", "minutes", "seconds"}, {"alarm"}, "read"),
}


async def test_catalog_names_arguments_and_annotations(aws_env):
    async with in_memory_client() as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == set(EXPECTED)
    for name, (arguments, required, kind) in EXPECTED.items():
        tool = tools[name]
        assert set(tool.input_schema["properties"]) == arguments, name
        assert set(tool.input_schema.get("required", [])) == required, name
        assert tool.description and len(tool.description) < 200, name
        assert tool.output_schema is not None, name
        hints = tool.annotations
        assert hints is not None, name
        if kind == "read":
            assert hints.read_only_hint is True and hints.destructive_hint is False, name
        else:
            assert hints.read_only_hint is False, name
            assert hints.destructive_hint is (kind == "destructive"), name
