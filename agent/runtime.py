"""Start-up shared by every command: the sandbox (if asked), the one MCP session, the planner choice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from agent.mcp_client import ToolSession, open_session
from utils.config import Settings


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
    try:
        from agent.model.planner import OllamaPlanner
    except ImportError:
        return None, "offline planner (the Ollama planner is not installed)"
    planner = OllamaPlanner.from_settings(settings)
    problem = await planner.probe()
    if problem is None:
        return planner, f"Ollama {settings.model} at {settings.ollama_host}"
    if settings.planner == "ollama":
        # Forced: keep trying the model; each failed request still falls back to the rules.
        return planner, f"Ollama forced, but {problem}; requests fall back to the offline planner"
    return None, f"{problem} — using the offline planner"


def start_sandbox(settings: Settings, background: bool) -> Any:
    """Start moto on loopback and point this process (and its children) at it, never at real AWS."""
    from utils.sandbox import Sandbox, isolate_process_for_sandbox

    sandbox = Sandbox(region=settings.region)
    if background:
        # Start moto on a thread while the MCP server spawns: the server reaches AWS only on its
        # first call, and the REPL waits for `sandbox.ready` before sending one.
        url = sandbox.reserve()
        sandbox.seed_in_background(start=True)
    else:
        url = sandbox.start()
        sandbox.seed()
    isolate_process_for_sandbox(url, sandbox.region)
    settings.aws_endpoint_url = url
    settings.aws_profile = None
    return sandbox


@asynccontextmanager
async def runtime(
    settings: Settings, *, client_name: str, background_seed: bool = False
) -> AsyncIterator[Runtime]:
    sandbox = start_sandbox(settings, background_seed) if settings.sandbox else None
    try:
        planner_task = asyncio.create_task(choose_planner(settings))
        async with open_session(settings, client_name=client_name) as session:
            model_planner, note = await planner_task
            yield Runtime(settings, session, model_planner, note, sandbox)
    finally:
        if sandbox is not None:
            sandbox.stop()
