"""Assembles the MCP server: lifespan (settings, AWS clients, audit, optional sandbox) and the tools."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.mcpserver import MCPServer
from mcp.server.request_state import RequestStateBoundary, RequestStateSecurity

from mcp_server import ec2_tools, observe_tools
from mcp_server.catalog import ACTIONS
from mcp_server.consent import ConsentLedger
from mcp_server.state import ServerState
from utils.config import Settings

INSTRUCTIONS = (
    "AWS operations tools. Instance arguments accept ids or Name tags. stop, reboot and terminate "
    "ask the user to confirm; protected instances, read-only mode and the blast-radius limit refuse."
)


def build_server(settings: Settings, embedded_sandbox: bool = False) -> MCPServer:
    """`embedded_sandbox`: start a private AWS sandbox for this server's lifetime (`main.py --sandbox mcp`)."""

    @asynccontextmanager
    async def lifespan(server_: MCPServer) -> AsyncIterator[ServerState]:
        state = ServerState.open(settings)
        state.tool_names = frozenset(tool.name for tool in await server_.list_tools())
        sandbox = None
        if not embedded_sandbox:
            state.ready.set()
        else:
            from utils.sandbox import start_private_sandbox

            # Seeding runs behind the handshake so `initialize` answers at once.
            sandbox = start_private_sandbox(settings, seed="background", on_seeded=lambda exc: _seeded(state, exc))
        try:
            yield state
        finally:
            if sandbox is not None:
                sandbox.stop()
            if state.audit is not None:
                state.audit.close()

    # A question's sealed requestState (2026-07-28) lives exactly as long as a person may take to answer.
    deadline = RequestStateSecurity.ephemeral(ttl=settings.confirm_timeout_seconds)
    server = MCPServer("aiops-agent", instructions=INSTRUCTIONS, version="0.1.0", lifespan=lifespan,
                       log_level="WARNING", request_state_security=deadline)
    ec2_tools.register(server)
    observe_tools.register(server)
    # Outside the SDK's requestState boundary: the ledger must see each sealed round as sent.
    chain = server.middleware
    boundary = next(i for i, m in enumerate(chain) if isinstance(m, RequestStateBoundary))
    chain.insert(boundary, ConsentLedger(frozenset(a.tool for a in ACTIONS.values()), settings.confirm_timeout_seconds))
    return server


def tool_names(settings: Settings) -> list[str]:
    """The catalog's tool names, read from the server itself (for checking SOP recoveries offline)."""
    import anyio

    return [tool.name for tool in anyio.run(build_server(settings).list_tools)]


def _seeded(state: ServerState, exc: BaseException | None) -> None:
    if exc is not None:
        state.startup_error = f"SandboxFailed: the AWS sandbox did not start: {exc}"
    state.ready.set()


def serve(settings: Settings) -> int:
    """Serve on stdio until the client disconnects."""
    build_server(settings, embedded_sandbox=settings.sandbox).run()
    return 0
