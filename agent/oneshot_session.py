"""The tool session of a one-shot `ask`/`plan`: EC2 reads in-process, the MCP session only when needed.

A one-shot pays for everything it imports, and the MCP SDK alone is about a second. The server's
EC2 reads (mcp_server/local_reads.py) need none of it; every other call (any mutation, so every
guard and confirmation, and the other reads) opens the process's one MCP session on first use and
goes through it, as the REPL's calls do. The catalog is the server's own declaration
(mcp_server/catalog.py, the facts its `tools/list` publishes) until the session is open, then the
session's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from contextlib import AsyncExitStack
from typing import Any

from agent.catalog import Catalog
from agent.outcomes import Confirmer, ToolOutcome
from mcp_server.catalog import declared_tools
from mcp_server.local_reads import LocalReads
from utils.config import Settings


class OneShotSession:
    """Duck-types agent.mcp_client.ToolSession for ChatOps: `catalog`, `tools`, `call`, `read_resource`."""

    def __init__(self, settings: Settings, client_name: str, stack: AsyncExitStack, *, can_ask: bool = True):
        self._settings = settings
        self._client_name = client_name
        self._can_ask = can_ask  # False: nobody to ask, so the session offers no elicitation
        self._stack = stack  # the MCP session, once opened, closes with the command
        self._reads = LocalReads(settings)
        self._session: Any = None
        self._opening = asyncio.Lock()
        self.catalog = Catalog(declared_tools())
        self.tools: list[Any] = []  # the tools' schemas are only for a model planner, which uses the MCP session
        self._early: dict[tuple[str, str], asyncio.Future] = {}

    @property
    def opened(self) -> bool:
        return self._session is not None

    async def mcp(self):
        """The one MCP session of this process, opened on first use."""
        async with self._opening:
            if self._session is None:
                from agent.mcp_client import open_session

                self._session = await self._stack.enter_async_context(
                    open_session(self._settings, client_name=self._client_name, can_ask=self._can_ask))
                self.catalog, self.tools = self._session.catalog, self._session.tools
            return self._session

    def start_early(self, tool: str, arguments: dict[str, Any]) -> None:
        """Start a read now, for the first call that asks for it: the planning context's listing, sent
        while the planner is still being imported. Only this process's one request uses it.

        A daemon thread, not the loop's executor: a request that never asks for it (one over the length
        limit) must not wait at exit for an answer nobody reads.
        """
        if not self._reads.serves(tool, arguments) or self.catalog.is_mutating(tool):
            return
        loop = asyncio.get_running_loop()
        future = self._early[_key(tool, arguments)] = loop.create_future()

        def settle(result: tuple[dict[str, Any] | None, str | None]) -> None:
            if not future.done():
                future.set_result(result)

        def read() -> None:
            result = self._reads.call(tool, arguments)
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting any more
                loop.call_soon_threadsafe(settle, result)

        threading.Thread(target=read, name=f"early-{tool}", daemon=True).start()

    async def call(self, tool: str, arguments: dict[str, Any], confirmer: Confirmer | None = None) -> ToolOutcome:
        early = self._early.pop(_key(tool, arguments), None)
        if early is not None or (
                self._session is None and not self.catalog.is_mutating(tool) and self._reads.serves(tool, arguments)):
            data, error = await (early or asyncio.to_thread(self._reads.call, tool, arguments))
            if error is not None:
                return ToolOutcome(tool=tool, arguments=arguments, status="error", message=error)
            return ToolOutcome(tool=tool, arguments=arguments, status="ok", message=(data or {}).get("message", ""),
                               data=data)
        return await (await self.mcp()).call(tool, arguments, confirmer=confirmer)

    async def read_resource(self, uri: str) -> str | None:
        return await (await self.mcp()).read_resource(uri)


def _key(tool: str, arguments: dict[str, Any]) -> tuple[str, str]:
    return tool, json.dumps(arguments, sort_keys=True, default=str)
