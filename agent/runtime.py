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
        planner_task = asyncio.create_task(choose_planner(settings))
        async with open_session(settings, client_name=client_name, can_ask=can_ask) as session:
            model_planner, note = await planner_task
            yield Runtime(settings, session, model_planner, note, sandbox)
    finally:
        if sandbox is not None:
            sandbox.stop()
