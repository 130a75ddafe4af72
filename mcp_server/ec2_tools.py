"""MCP registration of the EC2 tools: thin wrappers over ec2.py, with the guard chain on mutations."""

# No `from __future__ import annotations`: the SDK resolves the closures' Resolve(...) hints at runtime.

from typing import Annotated, Any

import anyio.to_thread
from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp.types import CallToolResult, TextContent
from pydantic import BeforeValidator, Field

from mcp_server import ec2
from mcp_server.catalog import ACTIONS, DESTRUCTIVE_ACTIONS, READ_ONLY, read_meta
from mcp_server.guards import (
    Confirmation,
    GuardVerdict,
    check_guards,
    confirmation_message,
    confirmation_schema,
)
from mcp_server.models import (
    ActionResult,
    InstanceDetail,
    InstanceList,
    InstanceStatusList,
    TargetChange,
)
from mcp_server.state import caller_of, run_aws, state_of

# Outcomes of the confirmation step that are not an answer from a person.
NOT_ASKED = "not-asked"
NO_ELICITATION = "no-elicitation"


def _as_list(value: Any) -> Any:
    # Small models often send "web-1" where ["web-1"] is meant; accept it rather than fail the request.
    return [value] if isinstance(value, str) else value


InstanceRefs = Annotated[
    list[str],
    BeforeValidator(_as_list),
    Field(description="Instance ids (i-...) or Name tags, e.g. [\"web-1\"]. Names are matched exactly, "
                      "then ignoring case and spacing, then by unique prefix."),
]
DryRun = Annotated[bool, Field(description="true: only check whether EC2 would allow it; change nothing")]


async def list_instances(
    ctx: Context,
    name: Annotated[str | None, Field(description="Glob on the Name tag, e.g. web-* (a plain word matches anywhere)")] = None,
    state: Annotated[str | None, Field(description="Only this state: running, stopped, pending, terminated...")] = None,
    tags: Annotated[dict[str, str] | None, Field(description="Only instances with these tags, e.g. {\"env\": \"prod\"}")] = None,
) -> InstanceList:
    """List EC2 instances with their name, state, type and tags; optionally filter by name, state or tags."""
    state_ = state_of(ctx)
    return await run_aws(state_, ec2.list_instances, state_.clients.ec2, name, state, tags, service="EC2")


async def describe_instance(
    ctx: Context,
    instance: Annotated[str, Field(description="One instance id (i-...) or Name tag")],
) -> InstanceDetail:
    """Show full details of one EC2 instance: network, image, protection flags, state reason."""
    state_ = state_of(ctx)
    return await run_aws(state_, ec2.describe_instance, state_.clients.ec2, instance, service="EC2")


async def get_instance_status(
    ctx: Context,
    instances: Annotated[
        list[str] | None,
        BeforeValidator(_as_list),
        Field(description="Instance ids or Names; omit for every instance"),
    ] = None,
) -> InstanceStatusList:
    """Show EC2 health: system and instance status checks (ok or impaired) and scheduled events."""
    state_ = state_of(ctx)
    return await run_aws(state_, ec2.get_instance_status, state_.clients.ec2, instances, service="EC2")


def _action_tool(action: str):
    """Build the tool function for one action, with its own guard and confirmation resolvers."""

    async def verdict(instances: list[str], ctx: Context) -> GuardVerdict:
        state = state_of(ctx)

        def run() -> GuardVerdict:
            state.wait_ready()
            return check_guards(
                state.clients.ec2, action, instances, read_only=state.settings.read_only,
                max_targets=state.settings.max_targets, audit_error=state.audit_error,
            )

        return await anyio.to_thread.run_sync(run)

    async def approval(
        checked: Annotated[GuardVerdict, Resolve(verdict)], dry_run: bool, ctx: Context
    ) -> Elicit[Confirmation] | str:
        if action not in DESTRUCTIVE_ACTIONS or checked.refused or dry_run:
            return NOT_ASKED
        capabilities = ctx.client_capabilities
        elicitation = capabilities.elicitation if capabilities else None
        if elicitation is None or (elicitation.form is None and elicitation.url is not None):
            return NO_ELICITATION
        return Elicit(confirmation_message(checked), confirmation_schema(checked))

    async def tool(
        instances: InstanceRefs,
        ctx: Context,
        checked: Annotated[GuardVerdict, Resolve(verdict)],
        answer: Annotated[ElicitationResult[Confirmation], Resolve(approval)],
        dry_run: DryRun = False,
    ) -> ActionResult:
        state = state_of(ctx)
        arguments = {"instances": instances, "dry_run": dry_run}
        decision, message = _decide(action, checked, answer, dry_run)
        if decision in {"refused", "declined"}:
            result = ActionResult(action=action, status=decision, message=message, dry_run=dry_run,
                                  targets=[_change(t) for t in checked.targets])
        else:
            result = await anyio.to_thread.run_sync(
                lambda: ec2.change_state(state.clients.ec2, action, checked.targets, dry_run)
            )
        _audit(state, ctx, action, checked, arguments, result)
        if result.status in {"ok", "dry_run"}:
            return result
        return CallToolResult(
            content=[TextContent(type="text", text=f"{result.status}: {result.message}")],
            structured_content=result.model_dump(mode="json"),
            is_error=True,
        )

    return tool


def _decide(action: str, checked: GuardVerdict, answer: Any, dry_run: bool) -> tuple[str, str]:
    if checked.refused:
        return "refused", checked.refusal or "refused"
    data = answer.data if isinstance(answer, AcceptedElicitation) else None
    if data == NO_ELICITATION:
        return "refused", (f"confirmation required: {action} asks the user first, and this client cannot "
                           "ask (no MCP elicitation support); nothing was done")
    if data == NOT_ASKED or (isinstance(data, Confirmation) and data.confirm):
        return ("dry_run" if dry_run else "allowed"), ""
    how = "cancelled" if getattr(answer, "action", "") == "cancel" else "declined"
    return "declined", f"{how} by the user: nothing was changed"


def _change(t) -> TargetChange:
    return TargetChange(instance_id=t.instance_id, name=t.name, env=t.env, previous_state=t.state,
                        current_state=t.state)


def _audit(state, ctx: Context, action: str, checked: GuardVerdict, arguments: dict, result: ActionResult) -> None:
    if state.audit is None:
        return  # the guard already refused because the audit log is unavailable
    state.audit.record(
        tool=f"{action}_instances",
        targets=[{"instance_id": t.instance_id, "name": t.name} for t in checked.targets],
        arguments=arguments,
        decision=result.status if result.status != "ok" else "allowed",
        outcome=result.message,
        caller=caller_of(ctx),
    )


def register(mcp: MCPServer) -> None:
    mcp.add_tool(list_instances, annotations=READ_ONLY, meta=read_meta())
    mcp.add_tool(describe_instance, annotations=READ_ONLY, meta=read_meta("instance"))
    mcp.add_tool(get_instance_status, annotations=READ_ONLY, meta=read_meta("instances"))
    for action in ACTIONS.values():
        mcp.add_tool(_action_tool(action.verb), name=action.tool, description=action.doc,
                     annotations=action.annotations, meta=action.meta)
