"""The interactive REPL: prompt, built-in commands, plain-language requests, the y/N gate.

One asyncio loop holds the MCP session, the prompt (under patch_stdout, so monitor output
never garbles the line being typed) and the background monitor.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import signal
import threading

from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.patch_stdout import patch_stdout

from agent.chatops import ChatOps, configured_places
from agent.runtime import Runtime, SeedingGate, runtime
from agent.terminal import commands
from agent.terminal.commands import CommandContext
from agent.terminal.io import Terminal
from agent.terminal.monitor_panel import MonitorControls
from utils.config import Settings
from utils.urls import public_url

HISTORY_FILE = "repl_history"


class RequestCompleter(Completer):
    """Completes command names at the start of the line and instance names anywhere."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def get_completions(self, document, complete_event):
        word = document.get_word_before_cursor(WORD=True)
        line = document.text_before_cursor.lstrip()
        if " " not in line:
            for name in commands.REGISTRY:
                if name.startswith(line.lower()):
                    yield Completion(name, start_position=-len(line))
        for name in self.names:
            if word and name.lower().startswith(word.lower()):
                yield Completion(name, start_position=-len(word))


class Repl:
    def __init__(self, settings: Settings, rt: Runtime, terminal: Terminal, completer: RequestCompleter):
        self.settings = settings
        self.rt = rt
        self.terminal = terminal
        self.completer = completer
        gated = SeedingGate(rt.session, rt.sandbox) if rt.sandbox is not None else rt.session
        self.chat = ChatOps(gated, rt.model_planner, **configured_places(settings))
        self.stopping = False
        self.monitor = MonitorControls(terminal, rt.session, settings, self.wait_for_sandbox)
        self.commands = CommandContext(terminal=terminal, session=rt.session, settings=settings,
                                       monitor=self.monitor, status_lines=self.status_lines,
                                       run_tool=self.run_tool, leave=self.leave,
                                       wait_for_sops=self.wait_for_sops)
        self._current: asyncio.Task | None = None
        self._sop_warmup: asyncio.Future | None = None
        self._sop_store = None  # held: SopStore.shared keeps a store only while someone does

    def leave(self) -> None:
        self.stopping = True

    # -- start-up ----------------------------------------------------------------------------
    def banner(self) -> None:
        t = self.terminal
        t.print("[bold]AIOps Agent[/bold] — assisted operations for AWS. Type [bold]help[/bold]; Ctrl-D to leave.")
        for line in self.status_lines():
            t.print(line)

    def status_lines(self) -> list[str]:
        from rich.markup import escape

        s = self.settings
        endpoint = escape(public_url(s.aws_endpoint_url))  # credentials in the URL never reach the screen
        if s.sandbox:
            target = f"[bold magenta]SANDBOX[/bold magenta] (AWS emulator on {endpoint}; nothing reaches real AWS)"
        else:
            target = f"AWS region {s.region}" + (f", profile {s.aws_profile}" if s.aws_profile else "") + (
                f", endpoint {endpoint}" if s.aws_endpoint_url else "")
        lines = [f"  target   {target}", f"  planner  {self.rt.planner_note}"]
        if s.read_only:
            lines.append("  mode     [yellow]read-only[/yellow]: every mutating action is refused")
        notifier = self.monitor.notifier
        alerts = f"alerts to {escape(notifier.describe())}" if notifier.enabled else "no webhook: alerts show here only"
        lines.append(f"  monitor  {'on' if self.monitor.running else 'off'} ({alerts})")
        if self.monitor.monitor is not None:
            counts = self.monitor.monitor.counts_today().model_dump()
            lines.append("  today    " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()))
        return lines

    async def wait_for_sandbox(self, fleet_only: bool = False) -> None:
        sandbox = self.rt.sandbox
        needed = None if sandbox is None else sandbox.fleet_ready if fleet_only else sandbox.ready
        if needed is not None and not needed.is_set():
            with self.terminal.spinner("the AWS sandbox is warming up…"):
                await asyncio.to_thread(needed.wait, 120)
            if sandbox.error is not None:
                self.terminal.error(f"the sandbox failed to start: {sandbox.error}")

    def warm_sops(self) -> None:
        """Load the SOP store and its models in the background once the prompt is up: the
        first `sop search` (or an incident's SOP) then answers at once instead of in seconds."""
        done: concurrent.futures.Future = concurrent.futures.Future()

        sandbox = self.rt.sandbox

        def warm() -> None:
            try:
                # Not niced: this thread shares the GIL with the prompt, and a niced thread the OS
                # descheduled while holding it stalled the first request on a busy machine (90 s).
                # It waits for the sandbox instead, so it never competes with the seeding either.
                if sandbox is not None:
                    sandbox.ready.wait(120)
                from sop.store import SopStore

                self._sop_store = SopStore.shared(self.settings.home, known_tools=self.rt.session.catalog.names)
                self._sop_store.warm()
            finally:
                done.set_result(None)

        # A daemon thread, not the loop's executor: leaving the REPL must not wait for it.
        threading.Thread(target=warm, name="sop-warmup", daemon=True).start()
        self._sop_warmup = asyncio.wrap_future(done)

    async def wait_for_sops(self) -> None:
        if self._sop_warmup is None:  # a search typed before the warm-up's turn came
            self.warm_sops()
        if not self._sop_warmup.done():
            with self.terminal.spinner("loading the SOP search models (first search only)…"):
                await asyncio.shield(self._sop_warmup)

    # -- requests ----------------------------------------------------------------------------
    async def handle(self, line: str) -> None:
        found = commands.match(line)
        if found is not None:
            cmd, rest = found
            await cmd.handler(self.commands, rest)
            return
        # Planning reads the fleet; whatever the call needs beyond it, the gate waits for.
        await self.wait_for_sandbox(fleet_only=True)
        with self.terminal.spinner("thinking…"):
            reply = await self.chat.run(line, self.terminal.confirm)
        self.terminal.show_reply(reply)
        await self._refresh_names()

    async def run_tool(self, tool: str, arguments: dict) -> None:
        await self.wait_for_sandbox()
        with self.terminal.spinner("working…"):
            outcome = await self.rt.session.call(tool, arguments, confirmer=self.terminal.confirm)
        if outcome.ok:
            from agent.terminal.render import render_result

            self.terminal.print(render_result(tool, outcome.data))
        else:
            self.terminal.error(outcome.message)

    async def _refresh_names(self) -> None:
        try:
            context = await self.chat.context()
        except Exception:
            return
        self.completer.names = sorted({i.name for i in context.instances if i.name})

    # -- monitor -----------------------------------------------------------------------------
    async def stop_monitor_quietly(self) -> None:
        if self.monitor.running:
            await self.monitor.monitor.stop()

    # -- loop --------------------------------------------------------------------------------
    def _cancel_current(self) -> None:
        if self._current is not None and not self._current.done():
            self._current.cancel()

    async def loop(self) -> None:
        loop = asyncio.get_running_loop()
        # While a request runs the terminal is in cooked mode, so Ctrl-C arrives as SIGINT:
        # cancel that request and come back to the prompt instead of dying.
        loop.add_signal_handler(signal.SIGINT, self._cancel_current)
        # After the first prompt is drawn, not before: warming must never delay the prompt.
        loop.call_later(0.3, lambda: self._sop_warmup is None and self.warm_sops())
        try:
            with patch_stdout(raw=True):
                while not self.stopping:
                    try:
                        line = (await self.terminal.read_line()).strip()
                    except KeyboardInterrupt:
                        continue
                    except EOFError:
                        break
                    if not line:
                        continue
                    self._current = asyncio.create_task(self.handle(line))
                    try:
                        await self._current
                    except asyncio.CancelledError:
                        self.terminal.stop_spinner()
                        self.terminal.warn("cancelled")
                    except Exception as exc:  # one red line, then back to the prompt
                        self.terminal.stop_spinner()
                        self.terminal.error(f"{type(exc).__name__}: {exc}")
        finally:
            loop.remove_signal_handler(signal.SIGINT)


def run_repl(settings: Settings) -> int:
    return asyncio.run(_run(settings))


async def _run(settings: Settings) -> int:
    completer = RequestCompleter()
    history_home = settings.sandbox_home if settings.sandbox else settings.home  # the sandbox's typing apart
    terminal = Terminal(history_file=history_home / HISTORY_FILE, completer=completer,
                        confirm_timeout=settings.confirm_timeout_seconds)
    with terminal.spinner("starting…"):
        context = runtime(settings, client_name="aiops-repl", background_seed=True)
        rt = await context.__aenter__()
    try:
        repl = Repl(settings, rt, terminal, completer)
        repl.banner()
        await repl.loop()
        await repl.stop_monitor_quietly()
    finally:
        await context.__aexit__(None, None, None)
    terminal.info("bye")
    return 0
