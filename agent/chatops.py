"""The ChatOps core: request -> plan -> (gate) -> tool call -> outcome. Knows no terminal.

The caller hands in the confirmer (HolmesGPT's pattern): REPL y/N, `ask --yes`, or nothing.
No confirmer means every confirmation is answered No, server-side guards decide the rest.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from agent.catalog import Catalog
from agent.outcomes import Confirmer, ToolOutcome
from agent.planner import plan_offline
from agent.planner.types import Clarification, InventoryItem, PlannedCall, PlanningContext
from utils.names import name_key

if TYPE_CHECKING:  # the MCP session, or a one-shot's (agent/oneshot_session.py): the same calls
    from agent.mcp_client import ToolSession

MAX_MODEL_STEPS = 3
# The inventory is re-read at most this often for planning; actions re-resolve server-side anyway.
CONTEXT_TTL_SECONDS = 5.0
MAX_REQUEST_CHARS = 2000
# The server's resource of every CloudWatch Logs group name (a JSON list).
ALL_LOG_GROUPS = "aiops://log-groups/all"


class Target(BaseModel):
    instance_id: str
    name: str | None = None


class Plan(BaseModel):
    """What a request maps to, before anything runs."""

    call: PlannedCall | None = None
    clarification: Clarification | None = None
    planner: str = "rules"
    note: str | None = Field(None, description="Why the offline planner served (model unavailable or wrong)")
    targets: list[Target] = Field(default_factory=list)
    final_text: str | None = None


class Reply(BaseModel):
    """The whole answer to one request: the plan and, when it ran, the tool's outcome."""

    plan: Plan
    status: str = Field(description="planned | ok | declined | refused | unconfirmed | error")
    message: str = ""
    outcome: ToolOutcome | None = None

    def as_json(self) -> dict[str, Any]:
        """The `plan --json` / `ask --json` document (docs/architecture.md, "JSON on stdout")."""
        call = self.plan.call
        return {
            "tool": call.tool if call else None,
            "arguments": call.arguments if call else {},
            "targets": [t.model_dump() for t in self.plan.targets],
            "planner": self.plan.planner,
            "status": self.status,
            "message": self.message,
            "result": self.outcome.data if self.outcome else None,
        }


def configured_places(settings: Any) -> dict[str, list[str]]:
    """The account names and regions `aiops.toml` configures, as ChatOps takes them (DESIGN.md, "The estate").

    The session's own credentials are the account `default` unless an `[[accounts]]` entry without a
    profile or role names them. Settings without places (an older config) give empty lists: the
    planner then passes account words on as said and the server, which knows, checks them.
    """
    specs = list(getattr(settings, "accounts", None) or [])
    names = [str(_spec(s, "name")) for s in specs if _spec(s, "name")]
    if names and not any(not _spec(s, "profile") and not _spec(s, "role_arn") for s in specs):
        names.insert(0, "default")
    regions = [str(r) for r in (getattr(settings, "regions", None) or [])]
    return {"accounts": list(dict.fromkeys(names)), "regions": list(dict.fromkeys(regions))}


def _spec(spec: Any, key: str) -> Any:
    return spec.get(key) if isinstance(spec, dict) else getattr(spec, key, None)


class ChatOps:
    def __init__(self, session: ToolSession, model_planner: Any | None = None,
                 accounts: Sequence[str] = (), regions: Sequence[str] = ()):
        self.session = session
        self.model_planner = model_planner  # an OllamaPlanner, or None for the offline planner only
        # What "the prod account" and "all regions" can mean in a request (configured_places).
        self.accounts, self.regions = list(accounts), list(regions)
        self._context: PlanningContext | None = None
        self._context_at = 0.0
        self._context_failure: ToolOutcome | None = None  # the context's list_instances, when it failed
        # The context's list_instances while it serves the request it was read for: a request that is that
        # very call ("list all instances") is answered from it instead of reading the whole fleet twice.
        self._context_listing: ToolOutcome | None = None

    async def context(self, refresh: bool = False) -> PlanningContext:
        if refresh or self._context is None or time.monotonic() - self._context_at > CONTEXT_TTL_SECONDS:
            self._context = await self._fetch_context()
            self._context_at = time.monotonic()
        return self._context

    async def _fetch_context(self) -> PlanningContext:
        listed = await self.session.call("list_instances", {})
        self._context_failure = None if listed.ok else listed
        self._context_listing = listed if listed.ok else None
        instances = [InventoryItem(**i) for i in (listed.data or {}).get("instances", [])] if listed.ok else []
        return PlanningContext(instances=instances, inventory_error=None if listed.ok else listed.message,
                               accounts=self.accounts, regions=self.regions)

    async def _with_log_groups(self, context: PlanningContext) -> PlanningContext:
        """The context with the log group names, read once per context: only log requests and the model need them."""
        if context.log_groups is None:
            try:
                read = await self.session.read_resource(ALL_LOG_GROUPS)
                context.log_groups = json.loads(read) if read else []
            except Exception:  # log groups only sharpen planning; their absence is not an error
                context.log_groups = []
        return context

    def invalidate(self) -> None:
        self._context = None
        self._context_listing = None

    def _just_failed(self, tool: str, arguments: dict[str, Any]) -> ToolOutcome | None:
        """The planning context's own failed call, when the plan is that very call: asking a dead or hung
        endpoint twice in a row would only double the wait for the same error."""
        failed = self._context_failure
        fresh = self._context is not None and time.monotonic() - self._context_at <= CONTEXT_TTL_SECONDS
        return failed if fresh and failed is not None and (failed.tool, failed.arguments) == (tool, arguments) else None

    def _just_read(self, tool: str, arguments: dict[str, Any]) -> ToolOutcome | None:
        """The listing this request's planning read, when the plan is that very call (one fleet read, not two)."""
        listed = self._context_listing
        # "all" regions is what a read without `region` covers anyway (DESIGN.md, "The estate").
        same = {k: v for k, v in arguments.items() if (k, v) != ("region", "all")} == listed.arguments if listed else False
        return listed if listed is not None and listed.tool == tool and same else None

    async def plan(self, text: str, steps: list[tuple[PlannedCall, str]] | None = None) -> Plan:
        text = text or ""
        if len(text) > MAX_REQUEST_CHARS:
            # Never act on a cut-off request: what was cut may have been "…but not web-3".
            return Plan(clarification=Clarification(
                message=f"the request is {len(text):,} characters, over the limit of {MAX_REQUEST_CHARS:,}; "
                        "nothing was done: say it in fewer words"))
        self._context_listing = None  # only a listing read for this very request may answer it
        context = await self.context()
        offline = plan_offline(text, context)
        if self.model_planner is not None or (isinstance(offline, Clarification) and offline.needs == "log_groups"):
            context = await self._with_log_groups(context)
            if isinstance(offline, Clarification) and offline.needs == "log_groups":
                offline = plan_offline(text, context)
        if self.model_planner is None:
            return self._finish(Plan(planner="rules"), offline, context)
        model = await self.model_planner.plan(text, self.session.tools, context, steps or [])
        if model.fallback_reason or (model.call is None and model.final_text is None):
            note = model.fallback_reason or "the model returned nothing usable"
            return self._finish(Plan(planner="rules", note=note), offline, context)
        if model.final_text is not None and model.call is None:
            return Plan(planner="ollama", final_text=model.final_text)
        call = model.call.model_copy(update={"planner": "ollama"})
        catalog = self.session.catalog
        if catalog.is_mutating(call.tool) and not _asked_for(call, offline, context, catalog):
            # Injection guard: a state change must be exactly what the person asked for — same action,
            # same machines — not what a model (or text it read in a log, alarm or SOP) made up.
            # The deterministic reading of the request decides.
            proposed = _ids(call, context, catalog) or "nothing"
            note = f"the model proposed {call.tool} on {proposed}, which the request does not ask for"
            return self._finish(Plan(planner="rules", note=note), offline, context)
        return self._finish(Plan(planner="ollama"), call, context)

    def _finish(self, plan: Plan, outcome: PlannedCall | Clarification, context: PlanningContext) -> Plan:
        if isinstance(outcome, Clarification):
            plan.clarification = outcome
            if context.inventory_error:  # the planner saw no fleet: what failed is the answer
                plan.clarification = Clarification(
                    message=f"could not read the instances to plan this request: {context.inventory_error}")
            return plan
        plan.call = outcome
        plan.targets = targets_of(outcome, context, self.session.catalog)
        return plan

    async def run(self, text: str, confirmer: Confirmer | None = None, dry_run: bool = False) -> Reply:
        steps: list[tuple[PlannedCall, str]] = []
        plan = await self.plan(text)
        reply = await self.execute(plan, confirmer, dry_run)
        # A short bounded loop lets the model look before it acts ("stop whatever is idle"),
        # but only when the person asked for an action and the first step merely looked.
        while (
            plan.planner == "ollama" and reply.outcome is not None and reply.outcome.ok
            and plan.call and not self.session.catalog.is_mutating(plan.call.tool)
            and _wants_action(text, await self.context(), self.session.catalog)
            and len(steps) < MAX_MODEL_STEPS - 1
        ):
            steps.append((plan.call, _summary(reply.outcome)))
            plan = await self.plan(text, steps)
            if plan.call is None:
                break
            reply = await self.execute(plan, confirmer, dry_run)
        return reply

    async def execute(self, plan: Plan, confirmer: Confirmer | None, dry_run: bool = False) -> Reply:
        if plan.clarification is not None:
            return Reply(plan=plan, status="error", message=clarification_text(plan.clarification))
        if plan.call is None:
            return Reply(plan=plan, status="ok", message=plan.final_text or "")
        call = plan.call
        arguments = dict(call.arguments)
        mutating = self.session.catalog.is_mutating(call.tool)
        if dry_run and mutating:
            arguments["dry_run"] = True
        outcome = self._just_read(call.tool, arguments) or self._just_failed(call.tool, arguments) or (
            await self.session.call(call.tool, arguments, confirmer=confirmer))
        if mutating:
            self.invalidate()  # states changed; the next plan must see them
        status = "ok" if outcome.status in {"ok", "dry_run"} else outcome.status
        return Reply(plan=plan, status=status, message=outcome.message, outcome=outcome)


def targets_of(call: PlannedCall, context: PlanningContext, catalog: Catalog) -> list[Target]:
    """Every instance the call acts on or reads, as id and Name (the `targets` of `--json`).

    The offline planner names instances by id; a model may name them by Name, matched with the
    server's own rule (utils/names.py). The server still resolves for itself before acting.
    """
    by_id = {i.instance_id: i for i in context.instances}
    by_name: dict[str, list[InventoryItem]] = {}
    for item in context.instances:
        if item.name and item.state != "terminated":
            by_name.setdefault(name_key(item.name), []).append(item)
    targets: list[Target] = []
    for ref in catalog.instance_refs(call.tool, call.arguments):
        item = by_id.get(ref.strip()) or _unique_name(by_name, name_key(ref))
        targets.append(Target(instance_id=item.instance_id, name=item.name) if item else Target(instance_id=ref))
    return targets


def _unique_name(by_name: dict[str, list[InventoryItem]], key: str) -> InventoryItem | None:
    exact = by_name.get(key)
    if exact:
        return exact[0] if len(exact) == 1 else None
    prefixed = [i for name, items in by_name.items() if key and name.startswith(key) for i in items]
    return prefixed[0] if len(prefixed) == 1 else None


def _ids(call: PlannedCall, context: PlanningContext, catalog: Catalog) -> set[str]:
    return {t.instance_id for t in targets_of(call, context, catalog)}


def _asked_for(call: PlannedCall, offline: PlannedCall | Clarification, context: PlanningContext,
               catalog: Catalog) -> bool:
    # A Clarification means the offline reader saw no clear action and targets: then neither may the model.
    # The place too: the same Name or id in another account or region is another machine.
    return (isinstance(offline, PlannedCall) and offline.tool == call.tool
            and _ids(offline, context, catalog) == _ids(call, context, catalog)
            and all(offline.arguments.get(k) == call.arguments.get(k) for k in ("region", "account")))


def _wants_action(text: str, context: PlanningContext, catalog: Catalog) -> bool:
    offline = plan_offline(text, context)
    return isinstance(offline, PlannedCall) and catalog.is_mutating(offline.tool)


def _summary(outcome: ToolOutcome, limit: int = 1500) -> str:
    return json.dumps(outcome.data, ensure_ascii=False, default=str)[:limit] if outcome.data else outcome.message


def clarification_text(clarification: Clarification | None) -> str:
    """A clarification as one line: the question and, when there are any, what might be meant."""
    if clarification is None:
        return "could not plan the request"
    if clarification.candidates:
        return f"{clarification.message} (candidates: {', '.join(clarification.candidates[:8])})"
    return clarification.message
