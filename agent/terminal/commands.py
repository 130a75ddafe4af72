"""Built-in REPL commands. One registry drives dispatch, Tab completion and `help` (Aider's commands.py).

A handler gets a `CommandContext`, the few things a command may touch (Aider's `Commands(io, coder)`),
never the REPL itself: the terminal, the MCP session, the settings and the monitor controls.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rich.table import Table

from agent.mcp_client import ToolSession
from agent.terminal.io import Terminal
from agent.terminal.monitor_panel import MonitorControls
from utils.config import Settings


@dataclass
class CommandContext:
    terminal: Terminal
    session: ToolSession
    settings: Settings
    monitor: MonitorControls
    status_lines: Callable[[], list[str]]
    run_tool: Callable[[str, dict], Awaitable[None]]
    leave: Callable[[], None]
    wait_for_sops: Callable[[], Awaitable[None]] | None = None  # the REPL's SOP warm-up, if one runs


Handler = Callable[[CommandContext, str], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    help: str
    handler: Handler


REGISTRY: dict[str, Command] = {}


def command(name: str, usage: str = ""):
    def register(handler: Handler) -> Handler:
        REGISTRY[name] = Command(name, usage or name, (handler.__doc__ or "").strip(), handler)
        return handler

    return register


def match(line: str) -> tuple[Command, str] | None:
    """The longest registered command the line starts with, and the rest of the line."""
    lowered = line.strip().lower()
    for name in sorted(REGISTRY, key=len, reverse=True):
        if lowered == name or lowered.startswith(name + " "):
            return REGISTRY[name], line.strip()[len(name):].strip()
    return None


@command("help")
async def _help(ctx: CommandContext, _rest: str) -> None:
    """Show the commands; anything else you type is a request in plain English or Korean."""
    table = Table(show_header=False, box=None, padding=(0, 2))
    for cmd in REGISTRY.values():
        table.add_row(f"[bold]{cmd.usage}[/bold]", cmd.help)
    ctx.terminal.print(table)
    ctx.terminal.info('Requests: "list all instances", "stop the web server", "웹 서버 재부팅해줘", '
                       '"show me the monthly cost", "errors in the api logs", "CPU of api-1".')


@command("exit")
async def _exit(ctx: CommandContext, _rest: str) -> None:
    """Leave (Ctrl-D works too)."""
    ctx.leave()


@command("quit")
async def _quit(ctx: CommandContext, rest: str) -> None:
    """Leave."""
    await _exit(ctx, rest)


@command("status")
async def _status(ctx: CommandContext, _rest: str) -> None:
    """Planner, model, AWS target, monitor state and today's incident counts."""
    for line in ctx.status_lines():
        ctx.terminal.print(line)


@command("auto on")
async def _auto_on(ctx: CommandContext, _rest: str) -> None:
    """Start the background monitor: alarms become incidents with SOP-backed proposals."""
    await ctx.monitor.start()


@command("auto off")
async def _auto_off(ctx: CommandContext, _rest: str) -> None:
    """Stop the background monitor."""
    await ctx.monitor.stop()


@command("history")
async def _history(ctx: CommandContext, rest: str) -> None:
    """Recent mutating actions from the audit log: who, what, decision, outcome."""
    from utils.audit_store import open_audit

    limit = int(rest) if rest.isdigit() else 15
    entries = await asyncio.to_thread(lambda: open_audit(ctx.settings).recent(limit))
    if not entries:
        ctx.terminal.info("no actions recorded yet")
        return
    from agent.terminal.render import history_table

    ctx.terminal.print(history_table(list(reversed(entries))))


@command("sop add", "sop add PATH...")
async def _sop_add(ctx: CommandContext, rest: str) -> None:
    """Add markdown SOPs (files or folders) to the knowledge base."""
    try:
        paths = shlex.split(rest)
    except ValueError as exc:
        ctx.terminal.error(f"cannot read the paths: {exc}")
        return
    if not paths:
        ctx.terminal.error("give one or more markdown files or folders: sop add ./runbooks")
        return
    await add_sops(ctx, paths)


@command("sop search", "sop search TEXT")
async def _sop_search(ctx: CommandContext, rest: str) -> None:
    """Find the SOPs that match a problem or alarm text."""
    if not rest:
        ctx.terminal.error("say what to search for: sop search disk full on web server")
        return
    if ctx.wait_for_sops is not None:
        await ctx.wait_for_sops()
    await ctx.run_tool("search_sops", {"query": rest, "k": 5})


@command("sop list")
async def _sop_list(ctx: CommandContext, _rest: str) -> None:
    """The SOPs in the knowledge base: id, title, the alarms each covers, its file."""
    documents = await _with_store(ctx, "reading the SOP store…", lambda store: store.list_documents())
    if documents is None:
        return
    table = Table(header_style="bold", show_edge=False)
    for column in ("ID", "Title", "Alarms", "Source"):
        table.add_column(column, overflow="fold", no_wrap=column == "ID")
    for d in documents:
        table.add_row(d.id, d.title, ", ".join(d.alarms[:3]) or "-", d.source)
    ctx.terminal.print(table)
    ctx.terminal.info(f"{len(documents)} SOP(s); `sop show ID` shows one")


@command("sop show", "sop show ID")
async def _sop_show(ctx: CommandContext, rest: str) -> None:
    """Show one SOP in full, as markdown (by id from `sop list`, or by path)."""
    from pathlib import Path

    from rich.markdown import Markdown

    wanted = rest.strip()
    if not wanted:
        ctx.terminal.error("which SOP? sop show ID (see `sop list`)")
        return
    documents = await _with_store(ctx, "reading the SOP store…", lambda store: store.list_documents())
    if documents is None:
        return
    match = next((d for d in documents if wanted in {d.id, d.source}), None)
    if match is None:
        ctx.terminal.error(f"no SOP with id or path {wanted!r} (see `sop list`)")
        return
    try:
        text = await asyncio.to_thread(Path(match.source).read_text, encoding="utf-8")
    except OSError as exc:
        ctx.terminal.error(f"cannot read {match.source}: {exc.strerror or exc}")
        return
    ctx.terminal.print(Markdown(text))


@command("sop")
async def _sop(ctx: CommandContext, _rest: str) -> None:
    """SOP commands: sop list, sop show ID, sop search TEXT, sop add PATH..."""
    for name in ("sop list", "sop show", "sop search", "sop add"):
        cmd = REGISTRY[name]
        ctx.terminal.print(f"  [bold]{cmd.usage}[/bold]  {cmd.help}")


async def _with_store(ctx: CommandContext, waiting: str, read):
    """Run `read(store)` on the store the server searches; one red line if it fails."""
    from sop.store import SopStore

    with ctx.terminal.spinner(waiting):
        try:
            return await asyncio.to_thread(lambda: read(SopStore.shared(ctx.settings.home)))
        except Exception as exc:
            ctx.terminal.error(str(exc))
            return None


@command("queue")
async def _queue(ctx: CommandContext, _rest: str) -> None:
    """Proposals waiting for approval."""
    ctx.monitor.queue()


@command("approve", "approve ID")
async def _approve(ctx: CommandContext, rest: str) -> None:
    """Run an incident's proposal; destructive ones still ask y/N."""
    if not rest:
        ctx.terminal.error("which incident? approve INC-1 (see `queue`)")
        return
    await ctx.monitor.approve(rest.split()[0])


@command("reject", "reject ID [reason]")
async def _reject(ctx: CommandContext, rest: str) -> None:
    """Close an incident's proposal without running it."""
    if not rest:
        ctx.terminal.error("which incident? reject INC-1 [reason]")
        return
    await ctx.monitor.reject(rest)


@command("incidents", "incidents [N | INC-n]")
async def _incidents(ctx: CommandContext, rest: str) -> None:
    """The incident timeline: opened, tier, decision, outcome, time to resolve; INC-n: one incident's every step."""
    if rest.strip().upper().startswith("INC-"):
        ctx.monitor.timeline(rest.strip().split()[0])
        return
    ctx.monitor.incidents(int(rest) if rest.isdigit() else 15)


@command("simulate", "simulate [clear] cpu|status|disk NAME")
async def _simulate(ctx: CommandContext, rest: str) -> None:
    """Sandbox only: fire (or clear) an alarm to see the whole incident flow."""
    await ctx.monitor.simulate(rest)


async def add_sops(ctx: CommandContext, paths: list[str]) -> None:
    """Index SOPs into the store the server searches (one store per home and process)."""
    from sop.store import SopStore

    def add():
        return SopStore.shared(ctx.settings.home, known_tools=ctx.session.catalog.names).add(paths)

    with ctx.terminal.spinner("indexing SOPs…"):
        try:
            report = await asyncio.to_thread(add)
        except Exception as exc:
            ctx.terminal.error(str(exc))
            return
    for item in report.files:
        line = f"{item.status:9} {item.path}" + (f"  ({item.reason})" if item.reason else "")
        (ctx.terminal.warn if item.status in {"skipped", "failed"} else ctx.terminal.info)(line)
    ctx.terminal.print(f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
                       f"skipped {report.skipped}, failed {report.failed}")
