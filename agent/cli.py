"""Command dispatch: turns parsed arguments into settings and runs the chosen command.

Every command returns an exit status; failures print one line on stderr, never a traceback
(set AIOPS_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import sys
import traceback

from utils.config import ConfigError, Settings, load_settings
from utils.logs import configure as configure_logging
from utils.logs import debug_enabled
from utils.urls import redact


def settings_from(args: argparse.Namespace) -> Settings:
    regions = region_list(args.region)
    return load_settings(
        aws_region=regions[0] if regions else None,
        only_regions=regions or None,
        only_account=getattr(args, "account", None),
        aws_profile=args.profile,
        model=args.model,
        read_only=args.read_only or None,
        sandbox=args.sandbox,
        planner=args.planner,
    )


def region_list(text: str | None) -> list[str]:
    """`--region R[,R...]|all`: the regions named (the first is the session's); `all` or none: every configured."""
    if text is None or text.strip().lower() == "all":
        return []
    regions = [r.strip() for r in text.split(",") if r.strip()]
    if not regions:
        raise ConfigError(f"--region {text!r} names no region; give codes such as us-east-1,eu-west-1, or all")
    return regions


def fail(message: str, status: int = 1) -> int:
    sys.stderr.write(f"error: {redact(' '.join(message.split()))}\n")
    return status


def one_line(exc: BaseException) -> str:
    """The exception a command died of, as a sentence; a task group's wrapper names its first real cause."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


def dispatch(args: argparse.Namespace) -> int:
    configure_logging(in_process_server=args.command != "mcp")
    try:
        settings = settings_from(args)
        return _run(args, settings)
    except ConfigError as exc:
        return fail(str(exc), 2)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except Exception as exc:  # the last line of defence: one line, not a traceback
        if debug_enabled():
            traceback.print_exc()
        return fail(one_line(exc))


def _run(args: argparse.Namespace, settings: Settings) -> int:
    command = args.command
    if command == "sandbox":
        from agent.sandbox_command import run_sandbox

        return run_sandbox(args, settings)
    if settings.sandbox:  # state apart: the running sandbox's generation, else the last one's
        from utils.sandbox_state import point_at_sandbox_state

        point_at_sandbox_state(settings)
        if command in {None, "ask", "plan", "monitor", "mcp", "setup"}:
            from utils.sandbox import prestart

            prestart(settings)  # the emulator starts (or is attached to) before this command's imports
    if command == "mcp":
        from mcp_server.server import serve

        return serve(settings)
    if command == "sop":
        return _sop(args, settings)
    if command in {"ask", "plan"}:
        from agent.request_command import run_oneshot

        return run_oneshot(args, settings)
    if command == "monitor":
        from agent.monitor_command import run_monitor

        return run_monitor(args, settings)
    if command == "setup":
        from agent.setup_command import run_setup

        return run_setup(args, settings)
    if command == "history":
        from agent.history_command import show_history

        return show_history(args, settings)
    if command == "incidents":
        from agent.monitor_command import show_incidents

        return show_incidents(args, settings)
    from agent.terminal.repl import run_repl

    return run_repl(settings)


def _sop(args: argparse.Namespace, settings: Settings) -> int:
    from sop import cli as sop_cli

    def known_tools() -> list[str]:
        from mcp_server.server import tool_names

        return tool_names(settings)

    return sop_cli.run(args, settings.home, known_tools)
