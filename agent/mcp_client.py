"""The agent's one MCP session: spawned once (stdio) or in memory, shared by the REPL and the monitor.

Confirmation is a callback per call (HolmesGPT's pattern): the REPL asks y/N, `ask --yes`
consents, the monitor's auto-remediation consents only where policy allows. A call made
without a confirmer is answered "decline" — no callback, no destructive action.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import mcp.types as mcp_types
from mcp import Client

from agent.catalog import Catalog
from agent.outcomes import (
    CONFIRMATION_KEY,
    ConfirmationRequest,
    Confirmer,
    ConfirmTarget,
    ToolOutcome,
    _confirmer,
)
from utils.config import Settings

# Re-exported: the monitor, the terminal and the tests import these from here.
__all__ = ["CONFIRMATION_KEY", "ConfirmTarget", "ConfirmationRequest", "Confirmer", "ToolOutcome", "ToolSession",
           "open_session", "outcome_from_result"]

CLIENT_VERSION = "0.1.0"


class ToolSession:
    def __init__(self, client: Client):
        self._client = client
        self.tools: list[mcp_types.Tool] = []
        self.catalog = Catalog()

    async def refresh_tools(self) -> list[mcp_types.Tool]:
        self.tools = list((await self._client.list_tools()).tools)
        self.catalog = Catalog(self.tools)
        return self.tools

    def tool(self, name: str) -> mcp_types.Tool | None:
        return next((t for t in self.tools if t.name == name), None)

    async def read_resource(self, uri: str) -> str | None:
        result = await self._client.read_resource(uri)
        for content in result.contents:
            text = getattr(content, "text", None)
            if text is not None:
                return text
        return None

    async def call(self, tool: str, arguments: dict[str, Any], confirmer: Confirmer | None = None,
                   on_behalf_of: str | None = None) -> ToolOutcome:
        """`on_behalf_of` (e.g. `slack:U123`) names the person the audit row is for; the guards are the same."""
        token = _confirmer.set(confirmer)
        try:
            meta = {"aiops/on-behalf-of": on_behalf_of} if on_behalf_of else None
            result = await self._client.call_tool(tool, arguments, meta=meta)
        except Exception as exc:  # protocol failure: report it, never unwind the caller's loop
            return ToolOutcome(tool=tool, arguments=arguments, status="error", message=f"MCP call failed: {exc}")
        finally:
            _confirmer.reset(token)
        return outcome_from_result(tool, arguments, result, self.catalog.is_mutating(tool))


def outcome_from_result(
    tool: str, arguments: dict[str, Any], result: mcp_types.CallToolResult, mutating: bool
) -> ToolOutcome:
    data = result.structured_content
    text = " ".join(c.text for c in result.content if isinstance(c, mcp_types.TextContent)).strip()
    if not result.is_error:
        # A mutating tool's result carries its own status (ok or dry_run); a read's is just ok.
        status = (data or {}).get("status", "ok") if mutating else "ok"
        return ToolOutcome(tool=tool, arguments=arguments, status=status,
                           message=(data or {}).get("message", ""), data=data)
    if data and data.get("status") in {"declined", "refused", "unconfirmed", "error"}:
        return ToolOutcome(tool=tool, arguments=arguments, status=data["status"], message=data.get("message", text),
                           data=data)
    if text == f"Error executing tool {tool}":  # the SDK keeps an unexpected crash's text on the server
        text = f"{tool} failed unexpectedly on the server; rerun with AIOPS_DEBUG=1 to see why"
    text = text.removeprefix(f"Error executing tool {tool}: ")
    return ToolOutcome(tool=tool, arguments=arguments, status="error", message=text or "the tool failed", data=data)


async def _elicit(_ctx: Any, params: Any) -> mcp_types.ElicitResult:
    confirmer = _confirmer.get()
    if confirmer is None:
        return mcp_types.ElicitResult(action="decline")
    try:
        yes = await confirmer(ConfirmationRequest.from_params(params))
    except Exception:  # a broken prompt is a No
        yes = False
    if yes:
        return mcp_types.ElicitResult(action="accept", content={"confirm": True})
    return mcp_types.ElicitResult(action="decline")


@asynccontextmanager
async def open_session(settings: Settings, *, client_name: str = "aiops-agent",
                       can_ask: bool = True) -> AsyncIterator[ToolSession]:
    """One MCP session for the life of the process (not a subprocess per call).

    In-memory transport to the same server object `main.py mcp` serves over stdio: the same tools
    and guards, without a second interpreter re-importing the SDK (~1 s of start-up).
    """
    from mcp_server.server import build_server

    target = build_server(settings)
    info = mcp_types.Implementation(name=client_name, version=CLIENT_VERSION)
    # Without anyone to ask (no terminal, no --yes), the client offers no elicitation at all, so the
    # server records `unconfirmed`, not a No that nobody said.
    async with Client(target, elicitation_callback=_elicit if can_ask else None, client_info=info) as client:
        session = ToolSession(client)
        await session.refresh_tools()
        yield session

