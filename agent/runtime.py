"""Start-up shared by every command: the sandbox (if asked), the one MCP session, the planner choice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.model.host import normalize_host, nothing_listens
from utils.config import Settings
from utils.urls import public_url

if TYPE_CHECKING:
    from agent.mcp_client import ToolSession


# What a call needs of a private sandbox that is still seeding: these only the instances; the rest
# (alarms, metrics, logs, costs, and status checks, which read alarms) the whole estate.
FLEET_TOOLS = frozenset({"list_instances", "describe_instance", "start_instances", "stop_instances",
                         "reboot_instances", "terminate_instances"})


class SeedingGate:
    """The REPL's tool session while its sandbox seeds: the first request waits only for what it needs."""

    def __init__(self, session: Any, sandbox: Any):
        self._session, self._sandbox = session, sandbox

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    async def call(self, tool: str, arguments: dict, confirmer: Any = None) -> Any:
        needed = self._sandbox.fleet_ready if tool in FLEET_TOOLS else self._sandbox.ready
        if not needed.is_set():
            await asyncio.to_thread(needed.wait, 120)
        return await self._session.call(tool, arguments, confirmer=confirmer)


def _gated(session: Any, sandbox: Any) -> Any:
    return SeedingGate(session, sandbox) if sandbox is not None and not sandbox.ready.is_set() else session


@dataclass
class Runtime:
    settings: Settings
    session: ToolSession
    model_planner: Any | None
    planner_note: str
    sandbox: Any | None = None


async def choose_planner(settings: Settings) -> tuple[Any | None, str]:
    """(model planner or None, one line saying which planner serves and why)."""
    if settings.planner == "rules":
        return None, "offline planner (--planner rules)"
    if settings.planner == "auto" and await nothing_listens(settings.ollama_host):
        # The probe's own words, without importing the model stack (httpx, langchain: ~0.3 s) to say them.
        where = public_url(normalize_host(settings.ollama_host))
        return None, f"Ollama not reachable at {where} — using the offline planner"
    from agent.model.planner import OllamaPlanner

    planner = OllamaPlanner.from_settings(settings)
    problem = await planner.probe()
    if problem is None:
        return planner, f"Ollama {settings.model} at {settings.ollama_host}"
    if settings.planner == "ollama":
        # Forced: keep trying the model; each failed request still falls back to the rules.
        return planner, f"Ollama forced, but {problem}; requests fall back to the offline planner"
    return None, f"{problem} — using the offline planner"


@asynccontextmanager
async def runtime(
    settings: Settings, *, client_name: str, background_seed: bool = False, can_ask: bool = True
) -> AsyncIterator[Runtime]:
    sandbox = None
    if settings.sandbox:
        from utils.sandbox import start_private_sandbox

        # Deferred: moto starts on a thread while the session opens; the REPL waits for `ready`
        # before its first AWS call.
        sandbox = start_private_sandbox(settings, seed="deferred" if background_seed else "now")
    try:
        from agent.mcp_client import open_session

        planner_task = asyncio.create_task(choose_planner(settings))
        async with open_session(settings, client_name=client_name, can_ask=can_ask) as session:
            model_planner, note = await planner_task
            yield Runtime(settings, session, model_planner, note, sandbox)
    finally:
        if sandbox is not None:
            sandbox.stop()


@asynccontextmanager
async def oneshot_runtime(settings: Settings, *, client_name: str, can_ask: bool = True) -> AsyncIterator[Runtime]:
    """`ask`/`plan`: as `runtime`, but with no model to serve, EC2 reads run in-process and the MCP
    session opens only for a call that needs it (agent/oneshot_session.py). A model planner gets the
    MCP session at once: it plans from the tools' schemas."""
    sandbox = None
    if settings.sandbox:
        from utils.sandbox import start_private_sandbox

        sandbox = start_private_sandbox(settings, seed="fleet")  # the rest, the gate waits for
    try:
        model_planner, note = await choose_planner(settings)
        if model_planner is not None:
            from agent.mcp_client import open_session

            async with open_session(settings, client_name=client_name, can_ask=can_ask) as session:
                yield Runtime(settings, _gated(session, sandbox), model_planner, note, sandbox)
            return
        from agent.oneshot_session import OneShotSession

        async with AsyncExitStack() as stack:
            session = OneShotSession(settings, client_name, stack, can_ask=can_ask)
            session.start_early("list_instances", {})  # every request plans on the fleet: read it now
            yield Runtime(settings, _gated(session, sandbox), None, note, sandbox)
    finally:
        if sandbox is not None:
            sandbox.stop()
