"""The one class that owns the terminal: prompt, history, output, spinner and the y/N gate (Aider's io.py)."""

from __future__ import annotations

import asyncio
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console, RenderableType
from rich.panel import Panel
from rich.text import Text

from agent.mcp_client import ConfirmationRequest
from agent.terminal.render import confirmation_panel, render_result

CONFIRM_TIMEOUT_SECONDS = 120
TIER_STYLE = {0: "bold white on red", 1: "bold red", 2: "bold yellow"}


class Terminal:
    def __init__(self, history_file: Path | None, completer: Any = None,
                 confirm_timeout: float = CONFIRM_TIMEOUT_SECONDS):
        self.console = Console(highlight=False)
        self.errors = Console(stderr=True, highlight=False)
        self.history_file = history_file
        self.completer = completer
        self._session = None
        self._status = None
        self.confirm_timeout = confirm_timeout

    # -- input -------------------------------------------------------------------------------
    def _prompt_session(self):
        if self._session is None:
            from prompt_toolkit import PromptSession
            from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
            from prompt_toolkit.history import FileHistory, InMemoryHistory

            history = InMemoryHistory()
            if self.history_file is not None:
                try:
                    self.history_file.parent.mkdir(parents=True, exist_ok=True)
                    history = FileHistory(str(self.history_file))
                except OSError:
                    self.warn(f"cannot write history at {self.history_file}; history is kept in memory")
            self._session = PromptSession(history=history, auto_suggest=AutoSuggestFromHistory(),
                                          completer=self.completer, complete_while_typing=False,
                                          key_bindings=_main_prompt_keys())
        return self._session

    async def read_line(self, prompt: str = "aiops> ") -> str:
        # handle_sigint=False: the REPL owns SIGINT (cancel the running request); here Ctrl-C is a key.
        return await self._prompt_session().prompt_async(prompt, handle_sigint=False)

    async def confirm(self, request: ConfirmationRequest) -> bool:
        """The y/N gate. Enter, anything but y/yes, Ctrl-C, Ctrl-D or a timeout is No."""
        timeout = self.confirm_timeout
        self.stop_spinner()
        session = _confirm_session()
        timer = asyncio.get_running_loop().call_later(timeout, _expire, session)
        try:
            answer = await session.prompt_async(self._with_panel(confirmation_panel(request), "Proceed? [y/N] "),
                                                handle_sigint=False)
        except (KeyboardInterrupt, EOFError):
            answer = ""
        finally:
            timer.cancel()
        if answer is None:
            self.warn("no answer in time: treated as No")
            answer = ""
        yes = answer.strip().lower() in {"y", "yes"}
        self.console.print(Text("→ yes, proceeding" if yes else "→ no, nothing changed",
                                style="green" if yes else "yellow"))
        return yes

    def _with_panel(self, panel: RenderableType, question: str) -> Any:
        """The panel and the question as one prompt. Printed separately, the panel went through
        patch_stdout's writer thread and could land after the question was drawn; as part of the prompt
        they are drawn together, and stay together when monitor output is printed above them."""
        from prompt_toolkit.formatted_text import ANSI

        with self.console.capture() as captured:
            self.console.print(panel)
        return ANSI(captured.get() + question)

    # -- output ------------------------------------------------------------------------------
    def print(self, *renderables: Any) -> None:
        self.console.print(*renderables)

    def info(self, message: str) -> None:
        self.console.print(Text(message, style="dim"))

    def warn(self, message: str) -> None:
        self.console.print(Text(message, style="yellow"))

    def error(self, message: str) -> None:
        # One red line with what to do; never a traceback. soft_wrap: a script reading stderr gets one line,
        # not the message folded at 80 columns.
        self.errors.print(Text(f"✗ {message}", style="bold red"), soft_wrap=True)

    def show_reply(self, reply: Any) -> None:
        plan = reply.plan
        if plan.note:
            self.info(f"(offline planner: {plan.note})")
        if reply.status == "ok" and reply.outcome is not None:
            self.console.print(render_result(reply.outcome.tool, reply.outcome.data))
        elif reply.status == "ok":
            self.console.print(reply.message)
        elif reply.status == "planned" and plan.call is not None:
            self.console.print(Text(f"would call {plan.call.tool} {plan.call.arguments}", style="cyan"))
        elif reply.status == "declined":
            pass  # the person's own No was echoed under the question; saying it again adds nothing
        elif reply.outcome is not None and reply.outcome.data and reply.status in {"refused", "unconfirmed"}:
            self.console.print(render_result(reply.outcome.tool, reply.outcome.data))
        else:
            self.error(reply.message or "the request failed")

    def incident_panel(self, title: str, lines: list[str], tier: int | None) -> None:
        style = TIER_STYLE.get(tier, "green") if tier is not None else "green"
        self.console.print(Panel(Text("\n".join(lines)), title=Text(title, style=style),
                                 border_style=style.split()[-1], expand=False))

    @contextmanager
    def spinner(self, message: str = "working…"):
        self._status = self.console.status(message, spinner="dots")
        self._status.start()
        try:
            yield
        finally:
            self.stop_spinner()

    def stop_spinner(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


def _main_prompt_keys():
    from prompt_toolkit.key_binding import KeyBindings

    keys = KeyBindings()

    @keys.add("c-c")
    def _clear(event) -> None:
        # Ctrl-C at the prompt clears the line. Raising KeyboardInterrupt inside an asyncio task
        # would stop the whole event loop, MCP session included.
        event.app.current_buffer.reset()

    return keys


def _confirm_session():
    from prompt_toolkit import PromptSession
    from prompt_toolkit.key_binding import KeyBindings

    keys = KeyBindings()

    @keys.add("c-c")
    @keys.add("c-d")
    def _no(event) -> None:
        event.app.exit(result="")

    return PromptSession(key_bindings=keys)


def _expire(session) -> None:
    if session.app.is_running:
        session.app.exit(result=None)  # None marks a timeout; the caller reads it as No
