"""MCP registration of the EC2 tools: thin wrappers over ec2.py, with the guard chain on mutations."""

# No `from __future__ import annotations`: the SDK resolves the closures' Resolve(...) hints at runtime.

from typing import Annotated, Any

import anyio.to_thread
from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp.types import CallToolResult, TextContent
from mcp_types.version import is_version_at_least
from pydantic import BeforeValidator, Field, StrictBool

from mcp_server import fleet
from mcp_server.catalog import ACTIONS, DESTRUCTIVE_ACTIONS, READ_ONLY, READ_TOOLS, read_meta
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
from mcp_server.places import AccountArg, RegionArg
from mcp_server.state import caller_of_session, run_aws, state_of

# Outcomes of the confirmation step that are not a yes or no from a person.
NOT_ASKED = "not-asked"
NO_ELICITATION = "no-elicitation"
TIMED_OUT = "timed-out"
INVALID_ANSWER = "invalid-answer"
# From this protocol on, a question rides an input-required result instead of a request mid-call.
INPUT_REQUIRED_VERSION = "2026-07-28"


def _as_list(value: Any) -> Any:
    # Small models often send "web-1" where ["web-1"] is meant; accept it rather than fail the request.
    return [value] if isinstance(value, str) else value


InstanceRefs = Annotated[
    list[str],
    BeforeValidator(_as_list),
    Field(description="Instance ids (i-...) or Name tags, e.g. [\"web-1\"]. Names are matched exactly, "
                      "then ignoring case and spacing, then by unique prefix."),
]
# Strict: "false" as a string must be an error, never a real stop.
DryRun = Annotated[StrictBool, Field(description="true: only check whether EC2 would allow it; change nothing")]


async def list_instances(
    ctx: Context,
    name: Annotated[str | None, Field(description="Glob on the Name tag, e.g. web-* (a plain word matches anywhere)")] = None,
    state: Annotated[str | None, Field(description="Only this state: running, stopped, pending, terminated...")] = None,
    tags: Annotated[dict[str, str] | None, Field(description="Only instances with these tags, e.g. {\"env\": \"prod\"}")] = None,
    region: RegionArg = None,
    account: AccountArg = None,
) -> InstanceList:
    """List EC2 instances with their name, state, type, tags, region and account; optionally filter by name,
    state or tags."""
    s = state_of(ctx)
    return await run_aws(s, lambda: fleet.list_instances(s.fleet(region, account), name, state, tags), service="EC2")


async def describe_instance(
    ctx: Context,
    instance: Annotated[str, Field(description="One instance id (i-...) or Name tag")],
    region: RegionArg = None,
    account: AccountArg = None,
) -> InstanceDetail:
    """Show full details of one EC2 instance: network, image, protection flags, state reason."""
    s = state_of(ctx)
    return await run_aws(s, lambda: fleet.describe_instance(s.fleet(region, account), instance), service="EC2")


async def get_instance_status(
    ctx: Context,
    instances: Annotated[
        list[str] | None,
        BeforeValidator(_as_list),
        Field(description="Instance ids or Names; omit for every instance"),
    ] = None,
    region: RegionArg = None,
    account: AccountArg = None,
) -> InstanceStatusList:
    """Show EC2 health: system and instance status checks (ok or impaired), scheduled events, and each
    instance's CloudWatch alarms in ALARM (a failed status-check alarm shows even while EC2 says ok)."""
    s = state_of(ctx)
    return await run_aws(s, lambda: fleet.get_instance_status(s.fleet(region, account), instances), service="EC2")


def _action_tool(action: str):
    """Build the tool function for one action, with its own guard and confirmation resolvers."""

    async def verdict(instances: list[str], dry_run: bool, region: str | None, account: str | None,
                      ctx: Context) -> GuardVerdict:
        state = state_of(ctx)

        checked = await _guards(state, action, instances, region, account)
        if not checked.refused and action in DESTRUCTIVE_ACTIONS and not dry_run and state.window:
            # Say so before asking: a yes that the window would refuse anyway is a question wasted.
            over = state.window.refusal(caller_of_session(ctx.session), len(checked.targets))
            if over:
                checked = checked.model_copy(update={"refusal": over, "guard": "blast_window"})
        return checked

    async def approval(
        checked: Annotated[GuardVerdict, Resolve(verdict)], dry_run: bool, ctx: Context
    ) -> Elicit[Confirmation] | Any:
        if action not in DESTRUCTIVE_ACTIONS or checked.refused or dry_run:
            return NOT_ASKED
        capabilities = ctx.client_capabilities
        elicitation = capabilities.elicitation if capabilities else None
        if elicitation is None or (elicitation.form is None and elicitation.url is not None):
            return NO_ELICITATION
        message, schema = confirmation_message(checked), confirmation_schema(checked)
        if is_version_at_least(ctx.protocol_version or "2024-11-05", INPUT_REQUIRED_VERSION):
            # The question rides a sealed requestState whose lifetime is the confirmation deadline
            # (server.py), and each sealed round is good for one call (consent.py).
            return Elicit(message, schema)
        # Older protocols answer inside this call, so the server holds the deadline here.
        with anyio.move_on_after(state_of(ctx).settings.confirm_timeout_seconds):
            try:
                return await ctx.elicit(message, schema)
            except ValueError:  # accepted with content that is not {"confirm": <boolean>}
                return INVALID_ANSWER
        return TIMED_OUT

    async def tool(
        instances: InstanceRefs,
        ctx: Context,
        checked: Annotated[GuardVerdict, Resolve(verdict)],
        answer: Annotated[ElicitationResult[Confirmation], Resolve(approval)],
        dry_run: DryRun = False,
        region: RegionArg = None,
        account: AccountArg = None,
    ) -> ActionResult:
        state = state_of(ctx)
        decision, message = _decide(action, checked, answer, dry_run, state.settings.confirm_timeout_seconds)
        if decision == "allowed" and _was_asked(answer):
            # A person answered about the fleet as it was; act only on the fleet as it is now.
            checked, message = await _recheck(state, action, instances, checked, region, account)
            decision = "refused" if message else decision
        if decision == "allowed" and action in DESTRUCTIVE_ACTIONS and state.window:
            message = state.window.take(caller_of_session(ctx.session), len(checked.targets)) or ""
            decision = "refused" if message else decision
        if decision in {"refused", "declined", "unconfirmed"}:
            result = ActionResult(action=action, status=decision, message=message, dry_run=dry_run,
                                  targets=[_change(t) for t in checked.targets])
        else:
            # Each target through its own place's client (the places were fixed when the guards ran).
            result = await anyio.to_thread.run_sync(
                lambda: fleet.change_state(state.fleet(region, account), action, checked.targets, dry_run)
            )
        if result.status in {"ok", "dry_run"}:
            return result
        return CallToolResult(
            content=[TextContent(type="text", text=f"{result.status}: {result.message}")],
            structured_content=result.model_dump(mode="json"),
            is_error=True,
        )

    return tool


def _answer_of(answer: Any) -> Any:
    """The person's answer, whichever protocol carried it (older ones come back wrapped once more)."""
    data = answer.data if isinstance(answer, AcceptedElicitation) else answer
    return data.data if isinstance(data, AcceptedElicitation) else data


def _was_asked(answer: Any) -> bool:
    return isinstance(_answer_of(answer), Confirmation)


def _decide(action: str, checked: GuardVerdict, answer: Any, dry_run: bool, deadline: float) -> tuple[str, str]:
    if checked.refused:
        return "refused", checked.refusal or "refused"
    data = _answer_of(answer)
    if data == NO_ELICITATION:  # nobody could be asked (DESIGN: history decisions)
        return "unconfirmed", (f"confirmation required: {action} asks the user first, and this client cannot "
                           "ask (no MCP elicitation support); nothing was done")
    if data == TIMED_OUT:
        return "unconfirmed", (f"no answer within {deadline:g}s (AIOPS_CONFIRM_TIMEOUT): treated as No; "
                               "nothing was done")
    if data == INVALID_ANSWER:
        return "unconfirmed", "the answer was not a yes (confirm must be the boolean true); nothing was done"
    if data == NOT_ASKED or (isinstance(data, Confirmation) and data.confirm is True):
        return ("dry_run" if dry_run else "allowed"), ""
    how = "cancelled" if getattr(data, "action", getattr(answer, "action", "")) == "cancel" else "declined"
    return "declined", f"{how} by the user: nothing was changed"


async def _guards(state, action: str, instances: list[str], region: str | None, account: str | None) -> GuardVerdict:
    """Guards 1-3 on the fleet as it is now, off the event loop (before asking, and again after)."""

    def run() -> GuardVerdict:
        state.wait_ready()
        try:
            places = state.fleet(region, account)
        except ValueError as exc:  # an account or region the server cannot use: never a wider call
            return GuardVerdict(action=action, refusal=f"{getattr(exc, 'code', 'InvalidArgument')}: {exc}",
                                guard="invalid")
        return check_guards(places, action, instances, read_only=state.settings.read_only,
                            max_targets=state.settings.max_targets, audit_error=state.audit_error)

    return await anyio.to_thread.run_sync(run)


async def _recheck(state, action: str, instances: list[str], asked: GuardVerdict, region: str | None,
                   account: str | None) -> tuple[GuardVerdict, str]:
    """Guards again, on fresh state, after the answer: (verdict, refusal or "")."""

    now = await _guards(state, action, instances, region, account)
    if now.refused:
        return now, f"{now.refusal} (changed while the confirmation was open; nothing was done)"
    if [(t.instance_id, t.account, t.region) for t in now.targets] != [(t.instance_id, t.account, t.region)
                                                                       for t in asked.targets]:
        return now, "the instances named resolve differently than when you were asked; nothing was done"
    return now, ""


def _change(t) -> TargetChange:
    return TargetChange(instance_id=t.instance_id, name=t.name, env=t.env, previous_state=t.state,
                        current_state=t.state, region=t.region, account=t.account)


def register(mcp: MCPServer) -> None:
    for fn in (list_instances, describe_instance, get_instance_status):
        mcp.add_tool(fn, annotations=READ_ONLY.annotations(), meta=read_meta(READ_TOOLS[fn.__name__]))
    for action in ACTIONS.values():
        mcp.add_tool(_action_tool(action.verb), name=action.tool, description=action.doc,
                     annotations=action.hints.annotations(), meta=action.meta)
