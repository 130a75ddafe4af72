"""The Ollama planner: one schema-checked tool call per turn from a local model, or a reason to fall back.

It never raises. Every failure (Ollama down, slow, model missing, a malformed or invented
call) comes back as `ModelPlan.fallback_reason`, and the caller hands the request to the
offline rules planner (semantic fallback: docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from importlib import resources
from string import Template
from typing import Any

import httpx
import mcp.types as mcp_types
from pydantic import BaseModel

from agent.model.host import DEFAULT_PORT, normalize_host
from agent.model.tools import check_call, function_specs
from agent.planner.types import PlannedCall, PlanningContext
from utils.urls import public_url

PROBE_SECONDS = 1.5
MAX_INVENTORY = 60
MAX_LOG_GROUPS = 40
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


class ModelPlan(BaseModel):
    """What the model decided, or why the caller must use the offline planner instead."""

    call: PlannedCall | None = None
    final_text: str | None = None
    fallback_reason: str | None = None


class OllamaPlanner:
    def __init__(self, host: str, model: str, timeout: float):
        # A malformed OLLAMA_HOST is a reason to use the offline planner, said once, never a crash.
        self.host_error: str | None = None
        try:
            self.host = normalize_host(host)
        except ValueError as exc:
            self.host = ""
            self.host_error = (f"OLLAMA_HOST {public_url(host)!r} is not a host[:port] or URL ({exc}); "
                               f"set it like http://localhost:{DEFAULT_PORT}")
        self.where = public_url(self.host)  # for messages: credentials in OLLAMA_HOST stay out of logs
        self.model = model
        self.timeout = timeout
        self._chat: Any = None  # ChatOllama, built on first use (its import is slow)
        self._chat_loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> OllamaPlanner:
        return cls(settings.ollama_host, settings.model, settings.ollama_timeout_seconds)

    async def probe(self) -> str | None:
        """None when Ollama answers and has the model; else one line for the banner."""
        if self.host_error:
            return self.host_error
        seconds = min(PROBE_SECONDS, self.timeout)
        try:
            async with asyncio.timeout(seconds), httpx.AsyncClient(timeout=seconds) as client:
                response = await client.get(f"{self.host}/api/tags")
            response.raise_for_status()
            names = [m.get("model") or m.get("name") for m in response.json().get("models", [])]
        except (httpx.ConnectError, httpx.TimeoutException, TimeoutError, OSError):
            return f"Ollama not reachable at {self.where}"
        except httpx.HTTPStatusError as exc:
            return f"{self.where} answered {exc.response.status_code} to /api/tags; is it Ollama?"
        except (ValueError, AttributeError, TypeError, httpx.HTTPError):
            return f"{self.where} does not answer like Ollama"
        except Exception as exc:  # a bad OLLAMA_HOST (invalid URL) must reach the banner, not a traceback
            return f"cannot query Ollama at {self.where} ({type(exc).__name__})"
        if not model_present(self.model, names):
            return f"model {self.model} is not pulled (ollama pull {self.model})"
        return None

    async def plan(self, request: str, tools: list[mcp_types.Tool], context: PlanningContext,
                   steps: Sequence[tuple[PlannedCall, str]] = ()) -> ModelPlan:
        if self.host_error:
            return ModelPlan(fallback_reason=self.host_error)
        try:
            return await self._plan(request, tools, context, list(steps))
        except Exception as exc:  # never raises: any failure means the rules planner answers
            try:
                from agent.model.chat import failure_reason
            except Exception:  # the ollama package reads OLLAMA_HOST at import, with its own parser
                return ModelPlan(fallback_reason=f"cannot use Ollama at {self.where} ({type(exc).__name__}: {exc})")
            return ModelPlan(fallback_reason=failure_reason(exc, self.where, self.model, self.timeout))

    async def _plan(self, request: str, tools: list[mcp_types.Tool], context: PlanningContext,
                    steps: list[tuple[PlannedCall, str]]) -> ModelPlan:
        from agent.model.chat import build_messages, chat_model, chat_turn

        if not tools:
            return ModelPlan(fallback_reason="no tools to offer the model")
        # httpx pools connections per event loop: a planner reused under a new loop gets a new client.
        loop = asyncio.get_running_loop()
        if self._chat is None or self._chat_loop is not loop:
            self._chat, self._chat_loop = chat_model(self.host, self.model, self.timeout), loop
        messages = build_messages(system_prompt(context), request, steps)
        reply = await chat_turn(self._chat, function_specs(tools), messages, self.timeout)
        calls = [(c["name"], c.get("args")) for c in reply.tool_calls]
        return plan_from_reply(calls, _text_of(reply.content), tools, steps)


def plan_from_reply(calls: list[tuple[str, Any]], text: str, tools: list[mcp_types.Tool],
                    steps: Sequence[tuple[PlannedCall, str]]) -> ModelPlan:
    """Turn the model's turn (its tool calls and its text) into a plan or a fallback reason."""
    if not calls:
        try:
            embedded = embedded_call(text)
        except ValueError:
            return ModelPlan(fallback_reason="model returned malformed JSON")
        if embedded is not None:
            calls = [embedded]
    if calls:
        return _plan_from_calls(calls, tools, steps)
    if not text.strip():
        return ModelPlan(fallback_reason="model returned an empty answer")
    if steps:
        return ModelPlan(final_text=text.strip())
    return ModelPlan(fallback_reason="model answered with text instead of a tool call")


def _plan_from_calls(calls: list[tuple[str, Any]], tools: list[mcp_types.Tool],
                     steps: Sequence[tuple[PlannedCall, str]]) -> ModelPlan:
    distinct = list({json.dumps(c, sort_keys=True, default=str): c for c in calls}.values())
    name, raw_arguments = distinct[0]
    # Acting on only the first of several calls would silently drop the rest of a change; a
    # read first is harmless, and the caller's loop comes back for the next step.
    if len(distinct) > 1 and not _read_only(name, tools):
        return ModelPlan(fallback_reason=f"model made {len(distinct)} tool calls in one turn")
    arguments, problem = check_call(name, raw_arguments, tools)
    if problem or arguments is None:
        return ModelPlan(fallback_reason=problem or "arguments failed validation")
    if any(done.tool == name and done.arguments == arguments for done, _ in steps):
        return ModelPlan(fallback_reason=f"model repeated its earlier {name} call")
    return ModelPlan(call=PlannedCall(tool=name, arguments=arguments, planner="ollama"))


def embedded_call(text: str) -> tuple[str, Any] | None:
    """A tool call the model wrote as JSON text (llama3.1 does when Ollama's parser misses it).

    None for ordinary prose; ValueError for text that is meant as JSON but is not a call.
    """
    body = _FENCE.sub("", text.strip().removeprefix("<|python_tag|>").strip())
    if not body.startswith("{"):
        return None
    try:
        obj = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError("malformed JSON") from exc
    if isinstance(obj.get("function"), dict):
        obj = obj["function"]
    name = obj.get("name")
    arguments = obj.get("parameters", obj.get("arguments"))
    if not isinstance(name, str):
        raise ValueError("JSON that is not a tool call")
    return name, arguments if arguments is not None else {}


def _read_only(name: str, tools: list[mcp_types.Tool]) -> bool:
    tool = next((t for t in tools if t.name == name), None)
    return bool(tool and tool.annotations and tool.annotations.read_only_hint)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else []
    return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in parts if isinstance(p, str | dict))


def system_prompt(context: PlanningContext) -> str:
    template = resources.files("agent.model").joinpath("prompts/planner_system.md").read_text(encoding="utf-8")
    known = context.log_groups or []
    groups = known[:MAX_LOG_GROUPS]
    group_lines = "\n".join(f"- {_clean(g)}" for g in groups) or "(none known)"
    if len(known) > len(groups):
        group_lines += f"\n... and {len(known) - len(groups)} more"
    return Template(template).safe_substitute(
        instance_count=len(context.instances), inventory=inventory_summary(context), log_groups=group_lines,
        accounts=", ".join(_clean(a) for a in context.accounts) or "(not configured: leave account out)",
        regions=", ".join(_clean(r) for r in context.regions) or "(the session's region)",
    )


def inventory_summary(context: PlanningContext, cap: int = MAX_INVENTORY) -> str:
    """One line per instance (Name | id | state | env | role, and region | account when the row says), at
    most `cap`, then "and N more"."""
    lines = []
    for item in context.instances[:cap]:
        tags = {k.lower(): v for k, v in item.tags.items()}
        env = tags.get("env") or tags.get("environment") or "-"
        role = tags.get("role") or tags.get("service") or "-"
        where = "".join(f" | {key}={_clean(value)}" for key, value in (("region", item.region),
                                                                        ("account", item.account)) if value)
        lines.append(f"- {_clean(item.name or '(no name)')} | {item.instance_id} | {item.state} | "
                     f"env={_clean(env)} | role={_clean(role)}{where}")
    hidden = len(context.instances) - cap
    if hidden > 0:
        lines.append(f"... and {hidden} more (not listed; use list_instances to find them)")
    return "\n".join(lines) or "(no instances known)"


def _clean(value: str, limit: int = 64) -> str:
    # Tag values are user-controlled: one short line each, so none can pose as a prompt section.
    value = " ".join(str(value).split())
    return value if len(value) <= limit else value[:limit] + "..."


def model_present(model: str, names: Sequence[str | None]) -> bool:
    # Ollama resolves a name without a tag to ":latest", so "llama3.1" is not "llama3.1:70b".
    wanted = model if ":" in model else f"{model}:latest"
    return any(name in (model, wanted) for name in names if name)
