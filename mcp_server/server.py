"""Assembles the MCP server: lifespan (settings, AWS clients, audit, optional sandbox) and the tools."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.mcpserver import MCPServer

from mcp_server import ec2_tools, observe_tools
from mcp_server.state import ServerState
from utils.config import Settings
from utils.sandbox import isolate_process_for_sandbox

INSTRUCTIONS = (
    "AWS operations tools. Instance arguments accept ids or Name tags. stop, reboot and terminate "
    "ask the user to confirm; protected instances, read-only mode and the blast-radius limit refuse."
)


def build_server(settings: Settings, sandbox_factory=None) -> MCPServer:
    """`sandbox_factory`, when given, starts an embedded AWS sandbox for this server's lifetime."""

    @asynccontextmanager
    async def lifespan(_server: MCPServer) -> AsyncIterator[ServerState]:
        state = ServerState.open(settings)
        sandbox = None
        if sandbox_factory is None:
            state.ready.set()
        else:
            sandbox = sandbox_factory()
            # The endpoint is set before any client exists, so nothing can reach real AWS;
            # seeding runs behind the handshake so `initialize` answers at once.
            url = sandbox.start()
            isolate_process_for_sandbox(url, sandbox.region)
            settings.aws_endpoint_url = url
            settings.aws_profile = None
            sandbox.seed_in_background(lambda exc: _seeded(state, exc))
        try:
            yield state
        finally:
            if sandbox is not None:
                sandbox.stop()
            if state.audit is not None:
                state.audit.close()

    server = MCPServer("aiops-agent", instructions=INSTRUCTIONS, version="0.1.0", lifespan=lifespan,
                       log_level="WARNING")
    ec2_tools.register(server)
    observe_tools.register(server)
    return server


def _seeded(state: ServerState, exc: BaseException | None) -> None:
    if exc is not None:
        state.startup_error = f"SandboxFailed: the AWS sandbox did not start: {exc}"
    state.ready.set()


def serve(settings: Settings) -> int:
    """Serve on stdio until the client disconnects."""
    from utils.sandbox import Sandbox

    factory = (lambda: Sandbox(region=settings.region)) if settings.sandbox else None
    build_server(settings, sandbox_factory=factory).run()
    return 0
