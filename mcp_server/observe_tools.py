"""MCP registration of the read-only observation tools: alarms, metrics, logs, cost, SOPs."""

from __future__ import annotations

import json
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from pydantic import Field

from mcp_server import cloudwatch, cost, estate_observe, evidence
from mcp_server.catalog import READ_ONLY, READ_TOOLS, read_meta
from mcp_server.models import (
    AlarmEvidence,
    AlarmList,
    CostReport,
    LogGroupList,
    LogSearchResult,
    MetricSeries,
    SopHitResult,
    SopSearchResult,
)
from mcp_server.places import AccountArg, RegionArg
from mcp_server.state import ServerState, run_aws, state_of

MAX_SOP_QUERY = 10_000


async def list_alarms(
    ctx: Context,
    state: Annotated[str | None, Field(description="Only alarms in this state: ALARM, OK or INSUFFICIENT_DATA")] = None,
    max: Annotated[int, Field(description="Most alarms to return (firing first); large values may overflow "
                                          "the context")] = cloudwatch.DEFAULT_LISTED_ALARMS,
    region: RegionArg = None,
    account: AccountArg = None,
) -> AlarmList:
    """List CloudWatch alarms (firing ones first) with their state, metric, resource (type, id, Name, env),
    region and account."""
    s = state_of(ctx)
    return await run_aws(s, lambda: estate_observe.list_alarms(s.fleet(region, account), state, max),
                         service="CloudWatch")


async def get_metric_statistics(
    ctx: Context,
    instance: Annotated[str, Field(description="One instance id (i-...) or Name tag")],
    metric: Annotated[str, Field(description="CPUUtilization, NetworkIn, NetworkOut, DiskReadBytes, "
                                             "StatusCheckFailed, mem_used_percent...")] = "CPUUtilization",
    minutes: Annotated[int, Field(description="How far back to look, in minutes")] = 60,
    period: Annotated[int, Field(description="Seconds per datapoint (multiple of 60)")] = 300,
    statistic: Annotated[str, Field(description="Average, Maximum, Minimum, Sum or SampleCount")] = "Average",
    region: RegionArg = None,
    account: AccountArg = None,
) -> MetricSeries:
    """Get a CloudWatch metric (CPU by default) for one EC2 instance over the last N minutes."""
    s = state_of(ctx)
    return await run_aws(s, lambda: estate_observe.get_metric_statistics(
        s.fleet(region, account), instance, metric, minutes, period, statistic), service="CloudWatch")


async def search_logs(
    ctx: Context,
    log_group: Annotated[str, Field(description="CloudWatch Logs group, e.g. /aws/ec2/web-server")],
    pattern: Annotated[str, Field(description="CloudWatch filter pattern, e.g. ERROR or \"timed out\"; empty for all")] = "",
    minutes: Annotated[int, Field(description="How far back to search, in minutes")] = 60,
    limit: Annotated[int, Field(description="Most events to return (newest kept); large values may overflow the context")] = 50,
    region: RegionArg = None,
    account: AccountArg = None,
) -> LogSearchResult:
    """Search a CloudWatch Logs group for lines matching a pattern in the last N minutes."""
    s = state_of(ctx)
    return await run_aws(s, lambda: estate_observe.search_logs(s.fleet(region, account), log_group, pattern, minutes,
                                                               limit), service="CloudWatch Logs")


async def list_log_groups(
    ctx: Context,
    prefix: Annotated[str | None, Field(description="Only groups whose name starts with this, e.g. /aws/ec2; "
                                                    "empty for all")] = None,
    region: RegionArg = None,
    account: AccountArg = None,
) -> LogGroupList:
    """List CloudWatch Logs groups (name, stored bytes, retention, created), to pick one for search_logs."""
    s = state_of(ctx)
    return await run_aws(s, lambda: estate_observe.describe_log_groups(s.fleet(region, account), prefix or ""),
                         service="CloudWatch Logs")


async def get_cost_and_usage(
    ctx: Context,
    start: Annotated[str | None, Field(description="First day, YYYY-MM-DD; default the 1st of this month")] = None,
    end: Annotated[str | None, Field(description="Day after the last day, YYYY-MM-DD; default tomorrow")] = None,
    granularity: Annotated[str, Field(description="MONTHLY or DAILY")] = "MONTHLY",
    group_by: Annotated[str | None, Field(description="SERVICE (default), REGION, INSTANCE_TYPE, USAGE_TYPE")] = "SERVICE",
) -> CostReport:
    """Show AWS spend from Cost Explorer for a date range, broken down by service."""
    s = state_of(ctx)
    return await run_aws(s, cost.get_cost_and_usage, s.clients.ce, start, end, granularity, group_by, service="Cost Explorer")


async def search_sops(
    ctx: Context,
    query: Annotated[str, Field(description="What is wrong, in words: an alarm name, symptom or metric")],
    k: Annotated[int, Field(description="How many SOPs to return")] = 5,
) -> SopSearchResult:
    """Find the standard operating procedures (runbooks) that match a problem or alarm."""
    query = (query or "").strip()
    if not query:
        raise ToolError("InvalidArgument: query is empty; describe the problem or paste the alarm")
    if not 1 <= k <= 50:
        raise ToolError("InvalidArgument: k must be between 1 and 50")
    s = state_of(ctx)

    def run() -> SopSearchResult:
        hits = s.sop_store().search(query[:MAX_SOP_QUERY], k=k)
        return SopSearchResult(
            query=query[:200],
            results=[
                SopHitResult(
                    id=h.id, source=str(h.source), title=h.title, score=round(float(h.score), 4),
                    excerpt=h.excerpt, weak=h.weak, section=getattr(h, "section", None), recovery=getattr(h, "recovery", None),
                    steps=getattr(h, "steps", []),
                )
                for h in hits
            ],
        )

    return await run_aws(s, run, service="SOP store", needs_aws=False)


async def get_alarm_evidence(
    ctx: Context,
    alarm: Annotated[str, Field(description="The alarm's name, as list_alarms shows it")],
    region: Annotated[str | None, Field(description="Region the alarm lives in; default the session's")] = None,
    account: Annotated[str | None, Field(description="Account name from aiops.toml; default the session's")] = None,
    minutes: Annotated[int, Field(description="How far back to look, in minutes")] = evidence.DEFAULT_MINUTES,
    seconds: Annotated[float, Field(description="Time budget; parts not back in time are left out, "
                                                "and listed in left_out")] = evidence.DEFAULT_SECONDS,
) -> AlarmEvidence:
    """Gather what an alarm's page shows: its metric over the last hour, error log lines, EC2 status checks."""
    s = state_of(ctx)
    mapping = (s.settings.evidence or {}).get("log_groups") or {}
    log_groups = {str(k): v for k, v in mapping.items() if isinstance(v, str)} if isinstance(mapping, dict) else {}
    return await run_aws(s, lambda: evidence.gather(one_place(s, alarm, account, region), alarm, minutes=minutes,
                                                    seconds=seconds, log_groups=log_groups), service="CloudWatch")


def one_place(s: ServerState, alarm: str, account: str | None, region: str | None):
    """The clients of the one account and region the alarm lives in. A place the call names is checked against
    the configuration and used as named, never another; without one, the covered places are asked for the
    alarm at once and the first that has it answers (the session's own when none does: its error is the one)."""
    if account and region:
        s.fleet(region, account)  # an unknown account or region raises UnknownPlace
        return s.clients_for(account, region)

    def holds(clients):
        try:
            evidence.find_alarm(clients.cloudwatch, alarm)
        except ValueError:
            return None
        return clients

    answers, _ = s.fleet(region, account).run(holds)
    found = [clients for _, clients in answers if clients is not None]
    return found[0] if found else s.clients_for(account, region)


LOG_GROUPS_URI = "aiops://log-groups/{prefix}"


def register(mcp: MCPServer) -> None:
    for fn in (list_alarms, search_logs, list_log_groups, get_cost_and_usage, search_sops, get_metric_statistics,
               get_alarm_evidence):
        mcp.add_tool(fn, annotations=READ_ONLY.annotations(), meta=read_meta(READ_TOOLS[fn.__name__]))

    # A resource, not a tool: planners need the names, and the tool catalog is a fixed contract.
    # Templated only because the SDK injects the Context (our AWS clients) into templated resources.
    @mcp.resource(LOG_GROUPS_URI, name="log-groups", mime_type="application/json",
                  description="CloudWatch Logs group names starting with {prefix} (JSON list); 'all' for every group")
    async def log_group_names(prefix: str, ctx: Context) -> str:
        s = state_of(ctx)
        try:
            names = await run_aws(s, lambda: estate_observe.log_group_names(s.fleet()), service="CloudWatch Logs")
        except ToolError as exc:  # a ResourceError is a failed read the SDK reports in one line, not a crash
            raise ResourceError(str(exc)) from exc
        wanted = "" if prefix == "all" else prefix
        return json.dumps([n for n in names if n.startswith(wanted)])
