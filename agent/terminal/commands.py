"""Built-in REPL commands. One registry drives dispatch, Tab completion and `help` (Aider's commands.py)."""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.table import Table

if TYPE_CHECKING:
    from agent.terminal.repl import Repl

Handler = Callable[["Repl", str], Awaitable[None]]


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
async def _help(repl: Repl, _rest: str) -> None:
    """Show the commands; anything else you type is a request in plain English or Korean."""
    table = Table(show_header=False, box=None, padding=(0, 2))
    for cmd in REGISTRY.values():
        table.add_row(f"[bold]{cmd.usage}[/bold]", cmd.help)
    repl.terminal.print(table)
    repl.terminal.info('Requests: "list all instances", "stop the web server", "웹 서버 재부팅해줘", '
                       '"show me the monthly cost", "errors in the api logs", "CPU of api-1".')


@command("exit")
async def _exit(repl: Repl, _rest: str) -> None:
    """Leave (Ctrl-D works too)."""
    repl.stopping = True


@command("quit")
async def _quit(repl: Repl, rest: str) -> None:
    """Leave."""
    await _exit(repl, rest)


@command("status")
async def _status(repl: Repl, _rest: str) -> None:
    """Planner, model, AWS target, monitor state and today's incident counts."""
    for line in repl.status_lines():
        repl.terminal.print(line)


@command("auto on")
async def _auto_on(repl: Repl, _rest: str) -> None:
    """Start the background monitor: alarms become incidents with SOP-backed proposals."""
    await repl.start_monitor()


@command("auto off")
async def _auto_off(repl: Repl, _rest: str) -> None:
    """Stop the background monitor."""
    await repl.stop_monitor()


@command("history")
async def _history(repl: Repl, rest: str) -> None:
    """Recent mutating actions from the audit log: who, what, decision, outcome."""
    from utils.audit import AuditLog

    limit = int(rest) if rest.isdigit() else 15
    entries = await asyncio.to_thread(lambda: AuditLog(repl.settings.home).recent(limit))
    if not entries:
        repl.terminal.info("no actions recorded yet")
        return
    table = Table(header_style="bold", show_edge=False)
    for column in ("When (UTC)", "Tool", "Targets", "Decision", "Outcome"):
        table.add_column(column, overflow="fold")
    for e in reversed(entries):
        names = ", ".join(t.get("name") or t["instance_id"] for t in e.targets) or "-"
        table.add_row(e.ts.replace("T", " ")[:19], e.tool, names, e.decision, e.outcome[:70])
    repl.terminal.print(table)


@command("sop add", "sop add PATH...")
async def _sop_add(repl: Repl, rest: str) -> None:
    """Add markdown SOPs (files or folders) to the knowledge base."""
    try:
        paths = shlex.split(rest)
    except ValueError as exc:
        repl.terminal.error(f"cannot read the paths: {exc}")
        return
    if not paths:
        repl.terminal.error("give one or more markdown files or folders: sop add ./runbooks")
        return
    await repl.sop_add(paths)


@command("sop search", "sop search TEXT")
async def _sop_search(repl: Repl, rest: str) -> None:
    """Find the SOPs that match a problem or alarm text."""
    if not rest:
        repl.terminal.error("say what to search for: sop search disk full on web server")
        return
    await repl.run_tool("search_sops", {"query": rest, "k": 5})


@command("queue")
async def _queue(repl: Repl, _rest: str) -> None:
    """Proposals waiting for approval."""
    repl.monitor.queue()


@command("approve", "approve ID")
async def _approve(repl: Repl, rest: str) -> None:
    """Run an incident's proposal; destructive ones still ask y/N."""
    if not rest:
        repl.terminal.error("which incident? approve INC-1 (see `queue`)")
        return
    await repl.monitor.approve(rest.split()[0])


@command("reject", "reject ID [reason]")
async def _reject(repl: Repl, rest: str) -> None:
    """Close an incident's proposal without running it."""
    if not rest:
        repl.terminal.error("which incident? reject INC-1 [reason]")
        return
    repl.monitor.reject(rest)


@command("incidents")
async def _incidents(repl: Repl, rest: str) -> None:
    """The incident timeline: opened, tier, decision, outcome, time to resolve."""
    repl.monitor.incidents(int(rest) if rest.isdigit() else 15)


@command("simulate", "simulate [clear] cpu|status|disk NAME")
async def _simulate(repl: Repl, rest: str) -> None:
    """Sandbox only: fire (or clear) an alarm to see the whole incident flow."""
    await repl.monitor.simulate(rest)
